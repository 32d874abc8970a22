#include "api/build/context.h"

#include <archive.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>

#include "store/archive/test_tar.h"
#include "util/file.h"

namespace berth::api::build {
namespace {

using store::archive::testing::Gzip;
using store::archive::testing::MakeTar;
using store::archive::testing::TarEntry;

// bzip2 or xz through libarchive's write filters (raw format: the stream alone).
std::string Filter(const std::string& in, bool xz) {
  std::string out;
  struct archive* a = archive_write_new();
  if (xz)
    archive_write_add_filter_xz(a);
  else
    archive_write_add_filter_bzip2(a);
  archive_write_set_format_raw(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, store::archive::testing::AppendCallback, nullptr);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_filetype(e, AE_IFREG);
  archive_write_header(a, e);
  archive_write_data(a, in.data(), in.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

store::archive::ReadFn Reader(const std::string& data) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min(n, data.size() - *pos);
    std::memcpy(buf, data.data() + *pos, k);
    *pos += k;
    return k;
  };
}

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = ContextDir::Make("/tmp/berth-context-test");
    ASSERT_TRUE(d) << d.error().message();
    dir_.emplace(std::move(*d));
  }
  std::optional<ContextDir> dir_;
};

TEST(DetectContextFormat, Magic) {
  EXPECT_EQ(DetectContextFormat("\x1f\x8b\x08"), ContextFormat::kGzip);
  EXPECT_EQ(DetectContextFormat("BZh91"), ContextFormat::kBzip2);
  EXPECT_EQ(DetectContextFormat(std::string("\xfd"
                                            "7zXZ\0",
                                            6)),
            ContextFormat::kXz);
  EXPECT_EQ(DetectContextFormat("\x28\xb5\x2f\xfd"), ContextFormat::kZstd);
  EXPECT_EQ(DetectContextFormat("Dockerfile"), ContextFormat::kTar);
  EXPECT_EQ(DetectContextFormat(""), ContextFormat::kTar);
}

TEST_F(ContextTest, EveryCompressionUnpacks) {
  std::string tar = MakeTar({{.name = "Dockerfile", .data = "FROM busybox\n"},
                             {.name = "src", .type = AE_IFDIR, .perm = 0755},
                             {.name = "src/a.txt", .data = "a"}});
  for (const std::string& body : {tar, Gzip(tar), Filter(tar, false), Filter(tar, true)}) {
    auto d = ContextDir::Make("/tmp/berth-context-test");
    ASSERT_TRUE(d);
    auto st = ExtractContext(Reader(body), d->path());
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_EQ(st->entries, 3u);
    EXPECT_EQ(*ReadFile(JoinPath(d->path(), "src/a.txt")), "a");
  }
}

TEST_F(ContextTest, EscapesAndDevicesRefused) {
  for (const auto& e :
       std::vector<TarEntry>{{.name = "../x", .data = "x"},
                             {.name = "a/../../x", .data = "x"},
                             {.name = "dev", .type = AE_IFCHR, .dev_major = 1, .dev_minor = 3}}) {
    auto d = ContextDir::Make("/tmp/berth-context-test");
    ASSERT_TRUE(d);
    auto st = ExtractContext(Reader(MakeTar({e})), d->path());
    ASSERT_FALSE(st) << e.name;
    EXPECT_NE(st.error().message().find("build context"), std::string::npos)
        << st.error().message();
  }
  EXPECT_FALSE(PathExists("/tmp/berth-context-test/x"));
}

TEST_F(ContextTest, SymlinkDoesNotLeadOut) {
  // a symlink to / then a file through it: created inside the context, not at /tmp/...
  std::string tar = MakeTar({{.name = "l", .type = AE_IFLNK, .symlink = "/tmp"},
                             {.name = "l/berth-context-escape", .data = "x"}});
  (void)ExtractContext(Reader(tar), dir_->path());
  EXPECT_FALSE(PathExists("/tmp/berth-context-escape"));
}

TEST_F(ContextTest, NotATar) {
  std::string junk(1000, 'z');
  auto st = ExtractContext(Reader(junk), dir_->path());
  ASSERT_FALSE(st);
}

TEST(ContextDir, RemovedWhenDestroyed) {
  std::string path;
  {
    auto d = ContextDir::Make("/tmp/berth-context-test");
    ASSERT_TRUE(d);
    path = d->path();
    ASSERT_TRUE(WriteFile(JoinPath(path, "f"), "x"));
  }
  EXPECT_FALSE(PathExists(path));
  ASSERT_TRUE(MkdirAll("/tmp/berth-context-test/build-stale/sub"));
  ContextDir::RemoveStale("/tmp/berth-context-test");
  EXPECT_FALSE(PathExists("/tmp/berth-context-test/build-stale"));
}

}  // namespace
}  // namespace berth::api::build
