#include "build/dockerfile/dockerignore.h"

#include <gtest/gtest.h>

namespace berth::build {
namespace {

DockerIgnore Ig(std::string_view text) {
  auto r = DockerIgnore::Parse(text);
  EXPECT_TRUE(r) << r.error().message();
  return r ? std::move(*r) : DockerIgnore{};
}

TEST(CleanPath, AsGo) {
  EXPECT_EQ(CleanPath(""), ".");
  EXPECT_EQ(CleanPath("./a//b/"), "a/b");
  EXPECT_EQ(CleanPath("a/../b"), "b");
  EXPECT_EQ(CleanPath("../a"), "../a");
  EXPECT_EQ(CleanPath("/../a"), "/a");
  EXPECT_EQ(CleanPath("a/.."), ".");
}

TEST(DockerIgnore, ReaderRules) {
  auto ig =
      Ig("\xEF\xBB\xBF# comment\n  *.o  \r\n\n/abs/path\n./rel//x/\n ! keep.o\n #notcomment\n");
  EXPECT_EQ(ig.Patterns(),
            (std::vector<std::string>{"*.o", "abs/path", "rel/x", "!keep.o", "#notcomment"}));
  EXPECT_TRUE(ig.Excluded("a.o"));
  EXPECT_FALSE(ig.Excluded("keep.o"));
  EXPECT_TRUE(ig.Excluded("abs/path"));
  EXPECT_TRUE(ig.Excluded("rel/x/deep/file"));
  EXPECT_TRUE(ig.Excluded("#notcomment"));
  EXPECT_FALSE(ig.Excluded("sub/a.o"));  // `*` stays within one directory level
  EXPECT_FALSE(ig.Excluded("."));
}

TEST(DockerIgnore, Wildcards) {
  auto ig = Ig("**/*.tmp\ndocs/**\nbuild?\n[ab]*.log\nlit\\*\n**/node_modules\n");
  EXPECT_TRUE(ig.Excluded("x.tmp"));
  EXPECT_TRUE(ig.Excluded("a/b/c/x.tmp"));
  EXPECT_TRUE(ig.Excluded("docs/a/b"));
  EXPECT_FALSE(ig.Excluded("docs"));  // "docs/**" is what is below docs/, not docs itself
  EXPECT_TRUE(ig.Excluded("build1"));
  EXPECT_FALSE(ig.Excluded("build12"));
  EXPECT_FALSE(ig.Excluded("build/"));  // cleaned to "build": `?` needs one character
  EXPECT_TRUE(ig.Excluded("a.log"));
  EXPECT_TRUE(ig.Excluded("bz.log"));
  EXPECT_FALSE(ig.Excluded("c.log"));
  EXPECT_TRUE(ig.Excluded("lit*"));
  EXPECT_FALSE(ig.Excluded("litx"));
  EXPECT_TRUE(ig.Excluded("node_modules/x/y"));
  EXPECT_TRUE(ig.Excluded("src/node_modules/x"));
}

TEST(DockerIgnore, DoubleStarInTheMiddle) {
  auto ig = Ig("a/**/b\n");
  EXPECT_TRUE(ig.Excluded("a/b"));
  EXPECT_TRUE(ig.Excluded("a/x/y/b"));
  EXPECT_TRUE(ig.Excluded("a/x/b/c"));  // a parent matches
  EXPECT_FALSE(ig.Excluded("a/xb"));
  EXPECT_FALSE(ig.Excluded("b"));
}

TEST(DockerIgnore, ExceptionsLastMatchWins) {
  auto ig = Ig("*\n!src\nsrc/*.o\n!src/keep.o\n");
  EXPECT_TRUE(ig.Excluded("README"));
  EXPECT_FALSE(ig.Excluded("src"));
  EXPECT_FALSE(ig.Excluded("src/main.c"));
  EXPECT_TRUE(ig.Excluded("src/main.o"));
  EXPECT_FALSE(ig.Excluded("src/keep.o"));
}

TEST(DockerIgnore, ParentDirExcludesChildren) {
  auto ig = Ig("vendor\n");
  EXPECT_TRUE(ig.Excluded("vendor"));
  EXPECT_TRUE(ig.Excluded("vendor/a/b.go"));
  EXPECT_FALSE(ig.Excluded("vendors"));
  EXPECT_FALSE(ig.MayReinclude("vendor"));
}

TEST(DockerIgnore, MayReinclude) {
  auto ig = Ig("dir\n!dir/keep\n");
  EXPECT_TRUE(ig.Excluded("dir/other"));
  EXPECT_FALSE(ig.Excluded("dir/keep"));
  EXPECT_TRUE(ig.MayReinclude("dir"));
  EXPECT_FALSE(ig.MayReinclude("elsewhere"));
  auto deep = Ig("*\n!**/*.go\n");
  EXPECT_TRUE(deep.MayReinclude("any/dir"));
  EXPECT_FALSE(deep.Excluded("any/dir/x.go"));
  auto pat = Ig("out\n!out/a*/keep\n");
  EXPECT_TRUE(pat.MayReinclude("out"));
  EXPECT_TRUE(pat.MayReinclude("out/abc"));
  EXPECT_FALSE(pat.MayReinclude("out/b"));
}

TEST(DockerIgnore, AlwaysInclude) {
  auto ig = Ig("*\n");
  EXPECT_TRUE(ig.Excluded("Dockerfile"));
  ig.AlwaysInclude("Dockerfile");
  ig.AlwaysInclude("./.dockerignore");
  ig.AlwaysInclude("sub/[odd].Dockerfile");
  EXPECT_FALSE(ig.Excluded("Dockerfile"));
  EXPECT_FALSE(ig.Excluded(".dockerignore"));
  EXPECT_FALSE(ig.Excluded("sub/[odd].Dockerfile"));
  EXPECT_TRUE(ig.Excluded("other"));
}

TEST(DockerIgnore, Errors) {
  EXPECT_EQ(DockerIgnore::Parse("!\n").error().message(), "illegal exclusion pattern: \"!\"");
  EXPECT_EQ(DockerIgnore::Parse("[a\n").error().message(), "syntax error in pattern");
  EXPECT_FALSE(DockerIgnore::Parse("[]\n"));
  EXPECT_FALSE(DockerIgnore::Parse("[z-a]\n"));
  EXPECT_TRUE(DockerIgnore::Parse("[^a-c]x\n"));
}

TEST(DockerIgnore, LongPathsStayLinear) {
  // A pattern that backtracking matchers take exponential time on.
  std::string pat;
  for (int i = 0; i < 30; ++i) pat += "*a";
  auto ig = Ig(pat + "b\n");
  std::string path(5000, 'a');
  EXPECT_FALSE(ig.Excluded(path));
  EXPECT_TRUE(ig.Excluded(path + "b"));
}

}  // namespace
}  // namespace berth::build
