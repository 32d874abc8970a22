#include "cmd/runtime/flags.h"

#include <gtest/gtest.h>

namespace berth::cmd {
namespace {

using V = std::vector<std::string>;

const std::vector<FlagSpec> kSpecs = {
    {"bundle", "b", true}, {"pid-file", "", true}, {"detach", "d", false},
    {"force", "f", false}, {"env", "e", true},
};

Flags Parse(const V& argv, size_t start = 0) {
  auto r = ParseFlags(argv, start, kSpecs);
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : Flags{};
}

std::string ParseError(const V& argv) {
  auto r = ParseFlags(argv, 0, kSpecs);
  if (r) return "<parsed>";
  EXPECT_TRUE(r.error().IsInvalidArgument());
  return r.error().message();
}

TEST(FlagsTest, SingleAndDoubleDash) {
  Flags f = Parse({"-bundle", "/b1", "--pid-file", "/p", "id"});
  EXPECT_EQ(f.Get("bundle"), "/b1");
  EXPECT_EQ(f.Get("pid-file"), "/p");
  EXPECT_EQ(f.args, V{"id"});
  f = Parse({"--bundle=/b2", "-pid-file=/q"});
  EXPECT_EQ(f.Get("bundle"), "/b2");
  EXPECT_EQ(f.Get("pid-file"), "/q");
  EXPECT_TRUE(f.args.empty());
}

TEST(FlagsTest, ShortNamesStoreUnderTheLongName) {
  Flags f = Parse({"-b", "/x", "-d", "id"});
  EXPECT_TRUE(f.Has("bundle"));
  EXPECT_FALSE(f.Has("b"));
  EXPECT_EQ(f.Get("bundle"), "/x");
  EXPECT_TRUE(f.Bool("detach"));
  f = Parse({"--b=/y"});
  EXPECT_EQ(f.Get("bundle"), "/y");
}

TEST(FlagsTest, ValuesMayLookLikeFlagsOrBeEmpty) {
  Flags f = Parse({"--bundle", "--force", "id"});
  EXPECT_EQ(f.Get("bundle"), "--force");
  EXPECT_FALSE(f.Has("force"));
  EXPECT_EQ(f.args, V{"id"});
  f = Parse({"--bundle=", "id"});
  EXPECT_TRUE(f.Has("bundle"));
  EXPECT_EQ(f.Get("bundle", "default"), "");
  f = Parse({"--env=A=b=c"});
  EXPECT_EQ(f.Get("env"), "A=b=c");
}

TEST(FlagsTest, Booleans) {
  Flags f = Parse({"--detach", "-f"});
  EXPECT_TRUE(f.Bool("detach"));
  EXPECT_TRUE(f.Bool("force"));
  EXPECT_EQ(f.Get("detach"), "true");
  // A boolean never takes the next argument as its value.
  f = Parse({"--detach", "false"});
  EXPECT_TRUE(f.Bool("detach"));
  EXPECT_EQ(f.args, V{"false"});
  // Go's strconv.ParseBool forms.
  for (const char* yes : {"true", "TRUE", "True", "t", "T", "1"})
    EXPECT_TRUE(Parse({std::string("--detach=") + yes}).Bool("detach")) << yes;
  for (const char* no : {"false", "FALSE", "False", "f", "F", "0"})
    EXPECT_FALSE(Parse({std::string("--detach=") + no}).Bool("detach")) << no;
  EXPECT_EQ(ParseError({"--detach=yes"}), "invalid boolean value \"yes\" for -detach: parse error");
  EXPECT_EQ(ParseError({"-d="}), "invalid boolean value \"\" for -d: parse error");
  // The last one given wins.
  EXPECT_FALSE(Parse({"--force", "--force=false"}).Bool("force"));
  EXPECT_FALSE(Parse({}).Bool("force"));
}

TEST(FlagsTest, RepeatedFlags) {
  Flags f = Parse({"-e", "A=1", "--env", "B=2", "--env=C=3"});
  EXPECT_EQ(f.All("env"), (V{"A=1", "B=2", "C=3"}));
  EXPECT_EQ(f.Get("env"), "C=3");
  EXPECT_TRUE(f.All("bundle").empty());
  EXPECT_EQ(f.Get("bundle", "dflt"), "dflt");
}

TEST(FlagsTest, DoubleDashEndsFlags) {
  Flags f = Parse({"-d", "--", "--force", "-x", "id"});
  EXPECT_TRUE(f.Bool("detach"));
  EXPECT_FALSE(f.Has("force"));
  EXPECT_EQ(f.args, (V{"--force", "-x", "id"}));
  f = Parse({"--"});
  EXPECT_TRUE(f.args.empty());
}

TEST(FlagsTest, FlagsStopAtFirstPositional) {
  Flags f = Parse({"--detach", "id", "--force", "sh", "-c", "--", "x"});
  EXPECT_TRUE(f.Bool("detach"));
  EXPECT_FALSE(f.Has("force"));
  EXPECT_EQ(f.args, (V{"id", "--force", "sh", "-c", "--", "x"}));
  // A lone "-" is a positional argument.
  f = Parse({"-", "-d"});
  EXPECT_EQ(f.args, (V{"-", "-d"}));
  EXPECT_FALSE(f.Has("detach"));
}

TEST(FlagsTest, StartIndex) {
  V argv = {"berth-runtime", "--root", "/r", "kill", "--all", "id", "KILL"};
  Flags f = *ParseFlags(argv, 4, {{"all", "a", false}});
  EXPECT_TRUE(f.Bool("all"));
  EXPECT_EQ(f.args, (V{"id", "KILL"}));
  f = *ParseFlags(argv, argv.size(), {});
  EXPECT_TRUE(f.args.empty());
}

TEST(FlagsTest, Errors) {
  EXPECT_EQ(ParseError({"-foo"}), "flag provided but not defined: -foo");
  EXPECT_EQ(ParseError({"--foo"}), "flag provided but not defined: -foo");
  EXPECT_EQ(ParseError({"--foo=bar"}), "flag provided but not defined: -foo");
  EXPECT_EQ(ParseError({"-d", "--nope", "id"}), "flag provided but not defined: -nope");
  EXPECT_EQ(ParseError({"--bundle"}), "flag needs an argument: -bundle");
  EXPECT_EQ(ParseError({"-b"}), "flag needs an argument: -b");
  EXPECT_EQ(ParseError({"--=x"}), "bad flag syntax: --=x");
  EXPECT_EQ(ParseError({"-=x"}), "bad flag syntax: -=x");
  EXPECT_EQ(ParseError({"---bundle", "x"}), "bad flag syntax: ---bundle");
  // Only the first error is reported; nothing after an unknown flag is read.
  EXPECT_EQ(ParseError({"--x", "--y"}), "flag provided but not defined: -x");
}

}  // namespace
}  // namespace berth::cmd
