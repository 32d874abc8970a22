#include "store/archive/write.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "util/fd.h"
#include "util/sha256.h"

namespace berth::store::archive {
namespace {

constexpr size_t kChunk = 128 * 1024;

// libarchive's output: hashed as tar, gzip-compressed if asked, hashed again, written out.
class Sink {
 public:
  Sink(int fd, bool gzip) : fd_(fd), gzip_(gzip), out_(kChunk) {}
  ~Sink() {
    if (z_init_) deflateEnd(&z_);
  }

  Result<void> Init(int level) {
    diff_.emplace(BERTH_TRY(Sha256::New()));
    blob_.emplace(BERTH_TRY(Sha256::New()));
    if (gzip_) {
      if (deflateInit2(&z_, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return Error::Internal("deflateInit2");
      z_init_ = true;
    }
    return {};
  }

  Result<void> Write(std::string_view data) {
    BERTH_TRY(diff_->Update(data));
    uncompressed_ += data.size();
    if (!gzip_) return Out(data);
    return Deflate(data, Z_NO_FLUSH);
  }

  Result<void> Finish() {
    if (gzip_) BERTH_TRY(Deflate({}, Z_FINISH));
    return {};
  }

  static la_ssize_t WriteCallback(struct archive* a, void* self, const void* buf, size_t n) {
    auto* s = static_cast<Sink*>(self);
    auto r = s->Write(std::string_view(static_cast<const char*>(buf), n));
    if (!r) {
      s->error_.emplace(std::move(r).error());
      archive_set_error(a, EIO, "%s", s->error_->message().c_str());
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }

  std::optional<Error>& error() { return error_; }
  Sha256& diff() { return *diff_; }
  Sha256& blob() { return *blob_; }
  uint64_t uncompressed() const { return uncompressed_; }
  uint64_t compressed() const { return compressed_; }

 private:
  Result<void> Deflate(std::string_view data, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z_.avail_in = static_cast<uInt>(data.size());
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      int rc = deflate(&z_, flush);
      if (rc == Z_STREAM_ERROR) return Error::Internal("deflate");
      size_t produced = out_.size() - z_.avail_out;
      if (produced) BERTH_TRY(Out(std::string_view(out_.data(), produced)));
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0))
        return {};
    }
  }

  Result<void> Out(std::string_view data) {
    BERTH_TRY(blob_->Update(data));
    compressed_ += data.size();
    BERTH_TRY(WriteAll(fd_, data));
    return {};
  }

  int fd_;
  bool gzip_;
  std::vector<char> out_;
  z_stream z_{};
  bool z_init_ = false;
  std::optional<Sha256> diff_;
  std::optional<Sha256> blob_;
  uint64_t uncompressed_ = 0;
  uint64_t compressed_ = 0;
  std::optional<Error> error_;
};

using EntryPtr = std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)>;

EntryPtr NewEntry() { return EntryPtr(archive_entry_new(), archive_entry_free); }

std::string ProcPath(int dir_fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(dir_fd) + "/" + name;
}

bool IsOverlayXattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

/// The xattrs of dir_fd/name (not followed), sorted by name.
Result<std::vector<std::pair<std::string, std::string>>> ReadXattrs(int dir_fd,
                                                                    const std::string& name) {
  std::string path = ProcPath(dir_fd, name);
  std::vector<std::pair<std::string, std::string>> out;
  ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP) return out;
    return Error::FromErrno(errno, "list xattrs of " + name);
  }
  std::string names(static_cast<size_t>(n), '\0');
  n = ::llistxattr(path.c_str(), names.data(), names.size());
  if (n < 0) return Error::FromErrno(errno, "list xattrs of " + name);
  names.resize(static_cast<size_t>(n));
  for (size_t pos = 0; pos < names.size();) {
    std::string x(names.c_str() + pos);
    pos += x.size() + 1;
    if (x.empty()) continue;
    ssize_t len = ::lgetxattr(path.c_str(), x.c_str(), nullptr, 0);
    if (len < 0) return Error::FromErrno(errno, "get xattr " + x + " of " + name);
    std::string value(static_cast<size_t>(len), '\0');
    len = ::lgetxattr(path.c_str(), x.c_str(), value.data(), value.size());
    if (len < 0) return Error::FromErrno(errno, "get xattr " + x + " of " + name);
    value.resize(static_cast<size_t>(len));
    out.emplace_back(std::move(x), std::move(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

class TreeWriter {
 public:
  TreeWriter(struct archive* a, Sink* sink) : a_(a), sink_(sink) {}

  Result<void> Dir(int dir_fd, const std::string& prefix) {
    int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0) return Error::FromErrno(errno, "open " + (prefix.empty() ? "." : prefix));
    DIR* d = ::fdopendir(dup);
    if (!d) {
      ::close(dup);
      return Error::FromErrno(errno, "open " + prefix);
    }
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) {
      std::string rel = prefix.empty() ? n : prefix + "/" + n;
      auto r = One(dir_fd, n, rel);
      if (!r) return std::move(r).error().Wrap("layer entry " + rel);
    }
    return {};
  }

  uint64_t entries() const { return entries_; }

 private:
  Result<void> One(int dir_fd, const std::string& name, const std::string& rel) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Error::FromErrno(errno, "stat");
    if (S_ISSOCK(st.st_mode)) return {};  // Docker skips sockets too
    EntryPtr e = NewEntry();
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, 0);

    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {  // overlay whiteout
      size_t slash = rel.rfind('/');
      std::string wh =
          slash == std::string::npos ? ".wh." + rel : rel.substr(0, slash + 1) + ".wh." + name;
      archive_entry_set_pathname(e.get(), wh.c_str());
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), st.st_mode & 07777);
      archive_entry_set_size(e.get(), 0);
      return Header(e.get());
    }

    archive_entry_set_pathname(e.get(), rel.c_str());
    archive_entry_set_mode(e.get(), st.st_mode);
    bool opaque = false;
    for (auto& [k, v] : BERTH_TRY(ReadXattrs(dir_fd, name))) {
      if (k == "trusted.overlay.opaque" && v == "y") opaque = true;
      if (IsOverlayXattr(k)) continue;
      archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
    }

    if (S_ISDIR(st.st_mode)) {
      BERTH_TRY(Header(e.get()));
      if (opaque) {
        EntryPtr o = NewEntry();
        std::string path = rel + "/.wh..wh..opq";
        archive_entry_set_pathname(o.get(), path.c_str());
        archive_entry_set_filetype(o.get(), AE_IFREG);
        archive_entry_set_perm(o.get(), st.st_mode & 0777);
        archive_entry_set_uid(o.get(), st.st_uid);
        archive_entry_set_gid(o.get(), st.st_gid);
        archive_entry_set_mtime(o.get(), st.st_mtim.tv_sec, 0);
        archive_entry_set_size(o.get(), 0);
        BERTH_TRY(Header(o.get()));
      }
      int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return Error::FromErrno(errno, "open");
      Fd sub(fd);
      return Dir(sub.get(), rel);
    }
    if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX + 1];
      ssize_t n = ::readlinkat(dir_fd, name.c_str(), buf, PATH_MAX);
      if (n < 0) return Error::FromErrno(errno, "readlink");
      buf[n] = '\0';
      archive_entry_set_symlink(e.get(), buf);
      return Header(e.get());
    }
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
      archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
      return Header(e.get());
    }
    if (S_ISFIFO(st.st_mode)) return Header(e.get());
    if (!S_ISREG(st.st_mode)) return Error::InvalidArgument("unsupported file type");

    if (st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      auto it = links_.find(key);
      if (it != links_.end()) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        return Header(e.get());
      }
      links_.emplace(key, rel);
    }
    archive_entry_set_size(e.get(), st.st_size);
    int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return Error::FromErrno(errno, "open");
    Fd file(fd);
    BERTH_TRY(Header(e.get()));
    std::vector<char> buf(kChunk);
    off_t left = st.st_size;
    while (left > 0) {
      ssize_t n = ::read(file.get(), buf.data(), std::min<off_t>(left, buf.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::FromErrno(errno, "read");
      if (n == 0) return Error::Conflict("file shrank while it was read");
      if (archive_write_data(a_, buf.data(), static_cast<size_t>(n)) != n) return ArchiveError();
      left -= n;
    }
    return {};
  }

  Result<void> Header(struct archive_entry* e) {
    if (archive_write_header(a_, e) < ARCHIVE_WARN) return ArchiveError();
    ++entries_;
    return {};
  }

  Error ArchiveError() {
    if (sink_->error()) return *sink_->error();
    return Error::Internal(std::string("write tar: ") + archive_error_string(a_));
  }

  struct archive* a_;
  Sink* sink_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  uint64_t entries_ = 0;
};

}  // namespace

Result<WriteResult> WriteLayerTar(int dir_fd, int output_fd, const WriteOptions& options) {
  if (options.compression == Compression::kZstd)
    return Error::NotImplemented("zstd layer compression");
  Sink sink(output_fd, options.compression == Compression::kGzip);
  BERTH_TRY(sink.Init(options.gzip_level));
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_write_new(),
                                                              archive_write_free);
  if (!a) return Error::Internal("archive_write_new");
  archive_write_set_format_pax_restricted(a.get());
  // Unblocked output: the two end-of-archive blocks and nothing more, as Go's archive/tar.
  archive_write_set_bytes_per_block(a.get(), 0);
  if (archive_write_open(a.get(), &sink, nullptr, &Sink::WriteCallback, nullptr) != ARCHIVE_OK)
    return Error::Internal(std::string("write tar: ") + archive_error_string(a.get()));
  TreeWriter w(a.get(), &sink);
  BERTH_TRY(w.Dir(dir_fd, ""));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    if (sink.error()) return *sink.error();
    return Error::Internal(std::string("write tar: ") + archive_error_string(a.get()));
  }
  BERTH_TRY(sink.Finish());
  WriteResult r;
  r.diff_id = oci::Digest::Sha256Hex(BERTH_TRY(sink.diff().HexDigest()));
  r.blob_digest = oci::Digest::Sha256Hex(BERTH_TRY(sink.blob().HexDigest()));
  r.uncompressed_size = sink.uncompressed();
  r.compressed_size = sink.compressed();
  r.entries = w.entries();
  return r;
}

}  // namespace berth::store::archive
