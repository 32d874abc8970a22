// Apply against a directory tree that stands in for cgroupfs: the files a kernel would offer
// are made empty beforehand, and the test reads back what the managers wrote.

#include <gtest/gtest.h>
#include <stdlib.h>

#include "runtime/cgroups/manager.h"
#include "util/file.h"

namespace berth::runtime::cgroups {
namespace {

class FakeCgroupFs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cgfake-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(root_); }

  // Makes dir (below root_) with the named empty files.
  void Files(const std::string& dir, std::initializer_list<const char*> names,
             const std::string& content = "") {
    ASSERT_TRUE(MkdirAll(root_ + dir));
    for (const char* n : names) ASSERT_TRUE(WriteFile(root_ + dir + "/" + n, content));
  }
  std::string Read(const std::string& path) {
    auto r = ReadFile(root_ + path);
    return r ? *r : "<missing>";
  }

  std::string root_;
};

TEST_F(FakeCgroupFs, V2WritesConvertedValues) {
  Files("", {"cgroup.subtree_control"});
  Files("/c", {"memory.max", "memory.swap.max", "memory.low", "cpu.weight", "cpu.max",
               "cpu.max.burst", "cpuset.cpus", "cpuset.mems", "pids.max", "io.weight", "io.max",
               "hugetlb.2MB.max", "memory.high"});
  Layout layout;
  layout.mode = Mode::kUnified;
  layout.unified = root_;
  layout.unified_controllers = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"};
  auto m = NewManager(layout, "/c");
  ASSERT_TRUE(m);

  oci::Resources r;
  r.memory = oci::Memory{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 96 << 20;
  r.memory->reservation = 32 << 20;
  r.cpu = oci::Cpu{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 1000;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  r.pids = oci::Pids{0};
  r.block_io = oci::BlockIo{};
  r.block_io->weight = 500;
  r.block_io->throttle_read_bps_device = {{8, 0, 1048576}};
  r.hugepage_limits = {{"2MB", 4 << 20}};
  r.unified = {{"memory.high", "50000000"}};
  auto a = (*m)->Apply(r);
  ASSERT_TRUE(a) << a.error().message();

  EXPECT_EQ(Read("/cgroup.subtree_control"), "+cpuset +cpu +memory +pids +io +hugetlb");
  EXPECT_EQ(Read("/c/memory.max"), std::to_string(64 << 20));
  EXPECT_EQ(Read("/c/memory.swap.max"), std::to_string(32 << 20));
  EXPECT_EQ(Read("/c/memory.low"), std::to_string(32 << 20));
  EXPECT_EQ(Read("/c/cpu.weight"), "39");
  EXPECT_EQ(Read("/c/cpu.max"), "50000 100000");
  EXPECT_EQ(Read("/c/cpu.max.burst"), "1000");
  EXPECT_EQ(Read("/c/cpuset.cpus"), "0");
  EXPECT_EQ(Read("/c/pids.max"), "max");
  EXPECT_EQ(Read("/c/io.weight"), "default " + std::to_string(1 + 490 * 9999 / 990));
  EXPECT_EQ(Read("/c/io.max"), "8:0 rbps=1048576");
  EXPECT_EQ(Read("/c/hugetlb.2MB.max"), std::to_string(4 << 20));
  EXPECT_EQ(Read("/c/memory.high"), "50000000");
}

TEST_F(FakeCgroupFs, V2Errors) {
  Files("", {"cgroup.subtree_control"});
  Files("/c", {"memory.max"});
  Layout layout;
  layout.mode = Mode::kUnified;
  layout.unified = root_;
  layout.unified_controllers = {"memory"};
  auto m = NewManager(layout, "/c");
  ASSERT_TRUE(m);

  oci::Resources bad_key;
  bad_key.unified = {{"../memory.max", "1"}};
  auto r = (*m)->Apply(bad_key);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().message();

  oci::Resources no_pids;
  no_pids.pids = oci::Pids{10};
  r = (*m)->Apply(no_pids);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("pids"), std::string::npos) << r.error().message();

  oci::Resources swap;
  swap.memory = oci::Memory{};
  swap.memory->limit = 1 << 20;
  swap.memory->swap = 2 << 20;
  r = (*m)->Apply(swap);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("swap limit not supported by the kernel"), std::string::npos);
}

class FakeV1 : public FakeCgroupFs {
 protected:
  Layout V1Layout() {
    Layout layout;
    layout.mode = Mode::kLegacy;
    for (const char* c : {"memory", "cpu", "pids", "devices", "blkio"})
      layout.v1[c] = root_ + "/" + c;
    return layout;
  }
};

TEST_F(FakeV1, WritesV1Files) {
  Files("/memory/c", {"memory.limit_in_bytes"}, "9223372036854771712");
  Files("/memory/c", {"memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
                      "memory.swappiness", "memory.oom_control"});
  Files("/cpu/c", {"cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us"});
  Files("/pids/c", {"pids.max"});
  Files("/devices/c", {"devices.allow", "devices.deny"});
  Files("/blkio/c", {"blkio.throttle.write_iops_device"});
  auto m = NewManager(V1Layout(), "/c");
  ASSERT_TRUE(m);

  oci::Resources r;
  r.memory = oci::Memory{};
  r.memory->limit = 64 << 20;
  r.memory->swap = 128 << 20;
  r.memory->reservation = 32 << 20;
  r.memory->swappiness = 10;
  r.memory->disable_oom_killer = true;
  r.memory->kernel = 1 << 20;  // deprecated: ignored
  r.cpu = oci::Cpu{};
  r.cpu->shares = 512;
  r.cpu->quota = 20000;
  r.cpu->period = 100000;
  r.pids = oci::Pids{20};
  r.block_io = oci::BlockIo{};
  r.block_io->throttle_write_iops_device = {{8, 0, 100}, {8, 16, 200}};
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},
               {true, "c", 1, 3, "rwm"},
               {true, "c", 136, std::nullopt, "rw"}};
  auto a = (*m)->Apply(r);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(Read("/memory/c/memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(Read("/memory/c/memory.memsw.limit_in_bytes"), std::to_string(128 << 20));
  EXPECT_EQ(Read("/memory/c/memory.soft_limit_in_bytes"), std::to_string(32 << 20));
  EXPECT_EQ(Read("/memory/c/memory.swappiness"), "10");
  EXPECT_EQ(Read("/memory/c/memory.oom_control"), "1");
  EXPECT_EQ(Read("/cpu/c/cpu.shares"), "512");
  EXPECT_EQ(Read("/cpu/c/cpu.cfs_quota_us"), "20000");
  EXPECT_EQ(Read("/cpu/c/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(Read("/pids/c/pids.max"), "20");
  EXPECT_EQ(Read("/blkio/c/blkio.throttle.write_iops_device"), "8:0 1008:16 200");
  EXPECT_EQ(Read("/devices/c/devices.allow"), "c 1:3 rwmc 136:* rw");
  EXPECT_EQ(Read("/devices/c/devices.deny"), "a *:* rwm");
}

TEST_F(FakeV1, KernelTcpLimitWrittenWhenTheFileExists) {
  Files("/memory/c", {"memory.kmem.tcp.limit_in_bytes"});
  auto m = NewManager(V1Layout(), "/c");
  ASSERT_TRUE(m);
  oci::Resources r;
  r.memory = oci::Memory{};
  r.memory->kernel_tcp = 16 << 20;
  auto a = (*m)->Apply(r);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(Read("/memory/c/memory.kmem.tcp.limit_in_bytes"), std::to_string(16 << 20));

  // A kernel without the file: ignored, as the deprecated field allows.
  Files("/memory/d", {"memory.limit_in_bytes"});
  auto m2 = NewManager(V1Layout(), "/d");
  ASSERT_TRUE(m2);
  EXPECT_TRUE((*m2)->Apply(r));
}

TEST_F(FakeV1, Errors) {
  Files("/memory/c", {"memory.limit_in_bytes"});
  auto m = NewManager(V1Layout(), "/c");
  ASSERT_TRUE(m);

  oci::Resources swap;
  swap.memory = oci::Memory{};
  swap.memory->limit = 1 << 20;
  swap.memory->swap = 2 << 20;
  auto r = (*m)->Apply(swap);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("swap limit not supported by the kernel"), std::string::npos);

  oci::Resources huge;
  huge.hugepage_limits = {{"2MB", 1 << 21}};
  r = (*m)->Apply(huge);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("hugetlb"), std::string::npos) << r.error().message();

  oci::Resources unified;
  unified.unified = {{"memory.high", "1"}};
  r = (*m)->Apply(unified);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument());

  oci::Resources empty_blkio;  // nothing asked: no error even without the files
  empty_blkio.block_io = oci::BlockIo{};
  EXPECT_TRUE((*m)->Apply(empty_blkio));
}

TEST_F(FakeCgroupFs, HybridSendsHugetlbToV2) {
  Files("/memory/c", {"memory.limit_in_bytes"}, "9223372036854771712");
  Files("/unified", {"cgroup.subtree_control"});
  Files("/unified/c", {"hugetlb.2MB.max"});
  Layout layout;
  layout.mode = Mode::kHybrid;
  layout.v1 = {{"memory", root_ + "/memory"}};
  layout.unified = root_ + "/unified";
  layout.unified_controllers = {"hugetlb"};
  auto m = NewManager(layout, "/c");
  ASSERT_TRUE(m);
  oci::Resources r;
  r.memory = oci::Memory{};
  r.memory->limit = 64 << 20;
  r.hugepage_limits = {{"2MB", 2 << 20}};
  auto a = (*m)->Apply(r);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(Read("/memory/c/memory.limit_in_bytes"), std::to_string(64 << 20));
  EXPECT_EQ(Read("/unified/cgroup.subtree_control"), "+hugetlb");
  EXPECT_EQ(Read("/unified/c/hugetlb.2MB.max"), std::to_string(2 << 20));
}

}  // namespace
}  // namespace berth::runtime::cgroups
