#include "oci/digest.h"

#include <gtest/gtest.h>

#include <vector>

namespace berth::oci {
namespace {

const std::string kHex(64, 'a');

TEST(DigestTest, ParsesSha256AndSha512) {
  auto d = Digest::Parse("sha256:" + kHex);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->algorithm(), "sha256");
  EXPECT_EQ(d->hex(), kHex);
  EXPECT_EQ(d->short_hex(), "aaaaaaaaaaaa");
  EXPECT_TRUE(Digest::Parse("sha512:" + std::string(128, '0')));
}

TEST(DigestTest, RefusesMalformed) {
  for (const std::string& bad : std::vector<std::string>{
           "", "sha256", "sha256:", "sha256:" + kHex.substr(1), "sha256:" + std::string(64, 'A'),
           "sha256:" + kHex + "0", "md5:" + std::string(32, 'a'),
           "sha256:" + std::string(63, 'a') + "g"}) {
    auto d = Digest::Parse(bad);
    EXPECT_FALSE(d) << bad;
    if (!d) EXPECT_TRUE(d.error().IsInvalidArgument());
  }
}

TEST(DigestTest, FromHexRoundTrips) {
  Digest d = Digest::Sha256Hex(kHex);
  EXPECT_EQ(d.str(), "sha256:" + kHex);
  EXPECT_EQ(*Digest::Parse(d.str()), d);
  EXPECT_FALSE(Digest().valid());
}

}  // namespace
}  // namespace berth::oci
