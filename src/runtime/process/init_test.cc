#include "runtime/process/init.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "util/file.h"

namespace berth::runtime::process {
namespace {

class LookPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/berth-lookpath-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MkdirAll(dir_ + "/bin1"));
    ASSERT_TRUE(MkdirAll(dir_ + "/bin2"));
    ASSERT_TRUE(MkdirAll(dir_ + "/bin1/subdir"));
    ASSERT_TRUE(WriteFile(dir_ + "/bin1/plain", "data", 0644));  // not executable
    ASSERT_TRUE(WriteFile(dir_ + "/bin2/plain", "#!/bin/sh\n", 0755));
    ASSERT_TRUE(WriteFile(dir_ + "/bin2/tool", "#!/bin/sh\n", 0755));
    ASSERT_TRUE(WriteFile(dir_ + "/bin1/tool", "#!/bin/sh\n", 0755));
    ASSERT_TRUE(MkdirAll(dir_ + "/bin2/subdir"));
    ASSERT_TRUE(WriteFile(dir_ + "/bin2/subdir/x", "", 0755));
  }
  void TearDown() override { (void)RemoveAll(dir_); }
  std::vector<std::string> Env() const {
    return {"HOME=/root", "PATH=" + dir_ + "/bin1:" + dir_ + "/bin2", "TERM=xterm"};
  }
  std::string dir_;
};

TEST_F(LookPathTest, AbsolutePath) {
  auto r = LookPath(dir_ + "/bin2/tool", {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, dir_ + "/bin2/tool");
  EXPECT_EQ(*LookPath("/bin/sh", {}), "/bin/sh");

  r = LookPath(dir_ + "/bin1/plain", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno(), EACCES);
  EXPECT_EQ(r.error().message(), "exec: \"" + dir_ + "/bin1/plain\": permission denied");

  r = LookPath(dir_ + "/bin1/subdir", {});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsPermissionDenied());
  EXPECT_EQ(r.error().sys_errno(), EACCES);
  EXPECT_EQ(r.error().message(), "exec: \"" + dir_ + "/bin1/subdir\": is a directory");

  r = LookPath(dir_ + "/nope", {});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound());
  EXPECT_EQ(r.error().sys_errno(), ENOENT);
  EXPECT_EQ(r.error().message().rfind("exec: \"" + dir_ + "/nope\": stat ", 0), 0u);
}

TEST_F(LookPathTest, RelativePathWithSlashIsNotSearched) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir_.c_str()), 0);
  auto found = LookPath("bin2/tool", Env());
  auto dot = LookPath("./bin1/tool", Env());
  auto not_exec = LookPath("bin1/plain", Env());
  auto in_path_only = LookPath("subdir/x", Env());  // bin2/subdir/x exists, ./subdir/x not
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_EQ(*found, "bin2/tool");
  ASSERT_TRUE(dot);
  EXPECT_EQ(*dot, "./bin1/tool");
  ASSERT_FALSE(not_exec);
  EXPECT_EQ(not_exec.error().sys_errno(), EACCES);
  ASSERT_FALSE(in_path_only);
  EXPECT_TRUE(in_path_only.error().IsNotFound());
}

TEST_F(LookPathTest, SearchesPathInOrder) {
  // bin1/tool comes first; bin1/plain is not executable, so bin2/plain is found; directories
  // named like the file are skipped.
  EXPECT_EQ(*LookPath("tool", Env()), dir_ + "/bin1/tool");
  EXPECT_EQ(*LookPath("plain", Env()), dir_ + "/bin2/plain");
  auto r = LookPath("subdir", Env());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "exec: \"subdir\": executable file not found in $PATH");
  // The last PATH in env wins; without one the default PATH is used.
  std::vector<std::string> env = Env();
  env.push_back("PATH=" + dir_ + "/bin2");
  EXPECT_EQ(*LookPath("tool", env), dir_ + "/bin2/tool");
  EXPECT_EQ(*LookPath("sh", {"HOME=/"}), "/usr/bin/sh");
  // PATH= (empty) searches the current directory only.
  auto empty = LookPath("tool", {"PATH="});
  EXPECT_FALSE(empty);
}

TEST_F(LookPathTest, NotFound) {
  auto r = LookPath("no-such-command", Env());
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound());
  EXPECT_EQ(r.error().sys_errno(), ENOENT);
  EXPECT_EQ(r.error().message(), "exec: \"no-such-command\": executable file not found in $PATH");
  r = LookPath("plain", {"PATH=" + dir_ + "/bin1"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "exec: \"plain\": executable file not found in $PATH");
}

}  // namespace
}  // namespace berth::runtime::process
