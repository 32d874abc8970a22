#include "engine/fs/changes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/fs/fs_test_util.h"
#include "engine/fs/overlay_mount.h"

namespace berth::engine::fs {
namespace {

using testing::TempDir;
using testing::Write;

std::vector<std::string> Lines(const std::vector<Change>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(std::string(1, ChangeLetter(c.kind)) + " " + c.path);
  return out;
}

class ChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Base layer, then a second layer that deletes /opt/gone (a whiteout, as pulled layers
    // hold them).
    Write(t_.Sub("l1/etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
    Write(t_.Sub("l1/etc/hostname"), "base\n");
    Write(t_.Sub("l1/bin/sh"), "sh");
    Write(t_.Sub("l1/bin/ls"), "ls");
    Write(t_.Sub("l1/var/lib/old/a"), "a");
    Write(t_.Sub("l1/var/lib/old/b"), "b");
    Write(t_.Sub("l1/var/lib/keep"), "k");
    Write(t_.Sub("l1/opt/gone"), "g");
    Write(t_.Sub("l1/usr/share/doc"), "d");
    (void)MkdirAll(t_.Sub("l2/opt"));
    ASSERT_EQ(::mknod(t_.Sub("l2/opt/gone").c_str(), S_IFCHR | 0, 0), 0);
    upper_ = t_.Dir("upper");
    work_ = t_.Dir("work");
    merged_ = t_.Dir("merged");
    lowers_ = {t_.Sub("l2"), t_.Sub("l1")};
    t_.WillMount(merged_);
    ASSERT_TRUE(MountOverlay(lowers_, upper_, work_, merged_));
  }
  std::vector<std::string> Diff() {
    EXPECT_TRUE(UnmountOverlay(merged_));
    auto c = Changes(lowers_, upper_);
    EXPECT_TRUE(c) << c.error().message();
    return c ? Lines(*c) : std::vector<std::string>{};
  }

  TempDir t_;
  std::string upper_, work_, merged_;
  std::vector<std::string> lowers_;
};

TEST_F(ChangesTest, NothingChangedIsNoChange) { EXPECT_TRUE(Diff().empty()); }

TEST_F(ChangesTest, AddModifyDeleteAsDockerReportsThem) {
  Write(merged_ + "/new.txt", "n");
  Write(merged_ + "/newdir/sub/f", "f");
  Write(merged_ + "/etc/passwd", "root:x:0:0::/root:/bin/ash\n");
  ASSERT_EQ(::unlink((merged_ + "/bin/sh").c_str()), 0);
  Write(merged_ + "/opt/gone", "back");  // deleted in a lower layer: added again
  ASSERT_EQ(::symlink("/bin/ls", (merged_ + "/usr/share/link").c_str()), 0);
  EXPECT_EQ(Diff(), (std::vector<std::string>{
                        "C /bin",
                        "D /bin/sh",
                        "C /etc",
                        "C /etc/passwd",
                        "A /new.txt",
                        "A /newdir",
                        "A /newdir/sub",
                        "A /newdir/sub/f",
                        "C /opt",
                        "A /opt/gone",
                        "C /usr",
                        "C /usr/share",
                        "A /usr/share/link",
                    }));
}

TEST_F(ChangesTest, RemovedAndRemadeDirectoryIsOpaque) {
  ASSERT_TRUE(RemoveAll(merged_ + "/var/lib"));
  ASSERT_EQ(::mkdir((merged_ + "/var/lib").c_str(), 0755), 0);
  Write(merged_ + "/var/lib/keep", "new keep");
  Write(merged_ + "/var/lib/fresh", "f");
  ASSERT_EQ(::mkdir((merged_ + "/var/lib/old").c_str(), 0755), 0);  // empty now
  // The kernel marked the new directory opaque in upper.
  char v[2] = {};
  ASSERT_EQ(::getxattr((upper_ + "/var/lib").c_str(), "trusted.overlay.opaque", v, 2), 1);
  EXPECT_EQ(Diff(), (std::vector<std::string>{
                        "C /var",
                        "C /var/lib",
                        "A /var/lib/fresh",
                        "C /var/lib/keep",
                        "C /var/lib/old",
                        "D /var/lib/old/a",
                        "D /var/lib/old/b",
                    }));
}

TEST_F(ChangesTest, DeletedDirectoryIsOneDelete) {
  ASSERT_TRUE(RemoveAll(merged_ + "/usr"));
  EXPECT_EQ(Diff(), (std::vector<std::string>{"D /usr"}));
}

TEST_F(ChangesTest, ChmodOfADirectoryIsAModification) {
  ASSERT_EQ(::chmod((merged_ + "/etc").c_str(), 0700), 0);
  EXPECT_EQ(Diff(), (std::vector<std::string>{"C /etc"}));
}

TEST(ChangesErrorsTest, MissingUpperNamesIt) {
  auto c = Changes({}, "/nonexistent/upper");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("/nonexistent/upper"), std::string::npos);
}

}  // namespace
}  // namespace berth::engine::fs
