#include "store/archive/apply.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "store/archive/test_tar.h"
#include "util/file.h"
#include "util/sha256.h"

namespace berth::store::archive {
namespace {

using testing::Compress;
using testing::MakeTar;
using testing::MemFd;
using testing::TarEntry;

// A version 2 security.capability value: effective, permitted cap_net_bind_service.
std::string CapabilityXattr() {
  std::string v(20, '\0');
  uint32_t words[5] = {0x02000001u, 1u << 10, 0, 0, 0};
  std::memcpy(v.data(), words, sizeof words);
  return v;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-apply-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveAll(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& p) const { return JoinPath(path_, p); }

 private:
  std::string path_;
};

std::string GetXattr(const std::string& path, const std::string& name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  return n < 0 ? "<none>" : std::string(buf, static_cast<size_t>(n));
}

std::string Sha(const std::string& s) { return "sha256:" + *Sha256Hex(s); }

Result<ApplyResult> ApplyTo(const std::string& dir, const std::string& blob,
                            const ApplyOptions& o = {}) {
  Fd d = BERTH_TRY(Fd::Open(dir, O_RDONLY | O_DIRECTORY));
  Fd in = MemFd(blob);
  return ApplyLayer(d.get(), in.get(), o);
}

std::vector<TarEntry> AllTypes() {
  std::vector<TarEntry> t;
  t.push_back(
      {.name = "etc/", .type = AE_IFDIR, .perm = 0755, .uid = 1, .gid = 2, .mtime = 1400000000});
  t.push_back({.name = "etc/hosts",
               .perm = 0640,
               .data = "127.0.0.1 localhost\n",
               .uid = 1000,
               .gid = 1001,
               .mtime = 1500000000,
               .xattrs = {{"user.comment", "hello"}}});
  t.push_back({.name = "etc/hosts2", .hardlink = "etc/hosts"});
  t.push_back({.name = "etc/link",
               .type = AE_IFLNK,
               .perm = 0777,
               .symlink = "hosts",
               .uid = 5,
               .gid = 6,
               .mtime = 1300000000});
  t.push_back({.name = "bin/ping",
               .perm = 04755,
               .data = "#!/bin/true\n",
               .mtime = 1200000000,
               .xattrs = {{"security.capability", CapabilityXattr()}}});
  t.push_back({.name = "run/fifo", .type = AE_IFIFO, .perm = 0620, .uid = 7, .gid = 8});
  t.push_back({.name = "dev/null", .type = AE_IFCHR, .perm = 0666, .dev_major = 1, .dev_minor = 3});
  t.push_back(
      {.name = "dev/loop9", .type = AE_IFBLK, .perm = 0660, .dev_major = 7, .dev_minor = 9});
  t.push_back({.name = "etc/.wh.gone", .perm = 0});
  t.push_back({.name = "var/", .type = AE_IFDIR, .perm = 0700, .mtime = 1100000000});
  t.push_back({.name = "var/.wh..wh..opq", .perm = 0});
  t.push_back({.name = "var/new", .data = "n"});
  t.push_back({.name = "deep/a/b/c", .data = "deep"});
  t.push_back({.name = "./", .type = AE_IFDIR, .perm = 0751, .mtime = 1000000000});
  return t;
}

void CheckAllTypes(const TempDir& d) {
  struct stat st;
  ASSERT_EQ(::lstat((d / "etc").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(st.st_uid, 1u);
  EXPECT_EQ(st.st_gid, 2u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1400000000);  // set after its children were made

  ASSERT_EQ(::lstat((d / "etc/hosts").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1001u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(*ReadFile(d / "etc/hosts"), "127.0.0.1 localhost\n");
  EXPECT_EQ(GetXattr(d / "etc/hosts", "user.comment"), "hello");
  struct stat st2;
  ASSERT_EQ(::lstat((d / "etc/hosts2").c_str(), &st2), 0);
  EXPECT_EQ(st.st_ino, st2.st_ino);

  ASSERT_EQ(::lstat((d / "etc/link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_uid, 5u);
  EXPECT_EQ(st.st_gid, 6u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1300000000);
  char buf[64];
  ssize_t n = ::readlink((d / "etc/link").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "hosts");

  ASSERT_EQ(::lstat((d / "bin/ping").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);  // setuid survives: chmod after chown
  EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
  EXPECT_EQ(GetXattr(d / "bin/ping", "security.capability"), CapabilityXattr());

  ASSERT_EQ(::lstat((d / "run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620u);
  EXPECT_EQ(st.st_uid, 7u);

  ASSERT_EQ(::lstat((d / "dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  ASSERT_EQ(::lstat((d / "dev/loop9").c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(7, 9));

  ASSERT_EQ(::lstat((d / "etc/gone").c_str(), &st), 0);  // the whiteout
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(PathExists(d / "etc/.wh.gone"));

  EXPECT_EQ(GetXattr(d / "var", "trusted.overlay.opaque"), "y");
  EXPECT_FALSE(PathExists(d / "var/.wh..wh..opq"));
  ASSERT_EQ(::lstat((d / "var").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1100000000);
  EXPECT_EQ(*ReadFile(d / "deep/a/b/c"), "deep");
  ASSERT_EQ(::lstat((d / "deep/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);  // implied parents

  ASSERT_EQ(::lstat(d.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
}

class ApplyCompression : public ::testing::TestWithParam<Compression> {};

TEST_P(ApplyCompression, EveryEntryTypeAndAttribute) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (devices, chown, trusted xattrs)";
  TempDir d;
  std::string tar = MakeTar(AllTypes());
  std::string blob = Compress(tar, GetParam());
  auto r = ApplyTo(d.path(), blob);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->compression, GetParam());
  EXPECT_EQ(r->diff_id.str(), Sha(tar));
  EXPECT_EQ(r->blob_digest.str(), Sha(blob));
  EXPECT_EQ(r->compressed_size, blob.size());
  EXPECT_EQ(r->uncompressed_size, tar.size());
  EXPECT_EQ(r->entries, AllTypes().size());
  CheckAllTypes(d);
}

INSTANTIATE_TEST_SUITE_P(All, ApplyCompression,
                         ::testing::Values(Compression::kNone, Compression::kGzip,
                                           Compression::kZstd));

TEST(ApplyLayerAtomically, RenamesIntoPlaceAndChecksDigests) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir parent;
  std::string tar = MakeTar({{.name = "a", .data = "x"}});
  std::string blob = testing::Gzip(tar);
  ApplyOptions o;
  o.expected_blob_digest = *oci::Digest::Parse(Sha(blob));
  o.expected_diff_id = *oci::Digest::Parse(Sha(tar));
  o.sync = true;
  Fd in = MemFd(blob);
  auto r = ApplyLayerAtomically(parent.path(), "layer1", in.get(), o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*ReadFile(parent / "layer1/a"), "x");
  EXPECT_EQ(*ListDir(parent.path()), std::vector<std::string>{"layer1"});

  // The same layer again: AlreadyExists, and no temp dir left.
  Fd in2 = MemFd(blob);
  auto again = ApplyLayerAtomically(parent.path(), "layer1", in2.get(), o);
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().IsAlreadyExists());
  EXPECT_EQ(*ListDir(parent.path()), std::vector<std::string>{"layer1"});
}

TEST(ApplyLayerAtomically, WrongDigestLeavesNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir parent;
  std::string tar = MakeTar({{.name = "a", .data = "x"}});
  for (bool blob_digest : {true, false}) {
    ApplyOptions o;
    oci::Digest wrong = *oci::Digest::Parse(Sha("other"));
    (blob_digest ? o.expected_blob_digest : o.expected_diff_id) = wrong;
    Fd in = MemFd(testing::Gzip(tar));
    auto r = ApplyLayerAtomically(parent.path(), "l", in.get(), o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss);
    EXPECT_NE(r.error().message().find("mismatch"), std::string::npos) << r.error().message();
    EXPECT_TRUE(ListDir(parent.path())->empty());
  }
}

// Hostile layers: each is refused (or kept inside) and leaves nothing behind.
struct Hostile {
  std::string what;
  std::vector<TarEntry> entries;
  std::string message;  // expected in the error; empty: must succeed
};

class HostileLayer : public ::testing::TestWithParam<Hostile> {};

std::string HostMarker() { return "berth-pwn-" + std::to_string(::getpid()); }

TEST_P(HostileLayer, StaysInside) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir parent;
  ASSERT_EQ(::mkdir((parent / "sub").c_str(), 0755), 0);
  std::string layers = parent / "sub";
  Fd in = MemFd(MakeTar(GetParam().entries));
  ApplyOptions o;
  o.allow_devices = false;
  auto r = ApplyLayerAtomically(layers, "l", in.get(), o);
  if (GetParam().message.empty()) {
    EXPECT_TRUE(r) << r.error().message();
  } else {
    ASSERT_FALSE(r) << GetParam().what;
    EXPECT_NE(r.error().message().find(GetParam().message), std::string::npos)
        << r.error().message();
    EXPECT_TRUE(ListDir(layers)->empty());
  }
  EXPECT_FALSE(PathExists(parent / "x"));
  EXPECT_FALSE(PathExists("/tmp/" + HostMarker()));
  EXPECT_FALSE(PathExists("/" + HostMarker()));
  EXPECT_EQ(ListDir(parent.path())->size(), 1u);  // only sub
}

INSTANTIATE_TEST_SUITE_P(
    All, HostileLayer,
    ::testing::Values(
        Hostile{"dotdot", {{.name = "../x", .data = "p"}}, "layer entry ../x: escapes the layer"},
        Hostile{"inner dotdot",
                {{.name = "a/../../x", .data = "p"}},
                "layer entry a/../../x: escapes the layer"},
        Hostile{"deep dotdot",
                {{.name = "etc/", .type = AE_IFDIR}, {.name = "etc/../../x", .data = "p"}},
                "layer entry etc/../../x: escapes the layer"},
        Hostile{"absolute stays inside", {{.name = "/etc/x", .data = "p"}}, ""},
        Hostile{"symlink to root then a file through it",
                {{.name = "evil", .type = AE_IFLNK, .symlink = "/"},
                 {.name = "evil/tmp/" + HostMarker(), .data = "p"}},
                ""},
        Hostile{"relative symlink up then a file through it",
                {{.name = "up", .type = AE_IFLNK, .symlink = "../../../../../.."},
                 {.name = "up/" + HostMarker(), .data = "p"}},
                ""},
        Hostile{"hard link to /etc/passwd",
                {{.name = "pw", .hardlink = "/etc/passwd"}},
                "is not in this layer"},
        Hostile{"hard link through a symlink",
                {{.name = "evil", .type = AE_IFLNK, .symlink = "/"},
                 {.name = "pw", .hardlink = "evil/etc/passwd"}},
                "is not in this layer"},
        Hostile{"hard link up", {{.name = "pw", .hardlink = "../../x"}}, "escapes the layer"},
        Hostile{"hard link to a symlink",
                {{.name = "s", .type = AE_IFLNK, .symlink = "/etc/passwd"},
                 {.name = "pw", .hardlink = "s"}},
                "is not a regular file"},
        Hostile{"device not allowed",
                {{.name = "dev/sda", .type = AE_IFBLK, .dev_major = 8}},
                "layer entry dev/sda: device node not allowed"},
        Hostile{"overlay xattr",
                {{.name = "d/", .type = AE_IFDIR, .xattrs = {{"trusted.overlay.opaque", "y"}}}},
                "trusted.overlay.opaque not allowed"}),
    [](const auto& info) {
      std::string n;
      for (char c : info.param.what) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      return n;
    });

TEST(ApplyLayer, SymlinkTargetsLandInsideTheLayer) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir d;
  auto r = ApplyTo(d.path(), MakeTar({{.name = "evil", .type = AE_IFLNK, .symlink = "/"},
                                      {.name = "evil/tmp/" + HostMarker(), .data = "p"}}));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*ReadFile(d / ("tmp/" + HostMarker())), "p");
  EXPECT_FALSE(PathExists("/tmp/" + HostMarker()));
}

TEST(ApplyLayer, TruncatedGzipIsAnError) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir parent;
  std::string blob = testing::Gzip(
      MakeTar({{.name = "a", .data = std::string(100000, 'a')}, {.name = "b", .data = "b"}}));
  Fd in = MemFd(blob.substr(0, blob.size() / 2));
  auto r = ApplyLayerAtomically(parent.path(), "l", in.get());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("truncated"), std::string::npos) << r.error().message();
  EXPECT_TRUE(ListDir(parent.path())->empty());
}

TEST(ApplyLayer, TruncatedZstdAndPlainAreErrors) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string tar = MakeTar({{.name = "a", .data = std::string(100000, 'a')}});
  for (const std::string& blob : {testing::Zstd(tar).substr(0, 20), tar.substr(0, 5000)}) {
    TempDir d;
    auto r = ApplyTo(d.path(), blob);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << r.error().message();
  }
}

TEST(ApplyLayer, HugeSizeClaimIsRejectedBeforeWriting) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir parent;
  std::string tar = testing::RawUstarHeader("big", uint64_t{10} << 30) + std::string(512, 'x');
  Fd in = MemFd(tar);
  auto r = ApplyLayerAtomically(parent.path(), "l", in.get());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("layer entry big: size 10737418240 exceeds"),
            std::string::npos)
      << r.error().message();
  EXPECT_TRUE(ListDir(parent.path())->empty());
}

TEST(ApplyLayer, TotalSizeLimit) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir d;
  ApplyOptions o;
  o.max_bytes = 1500;
  auto r = ApplyTo(d.path(),
                   MakeTar({{.name = "a", .data = std::string(1000, 'a')},
                            {.name = "b", .data = std::string(1000, 'b')}}),
                   o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("layer entry b: size 1000 exceeds"), std::string::npos)
      << r.error().message();
}

TEST(ApplyLayer, LaterEntriesReplaceEarlierOnes) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir d;
  auto r = ApplyTo(d.path(), MakeTar({{.name = "a/", .type = AE_IFDIR},
                                      {.name = "a/f", .data = "1"},
                                      {.name = "a", .data = "file now"},
                                      {.name = "l", .type = AE_IFLNK, .symlink = "x"},
                                      {.name = "l", .data = "2"},
                                      {.name = "d/", .type = AE_IFDIR, .perm = 0700},
                                      {.name = "d/k", .data = "k"},
                                      {.name = "d/", .type = AE_IFDIR, .perm = 0755},
                                      {.name = "b", .data = "a file first"},
                                      {.name = "b/", .type = AE_IFDIR},
                                      {.name = "b/in", .data = "in"},
                                      {.name = "f", .data = "old"},
                                      {.name = "f", .data = "new"},
                                      {.name = "s", .data = "file"},
                                      {.name = "s", .type = AE_IFLNK, .symlink = "f"},
                                      {.name = "p", .type = AE_IFLNK, .symlink = "/etc"},
                                      {.name = "p", .type = AE_IFIFO}}));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*ReadFile(d / "b/in"), "in");
  EXPECT_EQ(*ReadFile(d / "f"), "new");
  EXPECT_EQ(*ReadFile(d / "s"), "new");  // through the symlink, now to f
  struct stat p;
  ASSERT_EQ(::lstat((d / "p").c_str(), &p), 0);
  EXPECT_TRUE(S_ISFIFO(p.st_mode));
  EXPECT_EQ(*ReadFile(d / "a"), "file now");
  EXPECT_EQ(*ReadFile(d / "l"), "2");
  EXPECT_EQ(*ReadFile(d / "d/k"), "k");
  struct stat st;
  ASSERT_EQ(::lstat((d / "d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
}

TEST(ApplyLayer, EmptyLayer) {
  TempDir d;
  std::string tar(1024, '\0');
  auto r = ApplyTo(d.path(), tar);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->entries, 0u);
  EXPECT_EQ(r->diff_id.str(), Sha(tar));
}

TEST(ApplyLayer, GarbageIsAnError) {
  TempDir d;
  auto r = ApplyTo(d.path(), std::string(3000, 'z'));
  ASSERT_FALSE(r);
}

TEST(ApplyLayer, FromAReadFunctionWithoutHashingTheBlob) {
  std::string tar = MakeTar({{.name = "f", .data = "hello"}});
  for (bool gz : {false, true}) {
    TempDir d;
    std::string input = gz ? testing::Gzip(tar) : tar;
    size_t off = 0, calls = 0;
    ReadFn read = [&](char* buf, size_t n) -> Result<size_t> {
      ++calls;
      size_t k = std::min<size_t>({n, input.size() - off, 100});  // small pieces
      std::memcpy(buf, input.data() + off, k);
      off += k;
      return k;
    };
    Fd dir = *Fd::Open(d.path(), O_RDONLY | O_DIRECTORY);
    auto r = ApplyLayer(dir.get(), read, {.hash_blob = false});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(off, input.size());  // read to the end
    EXPECT_FALSE(r->blob_digest.valid());
    if (gz)
      EXPECT_EQ(r->diff_id.str(), Sha(tar));
    else
      EXPECT_FALSE(r->diff_id.valid());  // the caller's blob digest
    EXPECT_EQ(*ReadFile(d.path() + "/f", 100), "hello");
    // Hashing on: an uncompressed layer's diff id is its blob digest, hashed once.
    TempDir d2;
    Fd dir2 = *Fd::Open(d2.path(), O_RDONLY | O_DIRECTORY);
    off = 0;
    auto h = ApplyLayer(dir2.get(), read, {});
    ASSERT_TRUE(h);
    EXPECT_EQ(h->blob_digest.str(), Sha(input));
    EXPECT_EQ(h->diff_id.str(), Sha(tar));
  }
  // The source's error is returned as is.
  TempDir d;
  Fd dir = *Fd::Open(d.path(), O_RDONLY | O_DIRECTORY);
  auto e = ApplyLayer(
      dir.get(), [](char*, size_t) -> Result<size_t> { return Error::Canceled("client went"); },
      {});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message().find("client went"), std::string::npos) << e.error().message();
}

}  // namespace
}  // namespace berth::store::archive
