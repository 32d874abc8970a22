#include <gtest/gtest.h>

#include "runtime/cgroups/manager.h"

namespace berth::runtime::cgroups {
namespace {

// This machine's kind: v1 per controller, cgroup2 at /sys/fs/cgroup/unified holding hugetlb.
constexpr std::string_view kHybrid =
    "23 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

// A Debian/Ubuntu systemd legacy host: co-mounts, shared:N optional fields, xattr options.
constexpr std::string_view kLegacy =
    "25 19 0:22 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate\n"
    "27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:13 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "31 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw shared:14 - cgroup cgroup "
    "rw,net_cls,net_prio\n"
    "32 25 0:29 / /sys/fs/cgroup/memory rw shared:15 - cgroup cgroup rw,memory\n";

constexpr std::string_view kUnified =
    "24 18 0:21 / /sys rw shared:7 - sysfs sysfs rw\n"
    "25 24 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";

TEST(ParseLayoutTest, HybridLikeThisMachine) {
  auto l = ParseLayout(kHybrid, "hugetlb\n");
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(l->mode, Mode::kHybrid);
  EXPECT_EQ(l->unified, "/sys/fs/cgroup/unified");
  EXPECT_EQ(l->unified_controllers, std::vector<std::string>{"hugetlb"});
  EXPECT_EQ(l->v1.size(), 9u);
  EXPECT_EQ(l->v1.at("cpu"), "/sys/fs/cgroup/cpu");
  EXPECT_EQ(l->v1.at("cpuacct"), "/sys/fs/cgroup/cpuacct");
  EXPECT_EQ(l->v1.at("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(l->v1.count("hugetlb"), 0u);
}

TEST(ParseLayoutTest, LegacyWithEmptyV2AndCoMounts) {
  auto l = ParseLayout(kLegacy, "");
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(l->mode, Mode::kLegacy);
  EXPECT_EQ(l->v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l->v1.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l->v1.at("net_prio"), "/sys/fs/cgroup/net_cls,net_prio");
  EXPECT_EQ(l->v1.at("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(l->v1.count("xattr"), 0u);
  EXPECT_EQ(l->v1.count("rw"), 0u);
}

TEST(ParseLayoutTest, Unified) {
  auto l = ParseLayout(kUnified, "cpuset cpu io memory hugetlb pids rdma misc\n");
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_EQ(l->mode, Mode::kUnified);
  EXPECT_EQ(l->unified, "/sys/fs/cgroup");
  EXPECT_TRUE(l->v1.empty());
  EXPECT_EQ(l->unified_controllers.size(), 8u);
  EXPECT_EQ(l->unified_controllers[2], "io");
}

TEST(ParseLayoutTest, EscapedMountPoint) {
  auto l = ParseLayout("40 31 0:37 / /tmp/my\\040cg rw - cgroup cgroup rw,memory\n", "");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->v1.at("memory"), "/tmp/my cg");
}

TEST(ParseLayoutTest, NoCgroupsIsNotFound) {
  auto l = ParseLayout("24 18 0:21 / /sys rw shared:7 - sysfs sysfs rw\n", "");
  ASSERT_FALSE(l);
  EXPECT_TRUE(l.error().IsNotFound());
}

TEST(DetectTest, ThisHost) {
  auto l = Detect();
  if (!l) GTEST_SKIP() << "no cgroups here: " << l.error().message();
  EXPECT_TRUE(!l->v1.empty() || !l->unified.empty());
}

}  // namespace
}  // namespace berth::runtime::cgroups
