#include "util/base64.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Base64, EncodesBothAlphabets) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlEncode("abc"), "YWJj");
}

TEST(Base64, RoundTripsEveryLengthInEveryMode) {
  std::string s;
  for (int i = 0; i < 70; ++i) {
    s += static_cast<char>(i * 37 + 11);
    EXPECT_EQ(Base64Decode(Base64Encode(s), Base64::kStrict), s) << i;
    EXPECT_EQ(Base64Decode(Base64Encode(s), Base64::kLenient), s) << i;
    EXPECT_EQ(Base64Decode(Base64UrlEncode(s), Base64::kUrl), s) << i;
    EXPECT_EQ(Base64Decode(Base64UrlEncode(s), Base64::kLenient), s) << i;
  }
}

TEST(Base64, StrictWantsTheStandardAlphabetAndPadding) {
  EXPECT_EQ(Base64Decode("YWI=", Base64::kStrict), "ab");
  for (const char* bad : {"YWI", "YQ=", "Y===", "YW=I", "-_8=", "YWI=YQ==", "a b=", "YQ==="})
    EXPECT_FALSE(Base64Decode(bad, Base64::kStrict)) << bad;
}

TEST(Base64, UrlRefusesTheStandardAlphabet) {
  EXPECT_EQ(Base64Decode("-_8", Base64::kUrl), "\xfb\xff");
  EXPECT_EQ(Base64Decode("-_8=", Base64::kUrl), "\xfb\xff");  // padding tolerated
  EXPECT_FALSE(Base64Decode("a+b/", Base64::kUrl));
  EXPECT_FALSE(Base64Decode("abcde", Base64::kUrl));  // a lone digit in the last group
}

TEST(Base64, LenientTakesEitherAlphabetAndLineBreaks) {
  EXPECT_EQ(Base64Decode("-_8", Base64::kLenient), Base64Decode("+/8=", Base64::kLenient));
  EXPECT_EQ(Base64Decode("dXNl\r\ncjpw\nYXNz", Base64::kLenient), "user:pass");
  EXPECT_FALSE(Base64Decode("a b", Base64::kLenient));
  EXPECT_FALSE(Base64Decode("YQ==YQ==", Base64::kLenient));
}

}  // namespace
}  // namespace berth
