#include "engine/fs/disk_usage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "engine/fs/fs_test_util.h"

namespace berth::engine::fs {
namespace {

using testing::TempDir;
using testing::Write;

TEST(DiskUsageTest, CountsFilesAndLinksOnceNotDirectories) {
  TempDir t;
  std::string d = t.Dir("upper");
  Write(d + "/a", std::string(10, 'a'));
  t.Dir("upper/sub/deeper");
  Write(d + "/sub/b", std::string(20, 'b'));
  Write(d + "/sub/deeper/c", std::string(5, 'c'));
  ASSERT_EQ(::link((d + "/sub/b").c_str(), (d + "/b-again").c_str()), 0);
  ASSERT_EQ(::symlink("../a", (d + "/sub/ln").c_str()), 0);  // 4 bytes, not followed
  auto n = TreeSize(d);
  ASSERT_TRUE(n) << n.error().message();
  EXPECT_EQ(*n, 10 + 20 + 5 + 4);
}

TEST(DiskUsageTest, MissingIsZeroAndSizesAddTheLowers) {
  TempDir t;
  EXPECT_EQ(TreeSize(t.Sub("nothing")).value_or(-1), 0);
  Write(t.Dir("up") + "/x", "123");
  Write(t.Dir("l1") + "/y", "4567");
  Write(t.Dir("l2") + "/z", "89");
  auto s = SizesOf(t.Sub("up"), {t.Sub("l1"), t.Sub("l2")});
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->rw, 3);
  EXPECT_EQ(s->rootfs, 3 + 4 + 2);
}

TEST(DiskUsageTest, DoesNotFollowASymlinkedRoot) {
  TempDir t;
  Write(t.Dir("real") + "/f", "data");
  ASSERT_EQ(::symlink(t.Sub("real").c_str(), t.Sub("link").c_str()), 0);
  EXPECT_FALSE(TreeSize(t.Sub("link")));
}

}  // namespace
}  // namespace berth::engine::fs
