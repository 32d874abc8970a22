#include "runtime/caps/caps.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>

#include "util/fd.h"
#include "util/file.h"

namespace berth::runtime::caps {
namespace {

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

TEST(CapsNamesTest, NumbersAndNames) {
  EXPECT_EQ(FromName("CAP_CHOWN"), 0);
  EXPECT_EQ(FromName("CAP_NET_BIND_SERVICE"), 10);
  EXPECT_EQ(FromName("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(FromName("CAP_BPF"), 39);
  EXPECT_EQ(FromName("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_EQ(FromName("CAP_FOO"), -1);
  EXPECT_EQ(FromName("chown"), -1);
  EXPECT_EQ(Name(0), "CAP_CHOWN");
  EXPECT_EQ(Name(40), "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(Name(41), "");
  EXPECT_EQ(Name(-1), "");
  for (int i = 0; i <= 40; ++i) EXPECT_EQ(FromName(Name(i)), i);
}

TEST(CapsNamesTest, KnownNamesMatchTheKernel) {
  int last = LastCap();
  ASSERT_GE(last, 36);  // any kernel since 3.16
  auto names = KnownNames();
  EXPECT_EQ(static_cast<int>(names.size()), std::min(last, 40) + 1);
  EXPECT_EQ(names.front(), "CAP_CHOWN");
  EXPECT_EQ(LastCap(), last);  // cached
}

TEST(CapsParseTest, SetsAndSkippedNames) {
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_FOO", "CAP_KILL"};
  c.effective = {"CAP_CHOWN"};
  c.permitted = {"CAP_CHOWN", "CAP_NET_BIND_SERVICE"};
  c.inheritable = {"CAP_NET_BIND_SERVICE", "CAP_KILL"};
  c.ambient = {"CAP_NET_BIND_SERVICE", "CAP_KILL"};  // KILL is not permitted: dropped
  auto s = Parse(c);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->bounding, Bit(0) | Bit(10) | Bit(5));
  EXPECT_EQ(s->effective, Bit(0));
  EXPECT_EQ(s->permitted, Bit(0) | Bit(10));
  EXPECT_EQ(s->inheritable, Bit(10) | Bit(5));
  EXPECT_EQ(s->ambient, Bit(10));
  EXPECT_EQ(Parse(oci::Capabilities{})->bounding, 0u);
}

TEST(CapsParseTest, MalformedNameIsAnError) {
  for (const char* bad : {"chown", "CAP_", "CAP_chown", "CAP CHOWN", "", "cap_chown"}) {
    oci::Capabilities c;
    c.effective = {"CAP_KILL", bad};
    auto s = Parse(c);
    ASSERT_FALSE(s) << bad;
    EXPECT_TRUE(s.error().IsInvalidArgument());
    EXPECT_EQ(s.error().message(),
              "process.capabilities.effective[1]: malformed capability name \"" + std::string(bad) +
                  "\"");
  }
}

// The Cap* lines of a /proc/<pid>/status text, as numbers.
std::map<std::string, uint64_t> CapLines(const std::string& status) {
  std::map<std::string, uint64_t> out;
  for (const auto& line : Split(status, '\n')) {
    if (line.rfind("Cap", 0) != 0) continue;
    auto colon = line.find(':');
    out[line.substr(0, colon)] =
        std::stoull(std::string(Trim(line.substr(colon + 1))), nullptr, 16);
  }
  return out;
}

// In a fork()ed child: DropBounding, setresuid(1000), Apply, then either report
// /proc/self/status or exec `cat /proc/self/status` (ambient caps survive the exec).
std::string ChildStatus(const CapSets& sets, bool exec_cat) {
  Pipe p = *Pipe::Make();
  pid_t pid = ::fork();
  if (pid == 0) {
    auto fail = [&](const char* what) {
      (void)!::write(p.write.get(), "FAIL ", 5);
      (void)!::write(p.write.get(), what, strlen(what));
      ::_exit(1);
    };
    if (!DropBounding(sets)) fail("DropBounding");
    if (::setresgid(1000, 1000, 1000) < 0) fail("setresgid");
    if (::setresuid(1000, 1000, 1000) < 0) fail("setresuid");
    if (!Apply(sets)) fail("Apply");
    if (::prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 0) fail("keepcaps still set");
    if (exec_cat) {
      ::dup2(p.write.get(), 1);
      ::execl("/bin/cat", "cat", "/proc/self/status", static_cast<char*>(nullptr));
      fail("exec /bin/cat");
    }
    auto status = ReadFile("/proc/self/status");
    if (!status) fail("read /proc/self/status");
    (void)!::write(p.write.get(), status->data(), status->size());
    ::_exit(0);
  }
  p.write.Reset();
  std::string out = *ReadAll(p.read.get());
  int st = 0;
  ::waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return out.empty() ? "FAIL child" : out;
  return out;
}

class CapsApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::prctl(PR_CAPBSET_READ, 8 /* CAP_SETPCAP */, 0, 0, 0) != 1)
      GTEST_SKIP() << "no CAP_SETPCAP";
  }
};

TEST_F(CapsApplyTest, NonRootUserKeepsExactlyTheSets) {
  CapSets sets;
  sets.bounding = sets.effective = sets.permitted = sets.inheritable = sets.ambient =
      Bit(10) | Bit(0);  // CAP_NET_BIND_SERVICE, CAP_CHOWN
  std::string out = ChildStatus(sets, /*exec_cat=*/false);
  ASSERT_EQ(out.rfind("FAIL", 0), std::string::npos) << out;
  auto caps = CapLines(out);
  EXPECT_EQ(caps["CapBnd"], 0x401u);
  EXPECT_EQ(caps["CapEff"], 0x401u);
  EXPECT_EQ(caps["CapPrm"], 0x401u);
  EXPECT_EQ(caps["CapInh"], 0x401u);
  EXPECT_EQ(caps["CapAmb"], 0x401u);
}

TEST_F(CapsApplyTest, AmbientCapsSurviveExec) {
  CapSets sets;
  sets.bounding = Bit(10) | Bit(0) | Bit(5);
  sets.effective = sets.permitted = Bit(10) | Bit(0);
  sets.inheritable = sets.ambient = Bit(10);
  std::string out = ChildStatus(sets, /*exec_cat=*/true);
  ASSERT_EQ(out.rfind("FAIL", 0), std::string::npos) << out;
  auto caps = CapLines(out);
  // execve(2) of a plain file by a non-root user: permitted = effective = ambient.
  EXPECT_EQ(caps["CapBnd"], Bit(10) | Bit(0) | Bit(5));
  EXPECT_EQ(caps["CapEff"], Bit(10));
  EXPECT_EQ(caps["CapPrm"], Bit(10));
  EXPECT_EQ(caps["CapInh"], Bit(10));
  EXPECT_EQ(caps["CapAmb"], Bit(10));
}

TEST_F(CapsApplyTest, PermittedBeyondWhatIsHeldIsAnError) {
  // After dropping CAP_SETPCAP from permitted, raising it again must fail with EPERM.
  Pipe p = *Pipe::Make();
  pid_t pid = ::fork();
  if (pid == 0) {
    CapSets first;
    first.bounding = first.effective = first.permitted = Bit(0);
    CapSets second = first;
    second.permitted = second.effective = Bit(0) | Bit(8);
    int code = 0;
    if (!DropBounding(first) || !Apply(first)) {
      code = 1;
    } else if (auto r = Apply(second); r) {
      code = 2;
    } else if (r.error().sys_errno() != EPERM || r.error().message() != "capset") {
      code = 3;
    }
    ::_exit(code);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
}  // namespace berth::runtime::caps
