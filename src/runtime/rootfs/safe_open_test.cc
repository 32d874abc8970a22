#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "runtime/rootfs/rootfs.h"
#include "runtime/rootfs/rootfs_internal.h"
#include "runtime/rootfs/rootfs_test_util.h"
#include "util/file.h"

namespace berth::runtime::rootfs {
namespace {

using testing::RunInChild;
using testing::TempDir;
using testing::WriteText;

// rootfs/ with etc/passwd, a file where a directory is expected, and two symlinks that point
// out of it if followed on the host: evil -> /, evil2 -> ../../..
class SafeOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    rootfs_ = tmp_.path() + "/rootfs";
    ASSERT_TRUE(MkdirAll(rootfs_ + "/etc"));
    ASSERT_TRUE(WriteText(rootfs_ + "/etc/passwd", "rootfs-passwd\n"));
    ASSERT_TRUE(WriteText(rootfs_ + "/afile", "x"));
    ASSERT_EQ(::symlink("/", (rootfs_ + "/evil").c_str()), 0);
    ASSERT_EQ(::symlink("../../..", (rootfs_ + "/evil2").c_str()), 0);
    ASSERT_EQ(::symlink("/proc/self/root", (rootfs_ + "/magic").c_str()), 0);
    auto fd = Fd::Open(rootfs_, O_PATH | O_DIRECTORY);
    ASSERT_TRUE(fd);
    root_ = std::move(*fd);
  }

  std::string ReadIn(std::string_view path) {
    auto fd = OpenInRoot(root_.get(), path, O_RDONLY);
    if (!fd) return "error: " + fd.error().message();
    return ReadAll(fd->get()).value_or("read failed");
  }

  TempDir tmp_;
  std::string rootfs_;
  Fd root_;
};

TEST_F(SafeOpenTest, DotDotStaysInRoot) {
  EXPECT_EQ(ReadIn("../../../etc/passwd"), "rootfs-passwd\n");
  EXPECT_EQ(ReadIn("/etc/passwd"), "rootfs-passwd\n");
  EXPECT_EQ(ReadIn("evil/etc/passwd"), "rootfs-passwd\n");
  EXPECT_EQ(ReadIn("evil2/etc/passwd"), "rootfs-passwd\n");
}

TEST_F(SafeOpenTest, MagicLinksRefused) {
  auto fd = OpenInRoot(root_.get(), "/proc/self/root/etc/passwd", O_RDONLY);
  EXPECT_FALSE(fd);  // no /proc in this rootfs
  fd = OpenInRoot(root_.get(), "magic/etc/passwd", O_RDONLY);
  EXPECT_FALSE(fd);  // "/proc/self/root" inside root does not exist either
}

TEST_F(SafeOpenTest, OpenInRootMissingIsNotFound) {
  auto fd = OpenInRoot(root_.get(), "nope", O_RDONLY);
  ASSERT_FALSE(fd);
  EXPECT_TRUE(fd.error().IsNotFound());
  EXPECT_EQ(fd.error().message(), "open nope: no such file or directory");
}

TEST_F(SafeOpenTest, OpenInRootCreates) {
  auto fd = OpenInRoot(root_.get(), "evil/newfile", O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_TRUE(fd) << fd.error().message();
  struct stat st;
  ASSERT_EQ(::stat((rootfs_ + "/newfile").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0077, 0u);
}

TEST_F(SafeOpenTest, MakeMountPointDirectories) {
  auto fd = MakeMountPoint(root_.get(), "/a/b/c", true);
  ASSERT_TRUE(fd) << fd.error().message();
  struct stat st;
  ASSERT_EQ(::stat((rootfs_ + "/a/b/c").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  struct stat fst;
  ASSERT_EQ(::fstat(fd->get(), &fst), 0);
  EXPECT_EQ(fst.st_ino, st.st_ino);
  EXPECT_EQ(::fcntl(fd->get(), F_GETFL) & O_PATH, O_PATH);
  // Again: existing is fine.
  EXPECT_TRUE(MakeMountPoint(root_.get(), "/a/b/c", true));
  EXPECT_TRUE(MakeMountPoint(root_.get(), "a//b/./c/", true));
}

TEST_F(SafeOpenTest, MakeMountPointFile) {
  auto fd = MakeMountPoint(root_.get(), "/etc/hosts", false);
  ASSERT_TRUE(fd) << fd.error().message();
  struct stat st;
  ASSERT_EQ(::stat((rootfs_ + "/etc/hosts").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_size, 0);
  // An existing file is kept as it is.
  ASSERT_TRUE(MakeMountPoint(root_.get(), "/etc/passwd", false));
  EXPECT_EQ(ReadIn("/etc/passwd"), "rootfs-passwd\n");
}

TEST_F(SafeOpenTest, MakeMountPointThroughSymlinksStaysInRoot) {
  std::string host_x = "/tmp/berth-rootfs-escape-" + std::to_string(::getpid());
  ASSERT_FALSE(PathExists(host_x));
  auto fd = MakeMountPoint(root_.get(), "/evil" + host_x, true);
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_FALSE(PathExists(host_x));
  EXPECT_TRUE(PathExists(rootfs_ + host_x));
  fd = MakeMountPoint(root_.get(), "/evil2/evil/../y", false);
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_TRUE(PathExists(rootfs_ + "/y"));
}

TEST_F(SafeOpenTest, MakeMountPointCreatesDanglingSymlinkTargetsInRoot) {
  ASSERT_TRUE(MkdirAll(rootfs_ + "/var"));
  ASSERT_EQ(::symlink("/run", (rootfs_ + "/var/run").c_str()), 0);
  ASSERT_EQ(::symlink("../lib2", (rootfs_ + "/var/lib").c_str()), 0);
  ASSERT_TRUE(MakeMountPoint(root_.get(), "/var/run/berth/sock", false));
  EXPECT_TRUE(PathExists(rootfs_ + "/run/berth/sock"));
  ASSERT_TRUE(MakeMountPoint(root_.get(), "/var/lib/x", true));
  EXPECT_TRUE(PathExists(rootfs_ + "/lib2/x"));
  ASSERT_EQ(::symlink("loop", (rootfs_ + "/loop").c_str()), 0);
  auto fd = MakeMountPoint(root_.get(), "/loop/x", true);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().message(),
            "mount destination /loop/x: /loop: too many levels of symbolic links");
}

TEST_F(SafeOpenTest, MakeMountPointNotADirectoryNamesDest) {
  auto fd = MakeMountPoint(root_.get(), "/afile/x", true);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().message(), "mount destination /afile/x: /afile: not a directory");
  fd = MakeMountPoint(root_.get(), "/etc/passwd", true);
  ASSERT_FALSE(fd);
  EXPECT_NE(fd.error().message().find("mount destination /etc/passwd"), std::string::npos)
      << fd.error().message();
}

std::string IsTmpfs(const std::string& path) {
  struct statfs sfs;
  if (::statfs(path.c_str(), &sfs) != 0) return path + ": statfs failed";
  if (static_cast<unsigned long>(sfs.f_type) != TMPFS_MAGIC) return path + ": not a tmpfs";
  return "";
}

// Root: tmpfs mounts through the symlinks land inside the rootfs, never on the host.
TEST_F(SafeOpenTest, MountsThroughSymlinksLandInRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string tag = "berth-rootfs-escape-" + std::to_string(::getpid());
  std::string host_x = "/tmp/" + tag + "-x", host_y = "/" + tag + "-y";
  ASSERT_FALSE(PathExists(host_x));
  ASSERT_FALSE(PathExists(host_y));
  oci::Spec spec;
  oci::Mount x;
  x.destination = "/evil" + host_x;
  x.type = "tmpfs";
  x.source = "tmpfs";
  oci::Mount y = x;
  y.destination = "/evil2/" + tag + "-y";
  spec.mounts = {x, y};
  Options opts;
  opts.rootfs = rootfs_;
  opts.bundle = tmp_.path();
  std::string r = RunInChild([&]() -> std::string {
    if (::unshare(CLONE_NEWNS) != 0) return "unshare failed";
    auto p = Prepare(spec, opts);
    if (!p) return "prepare: " + p.error().message();
    if (PathExists(host_x) || PathExists(host_y)) return "escaped to the host";
    std::string e = IsTmpfs(rootfs_ + host_x);
    if (e.empty()) e = IsTmpfs(rootfs_ + host_y);
    return e;
  });
  EXPECT_EQ(r, "");
  EXPECT_FALSE(PathExists(host_x));
  EXPECT_FALSE(PathExists(host_y));
}

// Root: what Prepare refuses, and the form of its errors.
TEST_F(SafeOpenTest, PrepareErrors) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  ASSERT_EQ(::symlink("proc/sys", (rootfs_ + "/psys").c_str()), 0);
  ASSERT_TRUE(MkdirAll(rootfs_ + "/proc/sys/kernel"));
  auto run = [&](oci::Mount m) {
    oci::Spec spec;
    spec.mounts = {std::move(m)};
    Options opts;
    opts.rootfs = rootfs_;
    opts.bundle = tmp_.path();
    return RunInChild([&]() -> std::string {
      if (::unshare(CLONE_NEWNS) != 0) return "unshare failed";
      auto p = Prepare(spec, opts);
      return p ? "prepare succeeded" : p.error().message();
    });
  };
  oci::Mount m;
  m.type = "tmpfs";
  m.source = "tmpfs";
  m.destination = "/proc/self/x";
  EXPECT_EQ(run(m), "mount destination /proc/self/x: inside /proc");
  m.destination = "/proc";
  EXPECT_EQ(run(m), "mount destination /proc: only procfs may be mounted there");
  m.destination = "/psys/kernel";
  EXPECT_EQ(run(m), "mount destination /psys/kernel: resolves to /proc/sys/kernel, inside /proc");
  m.type = "berthnosuchfs";
  m.destination = "/x";
  EXPECT_EQ(run(m), "mount berthnosuchfs on /x: no such device");
  m.type = "bind";
  m.source = "nonexistent";
  m.options = {"rbind"};
  EXPECT_EQ(run(m), "mount " + tmp_.path() + "/nonexistent on /x: open " + tmp_.path() +
                        "/nonexistent: no such file or directory");
  m.type = "tmpfs";
  m.options = {};
  m.destination = "/afile/x";
  EXPECT_EQ(run(m), "mount destination /afile/x: /afile: not a directory");
}

}  // namespace
}  // namespace berth::runtime::rootfs
