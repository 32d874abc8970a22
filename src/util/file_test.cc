#include "util/file.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "util/scope_exit.h"

namespace berth {
namespace {

// A fresh directory under TMPDIR, removed with everything in it.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/berth-file-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (!dir_.empty()) (void)RemoveAll(dir_);
  }
  std::string Path(std::string_view name) const { return JoinPath(dir_, name); }
  std::string dir_;
};

using FileTest = TempDirTest;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

TEST_F(FileTest, WriteFileAtomicCreatesAndReplaces) {
  std::string p = Path("state.json");
  ASSERT_TRUE(WriteFileAtomic(p, "first", 0600));
  EXPECT_EQ(*ReadFile(p), "first");
  EXPECT_EQ(ModeOf(p) & 0777, 0600u);
  ASSERT_TRUE(WriteFileAtomic(p, "second, longer"));
  EXPECT_EQ(*ReadFile(p), "second, longer");
  ASSERT_TRUE(WriteFileAtomic(p, ""));
  EXPECT_EQ(*ReadFile(p), "");
  // No temp file is left beside it.
  EXPECT_EQ(*ListDir(dir_), std::vector<std::string>{"state.json"});
}

TEST_F(FileTest, WriteFileAtomicErrors) {
  auto r = WriteFileAtomic(Path("missing/x"), "data");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound()) << r.error().message();
  // Renaming over a directory fails, and the temp file is cleaned up.
  ASSERT_TRUE(MkdirAll(Path("d/sub")));
  r = WriteFileAtomic(Path("d"), "data");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("rename"), std::string::npos) << r.error().message();
  EXPECT_EQ(*ListDir(dir_), std::vector<std::string>{"d"});
}

TEST_F(FileTest, WriteFileAndReadFileLimit) {
  std::string p = Path("f");
  ASSERT_TRUE(WriteFile(p, "hello"));
  ASSERT_TRUE(WriteFile(p, "hi"));  // truncates
  EXPECT_EQ(*ReadFile(p), "hi");
  auto r = ReadFile(p, 1);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument());
  EXPECT_EQ(r.error().message(), "read " + p + ": input larger than 1 bytes");
  EXPECT_TRUE(ReadFile(p, 2));
  r = ReadFile(Path("nope"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound());
}

TEST_F(FileTest, MkdirAll) {
  std::string deep = Path("a/b/c/d");
  ASSERT_TRUE(MkdirAll(deep, 0700));
  EXPECT_TRUE(S_ISDIR(ModeOf(deep)));
  EXPECT_TRUE(MkdirAll(deep));          // existing is fine
  EXPECT_TRUE(MkdirAll(Path("a/b/")));  // trailing slash
  EXPECT_TRUE(MkdirAll(Path("x//y///z/")));
  EXPECT_TRUE(S_ISDIR(ModeOf(Path("x/y/z"))));
  EXPECT_TRUE(MkdirAll(""));
  // A file in the way.
  ASSERT_TRUE(WriteFile(Path("file"), "x"));
  auto r = MkdirAll(Path("file"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno(), ENOTDIR);
  r = MkdirAll(Path("file/sub"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno(), ENOTDIR);
  // Relative paths work from the current directory.
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
  ASSERT_EQ(::chdir(dir_.c_str()), 0);
  auto rel = MkdirAll("rel/one");
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(rel) << rel.error().message();
  EXPECT_TRUE(S_ISDIR(ModeOf(Path("rel/one"))));
}

TEST_F(FileTest, RemoveAllRemovesTrees) {
  ASSERT_TRUE(MkdirAll(Path("t/a/b")));
  ASSERT_TRUE(WriteFile(Path("t/a/b/f"), "x"));
  ASSERT_TRUE(WriteFile(Path("t/g"), "y"));
  ASSERT_EQ(::mkfifo(Path("t/fifo").c_str(), 0600), 0);
  ASSERT_TRUE(MkdirAll(Path("t/empty/inner")));
  ASSERT_TRUE(RemoveAll(Path("t")));
  EXPECT_FALSE(PathExists(Path("t")));
  // Missing is fine; a plain file is removed.
  EXPECT_TRUE(RemoveAll(Path("t")));
  ASSERT_TRUE(WriteFile(Path("plain"), "x"));
  EXPECT_TRUE(RemoveAll(Path("plain")));
  EXPECT_FALSE(PathExists(Path("plain")));
}

TEST_F(FileTest, RemoveAllDoesNotFollowSymlinks) {
  ASSERT_TRUE(MkdirAll(Path("outside/keep")));
  ASSERT_TRUE(WriteFile(Path("outside/keep/file"), "precious"));
  ASSERT_TRUE(MkdirAll(Path("tree")));
  ASSERT_EQ(::symlink(Path("outside").c_str(), Path("tree/link").c_str()), 0);
  ASSERT_EQ(::symlink("../outside/keep/file", Path("tree/filelink").c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent", Path("tree/dangling").c_str()), 0);
  ASSERT_TRUE(RemoveAll(Path("tree")));
  EXPECT_FALSE(PathExists(Path("tree")));
  EXPECT_EQ(*ReadFile(Path("outside/keep/file")), "precious");
  // A symlink given as the path itself is removed, not its target.
  ASSERT_EQ(::symlink(Path("outside").c_str(), Path("top").c_str()), 0);
  ASSERT_TRUE(RemoveAll(Path("top")));
  EXPECT_FALSE(PathExists(Path("top")));
  EXPECT_EQ(*ReadFile(Path("outside/keep/file")), "precious");
}

TEST_F(FileTest, RemoveAllRefusesMountPoints) {
  ASSERT_TRUE(MkdirAll(Path("tree/mnt")));
  ASSERT_TRUE(WriteFile(Path("tree/f"), "x"));
  if (::geteuid() != 0 || ::mount("tmpfs", Path("tree/mnt").c_str(), "tmpfs", 0, "size=1m") != 0)
    GTEST_SKIP() << "needs root to mount a tmpfs";
  auto unmount = ScopeExit([&] { ::umount2(Path("tree/mnt").c_str(), MNT_DETACH); });
  ASSERT_TRUE(WriteFile(Path("tree/mnt/inside"), "kept"));
  auto r = RemoveAll(Path("tree"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsConflict());
  EXPECT_EQ(r.error().message(), "remove " + Path("tree/mnt") + ": is a mount point");
  EXPECT_EQ(*ReadFile(Path("tree/mnt/inside")), "kept");
  unmount.Cancel();
  ASSERT_EQ(::umount2(Path("tree/mnt").c_str(), MNT_DETACH), 0);
  EXPECT_TRUE(RemoveAll(Path("tree")));
}

TEST_F(FileTest, ListDir) {
  EXPECT_TRUE(ListDir(dir_)->empty());
  ASSERT_TRUE(WriteFile(Path("a"), ""));
  ASSERT_TRUE(MkdirAll(Path("b")));
  ASSERT_EQ(::symlink("a", Path(".hidden").c_str()), 0);
  auto names = *ListDir(dir_);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{".hidden", "a", "b"}));
  auto r = ListDir(Path("missing"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound());
  EXPECT_EQ(r.error().message().find("open " + Path("missing")), 0u);
  r = ListDir(Path("a"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno(), ENOTDIR);
}

TEST(PathTest, JoinPath) {
  EXPECT_EQ(JoinPath("a/b", "c"), "a/b/c");
  EXPECT_EQ(JoinPath("a/b/", "c"), "a/b/c");
  EXPECT_EQ(JoinPath("a/b", "/c"), "a/b/c");
  EXPECT_EQ(JoinPath("a/b/", "//c/d"), "a/b/c/d");
  EXPECT_EQ(JoinPath("/", "etc"), "/etc");
  EXPECT_EQ(JoinPath("", "etc"), "/etc");  // an empty base is the root
  EXPECT_EQ(JoinPath("a", ""), "a");
  EXPECT_EQ(JoinPath("a", "/"), "a");
  EXPECT_EQ(JoinPath("/run", "x/"), "/run/x/");
}

TEST(PathTest, Split) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Split("a:b:c", ':'), (V{"a", "b", "c"}));
  EXPECT_EQ(Split("a::b:", ':'), (V{"a", "", "b", ""}));
  EXPECT_EQ(Split("a::b:", ':', true), (V{"a", "b"}));
  EXPECT_EQ(Split("", ':'), (V{""}));
  EXPECT_EQ(Split("", ':', true), V{});
  EXPECT_EQ(Split(":", ':'), (V{"", ""}));
  EXPECT_EQ(Split("abc", ':'), (V{"abc"}));
  EXPECT_EQ(Split("  a  b ", ' ', true), (V{"a", "b"}));
}

TEST(PathTest, Trim) {
  EXPECT_EQ(Trim("  a b \t\r\n"), "a b");
  EXPECT_EQ(Trim("\n\n"), "");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("x"), "x");
  EXPECT_EQ(Trim("\tx y"), "x y");
}

}  // namespace
}  // namespace berth
