#pragma once

// Test helpers for archive_formats: a fixture with two LocalContentStores in temp dirs, blobs
// put in directly, saving to and loading from memfds, and reading tars back. Only for tests.

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "image/archive_formats.h"
#include "oci/media_types.h"
#include "store/archive/test_tar.h"
#include "store/content/local_content_store.h"
#include "util/file.h"
#include "util/sha256.h"

/// The value of a Result, or a failed test (for void test bodies and helpers).
#define BERTH_TEST_TRY(expr)                                             \
  ({                                                                     \
    auto&& berth_test_r_ = (expr);                                       \
    if (!berth_test_r_) {                                                \
      ADD_FAILURE() << #expr << ": " << berth_test_r_.error().message(); \
      return;                                                            \
    }                                                                    \
    std::move(berth_test_r_).value();                                    \
  })

namespace berth::image::testing {

inline oci::Digest DigestOf(std::string_view data) {
  return oci::Digest::Sha256Hex(Sha256Hex(data).value());
}

inline Result<std::string> ReadFd(int fd) {
  ::lseek(fd, 0, SEEK_SET);
  return ReadAll(fd, size_t{1} << 30);
}

/// The tar's entries as (name, type, data, link target), in order.
inline std::vector<store::archive::testing::TarEntry> ReadTar(const std::string& tar) {
  std::vector<store::archive::testing::TarEntry> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, tar.data(), tar.size());
  struct archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    store::archive::testing::TarEntry t;
    t.name = archive_entry_pathname(e);
    t.type = archive_entry_filetype(e);
    if (archive_entry_symlink(e)) t.symlink = archive_entry_symlink(e);
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) t.data.append(buf, n);
    out.push_back(std::move(t));
  }
  archive_read_free(a);
  return out;
}

inline std::vector<std::string> TarNames(const std::string& tar) {
  std::vector<std::string> names;
  for (const auto& e : ReadTar(tar)) names.push_back(e.name);
  return names;
}

/// The same tar with only the entries keep() accepts.
inline std::string FilterTar(const std::string& tar,
                             const std::function<bool(const std::string&)>& keep) {
  std::vector<store::archive::testing::TarEntry> kept;
  for (auto& e : ReadTar(tar))
    if (keep(e.name)) kept.push_back(std::move(e));
  return store::archive::testing::MakeTar(kept);
}

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-archive-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    layout_ = std::make_unique<store::Layout>(root_ + "/a");
    other_layout_ = std::make_unique<store::Layout>(root_ + "/b");
    auto s = store::content::LocalContentStore::Open(*layout_);
    ASSERT_TRUE(s) << s.error().message();
    store_ = std::move(*s);
    auto o = store::content::LocalContentStore::Open(*other_layout_);
    ASSERT_TRUE(o) << o.error().message();
    other_ = std::move(*o);
  }
  void TearDown() override {
    store_.reset();
    other_.reset();
    ASSERT_TRUE(RemoveAll(root_));
  }

  Result<oci::Digest> Put(std::string_view data) {
    static int n = 0;
    auto w = BERTH_TRY(store_->Writer("test-" + std::to_string(n++), std::nullopt));
    BERTH_TRY(w->Write(data));
    auto c = w->Commit(static_cast<int64_t>(data.size()), DigestOf(data));
    if (!c && !c.error().IsAlreadyExists()) return std::move(c).error();
    return DigestOf(data);
  }

  /// Puts a config and its layer blobs (plain or gzip tars) into store_.
  Result<SaveImage> PutImage(const std::string& config, const std::vector<std::string>& blobs,
                             std::vector<std::string> tags) {
    SaveImage img{.config_digest = BERTH_TRY(Put(config)), .repo_tags = std::move(tags)};
    for (const auto& b : blobs) {
      SaveLayer l{.digest = BERTH_TRY(Put(b))};
      bool gz = b.size() > 2 && static_cast<unsigned char>(b[0]) == 0x1f;
      l.media_type = gz ? std::string(oci::kOciLayerTarGzip) : std::string(oci::kOciLayerTar);
      l.diff_id = gz ? Gunzipped(b) : l.digest;
      img.layers.push_back(std::move(l));
    }
    return img;
  }

  static oci::Digest Gunzipped(const std::string& gz) {
    z_stream z{};
    inflateInit2(&z, 16 + MAX_WBITS);
    std::string out(1 << 20, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    z.avail_in = static_cast<uInt>(gz.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    inflate(&z, Z_FINISH);
    out.resize(z.total_out);
    inflateEnd(&z);
    return DigestOf(out);
  }

  Result<std::string> Save(const std::vector<SaveImage>& images, const SaveOptions& options = {}) {
    Fd fd(::memfd_create("save", MFD_CLOEXEC));
    BERTH_TRY(SaveArchive(images, *store_, fd.get(), options));
    return ReadFd(fd.get());
  }

  Result<std::vector<LoadedImage>> LoadInto(store::content::ContentStore& store,
                                            const std::string& tar,
                                            const LoadOptions& options = {}) {
    Fd fd = store::archive::testing::MemFd(tar);
    return LoadArchive(fd.get(), store, options);
  }

  std::string root_;
  std::unique_ptr<store::Layout> layout_, other_layout_;
  std::unique_ptr<store::content::LocalContentStore> store_, other_;
};

}  // namespace berth::image::testing
