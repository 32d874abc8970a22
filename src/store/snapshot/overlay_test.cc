#include "store/snapshot/overlay.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "store/archive/apply.h"
#include "store/archive/test_tar.h"
#include "util/file.h"
#include "util/sha256.h"

namespace berth::store::snapshot {
namespace {

using archive::testing::MakeTar;
using archive::testing::MemFd;

class TempRoot {
 public:
  TempRoot() {
    char tmpl[] = "/tmp/berth-snap-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempRoot() { (void)RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Fs(const std::string& root, int id) {
  return root + "/snapshots/" + std::to_string(id) + "/fs";
}

TEST(ChainId, FollowsTheImageSpec) {
  std::string d1 = "sha256:" + std::string(64, 'a');
  std::string d2 = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(*ChainId("", d1), d1);
  std::string c2 = "sha256:" + *Sha256Hex(d1 + " " + d2);
  EXPECT_EQ(*ChainId(d1, d2), c2);
  EXPECT_EQ(*ChainId(std::vector<std::string>{d1, d2}), c2);
  EXPECT_FALSE(ChainId(d1, "sha256:xyz"));
  EXPECT_FALSE(ChainId("nope", d2));
  EXPECT_FALSE(ChainId(std::vector<std::string>{}));
}

TEST(OverlaySnapshotter, Lifecycle) {
  TempRoot t;
  const std::string& root = t.path();
  auto sn = *OverlaySnapshotter::Open(root);

  auto m = sn->Prepare("extract-1", "");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(*m, (std::vector<Mount>{{"bind", Fs(root, 1), "", {"rw", "rbind"}}}));
  ASSERT_TRUE(WriteFile(*sn->FsDir("extract-1") + "/a", "hello"));
  EXPECT_EQ(sn->Stat("extract-1")->kind, Kind::kActive);
  EXPECT_GE(sn->Usage("extract-1")->inodes, 1);
  ASSERT_TRUE(sn->Commit("layer1", "extract-1", {{"k", "v"}}));
  EXPECT_TRUE(sn->Stat("extract-1").error().IsNotFound());
  Info i = *sn->Stat("layer1");
  EXPECT_EQ(i.kind, Kind::kCommitted);
  EXPECT_EQ(i.labels.at("k"), "v");
  EXPECT_EQ(sn->Usage("layer1")->inodes, 1);
  EXPECT_TRUE(sn->Mounts("layer1").error().IsFailedPrecondition());
  EXPECT_FALSE(PathExists(root + "/snapshots/1/work"));

  m = sn->Prepare("extract-2", "layer1");
  ASSERT_TRUE(m);
  std::string s2 = root + "/snapshots/2";
  EXPECT_EQ(*m, (std::vector<Mount>{{"overlay",
                                     "overlay",
                                     "",
                                     {"index=off", "workdir=" + s2 + "/work",
                                      "upperdir=" + s2 + "/fs", "lowerdir=" + Fs(root, 1)}}}));
  EXPECT_EQ(*sn->Mounts("extract-2"), *m);
  ASSERT_TRUE(sn->Commit("layer2", "extract-2"));

  // Views: with one parent a read-only bind, with more an overlay of lowerdirs only.
  EXPECT_EQ(*sn->View("v1", "layer1"),
            (std::vector<Mount>{{"bind", Fs(root, 1), "", {"ro", "rbind"}}}));
  EXPECT_EQ(*sn->View("v2", "layer2"),
            (std::vector<Mount>{
                {"overlay", "overlay", "", {"lowerdir=" + Fs(root, 2) + ":" + Fs(root, 1)}}}));
  EXPECT_EQ(*sn->View("v0", ""), (std::vector<Mount>{{"bind", Fs(root, 5), "", {"ro", "rbind"}}}));
  m = sn->Prepare("ctr", "layer2");
  std::string s6 = root + "/snapshots/6";
  EXPECT_EQ((*m)[0].options.back(), "lowerdir=" + Fs(root, 2) + ":" + Fs(root, 1));

  // Errors, with their classes.
  EXPECT_TRUE(sn->Prepare("ctr", "layer2").error().IsAlreadyExists());
  EXPECT_TRUE(sn->Prepare("x", "missing").error().IsNotFound());
  EXPECT_TRUE(sn->Prepare("x", "ctr").error().IsFailedPrecondition());
  EXPECT_TRUE(sn->Prepare("", "").error().IsInvalidArgument());
  EXPECT_TRUE(sn->Commit("layer3", "v1").error().IsFailedPrecondition());
  EXPECT_TRUE(sn->Commit("layer3", "layer2").error().IsFailedPrecondition());
  EXPECT_TRUE(sn->Commit("layer1", "ctr").error().IsAlreadyExists());
  EXPECT_TRUE(sn->Remove("layer1").error().IsFailedPrecondition());
  EXPECT_TRUE(sn->Remove("nope").error().IsNotFound());

  std::vector<std::string> keys;
  ASSERT_TRUE(sn->Walk([&](const Info& info) -> Result<void> {
    keys.push_back(info.name + ":" + std::string(KindName(info.kind)) + ":" + info.parent);
    return {};
  }));
  EXPECT_EQ(keys, (std::vector<std::string>{"ctr:active:layer2",
                                            "layer1:committed:", "layer2:committed:layer1",
                                            "v0:view:", "v1:view:layer1", "v2:view:layer2"}));

  // Reopened: the same state; removal of a child then its parent.
  sn.reset();
  sn = *OverlaySnapshotter::Open(root);
  EXPECT_EQ(sn->Stat("layer2")->parent, "layer1");
  EXPECT_EQ(*sn->Mounts("ctr"), *m);
  EXPECT_EQ(sn->Stat("layer1")->labels.at("k"), "v");
  for (const char* k : {"ctr", "v2", "v1", "v0", "layer2", "layer1"}) {
    auto r = sn->Remove(k);
    EXPECT_TRUE(r) << k << ": " << r.error().message();
  }
  EXPECT_TRUE(ListDir(root + "/snapshots")->empty());
  // Ids are not reused.
  EXPECT_EQ((*sn->Prepare("again", ""))[0].source, Fs(root, 7));
}

TEST(OverlaySnapshotter, RebaseSetsTheParentOfAnActiveSnapshot) {
  TempRoot t;
  auto sn = *OverlaySnapshotter::Open(t.path());
  ASSERT_TRUE(sn->Prepare("extract-base", ""));
  ASSERT_TRUE(sn->Commit("base", "extract-base"));
  ASSERT_TRUE(sn->Prepare("extract-top", ""));
  ASSERT_TRUE(WriteFile(*sn->FsDir("extract-top") + "/f", "x"));
  EXPECT_TRUE(sn->Rebase("extract-top", "nosuch").error().IsNotFound());
  ASSERT_TRUE(sn->Prepare("extract-other", ""));
  EXPECT_TRUE(sn->Rebase("extract-top", "extract-other").error().IsFailedPrecondition());
  EXPECT_TRUE(sn->Rebase("base", "").error().IsFailedPrecondition());  // committed
  ASSERT_TRUE(sn->Rebase("extract-top", "base"));
  EXPECT_EQ(sn->Stat("extract-top")->parent, "base");
  auto m = sn->Mounts("extract-top");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)[0].type, "overlay");
  ASSERT_TRUE(sn->Commit("top", "extract-top"));
  EXPECT_EQ(sn->Stat("top")->parent, "base");
  EXPECT_TRUE(sn->Remove("base").error().IsFailedPrecondition());  // has a child now
  // The parent survives a reopen.
  sn.reset();
  sn = *OverlaySnapshotter::Open(t.path());
  EXPECT_EQ(sn->Stat("top")->parent, "base");
}

TEST(OverlaySnapshotter, RecoverRemovesHalfMadeSnapshots) {
  TempRoot t;
  {
    auto sn = *OverlaySnapshotter::Open(t.path());
    ASSERT_TRUE(sn->Prepare("kept", ""));
  }
  // A crash after the directory was made and before the metadata named it.
  ASSERT_TRUE(MkdirAll(t.path() + "/snapshots/2/fs"));
  ASSERT_TRUE(WriteFile(t.path() + "/snapshots/2/fs/junk", "x"));
  auto sn = *OverlaySnapshotter::Open(t.path());
  EXPECT_FALSE(PathExists(t.path() + "/snapshots/2"));
  EXPECT_TRUE(sn->Stat("kept"));
  EXPECT_EQ((*sn->Prepare("next", ""))[0].source, Fs(t.path(), 2));
}

TEST(OverlaySnapshotter, CorruptMetadataIsDataLoss) {
  TempRoot t;
  ASSERT_TRUE(WriteFile(t.path() + "/metadata.json", "{not json"));
  auto sn = OverlaySnapshotter::Open(t.path());
  ASSERT_FALSE(sn);
  EXPECT_EQ(sn.error().code(), ErrorCode::kDataLoss);
}

std::string JoinOptions(const std::vector<std::string>& o) {
  std::string s;
  for (const auto& x : o) s += (s.empty() ? "" : ",") + x;
  return s;
}

// Unpacks two layers into committed snapshots and mounts a container snapshot over them in a
// child in its own mount namespace: the whiteout hides a lower file, the opaque directory the
// lower directory's contents.
TEST(OverlaySnapshotter, MountedOverlayHonoursWhiteouts) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempRoot t;
  auto sn = *OverlaySnapshotter::Open(t.path() + "/snap");
  auto unpack = [&](const std::string& key, const std::string& parent, const std::string& name,
                    const std::vector<archive::testing::TarEntry>& entries) {
    ASSERT_TRUE(sn->Prepare(key, parent));
    Fd dir = *Fd::Open(*sn->FsDir(key), O_RDONLY | O_DIRECTORY);
    Fd in = MemFd(archive::testing::Gzip(MakeTar(entries)));
    auto r = archive::ApplyLayer(dir.get(), in.get());
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(sn->Commit(name, key));
  };
  unpack("x1", "", "base",
         {{.name = "a", .data = "lower a"},
          {.name = "keep", .data = "kept"},
          {.name = "dir/", .type = AE_IFDIR, .perm = 0755},
          {.name = "dir/x", .data = "lower x"},
          {.name = "dir/y", .data = "lower y"},
          {.name = "other/", .type = AE_IFDIR, .perm = 0755},
          {.name = "other/z", .data = "lower z"}});
  unpack("x2", "base", "top",
         {{.name = ".wh.a"},
          {.name = "dir/", .type = AE_IFDIR, .perm = 0755},
          {.name = "dir/.wh..wh..opq"},
          {.name = "dir/new", .data = "upper new"},
          {.name = "other/", .type = AE_IFDIR, .perm = 0755},
          {.name = "other/w", .data = "upper w"}});
  auto mounts = *sn->Prepare("ctr", "top");
  ASSERT_EQ(mounts.size(), 1u);
  std::string target = t.path() + "/mnt";
  ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
  std::string options = JoinOptions(mounts[0].options);

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0) _exit(77);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(77);
    if (::mount(mounts[0].source.c_str(), target.c_str(), mounts[0].type.c_str(), 0,
                options.c_str()) != 0)
      _exit(errno == ENODEV || errno == EINVAL ? 77 : 10);
    int code = 0;
    if (PathExists(target + "/a")) code = 11;                                       // whited out
    if (ReadFile(target + "/keep").value_or("") != "kept") code = 12;               // lower shows
    if (PathExists(target + "/dir/x") || PathExists(target + "/dir/y")) code = 13;  // opaque
    if (ReadFile(target + "/dir/new").value_or("") != "upper new") code = 14;
    if (ReadFile(target + "/other/z").value_or("") != "lower z") code = 15;  // merged
    if (ReadFile(target + "/other/w").value_or("") != "upper w") code = 16;
    if (!WriteFile(target + "/written", "c")) code = 17;
    ::umount2(target.c_str(), MNT_DETACH);
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "overlay mounts unavailable here";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The write went to the container snapshot's upper dir; nothing stayed mounted.
  EXPECT_EQ(ReadFile(*sn->FsDir("ctr") + "/written").value_or(""), "c");
  EXPECT_FALSE(PathExists(target + "/keep"));
  EXPECT_GT(sn->Usage("ctr")->inodes, 0);
}

}  // namespace
}  // namespace berth::store::snapshot
