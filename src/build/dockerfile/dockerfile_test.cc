#include "build/dockerfile/dockerfile.h"

#include <gtest/gtest.h>

namespace berth::build {
namespace {

using V = std::vector<std::string>;

Dockerfile Parse(std::string_view text) {
  auto r = ParseDockerfile(text);
  EXPECT_TRUE(r) << r.error().message();
  return r ? std::move(*r) : Dockerfile{};
}

std::string ParseError(std::string_view text) {
  auto r = ParseDockerfile(text);
  EXPECT_FALSE(r) << "parsed: " << text;
  return r ? "" : r.error().message();
}

TEST(Dockerfile, StagesAndShellForms) {
  auto df = Parse(
      "ARG BASE=busybox\n"
      "FROM $BASE AS Build\n"
      "RUN echo hi \\\n"
      "    && echo there\n"
      "CMD [\"sh\", \"-c\", \"echo\"]\n"
      "FROM scratch\n"
      "COPY --from=build /a /b\n");
  ASSERT_EQ(df.meta_args.size(), 1u);
  EXPECT_EQ(df.meta_args[0].args, V{"BASE=busybox"});
  ASSERT_EQ(df.stages.size(), 2u);
  EXPECT_EQ(df.stages[0].name, "build");
  EXPECT_EQ(df.stages[0].base, "$BASE");
  const auto& run = df.stages[0].instructions[0];
  EXPECT_EQ(run.keyword, "RUN");
  EXPECT_FALSE(run.json_form);
  EXPECT_EQ(run.args, V{"echo hi     && echo there"});
  EXPECT_EQ(run.line, 3);
  EXPECT_EQ(run.end_line, 4);
  EXPECT_EQ(run.original, "RUN echo hi     && echo there");
  const auto& cmd = df.stages[0].instructions[1];
  EXPECT_TRUE(cmd.json_form);
  EXPECT_EQ(cmd.args, (V{"sh", "-c", "echo"}));
  EXPECT_EQ(df.stages[1].base, "scratch");
  const auto& copy = df.stages[1].instructions[0];
  ASSERT_NE(copy.FindFlag("from"), nullptr);
  EXPECT_EQ(copy.FindFlag("from")->value, "build");
  EXPECT_EQ(copy.args, (V{"/a", "/b"}));
}

TEST(Dockerfile, UnknownInstructionNamesLine) {
  EXPECT_EQ(ParseError("FROM busybox\n\nRUNN true\n"),
            "dockerfile parse error on line 3: unknown instruction: RUNN (did you mean RUN?)");
  EXPECT_EQ(ParseError("FROM busybox\nfrobnicate x\n"),
            "dockerfile parse error on line 2: unknown instruction: frobnicate");
}

TEST(Dockerfile, UnknownFlag) {
  EXPECT_EQ(ParseError("FROM busybox\nCOPY --frm=a x y\n"),
            "dockerfile parse error on line 2: unknown flag: --frm (did you mean from?)");
  EXPECT_EQ(ParseError("FROM busybox\nENV --x=1 A=b\n"),
            "dockerfile parse error on line 2: unknown flag: --x");
}

TEST(Dockerfile, EnvForms) {
  auto df = Parse("FROM a\nENV A=1 B=\"two words\" C=\nENV LEGACY the rest  here\n");
  EXPECT_EQ(df.stages[0].instructions[0].args, (V{"A", "1", "B", "\"two words\"", "C", ""}));
  EXPECT_EQ(df.stages[0].instructions[1].args, (V{"LEGACY", "the rest  here"}));
}

TEST(Dockerfile, EmptyFile) {
  EXPECT_EQ(ParseError("# only a comment\n\n"),
            "failed to parse Dockerfile: file with no instructions");
}

}  // namespace
}  // namespace berth::build
