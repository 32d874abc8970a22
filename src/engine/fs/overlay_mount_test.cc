#include "engine/fs/overlay_mount.h"

#include <gtest/gtest.h>

#include "engine/fs/fs_test_util.h"

namespace berth::engine::fs {
namespace {

using testing::Exists;
using testing::Read;
using testing::TempDir;
using testing::Write;

TEST(OverlayMountTest, MergesLowersTopFirstAndWritesToUpper) {
  TempDir t;
  Write(t.Sub("l1/a"), "base");
  Write(t.Sub("l1/same"), "from base");
  Write(t.Sub("l2/b"), "top");
  Write(t.Sub("l2/same"), "from top");
  std::string upper = t.Dir("upper"), work = t.Dir("work"), merged = t.Dir("merged");
  t.WillMount(merged);
  {
    auto m = OverlayMount::Mount({t.Sub("l2"), t.Sub("l1")}, upper, work, merged);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(Read(merged + "/a"), "base");
    EXPECT_EQ(Read(merged + "/b"), "top");
    EXPECT_EQ(Read(merged + "/same"), "from top");
    Write(merged + "/new", "written");
    EXPECT_EQ(Read(upper + "/new"), "written");
    EXPECT_FALSE(Exists(t.Sub("l1/new")));
  }
  // Unmounted when the guard went: the mount point is empty again.
  EXPECT_FALSE(Exists(merged + "/a"));
  EXPECT_TRUE(UnmountOverlay(merged));  // not mounted: fine
}

TEST(OverlayMountTest, ManyLongLowersGoThroughTheNewMountApi) {
  TempDir t;
  // 150 lowers of ~70 bytes each: far past the page mount(2) data may hold.
  std::vector<std::string> lowers;
  for (int i = 0; i < 150; ++i) {
    std::string dir =
        t.Sub("layers/a-rather-long-directory-name-for-layer-number-" + std::to_string(i) + "/fs");
    Write(dir + "/file" + std::to_string(i), std::to_string(i));
    Write(dir + "/top", std::to_string(i));
    lowers.insert(lowers.begin(), dir);  // the last made is the top
  }
  std::string upper = t.Dir("upper"), work = t.Dir("work"), merged = t.Dir("merged");
  t.WillMount(merged);
  auto m = OverlayMount::Mount(lowers, upper, work, merged);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(Read(merged + "/file0"), "0");
  EXPECT_EQ(Read(merged + "/file149"), "149");
  EXPECT_EQ(Read(merged + "/top"), "149");
  EXPECT_TRUE(m->Unmount());
  EXPECT_FALSE(Exists(merged + "/file0"));
}

TEST(OverlayMountTest, NoLowersBindsTheUpperDirectory) {
  TempDir t;
  std::string upper = t.Dir("upper"), work = t.Dir("work"), merged = t.Dir("merged");
  t.WillMount(merged);
  auto m = OverlayMount::Mount({}, upper, work, merged);
  ASSERT_TRUE(m) << m.error().message();
  Write(merged + "/x", "1");
  EXPECT_EQ(Read(upper + "/x"), "1");
}

TEST(OverlayMountTest, MissingLowerIsAnErrorNamingTheTarget) {
  TempDir t;
  std::string upper = t.Dir("upper"), work = t.Dir("work"), merged = t.Dir("merged");
  t.WillMount(merged);
  auto r = MountOverlay({t.Sub("nope")}, upper, work, merged);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("mount overlay on " + merged), std::string::npos)
      << r.error().message();
}

}  // namespace
}  // namespace berth::engine::fs
