#include "registry/names.h"

#include <gtest/gtest.h>

#include <string>

#include "registry/auth.h"
#include "registry/digester.h"

namespace berth::registry {
namespace {

TEST(NamesTest, RepositoryNames) {
  for (const char* ok : {"a", "library/busybox", "a.b/c_d/e__f/g--h", "0/1", "a-b-c"})
    EXPECT_TRUE(ValidRepositoryName(ok)) << ok;
  for (const char* bad :
       {"", "/a", "a/", "a//b", "..", "a/../b", "a/./b", ".a", "a.", "A", "a/_tags", "_catalog",
        "a___b", "a..b", "a%2fb", "a b", "a/b\n", "-a", "a/-b"})
    EXPECT_FALSE(ValidRepositoryName(bad)) << bad;
  EXPECT_TRUE(ValidRepositoryName(std::string(255, 'a')));
  EXPECT_FALSE(ValidRepositoryName(std::string(256, 'a')));
}

TEST(NamesTest, Tags) {
  for (const char* ok : {"latest", "v1.0", "_x", "A-b_c.d", "0"}) EXPECT_TRUE(ValidTag(ok)) << ok;
  for (const char* bad : {"", ".x", "-x", "a/b", "a:b", ".tmp-1"})
    EXPECT_FALSE(ValidTag(bad)) << bad;
  EXPECT_TRUE(ValidTag(std::string(128, 'a')));
  EXPECT_FALSE(ValidTag(std::string(129, 'a')));
}

TEST(NamesTest, ContentRange) {
  auto s = ParseContentRange("0-9");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->start, 0);
  EXPECT_EQ(s->end, 9);
  s = ParseContentRange("bytes 10-19/*");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->start, 10);
  EXPECT_EQ(s->end, 19);
  for (const char* bad : {"", "5", "9-0", "-1-2", "a-b", "1-", "-3", "99999999999999999999-1"})
    EXPECT_FALSE(ParseContentRange(bad)) << bad;
}

TEST(NamesTest, Range) {
  auto s = ParseRange("bytes=2-5", 10);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->start, 2);
  EXPECT_EQ(s->end, 5);
  s = ParseRange("bytes=7-", 10);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->end, 9);
  s = ParseRange("bytes=-3", 10);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->start, 7);
  s = ParseRange("bytes=5-100", 10);  // the end is clamped to the blob
  ASSERT_TRUE(s);
  EXPECT_EQ(s->end, 9);
  for (const char* bad : {"bytes=10-", "bytes=5-2", "bytes=0-1,3-4", "items=0-1", "bytes=-0", "x"})
    EXPECT_FALSE(ParseRange(bad, 10)) << bad;
  EXPECT_FALSE(ParseRange("bytes=0-", 0));
}

TEST(NamesTest, UploadIds) {
  EXPECT_TRUE(ValidUploadId("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0"));
  for (const char* bad : {"", "..", "a/b", "ABC", "x"}) EXPECT_FALSE(ValidUploadId(bad)) << bad;
}

TEST(DigesterTest, Sha256AndSha512) {
  EXPECT_EQ(DigestOf("sha256", "hello")->str(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(DigestOf("sha512", "hello")->str(),
            "sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c1"
            "1d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043");
  EXPECT_FALSE(DigestOf("md5", "hello"));
}

}  // namespace
}  // namespace berth::registry
