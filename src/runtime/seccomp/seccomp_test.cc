#include "runtime/seccomp/seccomp.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>

#include "runtime/seccomp/seccomp_internal.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::runtime::seccomp {
namespace {

oci::SeccompSyscall Rule(std::vector<std::string> names, std::string action,
                         std::optional<uint32_t> errno_ret = std::nullopt,
                         std::vector<oci::SeccompArg> args = {}) {
  oci::SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  s.errno_ret = errno_ret;
  s.args = std::move(args);
  return s;
}

oci::SeccompArg Arg(uint32_t index, uint64_t value, std::string op, uint64_t value_two = 0) {
  oci::SeccompArg a;
  a.index = index;
  a.value = value;
  a.value_two = value_two;
  a.op = std::move(op);
  return a;
}

oci::Seccomp AllowAllBut(std::vector<oci::SeccompSyscall> rules) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  p.syscalls = std::move(rules);
  return p;
}

// Runs fn in a fork()ed child, which sets no_new_privs and loads program first (if any). fn
// returns nullptr on success or a description of what went wrong, sent back through a pipe; the
// returned string is empty on success.
std::string InChild(const Program* program, const std::function<const char*()>& fn) {
  Pipe p = *Pipe::Make();
  pid_t pid = ::fork();
  if (pid == 0) {
    const char* fail = nullptr;
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
      fail = "prctl(PR_SET_NO_NEW_PRIVS) failed";
    } else if (program && !Load(*program)) {
      fail = "Load failed";
    } else {
      fail = fn();
    }
    if (fail) (void)!::write(p.write.get(), fail, strlen(fail));
    ::_exit(fail ? 1 : 0);
  }
  p.write.Reset();
  std::string msg = *ReadAll(p.read.get());
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    return msg + " (killed by signal " + std::to_string(WTERMSIG(status)) + ")";
  if (WEXITSTATUS(status) != 0 && msg.empty())
    return "exit status " + std::to_string(WEXITSTATUS(status));
  return msg;
}

TEST(SeccompCompileTest, DefaultAllowWithOneErrnoRule) {
  auto p = Compile(AllowAllBut({Rule({"getcwd"}, "SCMP_ACT_ERRNO", EXDEV)}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_FALSE(p->bpf.empty());
  EXPECT_EQ(p->bpf.size() % 8, 0u);
  EXPECT_EQ(p->flags, 0u);
  EXPECT_FALSE(p->notify);
}

TEST(SeccompCompileTest, UnknownNamesAreErrorsThatNameTheField) {
  oci::Seccomp p =
      AllowAllBut({Rule({"getcwd"}, "SCMP_ACT_ERRNO"), Rule({"mkdir"}, "SCMP_ACT_FOO")});
  auto r = Compile(p);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument());
  EXPECT_EQ(r.error().message(), "linux.seccomp.syscalls[1].action: unknown action SCMP_ACT_FOO");

  p = AllowAllBut({Rule({"getcwd"}, "SCMP_ACT_ERRNO", {}, {Arg(0, 1, "SCMP_CMP_ALMOST")})});
  r = Compile(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "linux.seccomp.syscalls[0].args[0].op: unknown operator SCMP_CMP_ALMOST");

  p = AllowAllBut({Rule({"getcwd"}, "SCMP_ACT_ERRNO", {}, {Arg(6, 1, "SCMP_CMP_EQ")})});
  EXPECT_TRUE(Compile(p).error().IsInvalidArgument());

  p = AllowAllBut({});
  p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
  r = Compile(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "linux.seccomp.architectures[1]: unknown architecture SCMP_ARCH_VAX");

  p = AllowAllBut({});
  p.flags = {"SECCOMP_FILTER_FLAG_BOGUS"};
  r = Compile(p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "linux.seccomp.flags[0]: unknown flag SECCOMP_FILTER_FLAG_BOGUS");

  p = AllowAllBut({});
  p.default_action = "SCMP_ACT_NOTIFY";
  EXPECT_TRUE(Compile(p).error().IsInvalidArgument());
}

TEST(SeccompCompileTest, FlagsActionsAndSkippedRules) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ERRNO";  // EPERM
  p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  p.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  p.syscalls = {
      Rule({"read", "write", "berth_no_such_syscall"}, "SCMP_ACT_ALLOW"),
      Rule({"mkdir"}, "SCMP_ACT_ERRNO"),  // same as the default: skipped, not an error
      Rule({"rmdir"}, "SCMP_ACT_ERRNO", EPERM),
      Rule({"ptrace"}, "SCMP_ACT_TRACE", 1),
      Rule({"kill"}, "SCMP_ACT_KILL_PROCESS"),
      Rule({"tkill"}, "SCMP_ACT_KILL"),
      Rule({"tgkill"}, "SCMP_ACT_KILL_THREAD"),
      Rule({"reboot"}, "SCMP_ACT_TRAP"),
      Rule({"uname"}, "SCMP_ACT_LOG"),
  };
  auto r = Compile(p);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  EXPECT_FALSE(r->notify);

  p.syscalls.push_back(Rule({"berth_no_such_syscall"}, "SCMP_ACT_NOTIFY"));
  r = Compile(p);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->notify);  // no notify rule was added: no listener wanted

  p.syscalls.push_back(Rule({"getppid"}, "SCMP_ACT_NOTIFY"));
  r = Compile(p);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->notify);
}

// Rule shapes of Docker's default profile, over its three x86 architectures (x86 multiplexes
// socket calls through socketcall, which libseccomp has to rewrite).
TEST(SeccompCompileTest, DockerShapedRulesForThreeArches) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = EPERM;
  p.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  p.syscalls = {
      Rule({"read", "write", "exit_group", "futex"}, "SCMP_ACT_ALLOW"),
      Rule({"personality"}, "SCMP_ACT_ALLOW", {},
           {Arg(0, 0, "SCMP_CMP_EQ"), Arg(0, 8, "SCMP_CMP_EQ"), Arg(0, 0x20000, "SCMP_CMP_EQ"),
            Arg(0, 0xffffffff, "SCMP_CMP_EQ")}),
      Rule({"clone"}, "SCMP_ACT_ALLOW", {}, {Arg(0, 0x7E020000, "SCMP_CMP_MASKED_EQ", 0)}),
      Rule({"clone3"}, "SCMP_ACT_ERRNO", ENOSYS),
      Rule({"socket"}, "SCMP_ACT_ALLOW", {}, {Arg(0, 40, "SCMP_CMP_NE")}),
      Rule({"sendto", "recvfrom", "socketcall"}, "SCMP_ACT_ALLOW"),
  };
  auto r = Compile(p);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_GT(r->bpf.size() / 8, 20u);
}

TEST(SeccompLoadTest, ErrnoRuleDeniesTheSyscall) {
  auto p = Compile(AllowAllBut({Rule({"getcwd", "mkdirat"}, "SCMP_ACT_ERRNO", EXDEV),
                                Rule({"berth_no_such_syscall"}, "SCMP_ACT_KILL")}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(InChild(&*p,
                    []() -> const char* {
                      char buf[256];
                      if (::syscall(SYS_getcwd, buf, sizeof(buf)) != -1 || errno != EXDEV)
                        return "getcwd not denied with EXDEV";
                      if (::syscall(SYS_mkdirat, AT_FDCWD, "/nonexistent/x", 0700) != -1 ||
                          errno != EXDEV)
                        return "mkdirat not denied with EXDEV";
                      if (::syscall(SYS_getpid) <= 0) return "getpid denied";
                      return nullptr;
                    }),
            "");
}

TEST(SeccompLoadTest, DefaultErrnoWithAllowlist) {
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ERRNO";
  profile.default_errno_ret = ENOTSUP;
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  profile.syscalls = {
      Rule({"exit", "exit_group", "write", "getpid", "rt_sigreturn"}, "SCMP_ACT_ALLOW"),
  };
  auto p = Compile(profile);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(InChild(&*p,
                    []() -> const char* {
                      if (::syscall(SYS_getpid) <= 0) return "getpid denied";
                      if (::syscall(SYS_getppid) != -1 || errno != ENOTSUP)
                        return "getppid not denied with ENOTSUP";
                      return nullptr;
                    }),
            "");
}

TEST(SeccompLoadTest, ArgRuleDeniesOnlyOneFlagValue) {
  auto p = Compile(
      AllowAllBut({Rule({"fcntl"}, "SCMP_ACT_ERRNO", EXDEV, {Arg(1, F_GETFL, "SCMP_CMP_EQ")})}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(InChild(&*p,
                    []() -> const char* {
                      if (::syscall(SYS_fcntl, 0, F_GETFD) < 0) return "fcntl(F_GETFD) denied";
                      if (::syscall(SYS_fcntl, 0, F_GETFL) != -1 || errno != EXDEV)
                        return "fcntl(F_GETFL) not denied";
                      return nullptr;
                    }),
            "");
}

TEST(SeccompLoadTest, ArgsOnDifferentIndexesAreAnded) {
  auto p = Compile(
      AllowAllBut({Rule({"getpriority"}, "SCMP_ACT_ERRNO", EXDEV,
                        {Arg(0, PRIO_PGRP, "SCMP_CMP_EQ"), Arg(1, 999999, "SCMP_CMP_GE")})}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(InChild(&*p,
                    []() -> const char* {
                      if (::syscall(SYS_getpriority, PRIO_PGRP, 1000000) != -1 || errno != EXDEV)
                        return "getpriority(PGRP, 1000000) not denied";
                      errno = 0;
                      ::syscall(SYS_getpriority, PRIO_PROCESS, 1000000);
                      if (errno == EXDEV) return "getpriority(PROCESS, 1000000) denied";
                      errno = 0;
                      ::syscall(SYS_getpriority, PRIO_PGRP, 0);
                      if (errno == EXDEV) return "getpriority(PGRP, 0) denied";
                      return nullptr;
                    }),
            "");
}

TEST(SeccompLoadTest, ArgsOnTheSameIndexAreOred) {
  auto p = Compile(
      AllowAllBut({Rule({"fcntl"}, "SCMP_ACT_ERRNO", EXDEV,
                        {Arg(1, F_GETFL, "SCMP_CMP_EQ"), Arg(1, F_GETOWN, "SCMP_CMP_EQ")})}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(InChild(&*p,
                    []() -> const char* {
                      if (::syscall(SYS_fcntl, 0, F_GETFD) < 0) return "fcntl(F_GETFD) denied";
                      if (::syscall(SYS_fcntl, 0, F_GETFL) != -1 || errno != EXDEV)
                        return "fcntl(F_GETFL) not denied";
                      if (::syscall(SYS_fcntl, 0, F_GETOWN) != -1 || errno != EXDEV)
                        return "fcntl(F_GETOWN) not denied";
                      return nullptr;
                    }),
            "");
}

TEST(SeccompLoadTest, MaskedEqMatchesOneBit) {
  auto p = Compile(AllowAllBut({Rule({"dup3"}, "SCMP_ACT_ERRNO", EXDEV,
                                     {Arg(2, O_CLOEXEC, "SCMP_CMP_MASKED_EQ", O_CLOEXEC)})}));
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(InChild(&*p,
                    []() -> const char* {
                      if (::syscall(SYS_dup3, 0, 100, O_CLOEXEC) != -1 || errno != EXDEV)
                        return "dup3(O_CLOEXEC) not denied";
                      if (::syscall(SYS_dup3, 0, 100, 0) != 100) return "dup3(0) denied";
                      return nullptr;
                    }),
            "");
}

TEST(SeccompLoadTest, NotifyReturnsACloexecListener) {
  for (const char* flag : {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"}) {
    oci::Seccomp profile = AllowAllBut({Rule({"getppid"}, "SCMP_ACT_NOTIFY")});
    profile.flags = {flag};
    auto p = Compile(profile);
    ASSERT_TRUE(p) << p.error().message();
    ASSERT_TRUE(p->notify);
    // A filter tree has at most one listener: Load here, not in InChild.
    EXPECT_EQ(InChild(nullptr,
                      [&p]() -> const char* {
                        auto fd = Load(*p);
                        if (!fd) return "Load failed";
                        if (*fd < 0) return "no listener fd";
                        int fl = ::fcntl(*fd, F_GETFD);
                        if (fl < 0 || !(fl & FD_CLOEXEC)) return "listener not FD_CLOEXEC";
                        return nullptr;
                      }),
              "")
        << flag;
  }
}

TEST(SeccompLoadTest, RejectsMalformedProgram) {
  Program p;
  p.bpf = "1234567";
  auto r = Load(p);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument());
}

class SeccompCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-seccomp-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::vector<std::string> Files() {
    auto names = *ListDir(dir_ + "/cache");
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir_;
};

TEST_F(SeccompCacheTest, SecondCallIsAHit) {
  oci::Seccomp profile = AllowAllBut({Rule({"getcwd"}, "SCMP_ACT_ERRNO", EXDEV)});
  std::string cache = dir_ + "/cache";
  auto first = CompileCached(profile, cache);
  ASSERT_TRUE(first) << first.error().message();
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].size(), 64u + 4u);  // <hex>.bpf
  std::string path = cache + "/" + files[0];
  struct stat before;
  ASSERT_EQ(::stat(path.c_str(), &before), 0);

  auto second = CompileCached(profile, cache);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->bpf, first->bpf);
  EXPECT_EQ(second->bpf, Compile(profile)->bpf);
  struct stat after;
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // read, not rewritten
  EXPECT_EQ(Files().size(), 1u);

  // Any change of the profile is another key.
  profile.syscalls[0].errno_ret = EPERM;
  ASSERT_TRUE(CompileCached(profile, cache));
  EXPECT_EQ(Files().size(), 2u);
}

TEST_F(SeccompCacheTest, HitKeepsFlagsAndNotify) {
  oci::Seccomp profile = AllowAllBut({Rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  profile.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  std::string cache = dir_ + "/cache";
  ASSERT_TRUE(CompileCached(profile, cache));
  auto hit = CompileCached(profile, cache);
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->notify);
  EXPECT_EQ(hit->flags, SECCOMP_FILTER_FLAG_LOG);
}

TEST_F(SeccompCacheTest, CorruptFilesAreRecovered) {
  oci::Seccomp profile = AllowAllBut({Rule({"getcwd"}, "SCMP_ACT_ERRNO", EXDEV)});
  std::string cache = dir_ + "/cache";
  auto good = CompileCached(profile, cache);
  ASSERT_TRUE(good);
  std::string path = cache + "/" + Files()[0];
  std::string bytes = *ReadFile(path);

  std::string flipped = bytes;
  flipped[flipped.size() - 3] ^= 0x40;  // inside the bpf: checksum mismatch
  for (const std::string& bad :
       {std::string(), bytes.substr(0, 20), bytes.substr(0, bytes.size() - 8), flipped,
        std::string("BERTHBPF") + std::string(200, '\0')}) {
    ASSERT_TRUE(WriteFile(path, bad));
    auto r = CompileCached(profile, cache);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->bpf, good->bpf);
    EXPECT_EQ(*ReadFile(path), bytes);  // rewritten
  }
}

TEST_F(SeccompCacheTest, UnwritableCacheStillCompiles) {
  std::string file = dir_ + "/not-a-dir";
  ASSERT_TRUE(WriteFile(file, "x"));
  auto r = CompileCached(AllowAllBut({Rule({"getcwd"}, "SCMP_ACT_ERRNO")}), file + "/cache");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->bpf.empty());
}

// A Docker-sized profile (~370 names, 3 arches): prints the compile and cache-hit costs.
TEST_F(SeccompCacheTest, DockerSizedProfileCost) {
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ERRNO";
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  oci::SeccompSyscall allow = Rule({}, "SCMP_ACT_ALLOW");
  for (int nr = 0; nr < 460 && allow.names.size() < 371; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (!name) continue;
    if (std::string_view(name) != "ptrace" && std::string_view(name) != "reboot")
      allow.names.emplace_back(name);
    std::free(name);
  }
  profile.syscalls = {allow};
  std::string cache = dir_ + "/cache";
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  auto miss = CompileCached(profile, cache);
  auto t1 = Clock::now();
  auto hit = CompileCached(profile, cache);
  auto t2 = Clock::now();
  ASSERT_TRUE(miss && hit);
  EXPECT_EQ(miss->bpf, hit->bpf);
  auto us = [](auto d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); };
  std::cout << allow.names.size() << " names, " << hit->bpf.size() / 8 << " instructions: miss "
            << us(t1 - t0) << " us, hit " << us(t2 - t1) << " us\n";
  EXPECT_EQ(InChild(&*hit,
                    []() -> const char* {
                      if (::syscall(SYS_getpid) <= 0) return "getpid denied";
                      if (::syscall(SYS_reboot, 0, 0, 0, nullptr) != -1 || errno != EPERM)
                        return "reboot not denied";
                      return nullptr;
                    }),
            "");
}

TEST(SeccompFeaturesTest, SupportedLists) {
  auto has = [](const std::vector<std::string>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  EXPECT_EQ(SupportedActions().size(), 9u);
  EXPECT_TRUE(has(SupportedActions(), "SCMP_ACT_NOTIFY"));
  EXPECT_EQ(SupportedOperators().size(), 7u);
  EXPECT_TRUE(has(SupportedOperators(), "SCMP_CMP_MASKED_EQ"));
  EXPECT_TRUE(has(SupportedArchitectures(), "SCMP_ARCH_X86_64"));
  EXPECT_TRUE(has(SupportedArchitectures(), "SCMP_ARCH_RISCV64"));
  EXPECT_TRUE(has(SupportedFlags(), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"));
}

TEST(SeccompInternalTest, CanonicalProfileSeparatesFields) {
  oci::Seccomp a = AllowAllBut({Rule({"ab", "c"}, "SCMP_ACT_ERRNO")});
  oci::Seccomp b = AllowAllBut({Rule({"a", "bc"}, "SCMP_ACT_ERRNO")});
  EXPECT_NE(internal::CanonicalProfile(a), internal::CanonicalProfile(b));
  oci::Seccomp c = a;
  c.syscalls[0].errno_ret = 0;
  EXPECT_NE(internal::CanonicalProfile(a), internal::CanonicalProfile(c));
  c = a;
  c.listener_path = "/run/x.sock";
  EXPECT_NE(internal::CanonicalProfile(a), internal::CanonicalProfile(c));
  EXPECT_EQ(internal::CanonicalProfile(a), internal::CanonicalProfile(oci::Seccomp(a)));
}

}  // namespace
}  // namespace berth::runtime::seccomp
