#include "runtime/cgroups/v2/devices_ebpf.h"

#include <gtest/gtest.h>

namespace berth::runtime::cgroups::v2 {
namespace {

TEST(DeviceProgramTest, DefaultDenyAndBadRules) {
  auto empty = BuildDeviceProgram({});
  ASSERT_TRUE(empty);
  ASSERT_EQ(empty->size(), 8u);  // 6 prologue loads, r0 = 0, exit
  EXPECT_EQ(empty->at(6).imm, 0);
  EXPECT_EQ(empty->back().code, BPF_JMP | BPF_EXIT);

  auto bad_type = BuildDeviceProgram({{true, "x", 1, 3, "rwm"}});
  ASSERT_FALSE(bad_type);
  EXPECT_TRUE(bad_type.error().IsInvalidArgument());
  auto bad_access = BuildDeviceProgram({{true, "c", 1, 3, "rwx"}});
  ASSERT_FALSE(bad_access);
  EXPECT_TRUE(bad_access.error().IsInvalidArgument());
}

TEST(DeviceProgramTest, AllowAllEndsTheProgram) {
  // Rules are tried last first: a final allow-all decides alone, with no unreachable code.
  auto p = BuildDeviceProgram({{false, "c", 1, 3, "rwm"}, {true, "a", {}, {}, "rwm"}});
  ASSERT_TRUE(p);
  ASSERT_EQ(p->size(), 8u);
  EXPECT_EQ(p->at(6).imm, 1);
  // A rule's failed test jumps to the first instruction after its block.
  auto q = BuildDeviceProgram({{true, "c", 1, 3, "rwm"}});
  ASSERT_TRUE(q);
  ASSERT_EQ(q->size(), 6u + 5u + 2u);  // type, major, minor tests; r0 = 1; exit; default
  EXPECT_EQ(q->at(6).off, 4);
  EXPECT_EQ(q->at(7).off, 3);
  EXPECT_EQ(q->at(8).off, 2);
  EXPECT_EQ(q->at(9).imm, 1);
}

}  // namespace
}  // namespace berth::runtime::cgroups::v2
