#include "build/dockerfile/stages.h"

#include <gtest/gtest.h>

namespace berth::build {
namespace {

Dockerfile Parse(std::string_view text) {
  auto r = ParseDockerfile(text);
  EXPECT_TRUE(r) << r.error().message();
  return r ? std::move(*r) : Dockerfile{};
}

constexpr std::string_view kMulti =
    "ARG BASE=busybox\n"
    "ARG TAG=${BASE}:latest\n"
    "FROM $TAG AS deps\n"
    "RUN make deps\n"
    "FROM busybox AS Tools\n"
    "RUN make tools\n"
    "FROM deps AS build\n"
    "COPY --from=tools /bin/t /bin/\n"
    "RUN --mount=type=bind,from=0,target=/d true\n"
    "FROM scratch AS unrelated\n"
    "FROM scratch\n"
    "COPY --from=build /out /\n"
    "COPY --from=alpine:3 /etc/os-release /\n";

TEST(Stages, LevelsAndDeps) {
  auto df = Parse(kMulti);
  auto plan = PlanStages(df, {});
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->target, 4);
  EXPECT_EQ(plan->stages[0].base_image, "busybox:latest");
  EXPECT_EQ(plan->stages[2].base_stage, 0);
  EXPECT_EQ(plan->stages[2].deps, (std::vector<int>{0, 1}));
  EXPECT_EQ(plan->stages[4].deps, std::vector<int>{2});
  EXPECT_EQ(plan->stages[4].images, std::vector<std::string>{"alpine:3"});
  EXPECT_EQ(plan->order, (std::vector<int>{0, 1, 2, 4}));  // "unrelated" is not needed
  ASSERT_EQ(plan->levels.size(), 3u);
  EXPECT_EQ(plan->levels[0], (std::vector<int>{0, 1}));
  EXPECT_EQ(plan->levels[1], std::vector<int>{2});
  EXPECT_EQ(plan->levels[2], std::vector<int>{4});
}

TEST(Stages, TargetAndBuildArgs) {
  auto df = Parse(kMulti);
  auto plan = PlanStages(df, {{"BASE", "alpine"}}, "TOOLS");
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->target, 1);
  EXPECT_EQ(plan->order, std::vector<int>{1});
  auto args = PlanStages(df, {{"TAG", "debian:12"}}, "deps");
  EXPECT_EQ(args->stages[0].base_image, "debian:12");
  EXPECT_EQ(args->meta_args.at("TAG"), "debian:12");
  EXPECT_EQ(PlanStages(df, {}, "nope").error().message(),
            "target stage \"nope\" could not be found");
}

TEST(Stages, Errors) {
  EXPECT_EQ(PlanStages(Parse("FROM a AS x\nFROM b AS X\n"), {}).error().message(),
            "x stage name already used");
  EXPECT_EQ(PlanStages(Parse("ARG E\nFROM ${E}\n"), {}).error().message(),
            "base name (${E}) should not be blank");
  EXPECT_EQ(PlanStages(Parse("FROM a\nCOPY --from=0 x y\n"), {}).error().message(),
            "invalid from flag value 0: refers to current build stage");
  EXPECT_EQ(PlanStages(Parse("FROM a\nCOPY --from=5 x y\n"), {}).error().message(),
            "invalid from flag value 5: index out of bounds");
  EXPECT_EQ(PlanStages(Parse("FROM a AS one\nCOPY --from=two x y\nFROM b AS two\n"), {})
                .error()
                .message(),
            "cannot copy from stage \"two\", it needs to be defined before current stage \"one\"");
  EXPECT_NE(PlanStages(Parse("FROM a\nCOPY --from=$X x y\n"), {})
                .error()
                .message()
                .find("variable expansion is not supported for --from"),
            std::string::npos);
}

TEST(Stages, LaterNameInFromIsAnImage) {
  auto plan = PlanStages(Parse("FROM later\nFROM busybox AS later\n"), {}, "0");
  // "0" is no stage name: Docker's --target matches names only.
  EXPECT_FALSE(plan);
  auto p2 = PlanStages(Parse("FROM later\nFROM busybox AS later\n"), {});
  ASSERT_TRUE(p2);
  EXPECT_EQ(p2->stages[0].base_image, "later");
  EXPECT_FALSE(p2->stages[0].base_stage);
}

TEST(Stages, FindStage) {
  auto df = Parse("FROM a AS one\nFROM b\n");
  EXPECT_EQ(FindStage(df, "ONE", 2, false), 0);
  EXPECT_EQ(FindStage(df, "1", 2, true), 1);
  EXPECT_FALSE(FindStage(df, "1", 1, true));
  EXPECT_FALSE(FindStage(df, "one", 0, false));
}

}  // namespace
}  // namespace berth::build
