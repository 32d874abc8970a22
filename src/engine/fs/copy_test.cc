#include "engine/fs/copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "engine/fs/fs_test_util.h"
#include "store/archive/test_tar.h"

namespace berth::engine::fs {
namespace {

using store::archive::testing::MakeTar;
using store::archive::testing::TarEntry;
using testing::Exists;
using testing::Read;
using testing::StringReader;
using testing::TempDir;
using testing::Write;

class CopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = t_.Dir("root");
    outside_ = t_.Dir("outside");
    Write(root_ + "/etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n");
    Write(root_ + "/etc/group", "root:x:0:\nstaff:x:50:\napp:x:1001:\n");
    Write(root_ + "/etc/hostname", "container\n");
    Write(outside_ + "/secret", "host secret");
    // Links a hostile image could hold.
    ASSERT_EQ(::symlink("/", (root_ + "/etc/x").c_str()), 0);
    ASSERT_EQ(::symlink("../../../../../../../..", (root_ + "/up").c_str()), 0);
    ASSERT_EQ(::symlink(outside_.c_str(), (root_ + "/host").c_str()), 0);
    ASSERT_EQ(::symlink("passwd", (root_ + "/etc/pw").c_str()), 0);
    ASSERT_TRUE(MkdirAll(root_ + "/dst"));
    struct timespec ts[2] = {{1700000000, 0}, {1700000000, 123000000}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (root_ + "/etc/hostname").c_str(), ts, 0), 0);
  }

  // name → data ("<dir>", "-> target").
  std::vector<std::pair<std::string, std::string>> Archive(const std::string& path) {
    std::vector<std::pair<std::string, std::string>> out;
    auto a = PathArchive::Open(root_, path, "c1");
    EXPECT_TRUE(a) << a.error().message();
    if (!a) return out;
    Fd fd(::memfd_create("tar", MFD_CLOEXEC));
    auto w = a->WriteTo(fd.get());
    EXPECT_TRUE(w) << w.error().message();
    std::string tar = testing::ReadBack(fd.get());
    struct archive* r = archive_read_new();
    archive_read_support_format_tar(r);
    archive_read_open_memory(r, tar.data(), tar.size());
    struct archive_entry* e;
    while (archive_read_next_header(r, &e) == ARCHIVE_OK) {
      std::string v;
      if (archive_entry_filetype(e) == AE_IFDIR) {
        v = "<dir>";
      } else if (archive_entry_symlink(e)) {
        v = std::string("-> ") + archive_entry_symlink(e);
      } else {
        char buf[4096];
        la_ssize_t n;
        while ((n = archive_read_data(r, buf, sizeof buf)) > 0) v.append(buf, n);
      }
      out.emplace_back(archive_entry_pathname(e), v);
    }
    archive_read_free(r);
    return out;
  }

  Result<void> Extract(const std::string& dest, const std::string& tar, ExtractOptions o = {}) {
    return ExtractArchive(root_, dest, "c1", StringReader(tar), o);
  }

  TempDir t_;
  std::string root_, outside_;
};

TEST_F(CopyTest, StatReportsDockersFields) {
  auto s = StatPath(root_, "/etc/hostname", "c1");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->name, "hostname");
  EXPECT_EQ(s->size, 10);
  EXPECT_EQ(s->mode, 0644u);
  EXPECT_EQ(s->mtime, "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(s->link_target, "");

  auto d = StatPath(root_, "etc/", "c1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "etc");
  EXPECT_EQ(d->mode, (1u << 31) | 0755u);
  EXPECT_EQ(StatPath(root_, "/etc/.", "c1")->name, ".");
  EXPECT_EQ(StatPath(root_, "/", "c1")->name, "/");
  EXPECT_EQ(StatPath(root_, "/etc/../etc/hostname", "c1")->name, "hostname");
}

TEST_F(CopyTest, StatOfASymlinkResolvesItsTargetInsideTheContainer) {
  auto s = StatPath(root_, "/etc/x", "c1");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->mode & (1u << 27), 1u << 27);
  EXPECT_EQ(s->link_target, "/");
  EXPECT_EQ(StatPath(root_, "/up", "c1")->link_target, "/");
  EXPECT_EQ(StatPath(root_, "/etc/pw", "c1")->link_target, "/etc/passwd");
  // An absolute link to a host path is a path inside the container (missing there).
  EXPECT_EQ(StatPath(root_, "/host", "c1")->link_target, outside_);
  // Through the links, the container's files are reached, never the host's.
  auto p = StatPath(root_, "/etc/x/etc/x/up/etc/passwd", "c1");
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->size, 61);
  auto h = StatPath(root_, "/host/secret", "c1");
  ASSERT_FALSE(h);
  EXPECT_TRUE(h.error().IsNotFound());
}

TEST_F(CopyTest, StatOfAMissingFileHasDockersMessage) {
  auto s = StatPath(root_, "/nope/x", "web");
  ASSERT_FALSE(s);
  EXPECT_TRUE(s.error().IsNotFound());
  EXPECT_EQ(s.error().message(), "Could not find the file /nope/x in container web");
  auto f = StatPath(root_, "/etc/hostname/.", "web");
  ASSERT_FALSE(f);
  EXPECT_TRUE(f.error().IsInvalidArgument()) << f.error().message();
}

TEST_F(CopyTest, StatHeaderIsBase64OfTheJson) {
  PathStat s{"a", 1, 0644, "2026-01-01T00:00:00Z", ""};
  EXPECT_EQ(PathStatJson(s),
            R"({"name":"a","size":1,"mode":420,"mtime":"2026-01-01T00:00:00Z","linkTarget":""})");
  // base64 of the JSON above.
  EXPECT_EQ(
      PathStatHeader(s),
      "eyJuYW1lIjoiYSIsInNpemUiOjEsIm1vZGUiOjQyMCwibXRpbWUiOiIyMDI2LTAxLTAxVDAwOjAwOjAwWiIsImxp"
      "bmtUYXJnZXQiOiIifQ==");
}

TEST_F(CopyTest, ArchiveNamesEntriesAsDocker) {
  using V = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Archive("/etc/hostname"), (V{{"hostname", "container\n"}}));
  EXPECT_EQ(Archive("/etc/x"), (V{{"x", "-> /"}}));  // the link itself
  auto etc = Archive("/etc");
  ASSERT_GE(etc.size(), 3u);
  EXPECT_EQ(etc[0], (std::pair<std::string, std::string>{"etc/", "<dir>"}));
  EXPECT_EQ(etc[1].first, "etc/group");
  auto dot = Archive("/etc/.");
  ASSERT_GE(dot.size(), 3u);
  EXPECT_EQ(dot[0].first, "./");
  EXPECT_EQ(dot[1].first, "./group");
  auto root = Archive("/");
  ASSERT_GE(root.size(), 2u);
  EXPECT_EQ(root[0].first, "/");
  EXPECT_EQ(root[1].first, "/dst/");
  // "x/" follows the link: the container's root, named "x".
  auto x = Archive("/etc/x/");
  ASSERT_GE(x.size(), 2u);
  EXPECT_EQ(x[0].first, "x/");
  EXPECT_EQ(x[1].first, "x/dst/");
}

TEST_F(CopyTest, ArchiveThroughEscapingLinksStaysInside) {
  using V = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Archive("/up/etc/hostname"), (V{{"hostname", "container\n"}}));
  EXPECT_FALSE(PathArchive::Open(root_, "/host/secret", "c1"));
}

TEST_F(CopyTest, ExtractMakesTheTreeWithAttributes) {
  std::string tar = MakeTar({
      {.name = "app", .type = AE_IFDIR, .perm = 0750, .uid = 5, .gid = 6},
      {.name = "app/run.sh", .perm = 0755, .data = "#!/bin/sh\n", .uid = 5, .gid = 6},
      {.name = "app/link", .type = AE_IFLNK, .symlink = "run.sh"},
      {.name = "app/hard", .hardlink = "app/run.sh"},
      {.name = "app/deep/er/file", .data = "deep"},
      {.name = ".wh.hostname", .data = "not a whiteout"},
  });
  auto r = Extract("/dst", tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(Read(root_ + "/dst/app/run.sh"), "#!/bin/sh\n");
  EXPECT_EQ(Read(root_ + "/dst/app/deep/er/file"), "deep");
  EXPECT_EQ(Read(root_ + "/dst/.wh.hostname"), "not a whiteout");
  EXPECT_EQ(Read(root_ + "/etc/hostname"), "container\n");
  struct stat st, hard;
  ASSERT_EQ(::stat((root_ + "/dst/app").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_uid, 5u);
  EXPECT_EQ(st.st_mtime, 1600000000);
  ASSERT_EQ(::stat((root_ + "/dst/app/run.sh").c_str(), &st), 0);
  ASSERT_EQ(::stat((root_ + "/dst/app/hard").c_str(), &hard), 0);
  EXPECT_EQ(st.st_ino, hard.st_ino);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(CopyTest, ExtractRefusesEntriesAboveTheDestination) {
  auto r = Extract("/dst", MakeTar({{.name = "../escaped", .data = "x"}}));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().message();
  EXPECT_FALSE(Exists(root_ + "/escaped"));
  auto l = Extract("/dst",
                   MakeTar({{.name = "rel", .type = AE_IFLNK, .symlink = "../../../../outside"}}));
  ASSERT_FALSE(l);
  EXPECT_NE(l.error().message().find("invalid symlink"), std::string::npos);
  auto h = Extract("/dst", MakeTar({{.name = "h", .hardlink = "../etc/passwd"}}));
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message().find("invalid hardlink"), std::string::npos);
}

TEST_F(CopyTest, ExtractKeepsAbsoluteNamesAndLinksInsideTheRoot) {
  std::string tar = MakeTar({
      {.name = "/abs/file", .data = "a"},
      {.name = "l", .type = AE_IFLNK, .symlink = "/"},
      {.name = "l/pwned", .data = "in the container root"},
  });
  auto r = Extract("/dst", tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(Read(root_ + "/dst/abs/file"), "a");
  EXPECT_EQ(Read(root_ + "/pwned"), "in the container root");
  EXPECT_FALSE(Exists("/pwned"));

  // A link to a host path: dangling inside the container, so an error (as Docker's)...
  std::string host = MakeTar({
      {.name = "h", .type = AE_IFLNK, .symlink = outside_},
      {.name = "h/planted", .data = "must not reach the host"},
  });
  auto d = Extract("/dst", host);
  ASSERT_FALSE(d);
  EXPECT_EQ(testing::Tree(outside_), (std::vector<std::string>{"/secret f host secret"}));
  // ...and where the container has that path, the container's directory.
  ASSERT_TRUE(MkdirAll(root_ + outside_));
  auto e = Extract("/dst", host);
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(Read(root_ + outside_ + "/planted"), "must not reach the host");
  EXPECT_EQ(testing::Tree(outside_), (std::vector<std::string>{"/secret f host secret"}));
}

TEST_F(CopyTest, ExtractThroughTheContainersLinksStaysInside) {
  // /host -> <outside> and /up -> ../../.. exist in the container: both resolve inside it.
  auto missing = Extract("/host", MakeTar({{.name = "f", .data = "1"}}));
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().IsNotFound()) << missing.error().message();
  auto r = Extract("/up/dst", MakeTar({{.name = "g", .data = "2"}}));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(Read(root_ + "/dst/g"), "2");
  ASSERT_TRUE(MkdirAll(root_ + outside_));
  ASSERT_TRUE(Extract("/host", MakeTar({{.name = "f", .data = "1"}})));
  EXPECT_EQ(Read(root_ + outside_ + "/f"), "1");
  auto s = Extract("/dst", MakeTar({{.name = "x", .type = AE_IFLNK, .symlink = "/host"},
                                    {.name = "x/y", .data = "3"}}));
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(Read(root_ + outside_ + "/y"), "3");
  EXPECT_EQ(testing::Tree(outside_), (std::vector<std::string>{"/secret f host secret"}));
}

TEST_F(CopyTest, ExtractDestinationErrorsAreDockers) {
  auto r = Extract("/missing", MakeTar({{.name = "f", .data = "1"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "Could not find the file /missing in container c1");
  auto f = Extract("/etc/hostname", MakeTar({{.name = "f", .data = "1"}}));
  ASSERT_FALSE(f);
  EXPECT_TRUE(f.error().IsInvalidArgument());
  EXPECT_EQ(f.error().message(), "extraction point is not a directory");
  // A link to a directory is a fine destination.
  ASSERT_TRUE(Extract("/etc/x/dst", MakeTar({{.name = "via-link", .data = "1"}})));
  EXPECT_EQ(Read(root_ + "/dst/via-link"), "1");
}

TEST_F(CopyTest, NoOverwriteDirNonDir) {
  Write(root_ + "/dst/file", "f");
  ASSERT_TRUE(MkdirAll(root_ + "/dst/dir"));
  ExtractOptions o{.no_overwrite_dir_non_dir = true};
  auto a = Extract("/dst", MakeTar({{.name = "dir", .data = "x"}}), o);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message().find("cannot overwrite directory"), std::string::npos);
  auto b = Extract("/dst", MakeTar({{.name = "file", .type = AE_IFDIR, .perm = 0755}}), o);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message().find("cannot overwrite non-directory"), std::string::npos);
  // Without the option both are replaced.
  ASSERT_TRUE(Extract("/dst", MakeTar({{.name = "dir", .data = "x"},
                                       {.name = "file", .type = AE_IFDIR, .perm = 0755}})));
  EXPECT_EQ(Read(root_ + "/dst/dir"), "x");
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/dst/file").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(CopyTest, OwnerOverridesTheArchivesOwners) {
  std::string tar = MakeTar({{.name = "owned", .data = "1", .uid = 7, .gid = 7},
                             {.name = "ldir", .type = AE_IFDIR, .perm = 0755, .uid = 7}});
  ASSERT_TRUE(Extract("/dst", tar, {.owner = Owner{1000, 1001}}));
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/dst/owned").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  ASSERT_EQ(::stat((root_ + "/dst/ldir").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  ASSERT_TRUE(Extract("/dst", tar));  // the archive's owners
  ASSERT_EQ(::stat((root_ + "/dst/owned").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 7u);
  EXPECT_EQ(st.st_gid, 7u);
}

TEST_F(CopyTest, ExtractAcceptsGzip) {
  std::string tar = store::archive::testing::Gzip(MakeTar({{.name = "z", .data = "zipped"}}));
  auto r = Extract("/dst", tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(Read(root_ + "/dst/z"), "zipped");
}

}  // namespace
}  // namespace berth::engine::fs
