#include "api/build/context.h"

#include <archive.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>

#include <cstring>
#include <memory>
#include <vector>

#include "util/fd.h"
#include "util/file.h"
#include "util/log.h"

namespace berth::api::build {
namespace {

// A reader that first hands back the bytes already peeked at.
class PrefixedReader {
 public:
  PrefixedReader(std::string head, const store::archive::ReadFn& read)
      : head_(std::move(head)), read_(read) {}
  Result<size_t> Read(char* buf, size_t n) {
    if (pos_ < head_.size()) {
      size_t k = std::min(n, head_.size() - pos_);
      std::memcpy(buf, head_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return read_(buf, n);
  }

 private:
  std::string head_;
  size_t pos_ = 0;
  const store::archive::ReadFn& read_;
};

// bzip2 and xz, which the layer extractor does not take: decompressed by libarchive's filters
// over the raw "format" (one entry: the decompressed stream).
class FilterReader {
 public:
  explicit FilterReader(PrefixedReader* in) : in_(in), a_(archive_read_new(), archive_read_free) {}

  Result<void> Open() {
    if (!a_) return Error::Internal("archive_read_new");
    archive_read_support_filter_bzip2(a_.get());
    archive_read_support_filter_xz(a_.get());
    archive_read_support_format_raw(a_.get());
    if (archive_read_open(a_.get(), this, nullptr, &FilterReader::Callback, nullptr) != ARCHIVE_OK)
      return Failure("open");
    struct archive_entry* e;
    if (archive_read_next_header(a_.get(), &e) != ARCHIVE_OK) return Failure("read");
    return {};
  }

  Result<size_t> Read(char* buf, size_t n) {
    la_ssize_t r = archive_read_data(a_.get(), buf, n);
    if (r < 0) return Failure("decompress");
    return static_cast<size_t>(r);
  }

 private:
  static la_ssize_t Callback(struct archive*, void* self_ptr, const void** out) {
    auto* self = static_cast<FilterReader*>(self_ptr);
    auto n = self->in_->Read(self->buf_.data(), self->buf_.size());
    if (!n) {
      self->error_ = n.error();
      return -1;
    }
    *out = self->buf_.data();
    return static_cast<la_ssize_t>(*n);
  }
  Error Failure(const char* what) {
    if (error_) return *error_;
    const char* msg = archive_error_string(a_.get());
    return Error::InvalidArgument(std::string("build context: ") + what + ": " +
                                  (msg ? msg : "invalid compressed stream"));
  }

  PrefixedReader* in_;
  std::unique_ptr<struct archive, int (*)(struct archive*)> a_;
  std::vector<char> buf_ = std::vector<char>(size_t{1} << 16);
  std::optional<Error> error_;
};

}  // namespace

ContextFormat DetectContextFormat(std::string_view h) {
  auto starts = [&](std::string_view magic) { return h.substr(0, magic.size()) == magic; };
  if (starts("\x1f\x8b")) return ContextFormat::kGzip;
  if (starts("BZh")) return ContextFormat::kBzip2;
  if (starts(std::string_view("\xfd"
                              "7zXZ\x00",
                              6)))
    return ContextFormat::kXz;
  if (starts("\x28\xb5\x2f\xfd")) return ContextFormat::kZstd;
  return ContextFormat::kTar;
}

Result<ExtractStats> ExtractContext(const store::archive::ReadFn& read, const std::string& dir,
                                    uint64_t max_bytes) {
  // Peek at up to 6 bytes: the longest magic (xz).
  std::string head(6, '\0');
  size_t got = 0;
  while (got < head.size()) {
    size_t n = BERTH_TRY(read(head.data() + got, head.size() - got));
    if (n == 0) break;
    got += n;
  }
  head.resize(got);
  Fd dir_fd = BERTH_TRY(Fd::Open(dir, O_RDONLY | O_DIRECTORY));
  store::archive::ApplyOptions options;
  options.allow_devices = false;
  options.max_bytes = max_bytes;
  options.hash_blob = false;
  ContextFormat format = DetectContextFormat(head);
  PrefixedReader prefixed(std::move(head), read);
  Result<store::archive::ApplyResult> applied = Error::Internal("unset");
  if (format == ContextFormat::kBzip2 || format == ContextFormat::kXz) {
    FilterReader filter(&prefixed);
    BERTH_TRY(filter.Open());
    applied = store::archive::ApplyLayer(
        dir_fd.get(), [&](char* buf, size_t n) { return filter.Read(buf, n); }, options);
  } else {
    applied = store::archive::ApplyLayer(
        dir_fd.get(), [&](char* buf, size_t n) { return prefixed.Read(buf, n); }, options);
  }
  if (!applied) {
    Error e = std::move(applied).error();
    // "read layer: …" and "layer entry …" are the extractor's words for an image layer.
    std::string msg = e.message();
    if (msg.rfind("read layer: ", 0) == 0) msg = msg.substr(12);
    if (msg.rfind("layer entry ", 0) == 0) msg = "entry " + msg.substr(12);
    return Error(e.code(), "build context: " + msg);
  }
  return ExtractStats{applied->entries, applied->uncompressed_size};
}

Result<ContextDir> ContextDir::Make(const std::string& parent) {
  BERTH_TRY(MkdirAll(parent, 0700));
  std::string tmpl = JoinPath(parent, "build-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) return Error::FromErrno(errno, "mkdtemp " + tmpl);
  return ContextDir(tmpl);
}

void ContextDir::RemoveStale(const std::string& parent) {
  auto names = ListDir(parent);
  if (!names) return;
  for (const auto& n : *names) {
    if (n.rfind("build-", 0) != 0) continue;
    if (auto r = RemoveAll(JoinPath(parent, n)); !r)
      log::Get("build").Warn("remove stale build context {}: {}", n, r.error().message());
  }
}

ContextDir::~ContextDir() {
  if (path_.empty()) return;
  if (auto r = RemoveAll(path_); !r)
    log::Get("build").Warn("remove build context {}: {}", path_, r.error().message());
}

}  // namespace berth::api::build
