// Writing the planned entries of SaveArchive as a tar stream, with libarchive's writer.

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <optional>

#include "image/formats/formats_internal.h"
#include "image/formats/save_internal.h"
#include "util/fd.h"

namespace berth::image::formats {
namespace {

struct Output {
  int fd;
  std::optional<Error> error;
};

la_ssize_t WriteCallback(struct archive* a, void* self, const void* buf, size_t n) {
  auto* out = static_cast<Output*>(self);
  auto r = WriteAll(out->fd, std::string_view(static_cast<const char*>(buf), n));
  if (!r) {
    out->error.emplace(std::move(r).error());
    archive_set_error(a, EIO, "%s", out->error->message().c_str());
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

struct WriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

class TarOut {
 public:
  explicit TarOut(int fd) : out_{fd, std::nullopt} {}

  Result<void> Open() {
    a_.reset(archive_write_new());
    if (!a_) return Error::Internal("archive_write_new");
    archive_write_set_format_pax_restricted(a_.get());
    archive_write_set_bytes_per_block(a_.get(), 10240);
    archive_write_set_bytes_in_last_block(a_.get(), 1);
    if (archive_write_open(a_.get(), &out_, nullptr, WriteCallback, nullptr) != ARCHIVE_OK)
      return Fail("open tar output");
    return {};
  }

  Result<void> Header(const std::string& path, bool dir, int64_t size) {
    std::unique_ptr<struct archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e.get(), dir ? 0755 : 0644);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_size(e.get(), dir ? 0 : size);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) return Fail("write " + path);
    return {};
  }

  Result<void> Data(std::string_view data, const std::string& path) {
    while (!data.empty()) {
      la_ssize_t n = archive_write_data(a_.get(), data.data(), data.size());
      if (n <= 0) return Fail("write " + path);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  Result<void> Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return Fail("close tar output");
    return {};
  }

 private:
  Error Fail(const std::string& what) {
    if (out_.error) return out_.error->Wrap(what);
    const char* msg = archive_error_string(a_.get());
    return Error::Internal(what + ": " + (msg ? msg : "libarchive error"));
  }

  Output out_;
  std::unique_ptr<struct archive, WriteFree> a_;
};

}  // namespace

Result<int64_t> UncompressedSize(const store::content::ContentProvider& content,
                                 const oci::Digest& digest, oci::Compression compression,
                                 const oci::Digest& expected_diff_id) {
  auto dec = BERTH_TRY(Decompressor::Make(compression));
  Sha256 sha = BERTH_TRY(Sha256::New());
  int64_t size = 0;
  BERTH_TRY(ReadBlobChunks(content, digest, [&](std::string_view in) -> Result<void> {
    return dec->Feed(in, [&](std::string_view out) -> Result<void> {
      size += static_cast<int64_t>(out.size());
      return sha.Update(out);
    });
  }));
  BERTH_TRY_CTX(dec->Finish(), "layer " + digest.str());
  oci::Digest diff_id = oci::Digest::Sha256Hex(BERTH_TRY(sha.HexDigest()));
  if (diff_id != expected_diff_id)
    return Error::DataLoss("layer " + digest.str() + ": diff id is " + diff_id.str() +
                           ", expected " + expected_diff_id.str());
  return size;
}

Result<void> WriteTarPlan(const std::map<std::string, TarEntryPlan>& plan,
                          const store::content::ContentProvider& content, int output_fd) {
  TarOut tar(output_fd);
  BERTH_TRY(tar.Open());
  for (const auto& [path, e] : plan) {
    bool dir = e.kind == TarEntryPlan::Kind::kDirectory;
    BERTH_TRY(tar.Header(path, dir, e.size));
    auto sink = [&](std::string_view data) { return tar.Data(data, path); };
    int64_t written = 0;
    auto counted = [&](std::string_view data) -> Result<void> {
      written += static_cast<int64_t>(data.size());
      if (written > e.size) return Error::DataLoss(path + ": blob grew while saved");
      return sink(data);
    };
    switch (e.kind) {
      case TarEntryPlan::Kind::kDirectory:
        break;
      case TarEntryPlan::Kind::kDocument:
        BERTH_TRY(sink(e.data));
        written = e.size;
        break;
      case TarEntryPlan::Kind::kBlob:
        BERTH_TRY(ReadBlobChunks(content, e.digest, counted));
        break;
      case TarEntryPlan::Kind::kDecompressedBlob: {
        auto dec = BERTH_TRY(Decompressor::Make(e.compression));
        BERTH_TRY(ReadBlobChunks(content, e.digest,
                                 [&](std::string_view in) { return dec->Feed(in, counted); }));
        BERTH_TRY_CTX(dec->Finish(), "layer " + e.digest.str());
        break;
      }
    }
    if (!dir && written != e.size)
      return Error::DataLoss(path + ": " + std::to_string(written) + " bytes, expected " +
                             std::to_string(e.size));
  }
  return tar.Close();
}

}  // namespace berth::image::formats
