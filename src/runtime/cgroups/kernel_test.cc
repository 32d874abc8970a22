// Against the real kernel: root only, skipped elsewhere. Every cgroup is made under
// "/berth-test-<pid>-<n>" and removed, with its processes killed, even when a check fails.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "runtime/cgroups/manager.h"
#include "util/file.h"

namespace berth::runtime::cgroups {
namespace {

std::string TestPath() {
  static int n = 0;
  return "/berth-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

std::string Slurp(const std::string& path) {
  auto r = ReadFile(path);
  return r ? std::string(Trim(*r)) : "<" + r.error().message() + ">";
}

// A child that waits for a byte on `go`, then runs `body` (which returns an exit code, or
// never returns), so the parent can move it into a cgroup before it does anything.
class Child {
 public:
  template <typename F>
  explicit Child(F body) {
    int go[2], ack[2];
    if (::pipe2(go, O_CLOEXEC) < 0 || ::pipe2(ack, O_CLOEXEC) < 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(go[1]);
      ::close(ack[0]);
      char c;
      if (::read(go[0], &c, 1) != 1) ::_exit(100);
      ::_exit(body(ack[1]));
    }
    ::close(go[0]);
    ::close(ack[1]);
    go_ = go[1];
    ack_ = ack[0];
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (go_ >= 0) ::close(go_);
    if (ack_ >= 0) ::close(ack_);
  }
  pid_t pid() const { return pid_; }
  /// Lets the child run its body; waits for its ack byte (if it sends one).
  bool Go(bool wait_ack) {
    if (::write(go_, "x", 1) != 1) return false;
    if (!wait_ack) return true;
    char c;
    return ::read(ack_, &c, 1) == 1;
  }
  /// Kills and reaps the child; returns its wait status.
  int Kill() {
    int status = 0;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1, ack_ = -1;
};

// Thaws and removes the cgroup when the test ends, whatever happened; kills what is left in it.
class CgroupGuard {
 public:
  explicit CgroupGuard(CgroupManager* m) : m_(m) {}
  ~CgroupGuard() {
    (void)m_->Thaw();
    if (auto pids = m_->Pids()) {
      for (pid_t p : *pids) ::kill(p, SIGKILL);  // only our children can be in a test cgroup
    }
    if (!m_->Destroy()) {
      for (const auto& [h, dir] : m_->Paths()) ::rmdir(dir.c_str());
    }
  }

 private:
  CgroupManager* m_;
};

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto l = Detect();
    if (!l) GTEST_SKIP() << "no cgroups: " << l.error().message();
    layout_ = *l;
  }
  Layout layout_;
};

// Touches 4 MiB after joining (v1 charges only what is allocated after the move), acks, and
// waits to be killed.
int TouchAndPause(int ack) {
  size_t len = 4u << 20;
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 101;
  std::memset(p, 1, len);
  if (::write(ack, "k", 1) != 1) return 102;
  for (;;) ::pause();
}

TEST_F(KernelTest, Lifecycle) {
  std::string path = TestPath();
  auto made = NewManager(layout_, path);
  ASSERT_TRUE(made) << made.error().message();
  auto& m = *made;
  CgroupGuard guard(m.get());
  auto c = m->Create();
  ASSERT_TRUE(c) << c.error().message();
  auto paths = m->Paths();
  for (const auto& [h, dir] : paths) EXPECT_TRUE(PathExists(dir)) << h << " " << dir;

  oci::Resources r;
  r.memory = oci::Memory{};
  r.memory->limit = 64 << 20;
  r.pids = oci::Pids{20};
  r.cpu = oci::Cpu{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0";
  auto a = m->Apply(r);
  ASSERT_TRUE(a) << a.error().message();

  if (layout_.mode != Mode::kUnified) {
    EXPECT_EQ(Slurp(paths.at("memory") + "/memory.limit_in_bytes"), std::to_string(64 << 20));
    EXPECT_EQ(Slurp(paths.at("pids") + "/pids.max"), "20");
    EXPECT_EQ(Slurp(paths.at("cpu") + "/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(Slurp(paths.at("cpu") + "/cpu.cfs_period_us"), "100000");
    EXPECT_EQ(Slurp(paths.at("cpu") + "/cpu.shares"), "512");
    EXPECT_EQ(Slurp(paths.at("cpuset") + "/cpuset.cpus"), "0");
    EXPECT_NE(Slurp(paths.at("cpuset") + "/cpuset.mems"), "");  // copied from the parent
  } else {
    EXPECT_EQ(Slurp(paths.at("") + "/memory.max"), std::to_string(64 << 20));
    EXPECT_EQ(Slurp(paths.at("") + "/pids.max"), "20");
    EXPECT_EQ(Slurp(paths.at("") + "/cpu.max"), "50000 100000");
    EXPECT_EQ(Slurp(paths.at("") + "/cpu.weight"), "20");
    EXPECT_EQ(Slurp(paths.at("") + "/cpuset.cpus"), "0");
  }

  Child child(TouchAndPause);
  ASSERT_GT(child.pid(), 0);
  auto add = m->AddProcess(child.pid());
  ASSERT_TRUE(add) << add.error().message();
  ASSERT_TRUE(child.Go(true));
  for (const auto& [h, dir] : paths) {
    EXPECT_NE(Slurp(dir + "/cgroup.procs").find(std::to_string(child.pid())), std::string::npos)
        << h;
  }

  auto pids = m->Pids();
  ASSERT_TRUE(pids) << pids.error().message();
  EXPECT_EQ(*pids, std::vector<pid_t>{child.pid()});

  auto f = m->Freeze();
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kFrozen);
  if (paths.count("freezer")) EXPECT_EQ(Slurp(paths.at("freezer") + "/freezer.state"), "FROZEN");
  auto t = m->Thaw();
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kThawed);

  auto st = m->GetStats();
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_GT(st->memory.usage.usage, 0u);
  EXPECT_EQ(st->memory.usage.limit, uint64_t{64} << 20);
  EXPECT_EQ(st->pids.current, 1u);
  EXPECT_EQ(st->pids.limit, 20u);
  EXPECT_FALSE(st->memory.raw.empty());
  EXPECT_NE(StatsToJson(*st).find("\"memory\""), std::string::npos);

  // Processes inside: Destroy refuses with Conflict.
  auto busy = m->Destroy();
  ASSERT_FALSE(busy);
  EXPECT_TRUE(busy.error().IsConflict()) << busy.error().message();

  child.Kill();
  auto d = m->Destroy();
  ASSERT_TRUE(d) << d.error().message();
  for (const auto& [h, dir] : paths) EXPECT_FALSE(PathExists(dir)) << h << " " << dir;
  EXPECT_TRUE(m->Destroy());  // missing is fine
}

TEST_F(KernelTest, NestedCgroupsAreDestroyedDepthFirst) {
  std::string path = TestPath();
  auto parent = NewManager(layout_, path);
  auto child = NewManager(layout_, path + "/inner/leaf");
  ASSERT_TRUE(parent && child);
  CgroupGuard g1((*parent).get());
  CgroupGuard g2((*child).get());
  ASSERT_TRUE((*child)->Create());
  auto d = (*parent)->Destroy();
  ASSERT_TRUE(d) << d.error().message();
  for (const auto& [h, dir] : (*parent)->Paths()) EXPECT_FALSE(PathExists(dir)) << dir;
}

TEST_F(KernelTest, HugetlbOnV2OfHybridHost) {
  if (layout_.mode != Mode::kHybrid || layout_.v1.count("hugetlb"))
    GTEST_SKIP() << "not a hybrid host with hugetlb on v2";
  // Enabling hugetlb in the v2 root's subtree_control changes a cgroup this test does not
  // own; do it only when asked or when it is already on.
  std::string root_ctl = Slurp(layout_.unified + "/cgroup.subtree_control");
  if (root_ctl.find("hugetlb") == std::string::npos && !::getenv("BERTH_TEST_ENABLE_V2_HUGETLB"))
    GTEST_SKIP() << "hugetlb is not enabled in " << layout_.unified
                 << "/cgroup.subtree_control; set BERTH_TEST_ENABLE_V2_HUGETLB=1 to let the "
                    "test enable it";
  auto m = NewManager(layout_, TestPath());
  ASSERT_TRUE(m);
  CgroupGuard guard((*m).get());
  ASSERT_TRUE((*m)->Create());
  oci::Resources r;
  r.hugepage_limits = {{"2MB", 4 << 20}};
  auto a = (*m)->Apply(r);
  ASSERT_TRUE(a) << a.error().message();
  std::string file = (*m)->Paths().at("") + "/hugetlb.2MB.max";
  ASSERT_TRUE(PathExists(file));
  EXPECT_EQ(Slurp(file), std::to_string(4 << 20));
  auto st = (*m)->GetStats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->hugetlb.count("2MB"), 1u);
}

// The v2 code path on the real cgroup2 hierarchy (unified hosts; on a hybrid host its
// controller-less part): cgroup.procs, cgroup.freeze and the eBPF device program.
class V2KernelTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped()) return;
    if (layout_.unified.empty()) GTEST_SKIP() << "no cgroup2 mount";
    v2_layout_.mode = Mode::kUnified;
    v2_layout_.unified = layout_.unified;  // no controllers: nothing enabled in the root
  }
  Layout v2_layout_;
};

TEST_F(V2KernelTest, FreezeAndPids) {
  auto m = NewManager(v2_layout_, TestPath());
  ASSERT_TRUE(m);
  CgroupGuard guard((*m).get());
  ASSERT_TRUE((*m)->Create());
  Child child([](int ack) -> int {
    if (::write(ack, "k", 1) != 1) return 1;
    for (;;) ::pause();
  });
  ASSERT_TRUE((*m)->AddProcess(child.pid()));
  ASSERT_TRUE(child.Go(true));
  EXPECT_EQ(*(*m)->Pids(), std::vector<pid_t>{child.pid()});
  auto f = (*m)->Freeze();
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_EQ(*(*m)->GetFreezerState(), FreezerState::kFrozen);
  EXPECT_NE(Slurp((*m)->Paths().at("") + "/cgroup.events").find("frozen 1"), std::string::npos);
  ASSERT_TRUE((*m)->Thaw());
  EXPECT_EQ(*(*m)->GetFreezerState(), FreezerState::kThawed);
  child.Kill();
  auto d = (*m)->Destroy();
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_FALSE(PathExists((*m)->Paths().at("")));
}

TEST_F(V2KernelTest, DeviceRulesByEbpf) {
  auto m = NewManager(v2_layout_, TestPath());
  ASSERT_TRUE(m);
  CgroupGuard guard((*m).get());
  ASSERT_TRUE((*m)->Create());
  oci::Resources r;
  // Everything but /dev/null (c 1:3); /dev/zero (c 1:5) readable only.
  r.devices = {{true, "a", std::nullopt, std::nullopt, "rwm"},
               {false, "c", 1, 3, "rwm"},
               {false, "c", 1, 5, "w"}};
  auto a = (*m)->Apply(r);
  if (!a && (a.error().sys_errno() == EPERM || a.error().sys_errno() == EINVAL ||
             a.error().sys_errno() == ENOSYS))
    GTEST_SKIP() << "no cgroup device bpf here: " << a.error().message();
  ASSERT_TRUE(a) << a.error().message();
  Child child([](int) -> int {
    int bits = 0;
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == EPERM) bits |= 1;
    fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) bits |= 2;
    fd = ::open("/dev/zero", O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == EPERM) bits |= 4;
    fd = ::open("/dev/full", O_RDWR | O_CLOEXEC);
    if (fd >= 0) bits |= 8;
    return bits;
  });
  ASSERT_TRUE((*m)->AddProcess(child.pid()));
  ASSERT_TRUE(child.Go(false));
  int status = child.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 15) << "1: null denied, 2: zero readable, 4: zero not "
                                        "writable, 8: full allowed";
  // An update replaces the program: now everything is allowed.
  r.devices = {{true, "a", std::nullopt, std::nullopt, "rwm"}};
  ASSERT_TRUE((*m)->Apply(r));
  Child again([](int) -> int { return ::open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 1; });
  ASSERT_TRUE((*m)->AddProcess(again.pid()));
  ASSERT_TRUE(again.Go(false));
  status = again.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace berth::runtime::cgroups
