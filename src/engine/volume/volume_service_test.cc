#include "engine/volume/volume_service.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <thread>

#include "engine/volume/volume_internal.h"
#include "util/file.h"

namespace berth::engine {
namespace {

class VolumeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-volume-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/volumes";
    svc_ = std::make_unique<VolumeService>(root_);
    ASSERT_TRUE(svc_->Load());
    svc_->SetUsers([this](const std::string& v) {
      std::lock_guard lock(users_mu_);
      auto it = users_.find(v);
      return it == users_.end() ? std::vector<std::string>{} : it->second;
    });
    svc_->SetEventSink([this](std::string_view action, const std::string& name) {
      std::lock_guard lock(users_mu_);
      events_.push_back(std::string(action) + " " + name);
    });
  }
  void TearDown() override {
    for (const auto& m : mounts_) umount2(m.c_str(), MNT_DETACH);
    (void)RemoveAll(dir_);
  }
  Volume MustCreate(const std::string& name, std::map<std::string, std::string> labels = {},
                    bool anonymous = false) {
    auto v = svc_->Create(name, std::move(labels), {}, anonymous);
    EXPECT_TRUE(v) << v.error().message();
    return v.value_or(Volume{});
  }
  std::vector<std::string> Names(const VolumeFilters& f = {}) {
    std::vector<std::string> out;
    auto l = svc_->List(f);
    EXPECT_TRUE(l);
    for (const auto& v : l.value_or(std::vector<Volume>{})) out.push_back(v.name);
    return out;
  }

  std::string dir_, root_;
  std::unique_ptr<VolumeService> svc_;
  std::mutex users_mu_;
  std::map<std::string, std::vector<std::string>> users_;
  std::vector<std::string> events_;
  std::vector<std::string> mounts_;
};

TEST_F(VolumeServiceTest, CreateGetListRemove) {
  Volume v = MustCreate("data", {{"app", "web"}});
  EXPECT_EQ(v.name, "data");
  EXPECT_EQ(v.driver, "local");
  EXPECT_EQ(v.scope, "local");
  EXPECT_EQ(v.mountpoint, root_ + "/data/_data");
  EXPECT_EQ(v.labels.at("app"), "web");
  EXPECT_EQ(v.created_at.size(), 20u);  // 2026-12-01T10:00:00Z
  EXPECT_EQ(v.created_at.back(), 'Z');
  struct stat st;
  ASSERT_EQ(stat(v.mountpoint.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_TRUE(PathExists(root_ + "/data/volume.json"));
  auto g = svc_->Get("data");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->created_at, v.created_at);
  EXPECT_EQ(Names(), std::vector<std::string>{"data"});
  ASSERT_TRUE(svc_->Remove("data"));
  EXPECT_FALSE(PathExists(root_ + "/data"));
  auto missing = svc_->Get("data");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().IsNotFound());
  EXPECT_EQ(missing.error().message(), "get data: no such volume");
  auto rm = svc_->Remove("data");
  ASSERT_FALSE(rm);
  EXPECT_EQ(rm.error().message(), "get data: no such volume");
  EXPECT_TRUE(svc_->Remove("data", /*force=*/true));
  EXPECT_EQ(events_, (std::vector<std::string>{"create data", "destroy data"}));
}

TEST_F(VolumeServiceTest, CreateOfAnExistingNameReturnsIt) {
  Volume a = MustCreate("same", {{"k", "1"}});
  ASSERT_TRUE(WriteFile(a.mountpoint + "/f", "x"));
  Volume b = MustCreate("same", {{"k", "2"}});
  EXPECT_EQ(b.labels.at("k"), "1");
  EXPECT_EQ(b.created_at, a.created_at);
  EXPECT_TRUE(PathExists(a.mountpoint + "/f"));
  EXPECT_EQ(events_.size(), 1u);
}

TEST_F(VolumeServiceTest, NamesFollowDockersRule) {
  for (std::string bad : {"a", "-ab", ".ab", "a/b", "a b", "../x", "x\n", "/abs"}) {
    auto r = svc_->Create(bad, {}, {});
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(r.error().IsInvalidArgument());
    EXPECT_EQ(r.error().message(),
              "create " + bad + ": \"" + bad +
                  "\" includes invalid characters for a local volume name, only "
                  "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
                  "directory, use absolute path");
  }
  for (std::string good : {"ab", "a.b-c_d", "0x", "My.Vol"})
    EXPECT_TRUE(svc_->Create(good, {}, {}));
  Volume r = MustCreate("");
  EXPECT_EQ(r.name.size(), 64u);
  EXPECT_EQ(r.name.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_FALSE(r.anonymous);
  Volume anon = MustCreate("", {}, /*anonymous=*/true);
  EXPECT_TRUE(anon.anonymous);
  EXPECT_EQ(anon.labels.count(std::string(kAnonymousVolumeLabel)), 1u);
}

TEST_F(VolumeServiceTest, InUseVolumesAreNotRemoved) {
  MustCreate("busy");
  users_["busy"] = {"c1", "c2"};
  for (bool force : {false, true}) {
    auto r = svc_->Remove("busy", force);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().IsConflict());
    EXPECT_EQ(r.error().message(), "remove busy: volume is in use - [c1, c2]");
  }
  users_.clear();
  EXPECT_TRUE(svc_->Remove("busy"));
}

TEST_F(VolumeServiceTest, LoadReadsWhatWasWritten) {
  MustCreate("keep", {{"a", "b"}});
  MustCreate("anon1", {}, true);
  ASSERT_TRUE(MkdirAll(root_ + "/bare/_data"));  // no volume.json: kept as a plain volume
  ASSERT_TRUE(MkdirAll(root_ + "/.removing-old-1234/_data/x"));  // a crashed removal
  ASSERT_TRUE(WriteFile(root_ + "/keep/volume.json.tmp-1-2", "{"));
  ASSERT_TRUE(WriteFile(root_ + "/metadata.db", ""));  // not a directory: ignored
  VolumeService again(root_);
  ASSERT_TRUE(again.Load());
  auto list = again.List();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 3u);
  auto keep = again.Get("keep");
  ASSERT_TRUE(keep);
  EXPECT_EQ(keep->labels.at("a"), "b");
  EXPECT_EQ(keep->created_at, svc_->Get("keep")->created_at);
  EXPECT_TRUE(again.Get("anon1")->anonymous);
  EXPECT_TRUE(again.Get("bare"));
  EXPECT_FALSE(PathExists(root_ + "/.removing-old-1234"));
  EXPECT_FALSE(PathExists(root_ + "/keep/volume.json.tmp-1-2"));
}

TEST_F(VolumeServiceTest, ListFilters) {
  MustCreate("web-data", {{"app", "web"}, {"tier", "front"}});
  MustCreate("db-data", {{"app", "db"}});
  MustCreate("cache");
  users_["db-data"] = {"c1"};
  VolumeFilters f;
  f.names = {"data"};
  EXPECT_EQ(Names(f), (std::vector<std::string>{"db-data", "web-data"}));
  f = {};
  f.labels = {"app"};
  EXPECT_EQ(Names(f), (std::vector<std::string>{"db-data", "web-data"}));
  f.labels = {"app=web"};
  EXPECT_EQ(Names(f), std::vector<std::string>{"web-data"});
  f.labels = {"app", "tier=back"};
  EXPECT_TRUE(Names(f).empty());
  f = {};
  f.dangling = true;
  EXPECT_EQ(Names(f), (std::vector<std::string>{"cache", "web-data"}));
  f.dangling = false;
  EXPECT_EQ(Names(f), std::vector<std::string>{"db-data"});
  f = {};
  f.drivers = {"local"};
  EXPECT_EQ(Names(f).size(), 3u);
  f.drivers = {"nfs"};
  EXPECT_TRUE(Names(f).empty());
}

TEST_F(VolumeServiceTest, PruneRemovesUnusedAnonymousVolumesUnlessAll) {
  Volume a1 = MustCreate("anon-a", {}, true);
  MustCreate("anon-b", {{"keep", "yes"}}, true);
  MustCreate("anon-used", {}, true);
  MustCreate("named");
  users_["anon-used"] = {"c9"};
  ASSERT_TRUE(WriteFile(a1.mountpoint + "/ten", "0123456789"));
  auto r = svc_->Prune({}, false, {"keep=yes"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted, std::vector<std::string>{"anon-a"});
  EXPECT_EQ(r->space_reclaimed, 10);
  EXPECT_EQ(Names(), (std::vector<std::string>{"anon-b", "anon-used", "named"}));
  r = svc_->Prune({"keep"}, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted, std::vector<std::string>{"anon-b"});
  r = svc_->Prune({}, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->deleted, std::vector<std::string>{"named"});
  EXPECT_EQ(Names(), std::vector<std::string>{"anon-used"});
}

TEST_F(VolumeServiceTest, SizeCountsFilesAndHardLinksOnce) {
  Volume v = MustCreate("sized");
  ASSERT_TRUE(MkdirAll(v.mountpoint + "/d/e"));
  ASSERT_TRUE(WriteFile(v.mountpoint + "/d/a", std::string(1000, 'a')));
  ASSERT_TRUE(WriteFile(v.mountpoint + "/d/e/b", std::string(24, 'b')));
  ASSERT_EQ(link((v.mountpoint + "/d/a").c_str(), (v.mountpoint + "/hard").c_str()), 0);
  ASSERT_EQ(symlink("/etc", (v.mountpoint + "/link").c_str()), 0);
  auto s = svc_->Size("sized");
  ASSERT_TRUE(s);
  EXPECT_EQ(*s, 1000 + 24 + 4);  // the symlink's own size ("/etc") counts, its target not
  EXPECT_FALSE(svc_->Size("nope"));
}

TEST_F(VolumeServiceTest, DriverAndOptionsAreChecked) {
  auto bad = [&](std::map<std::string, std::string> opts) {
    auto r = svc_->Create("opts", {}, std::move(opts));
    EXPECT_FALSE(r);
    return r ? std::string("ok") : r.error().message();
  };
  EXPECT_EQ(bad({{"foo", "bar"}}), "create opts: invalid option key: \"foo\"");
  EXPECT_EQ(bad({{"type", "tmpfs"}}), "create opts: missing required option: \"device\"");
  EXPECT_EQ(bad({{"device", "tmpfs"}}), "create opts: missing required option: \"type\"");
  EXPECT_EQ(bad({{"o", "size=1m"}}), "create opts: missing required option: \"device\"");
  EXPECT_EQ(bad({{"size", "1g"}}), "create opts: quota size requested but no quota support");
  auto nfs = svc_->Create("opts", {}, {{"type", "nfs"}, {"device", ":/x"}, {"o", "addr=1.2.3.4"}});
  ASSERT_FALSE(nfs);
  EXPECT_TRUE(nfs.error().IsNotImplemented());
  auto plugin = svc_->Create("opts", {}, {}, false, "rexray");
  ASSERT_FALSE(plugin);
  EXPECT_TRUE(plugin.error().IsNotFound());
  EXPECT_EQ(plugin.error().message(),
            "error looking up volume plugin rexray: plugin \"rexray\" not found");
  EXPECT_FALSE(PathExists(root_ + "/opts"));
  EXPECT_TRUE(
      svc_->Create("tmp", {}, {{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m,uid=7"}}));
  EXPECT_TRUE(svc_->Create("bnd", {}, {{"type", "none"}, {"device", "/srv"}, {"o", "bind"}}));
  EXPECT_EQ(svc_->Get("tmp")->options.at("o"), "size=1m,uid=7");
}

TEST_F(VolumeServiceTest, MountsTmpfsAndBindVolumes) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  auto t = svc_->Create("tmpv", {}, {{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m"}});
  ASSERT_TRUE(t);
  auto m = svc_->Mount("tmpv", "c1");
  if (!m && m.error().sys_errno() == EPERM) GTEST_SKIP() << "mount not permitted here";
  ASSERT_TRUE(m) << m.error().message();
  mounts_.push_back(*m);
  EXPECT_EQ(*m, t->mountpoint);
  EXPECT_TRUE(volume_internal::IsMountPoint(*m));
  ASSERT_TRUE(svc_->Mount("tmpv", "c2"));
  ASSERT_TRUE(WriteFile(*m + "/f", "x"));
  auto busy = svc_->Remove("tmpv");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().message(), "remove tmpv: volume is in use - [c1, c2]");
  ASSERT_TRUE(svc_->Unmount("tmpv", "c1"));
  EXPECT_TRUE(volume_internal::IsMountPoint(*m));
  ASSERT_TRUE(svc_->Unmount("tmpv", "c2"));
  EXPECT_FALSE(volume_internal::IsMountPoint(*m));
  EXPECT_FALSE(PathExists(*m + "/f"));  // it was in the tmpfs

  std::string host = dir_ + "/host";
  ASSERT_TRUE(MkdirAll(host));
  ASSERT_TRUE(WriteFile(host + "/hello", "hi"));
  ASSERT_TRUE(svc_->Create("bindv", {}, {{"type", "none"}, {"device", host}, {"o", "bind,ro"}}));
  auto b = svc_->Mount("bindv", "c3");
  ASSERT_TRUE(b) << b.error().message();
  mounts_.push_back(*b);
  EXPECT_EQ(ReadFile(*b + "/hello").value_or(""), "hi");
  EXPECT_FALSE(WriteFile(*b + "/new", "x"));  // ro
  ASSERT_TRUE(svc_->Unmount("bindv", "c3"));
  ASSERT_TRUE(svc_->Remove("bindv"));
  EXPECT_EQ(ReadFile(host + "/hello").value_or(""), "hi");  // the host directory stays
  // A plain volume needs no mount.
  Volume plain = MustCreate("plain");
  EXPECT_EQ(svc_->Mount("plain", "c4").value_or(""), plain.mountpoint);
  EXPECT_FALSE(volume_internal::IsMountPoint(plain.mountpoint));
}

TEST_F(VolumeServiceTest, CopyUpKeepsMetadataAndNeverFollowsLinks) {
  std::string src = dir_ + "/image/data";
  ASSERT_TRUE(MkdirAll(src + "/sub"));
  ASSERT_TRUE(WriteFile(dir_ + "/image/secret", "outside"));
  ASSERT_TRUE(WriteFile(src + "/file", "content", 0640));
  ASSERT_TRUE(WriteFile(src + "/sub/exe", "#!/bin/sh\n", 0755));
  ASSERT_EQ(chmod((src + "/sub/exe").c_str(), 04755), 0);
  ASSERT_EQ(symlink("../secret", (src + "/up").c_str()), 0);
  ASSERT_EQ(symlink("/etc/passwd", (src + "/abs").c_str()), 0);
  ASSERT_EQ(link((src + "/file").c_str(), (src + "/sub/hard").c_str()), 0);
  ASSERT_EQ(mkfifo((src + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(chmod(src.c_str(), 0750), 0);
  bool root = geteuid() == 0;
  if (root) {
    ASSERT_EQ(lchown((src + "/file").c_str(), 1234, 5678), 0);
    ASSERT_EQ(chown(src.c_str(), 42, 43), 0);
    ASSERT_EQ(chown((src + "/sub/exe").c_str(), 0, 0), 0);
    ASSERT_EQ(chmod((src + "/sub/exe").c_str(), 04755), 0);
  }
  Volume v = MustCreate("up");
  ASSERT_TRUE(svc_->CopyUp("up", src));
  std::string d = v.mountpoint;
  EXPECT_EQ(ReadFile(d + "/file").value_or(""), "content");
  struct stat st;
  ASSERT_EQ(lstat((d + "/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_nlink, 2u);
  struct stat hard;
  ASSERT_EQ(lstat((d + "/sub/hard").c_str(), &hard), 0);
  EXPECT_EQ(hard.st_ino, st.st_ino);
  if (root) {
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
  }
  ASSERT_EQ(lstat((d + "/sub/exe").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  ASSERT_EQ(lstat((d + "/up").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  char buf[64] = {};
  ASSERT_GT(readlink((d + "/up").c_str(), buf, sizeof buf - 1), 0);
  EXPECT_STREQ(buf, "../secret");
  ASSERT_EQ(lstat((d + "/abs").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(lstat((d + "/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ASSERT_EQ(lstat(d.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);  // _data takes the image directory's mode and owner
  if (root) {
    EXPECT_EQ(st.st_uid, 42u);
  }

  // Not empty any more: a second copy-up changes nothing.
  ASSERT_TRUE(WriteFile(src + "/later", "x"));
  ASSERT_TRUE(svc_->CopyUp("up", src));
  EXPECT_FALSE(PathExists(d + "/later"));

  // The source itself must be a directory, not a symlink to one.
  ASSERT_EQ(symlink(src.c_str(), (dir_ + "/srclink").c_str()), 0);
  MustCreate("up2");
  EXPECT_FALSE(svc_->CopyUp("up2", dir_ + "/srclink"));
  EXPECT_FALSE(svc_->CopyUp("nope", src));
}

TEST_F(VolumeServiceTest, ConcurrentCreatesMakeOneVolume) {
  std::vector<std::thread> threads;
  std::vector<std::string> created(8);
  for (int i = 0; i < 8; i++) {
    threads.emplace_back([&, i] {
      auto v = svc_->Create("shared", {}, {});
      if (v) created[i] = v->created_at;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& c : created) EXPECT_EQ(c, created[0]);
  EXPECT_EQ(events_, std::vector<std::string>{"create shared"});
}

}  // namespace
}  // namespace berth::engine
