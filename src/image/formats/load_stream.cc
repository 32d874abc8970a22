// Reading an image archive's tar stream: documents kept in memory, every other regular file
// ingested into the content store with its digest and diff id computed on the way.

#include <archive.h>
#include <archive_entry.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>

#include "image/formats/formats_internal.h"
#include "image/formats/load_internal.h"
#include "store/archive/apply.h"
#include "util/file.h"

namespace berth::image::formats {
namespace {

constexpr size_t kChunk = 128 * 1024;

struct ArchiveFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<struct archive, ArchiveFree>;

Error ArchiveError(struct archive* a, std::string_view context) {
  const char* msg = archive_error_string(a);
  return Error::DataLoss(std::string(context) + ": " + (msg ? msg : "unreadable archive"));
}

bool IsDocument(const std::string& path) {
  return path == "manifest.json" || path == "index.json" || path == "oci-layout" ||
         path == "repositories";
}

// The files of Docker's v1 layer directories that no current loader reads.
bool IsLegacyV1File(const std::string& path) {
  auto parts = Split(path, '/');
  return parts.size() == 2 && (parts[1] == "json" || parts[1] == "VERSION");
}

// "blobs/sha256/<64 hex>" → its digest; empty otherwise.
oci::Digest BlobPathDigest(const std::string& path) {
  constexpr std::string_view kPrefix = "blobs/sha256/";
  if (path.size() != kPrefix.size() + 64 || path.compare(0, kPrefix.size(), kPrefix) != 0)
    return {};
  auto d = oci::Digest::Parse("sha256:" + path.substr(kPrefix.size()));
  return d ? *d : oci::Digest();
}

std::string NewIngestRef() {
  static std::atomic<uint64_t> counter{0};
  uint64_t r = 0;
  if (::getrandom(&r, sizeof r, 0) != sizeof r) r = static_cast<uint64_t>(::getpid());
  char buf[64];
  std::snprintf(buf, sizeof buf, "load-%016llx-%llu", static_cast<unsigned long long>(r),
                static_cast<unsigned long long>(counter++));
  return buf;
}

Result<std::string> ReadDocumentEntry(struct archive* a, const std::string& path, int64_t size) {
  if (size > static_cast<int64_t>(kMaxArchiveDocumentBytes))
    return Error::InvalidArgument(path + ": " + std::to_string(size) + " bytes, more than " +
                                  std::to_string(kMaxArchiveDocumentBytes));
  std::string out;
  char buf[16384];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf, sizeof buf);
    if (n < 0) return ArchiveError(a, path);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxArchiveDocumentBytes)
      return Error::InvalidArgument(path + ": more than " +
                                    std::to_string(kMaxArchiveDocumentBytes) + " bytes");
  }
  return out;
}

// Whether the first bytes of an entry are those of a layer: a gzip or zstd stream, or a tar
// (ustar magic at offset 257, or the 1,024 zero bytes of an empty tar).
bool LooksLikeLayer(std::string_view head) {
  if (DetectCompression(head) != oci::Compression::kNone) return true;
  if (head.size() >= 512 && head.substr(257, 5) == "ustar") return true;
  return head.size() >= 1024 && head.find_first_not_of('\0') >= 1024;
}

// The short id Docker's progress shows for an entry: the hex of <hex>/layer.tar or
// blobs/sha256/<hex>, cut to 12.
std::string ProgressId(const std::string& path) {
  std::string p = path;
  if (auto slash = p.find('/'); slash != std::string::npos && p.starts_with("blobs/"))
    p = p.substr(p.rfind('/') + 1);
  else if (slash != std::string::npos)
    p = p.substr(0, slash);
  return p.substr(0, 12);
}

// Streams one regular file into the content store; with an unpacker, a file that looks like a
// layer is unpacked in the same pass (one read, one blob hash; a second hash, of the
// uncompressed bytes, only for a compressed layer).
Result<ArchiveEntry> IngestEntry(struct archive* a, const std::string& path, int64_t claimed,
                                 store::content::ContentStore& content,
                                 const LoadOptions& options) {
  const uint64_t max_bytes = options.max_entry_bytes;
  oci::Digest named = BlobPathDigest(path);
  std::unique_ptr<store::content::ContentWriter> writer;
  if (named.valid()) {
    auto w = content.Writer(NewIngestRef(), oci::Descriptor{.digest = named, .size = 0});
    if (w) {
      writer = std::move(*w);
    } else if (!w.error().IsAlreadyExists()) {  // AlreadyExists: hash only, write nothing
      return std::move(w).error().Wrap(path);
    }
  } else {
    writer = BERTH_TRY_CTX(content.Writer(NewIngestRef(), std::nullopt), path);
  }
  bool committed = false;
  struct AbortOnExit {
    std::unique_ptr<store::content::ContentWriter>& w;
    bool& done;
    ~AbortOnExit() {
      if (w && !done) (void)w->Abort();
    }
  } abort_on_exit{writer, committed};

  std::optional<Sha256> own_hash;  // when nothing is written (the store has the blob)
  if (!writer) own_hash.emplace(BERTH_TRY(Sha256::New()));
  uint64_t total = 0;
  const std::string progress_id = ProgressId(path);
  uint64_t reported = 0;
  bool layer_like = false;
  // Every byte of the entry passes here once, whoever reads it.
  auto take = [&](std::string_view piece) -> Result<void> {
    total += piece.size();
    if (total > max_bytes)
      return Error::InvalidArgument(path + ": more than " + std::to_string(max_bytes) + " bytes");
    if (writer) BERTH_TRY_CTX(writer->Write(piece), path);
    if (own_hash) BERTH_TRY(own_hash->Update(piece));
    if (layer_like && options.progress && total - reported >= (1u << 20)) {
      reported = total;
      options.progress(progress_id, static_cast<int64_t>(total), claimed);
    }
    return {};
  };
  std::string buf(kChunk, '\0');
  auto read_outer = [&]() -> Result<std::string_view> {
    la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n < 0) return ArchiveError(a, path);
    return std::string_view(buf.data(), static_cast<size_t>(n));
  };

  ArchiveEntry e;
  std::string_view head = BERTH_TRY(read_outer());
  layer_like = LooksLikeLayer(head);
  BERTH_TRY(take(head));
  std::optional<DiffIdHasher> diff;
  bool diff_from_blob = false;
  if (options.unpacker && layer_like) {
    auto [key, dir] = BERTH_TRY_CTX(options.unpacker->Begin(), path);
    std::optional<Error> source_error;  // an error of the entry itself, not of the unpack
    std::string_view pending = head;
    // archive_read_data copies into the unpacker's own buffer: no copy of ours in between.
    auto read = [&](char* out, size_t n) -> Result<size_t> {
      if (!pending.empty()) {
        n = std::min(n, pending.size());
        std::memcpy(out, pending.data(), n);
        pending.remove_prefix(n);
        return n;
      }
      la_ssize_t got = archive_read_data(a, out, n);
      Result<void> t = got < 0 ? Result<void>(ArchiveError(a, path))
                               : take(std::string_view(out, static_cast<size_t>(got)));
      if (!t) {
        source_error = t.error();
        return std::move(t).error();
      }
      return static_cast<size_t>(got);
    };
    store::archive::ApplyOptions ao{.max_bytes = max_bytes, .hash_blob = false};
    auto applied = store::archive::ApplyLayer(dir.get(), read, ao);
    dir.Reset();
    if (source_error) {
      options.unpacker->Discard(key);
      return std::move(*source_error);
    }
    if (applied) {
      e.unpacked = key;
      e.diff_id = applied->diff_id;  // empty when uncompressed: the blob digest
      e.compression =
          applied->compression == store::archive::Compression::kGzip   ? oci::Compression::kGzip
          : applied->compression == store::archive::Compression::kZstd ? oci::Compression::kZstd
                                                                       : oci::Compression::kNone;
    } else {
      options.unpacker->Discard(key);
      // Not a layer after all, or one that an image using it will report: ingest the rest.
      for (;;) {
        std::string_view piece = BERTH_TRY(read_outer());
        if (piece.empty()) break;
        BERTH_TRY(take(piece));
      }
      diff.emplace(BERTH_TRY(DiffIdHasher::New()));
      diff_from_blob = true;
    }
  } else {
    diff.emplace(BERTH_TRY(DiffIdHasher::New()));
    while (!head.empty()) {
      BERTH_TRY_CTX(diff->Update(head), path);
      head = BERTH_TRY(read_outer());
      BERTH_TRY(take(head));
    }
  }
  e.size = static_cast<int64_t>(total);
  if (writer) {
    e.digest = BERTH_TRY_CTX(writer->Digest(), path);
    if (named.valid() && e.digest != named)
      return Error::DataLoss(path + ": digest mismatch: content is " + e.digest.str());
    committed = true;
    auto c = writer->Commit(e.size, e.digest);
    if (!c && !c.error().IsAlreadyExists()) return std::move(c).error().Wrap(path);
  } else {
    e.digest = oci::Digest::Sha256Hex(BERTH_TRY(own_hash->HexDigest()));
    if (e.digest != named)
      return Error::DataLoss(path + ": digest mismatch: content is " + e.digest.str());
  }
  if (diff_from_blob) {  // after a failed speculative unpack (rare)
    BERTH_TRY(ReadBlobChunks(content, e.digest, [&](std::string_view piece) -> Result<void> {
      return diff->Update(piece);
    }));
  }
  if (diff) {
    e.diff_id = BERTH_TRY_CTX(diff->Finish(), path);
    e.compression = diff->compression();
  }
  if (!e.diff_id.valid()) e.diff_id = e.digest;
  if (layer_like && options.progress) options.progress(progress_id, e.size, e.size);
  return e;
}

}  // namespace

namespace {

// libarchive's read callback over a ReadFn; the source's own error is kept to be returned as is.
struct Source {
  const ReadFn* read;
  std::string buf = std::string(kChunk, '\0');
  std::optional<Error> error;
  static la_ssize_t Read(struct archive* a, void* self, const void** out) {
    auto* s = static_cast<Source*>(self);
    auto n = (*s->read)(s->buf.data(), s->buf.size());
    if (!n) {
      s->error = n.error();
      archive_set_error(a, EIO, "%s", s->error->message().c_str());
      return -1;
    }
    *out = s->buf.data();
    return static_cast<la_ssize_t>(*n);
  }
};

}  // namespace

Result<ArchiveContents> ReadArchiveStream(int input_fd, store::content::ContentStore& content,
                                          const LoadOptions& options) {
  ReadFn read = [input_fd](char* buf, size_t n) -> Result<size_t> {
    for (;;) {
      ssize_t r = ::read(input_fd, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return Error::FromErrno(errno, "read the archive");
    }
  };
  return ReadArchiveStream(read, content, options);
}

Result<ArchiveContents> ReadArchiveStream(const ReadFn& read, store::content::ContentStore& content,
                                          const LoadOptions& options) {
  ArchivePtr a(archive_read_new());
  if (!a) return Error::Internal("archive_read_new");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_tar(a.get());
  Source source{&read};
  if (archive_read_open(a.get(), &source, nullptr, &Source::Read, nullptr) != ARCHIVE_OK) {
    if (source.error) return std::move(*source.error);
    return ArchiveError(a.get(), "open archive");
  }

  ArchiveContents out;
  std::string last = "(start)";
  for (;;) {
    struct archive_entry* e = nullptr;
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc == ARCHIVE_WARN) rc = ARCHIVE_OK;
    if (rc != ARCHIVE_OK) return ArchiveError(a.get(), "read archive after " + last);
    const char* raw = archive_entry_pathname(e);
    if (!raw) return Error::InvalidArgument("archive entry after " + last + " has no name");
    std::string name = raw;
    last = name;
    auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR && (name == "." || name == "./")) continue;
    std::string path = BERTH_TRY_CTX(CleanArchivePath(name), "archive entry");
    int64_t size = archive_entry_size(e);
    if (size < 0 || static_cast<uint64_t>(size) > options.max_entry_bytes)
      return Error::InvalidArgument(path + ": entry claims " + std::to_string(size) +
                                    " bytes, more than " + std::to_string(options.max_entry_bytes));

    if (const char* hl = archive_entry_hardlink(e)) {  // relative to the archive's root
      ArchiveEntry link{.is_link = true};
      link.link_target = BERTH_TRY_CTX(CleanArchivePath(hl), "hard link " + path);
      out.entries[path] = std::move(link);
      continue;
    }
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      ArchiveEntry link{.is_link = true};
      link.link_target = BERTH_TRY(ResolveLinkTarget(path, target ? target : ""));
      out.entries[path] = std::move(link);
      continue;
    }
    if (type != AE_IFREG) continue;  // directories and anything else carry no image data

    if (IsDocument(path)) {
      std::string doc = BERTH_TRY(ReadDocumentEntry(a.get(), path, size));
      if (path == "manifest.json") out.manifest_json = std::move(doc);
      if (path == "index.json") out.index_json = std::move(doc);
      if (path == "oci-layout") out.oci_layout = std::move(doc);
      continue;
    }
    if (IsLegacyV1File(path)) continue;
    out.entries[path] = BERTH_TRY(IngestEntry(a.get(), path, size, content, options));
  }
  return out;
}

Result<const ArchiveEntry*> Lookup(const ArchiveContents& archive, const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops <= 16; ++hops) {
    auto it = archive.entries.find(p);
    if (it == archive.entries.end()) {
      if (p == path) return Error::NotFound(path + " not found in archive");
      return Error::NotFound(path + " links to " + p + ", not found in archive");
    }
    if (!it->second.is_link) return &it->second;
    p = it->second.link_target;
  }
  return Error::InvalidArgument(path + ": too many levels of links");
}

Result<std::string> ReadDocument(const store::content::ContentProvider& content,
                                 const oci::Digest& digest) {
  return store::content::ReadBlob(content, digest, kMaxArchiveDocumentBytes);
}

Result<void> CheckDiffIds(const oci::Digest& config_digest, const std::vector<oci::Digest>& want,
                          const std::vector<LoadedLayer>& layers,
                          const std::vector<std::string>& files) {
  if (want.size() != layers.size())
    return Error::DataLoss("config " + config_digest.str() + ": " + std::to_string(want.size()) +
                           " rootfs.diff_ids for " + std::to_string(layers.size()) + " layers");
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] != layers[i].diff_id)
      return Error::DataLoss("config " + config_digest.str() + ": rootfs.diff_ids[" +
                             std::to_string(i) + "] is " + want[i].str() + " but layer " +
                             std::to_string(i) + " (file " + files[i] + ") has diff id " +
                             layers[i].diff_id.str());
  }
  return {};
}

}  // namespace berth::image::formats
