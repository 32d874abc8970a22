#include "store/content/local_content_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "store/content/local_writer_internal.h"
#include "util/fd.h"
#include "util/file.h"
#include "util/log.h"
#include "util/scope_exit.h"

namespace berth::store::content {

namespace {

using internal::Digester;
using internal::LocalWriter;

const log::Logger& Log() { return log::Get("store"); }

Time FromTimespec(const struct timespec& ts) {
  return Time(std::chrono::duration_cast<Time::duration>(std::chrono::seconds(ts.tv_sec) +
                                                         std::chrono::nanoseconds(ts.tv_nsec)));
}

Time FromUnixNanos(int64_t ns) {
  return Time(std::chrono::duration_cast<Time::duration>(std::chrono::nanoseconds(ns)));
}

int64_t UnixNanos(Time t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

class FileReaderAt final : public ReaderAt {
 public:
  FileReaderAt(Fd fd, int64_t size, std::string path)
      : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}

  Result<size_t> ReadAt(std::span<std::byte> buf, int64_t offset) override {
    if (offset < 0) return Error::InvalidArgument("read " + path_ + ": negative offset");
    for (;;) {
      ssize_t n = ::pread(fd_.get(), buf.data(), buf.size(), offset);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return Error::FromErrno(errno, "read " + path_);
    }
  }
  int64_t Size() const override { return size_; }
  int fd() const override { return fd_.get(); }

 private:
  Fd fd_;
  int64_t size_;
  std::string path_;
};

bool IsHex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Result<std::unique_ptr<LocalContentStore>> LocalContentStore::Open(const Layout& layout) {
  BERTH_TRY_CTX(MkdirAll(layout.BlobsDir(), 0711), "open content store");
  BERTH_TRY_CTX(MkdirAll(layout.IngestRoot(), 0700), "open content store");
  return std::unique_ptr<LocalContentStore>(new LocalContentStore(layout));
}

Result<Info> LocalContentStore::Info(const oci::Digest& digest) const {
  if (!digest.valid()) return Error::InvalidArgument("content info: empty digest");
  std::string path = layout_.BlobPath(digest);
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return Error::NotFound("content " + digest.str() + ": not found");
    return Error::FromErrno(errno, "stat " + path);
  }
  content::Info info;
  info.digest = digest;
  info.size = st.st_size;
  info.created_at = FromTimespec(st.st_mtim);
  info.updated_at = FromTimespec(st.st_ctim);
  return info;
}

Result<std::unique_ptr<ReaderAt>> LocalContentStore::OpenReader(const oci::Digest& digest) const {
  if (!digest.valid()) return Error::InvalidArgument("open content: empty digest");
  std::string path = layout_.BlobPath(digest);
  auto fd = Fd::Open(path, O_RDONLY);
  if (!fd) {
    if (fd.error().IsNotFound()) return Error::NotFound("content " + digest.str() + ": not found");
    return std::move(fd).error();
  }
  struct stat st;
  if (::fstat(fd->get(), &st) < 0) return Error::FromErrno(errno, "stat " + path);
  return std::unique_ptr<ReaderAt>(new FileReaderAt(std::move(*fd), st.st_size, path));
}

bool LocalContentStore::RefLocked(const std::string& ref) const {
  std::lock_guard lock(mu_);
  return locked_refs_.count(ref) > 0;
}

void LocalContentStore::UnlockRef(const std::string& ref) {
  std::lock_guard lock(mu_);
  locked_refs_.erase(ref);
}

Result<std::unique_ptr<ContentWriter>> LocalContentStore::Writer(
    std::string_view ref_view, const std::optional<oci::Descriptor>& expected) {
  std::string ref(ref_view);
  if (ref.empty()) return Error::InvalidArgument("content writer: empty ref");
  if (expected && expected->digest.valid() && PathExists(layout_.BlobPath(expected->digest)))
    return Error::AlreadyExists("content " + expected->digest.str() + " already exists");
  {
    std::lock_guard lock(mu_);
    if (!locked_refs_.insert(ref).second) return Error::Unavailable("ref " + ref + " locked");
  }
  ScopeExit unlock([&] { UnlockRef(ref); });

  std::string key = BERTH_TRY(Layout::IngestKey(ref));
  std::string dir = layout_.IngestDir(key);
  Time started = std::chrono::system_clock::now();
  auto started_text = ReadFile(layout_.IngestStartedPath(key), 64);
  auto ref_text = ReadFile(layout_.IngestRefPath(key), 64 << 10);
  if (started_text && ref_text && *ref_text == ref) {
    try {
      started = FromUnixNanos(std::stoll(*started_text));
    } catch (...) {
    }
  } else {
    // New, or a leftover without its metadata: (re)write ref and started. The data, if any,
    // is kept and rehashed below; the caller sees it in Offset() and may Truncate(0).
    BERTH_TRY_CTX(MkdirAll(dir, 0700), "create ingest " + ref);
    BERTH_TRY_CTX(WriteFileAtomic(layout_.IngestRefPath(key), ref), "create ingest " + ref);
    BERTH_TRY_CTX(
        WriteFileAtomic(layout_.IngestStartedPath(key), std::to_string(UnixNanos(started))),
        "create ingest " + ref);
  }
  std::string data_path = layout_.IngestDataPath(key);
  Fd data = BERTH_TRY_CTX(Fd::Open(data_path, O_RDWR | O_CREAT, 0600), "create ingest " + ref);
  Digester digester = BERTH_TRY(Digester::New());
  int64_t offset = BERTH_TRY_CTX(internal::HashFd(data.get(), digester), "resume ingest " + ref);
  if (offset > 0) Log().Debug({{"ref", ref}}, "resuming ingest at offset {}", offset);
  unlock.Cancel();
  return std::unique_ptr<ContentWriter>(new LocalWriter(
      this, ref, key, std::move(data), std::move(digester), offset, expected, started));
}

Result<Status> LocalContentStore::ReadIngestStatus(const std::string& key) const {
  auto ref = ReadFile(layout_.IngestRefPath(key), 64 << 10);
  if (!ref) return std::move(ref).error();
  content::Status s;
  s.ref = *ref;
  auto started = ReadFile(layout_.IngestStartedPath(key), 64);
  if (started) {
    try {
      s.started_at = FromUnixNanos(std::stoll(*started));
    } catch (...) {
    }
  }
  struct stat st;
  std::string data = layout_.IngestDataPath(key);
  if (::stat(data.c_str(), &st) == 0) {
    s.offset = st.st_size;
    s.updated_at = FromTimespec(st.st_mtim);
  } else {
    s.updated_at = s.started_at;
  }
  return s;
}

Result<Status> LocalContentStore::IngestStatus(std::string_view ref) const {
  std::string key = BERTH_TRY(Layout::IngestKey(ref));
  auto s = ReadIngestStatus(key);
  if (!s && s.error().IsNotFound())
    return Error::NotFound("ingest " + std::string(ref) + ": not found");
  return s;
}

Result<std::vector<Status>> LocalContentStore::ListIngests() const {
  std::vector<content::Status> out;
  auto keys = BERTH_TRY(ListDir(layout_.IngestRoot()));
  for (const std::string& key : keys) {
    auto s = ReadIngestStatus(key);
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

Result<void> LocalContentStore::Abort(std::string_view ref_view) {
  std::string ref(ref_view);
  std::string key = BERTH_TRY(Layout::IngestKey(ref));
  std::lock_guard lock(mu_);
  if (locked_refs_.count(ref)) return Error::Unavailable("ref " + ref + " locked");
  std::string dir = layout_.IngestDir(key);
  if (!PathExists(dir)) return Error::NotFound("ingest " + ref + ": not found");
  return RemoveAll(dir);
}

Result<void> LocalContentStore::Walk(
    const std::function<Result<void>(const content::Info&)>& fn) const {
  auto algorithms = BERTH_TRY(ListDir(layout_.BlobsRoot()));
  for (const std::string& alg : algorithms) {
    size_t len = alg == "sha256" ? 64 : alg == "sha512" ? 128 : 0;
    if (len == 0) continue;
    auto names = BERTH_TRY(ListDir(layout_.BlobsDir(alg)));
    for (const std::string& hex : names) {
      if (!IsHex(hex, len)) continue;  // not a blob (a stray temp file)
      auto info = Info(oci::Digest::FromHex(alg, hex));
      if (!info) {
        if (info.error().IsNotFound()) continue;  // deleted meanwhile
        return std::move(info).error();
      }
      BERTH_TRY(fn(*info));
    }
  }
  return {};
}

Result<void> LocalContentStore::Delete(const oci::Digest& digest) {
  if (!digest.valid()) return Error::InvalidArgument("delete content: empty digest");
  std::string path = layout_.BlobPath(digest);
  if (::unlink(path.c_str()) < 0) {
    if (errno == ENOENT) return Error::NotFound("content " + digest.str() + ": not found");
    return Error::FromErrno(errno, "delete " + path);
  }
  return {};
}

Result<Info> LocalContentStore::Update(const oci::Digest& digest, const Labels&) {
  return Error::NotImplemented("update content " + digest.str() +
                               ": labels are kept in the metadata database");
}

Result<void> LocalContentStore::Verify(const oci::Digest& digest) const {
  if (!digest.valid()) return Error::InvalidArgument("verify content: empty digest");
  if (digest.algorithm() != "sha256")
    return Error::NotImplemented("verify " + digest.str() + ": only sha256 is supported");
  auto reader = BERTH_TRY(OpenReader(digest));
  Digester d = BERTH_TRY(Digester::New());
  int64_t n = BERTH_TRY_CTX(internal::HashFd(reader->fd(), d), "verify " + digest.str());
  oci::Digest got = BERTH_TRY(d.Current());
  if (got != digest)
    return Error::DataLoss("blob " + digest.str() + " is corrupt: its " + std::to_string(n) +
                           " bytes hash to " + got.str());
  return {};
}

Result<int> LocalContentStore::CleanIngests(std::chrono::seconds max_age) {
  Time now = std::chrono::system_clock::now();
  int removed = 0;
  auto keys = BERTH_TRY(ListDir(layout_.IngestRoot()));
  for (const std::string& key : keys) {
    std::string dir = layout_.IngestDir(key);
    auto s = ReadIngestStatus(key);
    if (s) {
      if (RefLocked(s->ref)) continue;
      Time last = std::max(s->started_at, s->updated_at);
      if (now - last < max_age) continue;
    }
    // Too old, or no ref file: an ingest nobody can name again.
    Log().Info({{"ingest", key}}, "removing stale ingest {}", s ? s->ref : "(no ref)");
    BERTH_TRY(RemoveAll(dir));
    ++removed;
  }
  return removed;
}

}  // namespace berth::store::content
