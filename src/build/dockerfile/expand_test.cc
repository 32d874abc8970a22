#include "build/dockerfile/expand.h"

#include <gtest/gtest.h>

#include <map>

namespace berth::build {
namespace {

EnvLookup Env(std::map<std::string, std::string> m) {
  return [m = std::move(m)](std::string_view k) -> std::optional<std::string> {
    auto it = m.find(std::string(k));
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

std::string W(std::string_view word, const EnvLookup& env, char escape = '\\') {
  auto r = ExpandWord(word, env, escape);
  EXPECT_TRUE(r) << word << ": " << r.error().message();
  return r ? *r : "<error>";
}

std::string Err(std::string_view word, const EnvLookup& env) {
  auto r = ExpandWord(word, env);
  EXPECT_FALSE(r) << word << " gave " << (r ? *r : "");
  return r ? "" : r.error().message();
}

TEST(ExpandWord, PlainAndBraces) {
  auto env = Env({{"HOME", "/root"}, {"E", ""}, {"x_1", "v"}});
  EXPECT_EQ(W("$HOME/src", env), "/root/src");
  EXPECT_EQ(W("${HOME}src", env), "/rootsrc");
  EXPECT_EQ(W("a$UNSET.b", env), "a.b");
  EXPECT_EQ(W("$x_1-", env), "v-");
  EXPECT_EQ(W("$", env), "$");
  EXPECT_EQ(W("$.", env), "$.");
  EXPECT_EQ(W("he$1x", env), "hex");  // a positional name: digits only
  EXPECT_EQ(W("${E}", env), "");
}

TEST(ExpandWord, Operators) {
  auto env = Env({{"SET", "val"}, {"EMPTY", ""}});
  EXPECT_EQ(W("${SET:-def}", env), "val");
  EXPECT_EQ(W("${EMPTY:-def}", env), "def");
  EXPECT_EQ(W("${UNSET:-def}", env), "def");
  EXPECT_EQ(W("${EMPTY-def}", env), "");
  EXPECT_EQ(W("${UNSET-def}", env), "def");
  EXPECT_EQ(W("${SET:+alt}", env), "alt");
  EXPECT_EQ(W("${EMPTY:+alt}", env), "");
  EXPECT_EQ(W("${EMPTY+alt}", env), "alt");
  EXPECT_EQ(W("${UNSET+alt}", env), "");
  EXPECT_EQ(W("${SET:?boom}", env), "val");
  EXPECT_EQ(W("${EMPTY?boom}", env), "");
  EXPECT_EQ(W("${UNSET:-${SET}x}", env), "valx");  // nested
  EXPECT_EQ(W("${UNSET:-a b}", env), "a b");
}

TEST(ExpandWord, ErrorOperator) {
  auto env = Env({{"EMPTY", ""}});
  EXPECT_EQ(Err("${UNSET:?must be set}", env),
            "failed to process \"${UNSET:?must be set}\": "
            "UNSET: must be set");
  EXPECT_NE(Err("${UNSET?}", env).find("UNSET: is not allowed to be unset"), std::string::npos);
  EXPECT_NE(Err("${EMPTY:?}", env).find("EMPTY: is not allowed to be empty"), std::string::npos);
}

TEST(ExpandWord, PatternOperators) {
  auto env = Env({{"F", "archive.tar.gz"}, {"P", "/usr/local/bin"}});
  EXPECT_EQ(W("${F#*.}", env), "tar.gz");
  EXPECT_EQ(W("${F##*.}", env), "gz");
  EXPECT_EQ(W("${F%.*}", env), "archive.tar");
  EXPECT_EQ(W("${F%%.*}", env), "archive");
  EXPECT_EQ(W("${P/local/opt}", env), "/usr/opt/bin");
  EXPECT_EQ(W("${P//\\//:}", env), ":usr:local:bin");
  EXPECT_EQ(W("${F/x/y}", env), "archive.tar.gz");
  EXPECT_EQ(W("${F#nomatch}", env), "archive.tar.gz");
  EXPECT_EQ(W("${F/a?c/X}", env), "Xhive.tar.gz");
}

TEST(ExpandWord, QuotesAndEscapes) {
  auto env = Env({{"A", "x y"}});
  EXPECT_EQ(W("he'll'o", env), "hello");
  EXPECT_EQ(W("he\\'llo", env), "he'llo");
  EXPECT_EQ(W("abc\\tdef", env), "abctdef");
  EXPECT_EQ(W("\"abc\\tdef\"", env), "abc\\tdef");
  EXPECT_EQ(W("\"abc\\\\tdef\"", env), "abc\\tdef");
  EXPECT_EQ(W("'$A'", env), "$A");
  EXPECT_EQ(W("\"$A\"", env), "x y");
  EXPECT_EQ(W("\\$A", env), "$A");
  EXPECT_EQ(W("\"\\$A\"", env), "$A");
  EXPECT_EQ(W("hello\\", env), "hello");
  EXPECT_EQ(W("'hello\\'", env), "hello\\");
  EXPECT_EQ(W("\"''\"", env), "''");
  // The backtick escape.
  EXPECT_EQ(W("a`$A", env, '`'), "a$A");
  EXPECT_EQ(W("a\\b", env, '`'), "a\\b");
}

TEST(ExpandWord, SyntaxErrors) {
  auto env = Env({});
  EXPECT_EQ(Err("he'llo", env),
            "failed to process \"he'llo\": unexpected end of statement while looking for "
            "matching single-quote");
  EXPECT_NE(Err("\"hello", env).find("matching double-quote"), std::string::npos);
  EXPECT_NE(Err("${}", env).find("bad substitution"), std::string::npos);
  EXPECT_NE(Err("${:a}", env).find("bad substitution"), std::string::npos);
  EXPECT_NE(Err("${A:-x", env).find("missing '}'"), std::string::npos);
  EXPECT_NE(Err("${A:=x}", env).find("unsupported modifier (:=) in substitution"),
            std::string::npos);
  EXPECT_NE(Err("${A:#x}", env).find("unsupported modifier (:#)"), std::string::npos);
  EXPECT_NE(Err("${A", env).find("unsupported modifier"), std::string::npos);
  EXPECT_NE(Err("${A/x", env).find("missing '/' in ${}"), std::string::npos);
}

TEST(ExpandWords, SplitsOnUnquotedWhitespace) {
  auto env = Env({{"SPACE", "abc  def"}, {"LEAD", "  ab c"}});
  using V = std::vector<std::string>;
  EXPECT_EQ(*ExpandWords("hello${SPACE}bye", env), (V{"helloabc", "defbye"}));
  EXPECT_EQ(*ExpandWords("hello\"${SPACE}\"bye", env), (V{"helloabc  defbye"}));
  EXPECT_EQ(*ExpandWords("hello${LEAD}def", env), (V{"hello", "ab", "cdef"}));
  EXPECT_EQ(*ExpandWords("a\\ b c", env), (V{"a b", "c"}));
  EXPECT_EQ(*ExpandWords("80/tcp  $UNSET 443", env), (V{"80/tcp", "443"}));
  EXPECT_EQ(*ExpandWords("\"\"", env), V{});
  EXPECT_FALSE(ExpandWords("hello\" there", env));
}

TEST(ExpandHeredoc, KeepsQuotes) {
  auto env = Env({{"N", "1"}});
  EXPECT_EQ(*ExpandHeredoc("echo \"$N\" '$N'\n", env), "echo \"1\" '1'\n");
}

TEST(Lex, SkipUnsetKeepsText) {
  LexOptions o;
  o.skip_unset = true;
  auto env = Env({{"A", "a"}});
  EXPECT_EQ(*ExpandWordWith("$A $B ${C} ${D:-x}", env, o), "a $B ${C} ${D:-x}");
}

TEST(Substitutes, Keywords) {
  EXPECT_TRUE(SubstitutesVariables("COPY"));
  EXPECT_TRUE(SubstitutesVariables("WORKDIR"));
  EXPECT_FALSE(SubstitutesVariables("CMD"));
  EXPECT_FALSE(SubstitutesVariables("ONBUILD"));
}

TEST(LookupFromEnvList, LastWins) {
  auto l = LookupFromEnvList({"A=1", "B", "A=2=3"});
  EXPECT_EQ(*l("A"), "2=3");
  EXPECT_EQ(*l("B"), "");
  EXPECT_FALSE(l("C"));
}

}  // namespace
}  // namespace berth::build
