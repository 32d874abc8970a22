#include <gtest/gtest.h>

#include "runtime/cgroups/cgroups_internal.h"
#include "runtime/cgroups/manager.h"

namespace berth::runtime::cgroups {
namespace {

using namespace internal;

TEST(ConvertTest, SharesToWeight) {
  EXPECT_EQ(SharesToWeight(2), 1u);
  EXPECT_EQ(SharesToWeight(1024), 39u);  // docker's default share: 1 + 1022*9999/262142
  EXPECT_EQ(SharesToWeight(262144), 10000u);
  EXPECT_EQ(SharesToWeight(0), 0u);
}

TEST(ConvertTest, BlkioWeightToIoWeight) {
  EXPECT_EQ(BlkioWeightToIoWeight(10), 1u);
  EXPECT_EQ(BlkioWeightToIoWeight(500), 1 + 490u * 9999 / 990);
  EXPECT_EQ(BlkioWeightToIoWeight(1000), 10000u);
}

TEST(ConvertTest, SwapToV2) {
  auto v = [](std::optional<int64_t> swap, std::optional<int64_t> limit) {
    auto r = SwapToV2(swap, limit);
    EXPECT_TRUE(r) << r.error().message();
    return r ? r->value_or("<none>") : "<error>";
  };
  EXPECT_EQ(v(std::nullopt, std::nullopt), "<none>");
  EXPECT_EQ(v(std::nullopt, 64 << 20), "<none>");
  EXPECT_EQ(v(-1, 64 << 20), "max");
  EXPECT_EQ(v(std::nullopt, -1), "max");
  EXPECT_EQ(v(128 << 20, 64 << 20), std::to_string(64 << 20));
  EXPECT_EQ(v(64 << 20, 64 << 20), "0");
  EXPECT_FALSE(SwapToV2(32 << 20, 64 << 20));  // memory+swap below memory
  EXPECT_FALSE(SwapToV2(32 << 20, std::nullopt));
}

TEST(ConvertTest, PageSizeName) {
  EXPECT_EQ(PageSizeName(2048), "2MB");
  EXPECT_EQ(PageSizeName(1048576), "1GB");
  EXPECT_EQ(PageSizeName(64), "64KB");
}

TEST(PathTest, CleanPath) {
  EXPECT_EQ(*CleanPath("/berth/web"), "/berth/web");
  EXPECT_EQ(*CleanPath("//berth/./web/"), "/berth/web");
  EXPECT_EQ(*CleanPath("berth/web"), "berth/web");
  for (const char* bad : {"", "/", "//", "/berth/../etc", "..", "a/../../b", "./"}) {
    auto r = CleanPath(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(r.error().IsInvalidArgument()) << bad;
  }
}

TEST(PathTest, ProcCgroupAndRelativePaths) {
  auto own = ParseProcCgroup(
      "9:name=systemd:/\n4:memory:/process_api/900ad\n2:cpu,cpuacct:/user\n0::/init.scope\n");
  EXPECT_EQ(own.at("memory"), "/process_api/900ad");
  EXPECT_EQ(own.at("cpuacct"), "/user");
  EXPECT_EQ(own.at("name=systemd"), "/");
  EXPECT_EQ(own.at(""), "/init.scope");
  EXPECT_EQ(PathInHierarchy("berth/web", &own, "memory"), "/process_api/900ad/berth/web");
  EXPECT_EQ(PathInHierarchy("berth/web", &own, ""), "/init.scope/berth/web");
  EXPECT_EQ(PathInHierarchy("berth/web", &own, "pids"), "/berth/web");
  EXPECT_EQ(PathInHierarchy("/berth/web", &own, "memory"), "/berth/web");
}

TEST(PathTest, NewManagerRejectsBadPaths) {
  Layout layout;
  layout.mode = Mode::kLegacy;
  layout.v1 = {{"memory", "/sys/fs/cgroup/memory"}};
  for (const char* bad : {"", "/a/../b", "/"}) {
    auto m = NewManager(layout, bad);
    ASSERT_FALSE(m) << bad;
    EXPECT_TRUE(m.error().IsInvalidArgument());
  }
  auto m = NewManager(layout, "/berth/x");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)->Paths().at("memory"), "/sys/fs/cgroup/memory/berth/x");
}

TEST(PathTest, HybridPaths) {
  Layout layout;
  layout.mode = Mode::kHybrid;
  layout.v1 = {{"memory", "/sys/fs/cgroup/memory"},
               {"cpu", "/sys/fs/cgroup/cpu,cpuacct"},
               {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"}};
  layout.unified = "/sys/fs/cgroup/unified";
  layout.unified_controllers = {"hugetlb"};
  auto m = NewManager(layout, "/berth/x");
  ASSERT_TRUE(m);
  auto p = (*m)->Paths();
  EXPECT_EQ(p.at(""), "/sys/fs/cgroup/unified/berth/x");
  EXPECT_EQ(p.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct/berth/x");
}

TEST(SystemdTest, ClearError) {
  Error e = SystemdUnavailable();
  EXPECT_NE(e.message().find("systemd cgroup driver"), std::string::npos);
}

}  // namespace
}  // namespace berth::runtime::cgroups
