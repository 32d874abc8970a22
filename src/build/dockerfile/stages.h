#pragma once

// The stage graph of a parsed Dockerfile: which stages a target needs and in what order, so
// that independent stages can build at the same time.
//
//   auto plan = BERTH_TRY(PlanStages(df, {{"VERSION", "1.2"}}, "release"));
//   for (const auto& level : plan.levels)   // stages of one level do not depend on each other
//     RunInParallel(level);                 // every dependency is in an earlier level
//
// A stage depends on another when its FROM names it (after meta-arg substitution), when a
// COPY/ADD --from or a RUN --mount from= names it by name or index. Names are matched
// case-insensitively and only against earlier stages (Docker's rule: a later or the current
// stage is an error for --from, an image for FROM). A name that is no stage is an image
// reference (COPY --from=busybox:1.36).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "build/dockerfile/dockerfile.h"
#include "util/result.h"

namespace berth::build {

struct StagePlan {
  int index = 0;
  /// FROM's base after meta-arg substitution: an image reference, "scratch", or "" when the
  /// base is another stage (then base_stage is set).
  std::string base_image;
  std::optional<int> base_stage;
  std::string platform;  ///< --platform after substitution, or ""
  /// Other stages this one reads (base_stage included), ascending, no duplicates.
  std::vector<int> deps;
  /// Images named by COPY --from / RUN --mount from= that are not stages, in order of use.
  std::vector<std::string> images;
};

struct BuildPlan {
  int target = 0;                        ///< the target stage's index
  std::vector<StagePlan> stages;         ///< every stage of the file, by index
  std::vector<int> order;                ///< the stages the target needs, dependencies first
  std::vector<std::vector<int>> levels;  ///< `order` in levels (each level's deps earlier)
  /// The meta args (ARGs before the first FROM) after substitution: defaults overridden by
  /// build args. Each stage's `ARG NAME` without a default takes its value from here.
  std::map<std::string, std::string> meta_args;
};

/// Resolves the graph. `target` "" is the last stage. Errors (InvalidArgument), as Docker:
/// `target stage "x" could not be found`, `base name (${X}) should not be blank`,
/// `... stage name already used`, an index --from that is the current stage or later.
Result<BuildPlan> PlanStages(const Dockerfile& df,
                             const std::map<std::string, std::string>& build_args,
                             std::string_view target = "");

/// The meta args after substitution: each ARG before the first FROM in order, its default
/// substituted with the ones before it, replaced by a build arg of the same name.
Result<std::map<std::string, std::string>> ResolveMetaArgs(
    const Dockerfile& df, const std::map<std::string, std::string>& build_args);

/// Finds a stage by name (case-insensitive) or, when `by_index`, by decimal index, among
/// stages [0, before). nullopt when none.
std::optional<int> FindStage(const Dockerfile& df, std::string_view name_or_index, int before,
                             bool by_index);

}  // namespace berth::build
