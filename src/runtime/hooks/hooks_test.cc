#include "runtime/hooks/hooks.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "util/file.h"

namespace berth::runtime::hooks {
namespace {

class HooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/berth-hooks-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  // Writes an executable shell script and returns a hook running it.
  oci::Hook Script(const std::string& name, const std::string& body) {
    std::string path = dir_ + "/" + name;
    EXPECT_TRUE(WriteFile(path, "#!/bin/sh\n" + body, 0755));
    oci::Hook h;
    h.path = path;
    return h;
  }
  std::string Read(const std::string& name) {
    auto r = ReadFile(dir_ + "/" + name);
    return r ? *r : "<missing>";
  }
  std::string dir_;
};

// Whether pid runs: it exists and is not a zombie waiting for whichever process reaps orphans.
bool Alive(pid_t pid) {
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  auto close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

TEST_F(HooksTest, StateOnStdinArgsAndEnv) {
  oci::Hook h =
      Script("hook", "cat > " + dir_ + "/stdin\necho \"$0 $1 $FOO\" > " + dir_ + "/argv\n");
  h.args = {"hook-name", "first"};
  h.env = {"FOO=bar"};
  std::string state = R"({"ociVersion":"1.2.0","id":"c1","status":"creating"})";
  auto r = hooks::Run("prestart", {h}, state);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(Read("stdin"), state);
  // args[0] is the hook's argv[0]: sh sets $0 to the script path it runs.
  EXPECT_EQ(Read("argv"), h.path + " first bar\n");
}

TEST_F(HooksTest, RunsInOrderAndStopsAtFirstFailure) {
  oci::Hook a = Script("a", "echo a >> " + dir_ + "/log\n");
  oci::Hook fail = Script("fail", "echo fail >> " + dir_ + "/log\nexit 1\n");
  oci::Hook c = Script("c", "echo c >> " + dir_ + "/log\n");
  auto r = hooks::Run("createRuntime", {a, fail, c}, "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "createRuntime hook " + fail.path + ": exit status 1");
  EXPECT_EQ(Read("log"), "a\nfail\n");
  EXPECT_TRUE(hooks::Run("poststop", {}, "{}"));
}

TEST_F(HooksTest, ExitStatusAndSignal) {
  auto r = hooks::Run("poststart", {Script("x", "exit 3\n")}, "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "poststart hook " + dir_ + "/x: exit status 3");
  r = hooks::Run("poststart", {Script("k", "kill -TERM $$\n")}, "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "poststart hook " + dir_ + "/k: killed by signal 15");
}

TEST_F(HooksTest, MissingOrNotExecutable) {
  oci::Hook missing;
  missing.path = dir_ + "/nope";
  auto r = hooks::Run("prestart", {missing}, "{}");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound()) << r.error().message();
  EXPECT_EQ(r.error().message().rfind("prestart hook " + missing.path, 0), 0u);
  ASSERT_TRUE(WriteFile(dir_ + "/noexec", "#!/bin/sh\n", 0644));
  oci::Hook noexec;
  noexec.path = dir_ + "/noexec";
  r = hooks::Run("prestart", {noexec}, "{}");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno(), EACCES) << r.error().message();
}

TEST_F(HooksTest, HookThatIgnoresStdin) {
  // A hook need not read its input, even one larger than a pipe buffer.
  std::string big(1 << 20, 'x');
  auto r = hooks::Run("poststop", {Script("quiet", "exit 0\n")}, big);
  EXPECT_TRUE(r) << r.error().message();
}

TEST_F(HooksTest, TimeoutKillsTheHook) {
  // The script records its pid and the pid of its own child, then sleeps.
  oci::Hook h = Script(
      "slow", "echo $$ > " + dir_ + "/pid\nsleep 10 &\necho $! > " + dir_ + "/child\nwait\n");
  h.timeout = 1;
  auto start = std::chrono::steady_clock::now();
  auto r = hooks::Run("createRuntime", {h}, "{}");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCanceled);
  EXPECT_EQ(r.error().message(), "createRuntime hook " + h.path + ": timed out after 1s");
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  pid_t pid = std::atoi(Read("pid").c_str());
  pid_t child = std::atoi(Read("child").c_str());
  ASSERT_GT(pid, 0);
  ASSERT_GT(child, 0);
  EXPECT_FALSE(Alive(pid)) << "hook " << pid << " still runs";
  // Its children go too: the hook runs in its own process group.
  for (int i = 0; i < 100 && Alive(child); ++i) ::usleep(10000);
  EXPECT_FALSE(Alive(child)) << "hook child " << child << " still runs";
}

TEST_F(HooksTest, TimeoutAppliesWhileWritingTheState) {
  // A hook that neither reads its stdin nor exits: the write of a large state must not
  // block past the timeout.
  oci::Hook h = Script("stuck", "sleep 10\n");
  h.timeout = 1;
  std::string big(1 << 20, 'x');
  auto start = std::chrono::steady_clock::now();
  auto r = hooks::Run("prestart", {h}, big);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCanceled) << r.error().message();
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(HooksTest, FastHookWithinTimeout) {
  oci::Hook h = Script("fast", "cat > /dev/null\n");
  h.timeout = 2147483647;  // no overflow in the millisecond conversion
  auto r = hooks::Run("poststart", {h}, "{}");
  EXPECT_TRUE(r) << r.error().message();
}

}  // namespace
}  // namespace berth::runtime::hooks
