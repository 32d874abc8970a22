#include "util/sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace berth {
namespace {

// FIPS 180-2 / NIST test vectors.
TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(*Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(*Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(*Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(*Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, StreamingMatchesOneShot) {
  std::string data;
  for (int i = 0; i < 10000; ++i) data += static_cast<char>(i * 31 + 7);
  Sha256 h = *Sha256::New();
  for (size_t off = 0; off < data.size(); off += 333)
    ASSERT_TRUE(h.Update(std::string_view(data).substr(off, 333)));
  EXPECT_EQ(*h.HexDigest(), *Sha256Hex(data));
}

TEST(Sha256Test, FinishedHashRejectsMoreInput) {
  Sha256 h = *Sha256::New();
  ASSERT_TRUE(h.Update("abc"));
  ASSERT_TRUE(h.HexDigest());
  EXPECT_TRUE(h.Update("x").error().IsFailedPrecondition());
  EXPECT_TRUE(h.HexDigest().error().IsFailedPrecondition());
}

}  // namespace
}  // namespace berth
