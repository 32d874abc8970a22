#include "build/dockerfile/stages.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "build/dockerfile/expand.h"

namespace berth::build {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A --from / from= reference of stage `current`: a stage index (added to deps) or an image.
Result<void> AddReference(const Dockerfile& df, int current, const std::string& ref,
                          StagePlan* plan) {
  if (ref.empty()) return {};
  if (AllDigits(ref)) {
    if (ref.size() > 9 || std::stoi(ref) >= static_cast<int>(df.stages.size())) {
      return Error::InvalidArgument("invalid from flag value " + ref + ": index out of bounds");
    }
    int index = std::stoi(ref);
    if (index >= current) {
      return Error::InvalidArgument("invalid from flag value " + ref +
                                    ": refers to current build stage");
    }
    plan->deps.push_back(index);
    return {};
  }
  if (auto s = FindStage(df, ref, current, false)) {
    plan->deps.push_back(*s);
    return {};
  }
  std::string lower = Lower(ref);
  for (size_t i = static_cast<size_t>(current); i < df.stages.size(); ++i) {
    if (!df.stages[i].name.empty() && df.stages[i].name == lower) {
      std::string here =
          df.stages[current].name.empty() ? std::to_string(current) : df.stages[current].name;
      return Error::InvalidArgument("cannot copy from stage \"" + ref +
                                    "\", it needs to be defined before current stage \"" + here +
                                    "\"");
    }
  }
  if (std::find(plan->images.begin(), plan->images.end(), ref) == plan->images.end()) {
    plan->images.push_back(ref);
  }
  return {};
}

}  // namespace

std::optional<int> FindStage(const Dockerfile& df, std::string_view name_or_index, int before,
                             bool by_index) {
  if (by_index && AllDigits(name_or_index) && name_or_index.size() <= 9) {
    int i = std::stoi(std::string(name_or_index));
    if (i < before && i < static_cast<int>(df.stages.size())) return i;
    return std::nullopt;
  }
  std::string lower = Lower(name_or_index);
  if (lower.empty()) return std::nullopt;
  for (int i = 0; i < before && i < static_cast<int>(df.stages.size()); ++i) {
    if (df.stages[i].name == lower) return i;
  }
  return std::nullopt;
}

Result<std::map<std::string, std::string>> ResolveMetaArgs(
    const Dockerfile& df, const std::map<std::string, std::string>& build_args) {
  std::map<std::string, std::string> meta;
  auto lookup = [&meta](std::string_view name) -> std::optional<std::string> {
    auto it = meta.find(std::string(name));
    if (it == meta.end()) return std::nullopt;
    return it->second;
  };
  for (const auto& ins : df.meta_args) {
    for (const auto& def : SplitArgs(ins)) {
      std::string name = BERTH_TRY(ExpandWord(def.name, lookup, df.escape));
      auto given = build_args.find(name);
      if (given != build_args.end()) {
        meta[name] = given->second;
      } else if (def.default_value) {
        meta[name] = BERTH_TRY(ExpandWord(*def.default_value, lookup, df.escape));
      } else {
        // Declared without a value: known (to stages' ARG NAME), but unset for substitution.
        meta.erase(name);
      }
    }
  }
  return meta;
}

Result<BuildPlan> PlanStages(const Dockerfile& df,
                             const std::map<std::string, std::string>& build_args,
                             std::string_view target) {
  BuildPlan plan;
  plan.meta_args = BERTH_TRY(ResolveMetaArgs(df, build_args));
  auto lookup = [&plan](std::string_view name) -> std::optional<std::string> {
    auto it = plan.meta_args.find(std::string(name));
    if (it == plan.meta_args.end()) return std::nullopt;
    return it->second;
  };
  std::set<std::string> names;
  for (const auto& stage : df.stages) {
    if (!stage.name.empty() && !names.insert(stage.name).second) {
      return Error::InvalidArgument(stage.name + " stage name already used");
    }
  }
  for (const auto& stage : df.stages) {
    StagePlan sp;
    sp.index = stage.index;
    std::string base = BERTH_TRY(ExpandWord(stage.base, lookup, df.escape));
    if (base.empty()) {
      return Error::InvalidArgument("base name (" + stage.base + ") should not be blank");
    }
    if (auto s = FindStage(df, base, stage.index, false)) {
      sp.base_stage = *s;
      sp.deps.push_back(*s);
    } else {
      sp.base_image = base;
    }
    if (!stage.platform.empty()) {
      sp.platform = BERTH_TRY(ExpandWord(stage.platform, lookup, df.escape));
    }
    for (const auto& ins : stage.instructions) {
      if (ins.keyword == "COPY") {
        if (const Flag* f = ins.FindFlag("from")) {
          if (f->value.find('$') != std::string::npos) {
            return Error::InvalidArgument(
                "dockerfile parse error on line " + std::to_string(ins.line) +
                ": variable expansion is not supported for --from, define a new stage with "
                "FROM using ARG from global scope as a workaround");
          }
          BERTH_TRY(AddReference(df, stage.index, f->value, &sp));
        }
      } else if (ins.keyword == "RUN") {
        for (const auto& spec : ins.FlagValues("mount")) {
          auto m = BERTH_TRY(ParseRunMount(spec));
          BERTH_TRY(AddReference(df, stage.index, m.from, &sp));
        }
      }
    }
    std::sort(sp.deps.begin(), sp.deps.end());
    sp.deps.erase(std::unique(sp.deps.begin(), sp.deps.end()), sp.deps.end());
    plan.stages.push_back(std::move(sp));
  }
  if (target.empty()) {
    plan.target = static_cast<int>(df.stages.size()) - 1;
  } else {
    auto t = FindStage(df, target, static_cast<int>(df.stages.size()), false);
    if (!t) {
      return Error::InvalidArgument("target stage \"" + std::string(target) +
                                    "\" could not be found");
    }
    plan.target = *t;
  }
  // Needed stages: the target and what it reads, transitively (deps are always earlier).
  std::vector<char> needed(df.stages.size(), 0);
  needed[plan.target] = 1;
  for (int i = plan.target; i >= 0; --i) {
    if (!needed[i]) continue;
    for (int d : plan.stages[i].deps) needed[d] = 1;
  }
  std::vector<int> level(df.stages.size(), 0);
  for (int i = 0; i <= plan.target; ++i) {
    if (!needed[i]) continue;
    plan.order.push_back(i);
    int l = 0;
    for (int d : plan.stages[i].deps) l = std::max(l, level[d] + 1);
    level[i] = l;
    if (static_cast<int>(plan.levels.size()) <= l) plan.levels.resize(l + 1);
    plan.levels[l].push_back(i);
  }
  return plan;
}

}  // namespace berth::build
