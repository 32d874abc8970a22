#include "util/result.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>

#include "util/error.h"

namespace berth {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Error::InvalidArgument("odd number " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  int h = BERTH_TRY(Half(x));
  return BERTH_TRY_CTX(Half(h), "second half");
}

Result<void> Check(bool ok) {
  if (!ok) return Error::FromErrno(ENOENT, "open /nope");
  return {};
}

TEST(ResultTest, PropagatesValuesAndErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument());
  EXPECT_EQ(r.error().message(), "second half: odd number 3");
}

TEST(ResultTest, VoidAndErrno) {
  EXPECT_TRUE(Check(true));
  auto r = Check(false);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound());
  EXPECT_EQ(r.error().sys_errno(), ENOENT);
  EXPECT_EQ(r.error().message(), "open /nope: no such file or directory");
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ErrorTest, WrapKeepsCode) {
  Error e = Error::Conflict("busy").Wrap("delete c1");
  EXPECT_TRUE(e.IsConflict());
  EXPECT_EQ(e.message(), "delete c1: busy");
}

}  // namespace
}  // namespace berth
