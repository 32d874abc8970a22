// Root only: a whole Prepare → Enter → BindConsole → Finish on a busybox rootfs, in a child that
// has its own mount and pid namespaces, checked from inside.

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "runtime/rootfs/rootfs.h"
#include "runtime/rootfs/rootfs_test_util.h"
#include "util/file.h"

namespace berth::runtime::rootfs {
namespace {

using testing::RunInChild;
using testing::TempDir;
using testing::WriteText;

oci::Mount M(std::string dest, std::string type, std::string source,
             std::vector<std::string> options) {
  oci::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

// A spec shaped as Docker's default, plus a read-only bind of a bundle directory.
oci::Spec TestSpec(bool with_cgroup) {
  oci::Spec spec;
  spec.root = oci::Root{"rootfs", true};
  spec.mounts = {
      M("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      M("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}),
      M("/dev/pts", "devpts", "devpts",
        {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      M("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      M("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      M("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      M("/data", "bind", "hostdata", {"rbind", "ro", "rprivate"}),
      M("/data2", "bind", "hostdata", {"rbind", "rro", "rnosuid"}),
      M("/proc/uptime", "bind", "hostdata/hello", {"bind", "ro"}),  // as lxcfs does
      M("/etc/hostname", "bind", "hostname", {"bind", "rw"}),
  };
  if (with_cgroup)
    spec.mounts.push_back(
        M("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  oci::Linux linux;
  linux.rootfs_propagation = "rprivate";
  oci::Device fifo;
  fifo.type = "p";
  fifo.path = "/dev/myfifo";
  fifo.file_mode = 0600;
  oci::Device null2;
  null2.type = "c";
  null2.path = "/dev/sub/mynull";
  null2.major = 1;
  null2.minor = 3;
  null2.uid = 1000;
  null2.gid = 1001;
  linux.devices = {fifo, null2};
  linux.masked_paths = {"/proc/kcore", "/proc/keys", "/proc/acpi", "/proc/berth-nonexistent",
                        "/sys/firmware"};
  linux.readonly_paths = {"/proc/sys", "/proc/sysrq-trigger", "/proc/bus", "/proc/irq",
                          "/proc/berth-nonexistent"};
  spec.linux = std::move(linux);
  return spec;
}

#define CHECK_IN(cond, msg)                                                         \
  do {                                                                              \
    if (!(cond)) return std::string(msg) + " (errno " + std::strerror(errno) + ")"; \
  } while (0)

std::string ExpectWriteFails(const char* path, int want_errno) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    return std::string("write to ") + path + " succeeded";
  }
  if (errno != want_errno) return std::string("write to ") + path + ": " + std::strerror(errno);
  return "";
}

// Runs inside the container, after Finish.
std::string CheckInside(bool with_cgroup) {
  struct stat st;
  CHECK_IN(::stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null not a char device");
  CHECK_IN(st.st_rdev == makedev(1, 3) && (st.st_mode & 0777) == 0666, "/dev/null: wrong node");
  for (const char* d : {"/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"})
    CHECK_IN(::stat(d, &st) == 0 && S_ISCHR(st.st_mode), std::string(d) + " missing");
  CHECK_IN(::stat("/dev/myfifo", &st) == 0 && S_ISFIFO(st.st_mode), "/dev/myfifo not a fifo");
  CHECK_IN((st.st_mode & 0777) == 0600, "/dev/myfifo: mode not 0600");
  CHECK_IN(::stat("/dev/sub/mynull", &st) == 0 && S_ISCHR(st.st_mode), "/dev/sub/mynull");
  CHECK_IN(st.st_uid == 1000 && st.st_gid == 1001, "/dev/sub/mynull: owner not 1000:1001");
  CHECK_IN(::lstat("/dev/ptmx", &st) == 0 && S_ISLNK(st.st_mode), "/dev/ptmx not a symlink");
  char buf[256] = {};
  CHECK_IN(::readlink("/dev/ptmx", buf, sizeof buf - 1) > 0 && std::string(buf) == "pts/ptmx",
           "/dev/ptmx: wrong target");
  CHECK_IN(::lstat("/dev/fd", &st) == 0 && S_ISLNK(st.st_mode), "/dev/fd not a symlink");
  CHECK_IN(::stat("/dev/stdin", &st) == 0, "/dev/stdin does not resolve");

  // The pty of the container's own devpts, bound on /dev/console.
  struct stat console;
  CHECK_IN(::stat("/dev/console", &console) == 0, "/dev/console missing");
  CHECK_IN(::stat("/dev/pts/0", &st) == 0 && st.st_rdev == console.st_rdev,
           "/dev/console is not /dev/pts/0");

  struct statvfs sv;
  if (auto e = ExpectWriteFails("/data/newfile", EROFS); !e.empty()) return e;
  CHECK_IN(PathExists("/data/hello"), "/data/hello missing");
  if (auto e = ExpectWriteFails("/data2/newfile", EROFS); !e.empty()) return "rro: " + e;
  CHECK_IN(::statvfs("/data2", &sv) == 0 && (sv.f_flag & ST_NOSUID), "/data2 not nosuid");
  CHECK_IN(ReadFile("/proc/uptime").value_or("") == "hi\n", "/proc/uptime not the bound file");
  if (auto e = ExpectWriteFails("/newfile", EROFS); !e.empty()) return "root: " + e;
  CHECK_IN(WriteText("/etc/hostname", "changed\n"), "/etc/hostname bind not writable");
  CHECK_IN(WriteText("/dev/shm/x", "x"), "/dev/shm not writable");

  // Masked: files show /dev/null (this kernel may lack /proc/kcore), directories an empty
  // read-only tmpfs.
  if (PathExists("/proc/kcore")) {
    auto kcore = ReadFile("/proc/kcore");
    CHECK_IN(kcore && kcore->empty(), "/proc/kcore not empty");
  }
  CHECK_IN(::stat("/proc/keys", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
           "/proc/keys not masked with /dev/null");
  auto keys = ReadFile("/proc/keys");
  CHECK_IN(keys && keys->empty(), "/proc/keys not empty");
  struct statfs sfs;
  CHECK_IN(::statfs("/proc/acpi", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC, "/proc/acpi: no tmpfs");
  CHECK_IN(::statvfs("/proc/acpi", &sv) == 0 && (sv.f_flag & ST_RDONLY), "/proc/acpi not ro");
  CHECK_IN(ListDir("/proc/acpi").value_or(std::vector<std::string>{"?"}).empty(),
           "/proc/acpi not empty");
  CHECK_IN(!PathExists("/proc/berth-nonexistent"), "nonexistent path created");
  CHECK_IN(::statvfs("/proc/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY), "/proc/sys not ro");
  CHECK_IN(::statvfs("/proc", &sv) == 0 && !(sv.f_flag & ST_RDONLY), "/proc is ro");
  CHECK_IN((sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NOEXEC), "/proc lost nosuid/noexec");
  if (auto e = ExpectWriteFails("/proc/sys/kernel/hostname", EROFS); !e.empty()) return e;
  CHECK_IN(::statvfs("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY), "/sys not ro");
  CHECK_IN(::getpid() == 1, "not pid 1");
  auto self = ReadFile("/proc/self/stat");
  CHECK_IN(self && self->starts_with("1 "), "/proc is not the container's pid namespace");

  if (with_cgroup) {
    CHECK_IN(::statvfs("/sys/fs/cgroup", &sv) == 0 && (sv.f_flag & ST_RDONLY),
             "/sys/fs/cgroup not ro");
    CHECK_IN(PathExists("/sys/fs/cgroup/cpu,cpuacct/cgroup.procs"), "cpu,cpuacct not bound");
    CHECK_IN(::lstat("/sys/fs/cgroup/cpu", &st) == 0 && S_ISLNK(st.st_mode), "no cpu symlink");
    CHECK_IN(PathExists("/sys/fs/cgroup/systemd/cgroup.procs"), "name=systemd not bound");
    if (auto e = ExpectWriteFails("/sys/fs/cgroup/systemd/berth-x", EROFS); !e.empty()) return e;
  }

  // The image's own program runs.
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/busybox", "busybox", "test", "-c", "/dev/null", nullptr);
    ::_exit(127);
  }
  int status = 0;
  CHECK_IN(pid > 0 && ::waitpid(pid, &status, 0) == pid, "waitpid busybox");
  CHECK_IN(WIFEXITED(status) && WEXITSTATUS(status) == 0, "busybox test -c /dev/null failed");
  return "";
}

// The container init: everything from Prepare to the checks. Pid 1 of a new pid namespace.
std::string RunContainer(const oci::Spec& spec, const Options& opts, bool with_cgroup) {
  if (auto r = Prepare(spec, opts); !r) return "prepare: " + r.error().message();
  if (auto r = Enter(opts); !r) return "enter: " + r.error().message();
  int ptmx = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK_IN(ptmx >= 0 && ::grantpt(ptmx) == 0 && ::unlockpt(ptmx) == 0, "open /dev/ptmx");
  char name[64];
  CHECK_IN(::ptsname_r(ptmx, name, sizeof name) == 0, "ptsname");
  if (auto r = BindConsole(name); !r) return "console: " + r.error().message();
  if (auto r = Finish(spec, opts); !r) return "finish: " + r.error().message();
  return CheckInside(with_cgroup);
}

class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!PathExists("/bin/busybox")) GTEST_SKIP() << "needs busybox-static";
    ASSERT_FALSE(tmp_.path().empty());
    bundle_ = tmp_.path();
    rootfs_ = bundle_ + "/rootfs";
    for (const char* d : {"/bin", "/proc", "/dev", "/sys", "/etc", "/tmp"})
      ASSERT_TRUE(MkdirAll(rootfs_ + d));
    ASSERT_TRUE(WriteText(rootfs_ + "/etc/hostname", "image\n"));
    auto bb = ReadFile("/bin/busybox");
    ASSERT_TRUE(bb);
    ASSERT_TRUE(WriteText(rootfs_ + "/bin/busybox", *bb, 0755));
    ASSERT_TRUE(MkdirAll(bundle_ + "/hostdata"));
    ASSERT_TRUE(WriteText(bundle_ + "/hostdata/hello", "hi\n"));
    ASSERT_TRUE(WriteText(bundle_ + "/hostname", "container\n"));
  }

  std::string Run(const oci::Spec& spec, const Options& opts, bool with_cgroup) {
    return RunInChild([&]() -> std::string {
      if (::unshare(CLONE_NEWNS | CLONE_NEWPID) != 0) return "unshare failed";
      return RunInChild([&] { return RunContainer(spec, opts, with_cgroup); });
    });
  }

  TempDir tmp_;
  std::string bundle_, rootfs_;
};

TEST_F(RootfsTest, PrepareEnterFinish) {
  // On a v1 host: cpu and cpuacct given as co-mounted (one directory), and name=systemd.
  bool with_cgroup =
      PathExists("/sys/fs/cgroup/cpu/cgroup.procs") && PathExists("/sys/fs/cgroup/systemd");
  Options opts;
  opts.rootfs = rootfs_;
  opts.bundle = bundle_;
  opts.new_net_ns = false;  // sysfs: the host's, bound read-only
  if (with_cgroup)
    opts.cgroup_paths = {{"cpu", "/sys/fs/cgroup/cpu"},
                         {"cpuacct", "/sys/fs/cgroup/cpu"},
                         {"name=systemd", "/sys/fs/cgroup/systemd"}};
  EXPECT_EQ(Run(TestSpec(with_cgroup), opts, with_cgroup), "");
  // The rw bind wrote through to the bundle; nothing stays mounted under the bundle.
  EXPECT_EQ(ReadFile(bundle_ + "/hostname").value_or(""), "changed\n");
  auto info = ReadFile("/proc/self/mountinfo");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->find(bundle_), std::string::npos);
}

TEST_F(RootfsTest, NoPivot) {
  oci::Spec spec;
  spec.mounts = {M("/proc", "proc", "proc", {}),
                 M("/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755"})};
  Options opts;
  opts.rootfs = rootfs_;
  opts.bundle = bundle_;
  opts.no_pivot = true;
  std::string got = RunInChild([&]() -> std::string {
    if (::unshare(CLONE_NEWNS | CLONE_NEWPID) != 0) return "unshare failed";
    return RunInChild([&]() -> std::string {
      if (auto p = Prepare(spec, opts); !p) return "prepare: " + p.error().message();
      if (auto p = Enter(opts); !p) return "enter: " + p.error().message();
      if (auto p = Finish(spec, opts); !p) return "finish: " + p.error().message();
      struct stat st;
      CHECK_IN(::stat("/bin/busybox", &st) == 0, "no /bin/busybox after chroot");
      CHECK_IN(::stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null");
      CHECK_IN(::lstat("/dev/ptmx", &st) != 0, "/dev/ptmx made without /dev/pts");
      return "";
    });
  });
  EXPECT_EQ(got, "");
}

TEST_F(RootfsTest, Cgroup2FreshOrBound) {
  for (bool fresh : {true, false}) {
    oci::Spec spec;
    spec.mounts = {M("/sys/fs/cgroup", "cgroup2", "cgroup", {"nosuid", "noexec", "nodev", "ro"})};
    Options opts;
    opts.rootfs = rootfs_;
    opts.bundle = bundle_;
    opts.new_cgroup_ns = fresh;
    // Not fresh: the container's v2 directory is bound (a stand-in directory here).
    if (!fresh) opts.cgroup_paths = {{"", bundle_ + "/hostdata"}};
    std::string got = RunInChild([&]() -> std::string {
      if (::unshare(CLONE_NEWNS) != 0) return "unshare failed";
      if (auto p = Prepare(spec, opts); !p) return "prepare: " + p.error().message();
      std::string dir = rootfs_ + "/sys/fs/cgroup";
      struct statfs sfs;
      struct statvfs sv;
      CHECK_IN(::statfs(dir.c_str(), &sfs) == 0, "statfs");
      if (fresh) CHECK_IN(sfs.f_type == CGROUP2_SUPER_MAGIC, "not a cgroup2 mount");
      if (!fresh) CHECK_IN(PathExists(dir + "/hello"), "cgroup dir not bound");
      CHECK_IN(::statvfs(dir.c_str(), &sv) == 0 && (sv.f_flag & ST_RDONLY), "not read-only");
      return "";
    });
    EXPECT_EQ(got, "") << (fresh ? "fresh" : "bound");
  }
}

// As in a user namespace, where mknod is refused: the host's nodes are bound instead.
TEST_F(RootfsTest, UserNsBindsHostDevices) {
  oci::Spec spec;
  spec.mounts = {M("/dev", "tmpfs", "tmpfs", {"nosuid", "mode=755"})};
  oci::Linux linux;
  oci::Device tty;
  tty.type = "c";
  tty.path = "/dev/tty";  // a duplicate of a default: made once
  tty.major = 5;
  tty.minor = 0;
  linux.devices = {tty};
  spec.linux = linux;
  Options opts;
  opts.rootfs = rootfs_;
  opts.bundle = bundle_;
  opts.in_user_ns = true;
  std::string got = RunInChild([&]() -> std::string {
    if (::unshare(CLONE_NEWNS) != 0) return "unshare failed";
    if (auto p = Prepare(spec, opts); !p) return "prepare: " + p.error().message();
    struct stat st, host;
    for (const char* d :
         {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}) {
      CHECK_IN(::stat((rootfs_ + d).c_str(), &st) == 0 && ::stat(d, &host) == 0, d);
      CHECK_IN(S_ISCHR(st.st_mode) && st.st_rdev == host.st_rdev && st.st_ino == host.st_ino,
               std::string(d) + " is not the host's node");
    }
    return "";
  });
  EXPECT_EQ(got, "");
}

}  // namespace
}  // namespace berth::runtime::rootfs
