#include "store/archive/write.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>

#include "store/archive/apply.h"
#include "store/archive/test_tar.h"
#include "util/file.h"
#include "util/sha256.h"

namespace berth::store::archive {
namespace {

using testing::MakeTar;
using testing::MemFd;
using testing::TarEntry;

std::string MakeTempDir() {
  char tmpl[] = "/tmp/berth-write-XXXXXX";
  return ::mkdtemp(tmpl);
}

std::string Xattrs(const std::string& path) {
  char names[4096];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
  std::vector<std::string> out;
  for (ssize_t pos = 0; pos < n;) {
    std::string name(names + pos);
    pos += static_cast<ssize_t>(name.size()) + 1;
    char v[512];
    ssize_t len = ::lgetxattr(path.c_str(), name.c_str(), v, sizeof v);
    out.push_back(name + "=" + std::string(v, len > 0 ? len : 0));
  }
  std::sort(out.begin(), out.end());
  std::string s;
  for (auto& x : out) s += x + ";";
  return s;
}

// One line per file with everything apply sets, and inode groups for hard links.
std::string Describe(const std::string& root) {
  std::map<std::string, std::string> lines;
  std::map<ino_t, std::string> first_of_inode;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    std::string dir = rel.empty() ? root : JoinPath(root, rel);
    auto names = *ListDir(dir);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string r = rel.empty() ? n : rel + "/" + n;
      std::string p = JoinPath(root, r);
      struct stat st;
      ::lstat(p.c_str(), &st);
      char buf[512];
      std::snprintf(buf, sizeof buf, "mode=%o uid=%u gid=%u rdev=%u:%u", st.st_mode, st.st_uid,
                    st.st_gid, major(st.st_rdev), minor(st.st_rdev));
      std::string line = buf;
      if (!S_ISDIR(st.st_mode)) line += " mtime=" + std::to_string(st.st_mtim.tv_sec);
      if (S_ISREG(st.st_mode)) {
        line += " data=" + *ReadFile(p);
        auto [it, fresh] = first_of_inode.emplace(st.st_ino, r);
        if (!fresh) line += " link=" + it->second;
      }
      if (S_ISLNK(st.st_mode)) {
        char t[256];
        ssize_t k = ::readlink(p.c_str(), t, sizeof t);
        line += " -> " + std::string(t, k > 0 ? k : 0);
      }
      line += " xattrs=" + Xattrs(p);
      lines[r] = line;
      if (S_ISDIR(st.st_mode)) walk(r);
    }
  };
  walk("");
  std::string out;
  for (auto& [k, v] : lines) out += k + " " + v + "\n";
  return out;
}

std::string CapabilityXattr() {
  std::string v(20, '\0');
  uint32_t words[5] = {0x02000001u, 1u << 10, 0, 0, 0};
  std::memcpy(v.data(), words, sizeof words);
  return v;
}

TEST(WriteLayerTar, RoundTripsThroughApply) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string a = MakeTempDir(), b = MakeTempDir();
  std::vector<TarEntry> t = {
      {.name = "etc/", .type = AE_IFDIR, .perm = 0750, .uid = 3, .gid = 4, .mtime = 1400000000},
      {.name = "etc/hosts",
       .perm = 0640,
       .data = "h",
       .uid = 1000,
       .gid = 1001,
       .xattrs = {{"user.k", "v"}}},
      {.name = "etc/hosts2", .hardlink = "etc/hosts"},
      {.name = "etc/link", .type = AE_IFLNK, .perm = 0777, .symlink = "../x/y", .uid = 9},
      {.name = "bin/ping",
       .perm = 04755,
       .data = "p",
       .xattrs = {{"security.capability", CapabilityXattr()}}},
      {.name = "run/fifo", .type = AE_IFIFO, .perm = 0600},
      {.name = "dev/tty", .type = AE_IFCHR, .perm = 0666, .dev_major = 5, .dev_minor = 0},
      {.name = "etc/.wh.removed", .perm = 0},
      {.name = "opaque/", .type = AE_IFDIR, .perm = 0755, .mtime = 1300000000},
      {.name = "opaque/.wh..wh..opq"},
      {.name = "opaque/kept", .data = "k"},
      {.name = std::string(150, 'n') + "/" + std::string(120, 'f'), .data = "long name"},
  };
  {
    Fd in = MemFd(MakeTar(t));
    Fd dir = *Fd::Open(a, O_RDONLY | O_DIRECTORY);
    auto r = ApplyLayer(dir.get(), in.get());
    ASSERT_TRUE(r) << r.error().message();
  }
  for (Compression c : {Compression::kNone, Compression::kGzip}) {
    SCOPED_TRACE(static_cast<int>(c));
    Fd dir = *Fd::Open(a, O_RDONLY | O_DIRECTORY);
    Fd out(::memfd_create("tar", MFD_CLOEXEC));
    auto w = WriteLayerTar(dir.get(), out.get(), {.compression = c});
    ASSERT_TRUE(w) << w.error().message();
    ::lseek(out.get(), 0, SEEK_SET);
    std::string bytes = *ReadAll(out.get(), 1 << 30);
    EXPECT_EQ(w->blob_digest.str(), "sha256:" + *Sha256Hex(bytes));
    if (c == Compression::kNone) EXPECT_EQ(w->blob_digest, w->diff_id);

    // Deterministic: the same tree gives the same bytes.
    Fd out2(::memfd_create("tar", MFD_CLOEXEC));
    auto w2 = WriteLayerTar(dir.get(), out2.get(), {.compression = c});
    ASSERT_TRUE(w2);
    EXPECT_EQ(w2->blob_digest, w->blob_digest);

    (void)RemoveAll(b);
    ASSERT_EQ(::mkdir(b.c_str(), 0700), 0);
    Fd bdir = *Fd::Open(b, O_RDONLY | O_DIRECTORY);
    Fd in = MemFd(bytes);
    auto r = ApplyLayer(bdir.get(), in.get());
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->diff_id, w->diff_id);
    EXPECT_EQ(r->blob_digest, w->blob_digest);
    EXPECT_EQ(r->entries, w->entries);
    EXPECT_EQ(Describe(b), Describe(a));
  }
  EXPECT_NE(
      Describe(a).find("opaque mode=40755 uid=0 gid=0 rdev=0:0 xattrs=trusted.overlay.opaque=y;"),
      std::string::npos)
      << Describe(a);
  (void)RemoveAll(a);
  (void)RemoveAll(b);
}

TEST(WriteLayerTar, WhiteoutsBecomeOciEntries) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string a = MakeTempDir();
  ASSERT_EQ(::mknod((a + "/gone").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_EQ(::mkdir((a + "/d").c_str(), 0755), 0);
  ASSERT_EQ(::setxattr((a + "/d").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  Fd dir = *Fd::Open(a, O_RDONLY | O_DIRECTORY);
  Fd out(::memfd_create("tar", MFD_CLOEXEC));
  ASSERT_TRUE(WriteLayerTar(dir.get(), out.get()));
  ::lseek(out.get(), 0, SEEK_SET);
  std::string tar = *ReadAll(out.get());
  struct archive* ar = archive_read_new();
  archive_read_support_format_tar(ar);
  ASSERT_EQ(archive_read_open_memory(ar, tar.data(), tar.size()), ARCHIVE_OK);
  std::vector<std::string> names;
  struct archive_entry* e;
  while (archive_read_next_header(ar, &e) == ARCHIVE_OK) {
    names.push_back(archive_entry_pathname(e));
    EXPECT_EQ(archive_entry_xattr_count(e), 0) << names.back();
  }
  archive_read_free(ar);
  EXPECT_EQ(names, (std::vector<std::string>{"d/", "d/.wh..wh..opq", ".wh.gone"}));
  (void)RemoveAll(a);
}

}  // namespace
}  // namespace berth::store::archive
