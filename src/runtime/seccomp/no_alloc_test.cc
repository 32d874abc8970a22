// The calls made between clone and execve must not allocate: count operator new around them.
// This replaces the global operator new of the whole test binary with a counting one.

// GCC pairs the inlined malloc/free of the replacements below with new/delete expressions.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <new>
#include <string>

#include "runtime/caps/caps.h"
#include "runtime/seccomp/seccomp.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace berth::runtime {
namespace {

// Runs fn in a fork()ed child; the exit status is the number of allocations fn made (capped),
// or 255 if fn reports a failure.
int AllocationsInChild(bool (*fn)(void*), void* arg) {
  pid_t pid = ::fork();
  if (pid == 0) {
    long before = g_allocations.load();
    bool ok = fn(arg);
    long n = g_allocations.load() - before;
    ::_exit(!ok ? 255 : n > 200 ? 200 : static_cast<int>(n));
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(NoAllocTest, CounterSeesAllocations) {
  EXPECT_GT(AllocationsInChild(
                [](void*) {
                  std::string s(100, 'x');
                  return !s.empty();
                },
                nullptr),
            0);
}

TEST(NoAllocTest, SeccompLoadSuccessAndError) {
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  oci::SeccompSyscall rule;
  rule.names = {"getcwd"};
  rule.action = "SCMP_ACT_ERRNO";
  profile.syscalls = {rule};
  auto program = seccomp::Compile(profile);
  ASSERT_TRUE(program) << program.error().message();
  EXPECT_EQ(AllocationsInChild(
                [](void* p) {
                  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                  return seccomp::Load(*static_cast<seccomp::Program*>(p)).has_value();
                },
                &*program),
            0);
  // Without no_new_privs and without CAP_SYS_ADMIN the load fails: the error path too.
  EXPECT_EQ(AllocationsInChild(
                [](void* p) {
                  if (::getuid() == 0) ::setresuid(1000, 1000, 1000);
                  auto r = seccomp::Load(*static_cast<seccomp::Program*>(p));
                  return !r && r.error().sys_errno() == EACCES;
                },
                &*program),
            0);
}

TEST(NoAllocTest, CapsDropBoundingAndApply) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  caps::CapSets sets;
  sets.bounding = sets.effective = sets.permitted = sets.inheritable = sets.ambient = 1u << 10;
  (void)caps::LastCap();  // as Parse() does in the parent
  EXPECT_EQ(AllocationsInChild(
                [](void* p) {
                  auto& s = *static_cast<caps::CapSets*>(p);
                  return caps::DropBounding(s) && ::setresuid(1000, 1000, 1000) == 0 &&
                         caps::Apply(s);
                },
                &sets),
            0);
  // Error path: an ambient capability that is not inheritable.
  EXPECT_EQ(AllocationsInChild(
                [](void* p) {
                  auto s = *static_cast<caps::CapSets*>(p);
                  if (!caps::DropBounding(s) || ::setresuid(1000, 1000, 1000) != 0) return false;
                  s.inheritable = 0;
                  return !caps::Apply(s);
                },
                &sets),
            0);
}

}  // namespace
}  // namespace berth::runtime
