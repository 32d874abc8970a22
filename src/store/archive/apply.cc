#include "store/archive/apply.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "util/fd.h"
#include "util/file.h"
#include "util/scope_exit.h"
#include "util/sha256.h"

namespace berth::store::archive {
namespace {

constexpr size_t kChunk = 128 * 1024;

// ---------------------------------------------------------------------------------------------
// The byte pipeline: input → blob hash → decompressor → diff-id hash → libarchive. An
// uncompressed stream is hashed once: its diff id is its blob digest.

class LayerStream {
 public:
  static Result<std::unique_ptr<LayerStream>> Make(ReadFn read, bool hash_blob) {
    auto s = std::unique_ptr<LayerStream>(new LayerStream(std::move(read)));
    if (hash_blob) s->blob_.emplace(BERTH_TRY(Sha256::New()));
    s->diff_.emplace(BERTH_TRY(Sha256::New()));
    return s;
  }
  ~LayerStream() {
    if (z_init_) inflateEnd(&z_);
    if (zs_) ZSTD_freeDStream(zs_);
  }

  /// The next piece of the uncompressed stream; empty at its end.
  Result<std::string_view> Next() {
    if (!detected_) BERTH_TRY(Detect());
    std::string_view out;
    switch (compression_) {
      case Compression::kNone:
        out = BERTH_TRY(NextPlain());
        break;
      case Compression::kGzip:
        out = BERTH_TRY(NextGzip());
        break;
      case Compression::kZstd:
        out = BERTH_TRY(NextZstd());
        break;
    }
    if (!out.empty()) {
      if (compression_ != Compression::kNone) BERTH_TRY(diff_->Update(out));
      uncompressed_ += out.size();
    }
    return out;
  }

  /// Reads and hashes whatever libarchive left after the end-of-archive blocks.
  Result<void> Drain() {
    while (!BERTH_TRY(Next()).empty()) {
    }
    return {};
  }

  /// Empty when the blob is not hashed.
  Result<oci::Digest> BlobDigest() {
    if (!blob_) return oci::Digest();
    if (!blob_digest_.valid()) blob_digest_ = oci::Digest::Sha256Hex(BERTH_TRY(blob_->HexDigest()));
    return blob_digest_;
  }
  /// The blob digest when uncompressed (empty if the blob is not hashed).
  Result<oci::Digest> DiffId() {
    if (compression_ == Compression::kNone) return BlobDigest();
    return oci::Digest::Sha256Hex(BERTH_TRY(diff_->HexDigest()));
  }
  Compression compression() const { return compression_; }
  uint64_t compressed() const { return compressed_; }
  uint64_t uncompressed() const { return uncompressed_; }

  // libarchive's read callback; an error is kept for ApplyLayer to return.
  static la_ssize_t ReadCallback(struct archive* a, void* self, const void** buf) {
    auto* s = static_cast<LayerStream*>(self);
    auto r = s->Next();
    if (!r) {
      s->error_.emplace(std::move(r).error());
      archive_set_error(a, EIO, "%s", s->error_->message().c_str());
      return -1;
    }
    *buf = r->data();
    return static_cast<la_ssize_t>(r->size());
  }
  std::optional<Error>& error() { return error_; }

 private:
  explicit LayerStream(ReadFn read) : read_(std::move(read)), in_(kChunk), out_(kChunk) {}

  Result<size_t> ReadInput(char* buf, size_t n) {
    size_t got = BERTH_TRY(read_(buf, n));
    if (got > 0 && blob_) BERTH_TRY(blob_->Update(std::string_view(buf, got)));
    compressed_ += got;
    return got;
  }

  // Refills in_ when it is used up; false at the end of the input.
  Result<bool> Fill() {
    if (in_pos_ < in_len_) return true;
    if (eof_) return false;
    in_pos_ = 0;
    in_len_ = BERTH_TRY(ReadInput(in_.data(), in_.size()));
    if (in_len_ == 0) {
      eof_ = true;
      return false;
    }
    return true;
  }

  Result<void> Detect() {
    detected_ = true;
    // Gather at least 4 bytes (or all there is) to read the magic.
    while (!eof_ && in_len_ < 4) {
      size_t n = BERTH_TRY(ReadInput(in_.data() + in_len_, in_.size() - in_len_));
      if (n == 0) eof_ = true;
      in_len_ += n;
    }
    auto b = reinterpret_cast<const unsigned char*>(in_.data());
    if (in_len_ >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
      compression_ = Compression::kGzip;
      z_ = {};
      if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) return Error::Internal("inflateInit2");
      z_init_ = true;
    } else if (in_len_ >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) {
      compression_ = Compression::kZstd;
      zs_ = ZSTD_createDStream();
      if (!zs_) return Error::Internal("ZSTD_createDStream");
      ZSTD_initDStream(zs_);
    }
    return {};
  }

  Result<std::string_view> NextPlain() {
    if (!BERTH_TRY(Fill())) return std::string_view();
    std::string_view out(in_.data() + in_pos_, in_len_ - in_pos_);
    in_pos_ = in_len_;
    return out;
  }

  Result<std::string_view> NextGzip() {
    for (;;) {
      if (gz_member_done_) {
        // A member ended: more input is another member (gzip allows concatenation).
        if (!BERTH_TRY(Fill())) return std::string_view();
        inflateReset(&z_);
        gz_member_done_ = false;
      }
      bool more = BERTH_TRY(Fill());
      if (!more) return Error::DataLoss("gzip stream truncated");
      z_.next_in = reinterpret_cast<Bytef*>(in_.data() + in_pos_);
      z_.avail_in = static_cast<uInt>(in_len_ - in_pos_);
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      int rc = inflate(&z_, Z_NO_FLUSH);
      in_pos_ = in_len_ - z_.avail_in;
      size_t produced = out_.size() - z_.avail_out;
      if (rc == Z_STREAM_END) {
        gz_member_done_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Error::DataLoss(std::string("gzip: ") + (z_.msg ? z_.msg : "corrupt stream"));
      }
      if (produced > 0) return std::string_view(out_.data(), produced);
    }
  }

  Result<std::string_view> NextZstd() {
    for (;;) {
      bool more = BERTH_TRY(Fill());
      if (!more) {
        if (!zstd_frame_done_) return Error::DataLoss("zstd stream truncated");
        return std::string_view();
      }
      ZSTD_inBuffer in{in_.data(), in_len_, in_pos_};
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      size_t rc = ZSTD_decompressStream(zs_, &out, &in);
      if (ZSTD_isError(rc)) return Error::DataLoss(std::string("zstd: ") + ZSTD_getErrorName(rc));
      in_pos_ = in.pos;
      zstd_frame_done_ = rc == 0;
      if (out.pos > 0) return std::string_view(out_.data(), out.pos);
    }
  }

  ReadFn read_;
  std::optional<Sha256> blob_;
  oci::Digest blob_digest_;  // once blob_ is finished
  std::optional<Sha256> diff_;
  std::vector<char> in_;
  std::vector<char> out_;
  size_t in_pos_ = 0;
  size_t in_len_ = 0;
  bool eof_ = false;
  bool detected_ = false;
  Compression compression_ = Compression::kNone;
  z_stream z_{};
  bool z_init_ = false;
  bool gz_member_done_ = false;
  ZSTD_DStream* zs_ = nullptr;
  bool zstd_frame_done_ = false;
  uint64_t compressed_ = 0;
  uint64_t uncompressed_ = 0;
  std::optional<Error> error_;
};

// ---------------------------------------------------------------------------------------------
// Creating entries inside the layer directory.

long OpenAt2(int dir, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, dir, path.empty() ? "." : path.c_str(), &how, sizeof how);
    if (fd < 0 && (errno == EAGAIN || errno == EINTR) && attempt < 32) continue;
    return fd;
  }
}

/// The entry name made relative and clean: leading "/" dropped (as Docker does), "." and empty
/// components skipped, ".." applied lexically; a ".." above the top is an error.
Result<std::vector<std::string>> CleanName(std::string_view raw) {
  std::vector<std::string> parts;
  for (auto& p : Split(raw, '/', /*skip_empty=*/true)) {
    if (p == ".") continue;
    if (p == "..") {
      if (parts.empty()) return Error::InvalidArgument("escapes the layer");
      parts.pop_back();
      continue;
    }
    parts.push_back(std::move(p));
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

std::string ProcPath(int dir_fd, const std::string& name) {
  std::string p = "/proc/self/fd/" + std::to_string(dir_fd);
  if (!name.empty()) p += "/" + name;
  return p;
}

/// rm -rf of dir_fd/name, never following symlinks.
Result<void> RemoveTree(int dir_fd, const std::string& name) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return {};
    return Error::FromErrno(errno, "stat " + name);
  }
  if (S_ISDIR(st.st_mode)) {
    int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return Error::FromErrno(errno, "open " + name);
    DIR* d = ::fdopendir(fd);
    if (!d) {
      ::close(fd);
      return Error::FromErrno(errno, "open " + name);
    }
    std::vector<std::string> children;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != "..") children.emplace_back(n);
    }
    Result<void> r;
    for (const auto& c : children) {
      r = RemoveTree(::dirfd(d), c);
      if (!r) break;
    }
    ::closedir(d);
    BERTH_TRY(std::move(r));
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0)
      return Error::FromErrno(errno, "remove " + name);
    return {};
  }
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0) return Error::FromErrno(errno, "remove " + name);
  return {};
}

bool IsOverlayXattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

struct DirTime {
  std::string path;
  timespec times[2];
};

class Extractor {
 public:
  Extractor(int root, const ApplyOptions& opt) : root_(root), opt_(opt) {}

  Result<void> Apply(struct archive* a, struct archive_entry* e, std::string_view raw) {
    std::vector<std::string> parts = BERTH_TRY(CleanName(raw));
    mode_t type = archive_entry_filetype(e);
    const char* hardlink = archive_entry_hardlink(e);
    if (parts.empty()) {  // "./": the layer directory itself
      if (hardlink || type != AE_IFDIR) return Error::InvalidArgument("not a directory");
      BERTH_TRY(Attributes(e, root_, "", /*is_link=*/false, root_));
      SaveDirTime(e, "");
      return {};
    }
    std::string name = parts.back();
    std::string parent_path = Join(parts, parts.size() - 1);
    int parent = BERTH_TRY(OpenParent(parts));

    if (name.starts_with(".wh.")) return Whiteout(e, parent, parent_path, name);

    if (hardlink) return HardLink(parent, name, hardlink);

    // A later entry replaces an earlier one, except a directory over a directory. Each make
    // is tried first and Replace() runs only on EEXIST: a layer directory starts empty, so a
    // stat before every entry would nearly always find nothing.
    std::string path = parent_path.empty() ? name : parent_path + "/" + name;
    mode_t perm = archive_entry_perm(e);
    switch (type) {
      case AE_IFDIR: {
        if (::mkdirat(parent, name.c_str(), 0700) != 0) {
          if (errno != EEXIST) return Error::FromErrno(errno, "mkdir");
          bool kept = BERTH_TRY(Replace(parent, name, /*dir=*/true));
          if (!kept && ::mkdirat(parent, name.c_str(), 0700) != 0)
            return Error::FromErrno(errno, "mkdir");
        }
        int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return Error::FromErrno(errno, "open");
        Fd dir(fd);
        BERTH_TRY(Attributes(e, dir.get(), "", false, dir.get()));
        SaveDirTime(e, path);
        return {};
      }
      case AE_IFREG:
        return Regular(a, e, parent, name);
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (!target) return Error::InvalidArgument("symlink without a target");
        if (::symlinkat(target, parent, name.c_str()) != 0) {
          if (errno != EEXIST) return Error::FromErrno(errno, "symlink");
          BERTH_TRY(Replace(parent, name, false));
          if (::symlinkat(target, parent, name.c_str()) != 0)
            return Error::FromErrno(errno, "symlink");
        }
        InvalidateCache();
        return Attributes(e, parent, name, /*is_link=*/true, -1);
      }
      case AE_IFCHR:
      case AE_IFBLK:
        if (!opt_.allow_devices) return Error::PermissionDenied("device node not allowed");
        [[fallthrough]];
      case AE_IFIFO: {
        dev_t dev =
            type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (::mknodat(parent, name.c_str(), type | perm, dev) != 0) {
          if (errno != EEXIST) return Error::FromErrno(errno, "mknod");
          BERTH_TRY(Replace(parent, name, false));
          if (::mknodat(parent, name.c_str(), type | perm, dev) != 0)
            return Error::FromErrno(errno, "mknod");
        }
        return Attributes(e, parent, name, false, -1);
      }
      default:
        return Error::InvalidArgument("unsupported entry type " + std::to_string(type));
    }
  }

  /// Directory mtimes last, once nothing more is created inside them.
  Result<void> Finish() {
    for (const auto& d : dir_times_) {
      long fd = OpenAt2(root_, d.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (fd < 0) continue;  // replaced by a later entry
      Fd dir(static_cast<int>(fd));
      if (::futimens(dir.get(), d.times) != 0)
        return Error::FromErrno(errno, "set times of " + (d.path.empty() ? "." : d.path));
    }
    return {};
  }

 private:
  // The cached fd stays open (the entry being made may still use it) until the next
  // OpenParent replaces it.
  void InvalidateCache() { cached_valid_ = false; }

  /// What an earlier entry left at parent/name goes, unless dir and it is a directory (then
  /// it stays and true is returned: a directory entry over a directory only sets attributes).
  Result<bool> Replace(int parent, const std::string& name, bool dir) {
    struct stat st;
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return false;
      return Error::FromErrno(errno, "stat");
    }
    if (dir && S_ISDIR(st.st_mode)) return true;
    BERTH_TRY(RemoveTree(parent, name));
    InvalidateCache();
    return false;
  }

  /// The directory holding the entry, resolved in root, made (0755) where missing.
  Result<int> OpenParent(const std::vector<std::string>& parts) {
    std::string want = Join(parts, parts.size() - 1);
    if (cached_valid_ && cached_parent_ == want) return cached_fd_.get();
    cached_valid_ = false;
    long fd = OpenAt2(root_, want, O_RDONLY | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      Fd cur(static_cast<int>(OpenAt2(root_, "", O_RDONLY | O_DIRECTORY)));
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        std::string prefix = Join(parts, i + 1);
        long next = OpenAt2(root_, prefix, O_RDONLY | O_DIRECTORY);
        if (next < 0 && errno == ENOENT) {
          if (::mkdirat(cur.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST)
            return Error::FromErrno(errno, "mkdir " + prefix);
          next = OpenAt2(root_, prefix, O_RDONLY | O_DIRECTORY);
        }
        if (next < 0) {
          if (errno == EXDEV) return Error::InvalidArgument("escapes the layer");
          return Error::FromErrno(errno, "open " + prefix);
        }
        cur.Reset(static_cast<int>(next));
      }
      fd = cur.Release();
    }
    if (fd < 0) {
      if (errno == EXDEV) return Error::InvalidArgument("escapes the layer");
      return Error::FromErrno(errno, "open " + want);
    }
    cached_fd_.Reset(static_cast<int>(fd));
    cached_parent_ = want;
    cached_valid_ = true;
    return cached_fd_.get();
  }

  Result<void> Whiteout(struct archive_entry* e, int parent, const std::string& parent_path,
                        const std::string& name) {
    if (name == ".wh..wh..opq") {
      if (::fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) != 0)
        return Error::FromErrno(errno, "set trusted.overlay.opaque");
      return {};
    }
    if (name.starts_with(".wh..wh.")) return {};  // aufs metadata (.wh..wh.plnk, ...)
    std::string target = name.substr(4);
    if (target.empty() || target == "." || target == "..")
      return Error::InvalidArgument("invalid whiteout");
    BERTH_TRY(RemoveTree(parent, target));
    InvalidateCache();
    if (::mknodat(parent, target.c_str(), S_IFCHR | archive_entry_perm(e), makedev(0, 0)) != 0)
      return Error::FromErrno(errno, "mknod whiteout " + target);
    (void)parent_path;
    return Attributes(e, parent, target, false, -1, /*xattrs=*/false);
  }

  Result<void> HardLink(int parent, const std::string& name, const char* raw_target) {
    auto target_parts = CleanName(raw_target);
    if (!target_parts) return Error::InvalidArgument("hard link target escapes the layer");
    std::string target = Join(*target_parts, target_parts->size());
    if (target.empty()) return Error::InvalidArgument("hard link to the layer directory");
    long tfd = OpenAt2(root_, target, O_PATH | O_NOFOLLOW);
    if (tfd < 0) {
      if (errno == ENOENT)
        return Error::NotImplemented("hard link target " + target +
                                     " is not in this layer (links into lower layers are "
                                     "not supported)");
      if (errno == EXDEV) return Error::InvalidArgument("hard link target escapes the layer");
      return Error::FromErrno(errno, "hard link target " + target);
    }
    Fd t(static_cast<int>(tfd));
    struct stat st;
    if (::fstat(t.get(), &st) != 0) return Error::FromErrno(errno, "stat " + target);
    if (!S_ISREG(st.st_mode))
      return Error::InvalidArgument("hard link target " + target + " is not a regular file");
    struct stat old;
    if (::fstatat(parent, name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0) {
      if (old.st_dev == st.st_dev && old.st_ino == st.st_ino) return {};
      BERTH_TRY(RemoveTree(parent, name));
      InvalidateCache();
    }
    if (::linkat(t.get(), "", parent, name.c_str(), AT_EMPTY_PATH) != 0) {
      // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the procfs form does not.
      if (::linkat(AT_FDCWD, ProcPath(t.get(), "").c_str(), parent, name.c_str(),
                   AT_SYMLINK_FOLLOW) != 0)
        return Error::FromErrno(errno, "link to " + target);
    }
    return {};
  }

  Result<void> Regular(struct archive* a, struct archive_entry* e, int parent,
                       const std::string& name) {
    int64_t size = archive_entry_size(e);
    if (size < 0) return Error::InvalidArgument("negative size");
    uint64_t usize = static_cast<uint64_t>(size);
    if (usize > opt_.max_bytes || written_ + usize > opt_.max_bytes)
      return Error::InvalidArgument("size " + std::to_string(size) + " exceeds the limit of " +
                                    std::to_string(opt_.max_bytes) + " bytes");
    constexpr int kCreate = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
    int fd = ::openat(parent, name.c_str(), kCreate, 0600);
    if (fd < 0 && errno == EEXIST) {
      BERTH_TRY(Replace(parent, name, false));
      fd = ::openat(parent, name.c_str(), kCreate, 0600);
    }
    if (fd < 0) return Error::FromErrno(errno, "create");
    Fd file(fd);
    for (;;) {
      const void* buf;
      size_t len;
      la_int64_t offset;
      int rc = archive_read_data_block(a, &buf, &len, &offset);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) return Error::DataLoss(std::string(archive_error_string(a)));
      if (offset < 0 || static_cast<uint64_t>(offset) + len > usize)
        return Error::InvalidArgument("data beyond the entry's size");
      const char* p = static_cast<const char*>(buf);
      while (len > 0) {
        ssize_t n = ::pwrite(file.get(), p, len, offset);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error::FromErrno(errno, "write");
        p += n;
        len -= static_cast<size_t>(n);
        offset += n;
      }
    }
    if (::ftruncate(file.get(), size) != 0) return Error::FromErrno(errno, "truncate");
    written_ += usize;
    return Attributes(e, file.get(), "", false, file.get());
  }

  /// Owner, mode, xattrs and times, in that order (chown clears setuid bits and
  /// security.capability). With fd >= 0 they apply to that open file (name empty); otherwise
  /// to parent/name, without following it.
  Result<void> Attributes(struct archive_entry* e, int parent, const std::string& name,
                          bool is_link, int fd, bool xattrs = true) {
    const char* n = name.c_str();
    if (opt_.preserve_ownership) {
      uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
      gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
      int rc =
          fd >= 0 ? ::fchown(fd, uid, gid) : ::fchownat(parent, n, uid, gid, AT_SYMLINK_NOFOLLOW);
      if (rc != 0) return Error::FromErrno(errno, "chown");
    }
    if (!is_link) {
      mode_t perm = archive_entry_perm(e);
      int rc = fd >= 0 ? ::fchmod(fd, perm) : ::fchmodat(parent, n, perm, 0);
      if (rc != 0) return Error::FromErrno(errno, "chmod");
    }
    if (xattrs && archive_entry_xattr_reset(e) > 0) {
      const char* xname;
      const void* value;
      size_t size;
      std::string path = fd >= 0 ? "" : ProcPath(parent, name);
      while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
        if (IsOverlayXattr(xname))
          return Error::PermissionDenied(std::string("xattr ") + xname + " not allowed");
        int rc = fd >= 0 ? ::fsetxattr(fd, xname, value, size, 0)
                         : ::lsetxattr(path.c_str(), xname, value, size, 0);
        if (rc != 0) return Error::FromErrno(errno, std::string("set xattr ") + xname);
      }
    }
    if (archive_entry_filetype(e) != AE_IFDIR) {
      timespec times[2];
      Times(e, times);
      int rc = fd >= 0 ? ::futimens(fd, times) : ::utimensat(parent, n, times, AT_SYMLINK_NOFOLLOW);
      if (rc != 0) return Error::FromErrno(errno, "set times");
    }
    return {};
  }

  static void Times(struct archive_entry* e, timespec times[2]) {
    times[1] = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    times[0] = archive_entry_atime_is_set(e)
                   ? timespec{archive_entry_atime(e), archive_entry_atime_nsec(e)}
                   : times[1];
  }

  void SaveDirTime(struct archive_entry* e, const std::string& path) {
    DirTime d{path, {}};
    Times(e, d.times);
    dir_times_.push_back(std::move(d));
  }

  int root_;
  const ApplyOptions& opt_;
  std::vector<DirTime> dir_times_;
  uint64_t written_ = 0;
  std::string cached_parent_;
  Fd cached_fd_;
  bool cached_valid_ = false;
};

std::string RandomHex() {
  unsigned char b[8];
  if (::getrandom(b, sizeof b, 0) != sizeof b) {
    uint64_t v = static_cast<uint64_t>(::getpid()) ^ static_cast<uint64_t>(time(nullptr));
    std::memcpy(b, &v, sizeof b);
  }
  char out[17];
  for (int i = 0; i < 8; ++i) std::snprintf(out + 2 * i, 3, "%02x", b[i]);
  return std::string(out, 16);
}

}  // namespace

Result<ApplyResult> ApplyLayer(int layer_dir_fd, int input_fd, const ApplyOptions& options) {
  return ApplyLayer(
      layer_dir_fd,
      [input_fd](char* buf, size_t n) -> Result<size_t> {
        for (;;) {
          ssize_t r = ::read(input_fd, buf, n);
          if (r >= 0) return static_cast<size_t>(r);
          if (errno != EINTR) return Error::FromErrno(errno, "read layer");
        }
      },
      options);
}

Result<ApplyResult> ApplyLayer(int layer_dir_fd, const ReadFn& read, const ApplyOptions& options) {
  auto stream = BERTH_TRY(LayerStream::Make(read, options.hash_blob));
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(),
                                                              archive_read_free);
  if (!a) return Error::Internal("archive_read_new");
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_none(a.get());
  if (archive_read_open(a.get(), stream.get(), nullptr, &LayerStream::ReadCallback, nullptr) !=
      ARCHIVE_OK) {
    if (stream->error()) return std::move(*stream->error()).Wrap("read layer");
    // An empty input is an empty layer only if it is a valid (empty) tar: libarchive says no.
    return Error::InvalidArgument(std::string("read layer: ") + archive_error_string(a.get()));
  }
  Extractor ex(layer_dir_fd, options);
  ApplyResult result;
  for (;;) {
    struct archive_entry* e;
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      if (stream->error()) return std::move(*stream->error()).Wrap("read layer");
      return Error::DataLoss(std::string("read layer: ") + archive_error_string(a.get()));
    }
    const char* raw = archive_entry_pathname(e);
    if (!raw) raw = archive_entry_pathname_utf8(e);
    if (!raw) return Error::InvalidArgument("read layer: entry without a name");
    auto r = ex.Apply(a.get(), e, raw);
    if (!r) {
      if (stream->error()) return std::move(*stream->error()).Wrap("read layer");
      return std::move(r).error().Wrap("layer entry " + std::string(raw));
    }
    ++result.entries;
  }
  BERTH_TRY_CTX(stream->Drain(), "read layer");
  BERTH_TRY(ex.Finish());
  result.blob_digest = BERTH_TRY(stream->BlobDigest());
  result.diff_id = BERTH_TRY(stream->DiffId());
  result.compression = stream->compression();
  result.compressed_size = stream->compressed();
  result.uncompressed_size = stream->uncompressed();
  return result;
}

Result<ApplyResult> ApplyLayerAtomically(const std::string& parent_dir,
                                         const std::string& final_name, int input_fd,
                                         const ApplyOptions& options) {
  if (final_name.empty() || final_name.find('/') != std::string::npos || final_name == "." ||
      final_name == ".." || final_name.starts_with(".tmp-"))
    return Error::InvalidArgument("invalid layer directory name \"" + final_name + "\"");
  Fd parent = BERTH_TRY(Fd::Open(parent_dir, O_RDONLY | O_DIRECTORY));
  std::string tmp = ".tmp-" + RandomHex();
  std::string tmp_path = JoinPath(parent_dir, tmp);
  if (::mkdirat(parent.get(), tmp.c_str(), 0755) != 0)
    return Error::FromErrno(errno, "mkdir " + tmp_path);
  auto cleanup = ScopeExit([&] { (void)RemoveAll(tmp_path); });
  Fd dir = BERTH_TRY(Fd::OpenAt(parent.get(), tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
  ApplyResult r = BERTH_TRY(ApplyLayer(dir.get(), input_fd, options));
  if (options.expected_blob_digest.valid() && options.expected_blob_digest != r.blob_digest)
    return Error::DataLoss("layer blob digest mismatch: expected " +
                           options.expected_blob_digest.str() + ", got " + r.blob_digest.str());
  if (options.expected_diff_id.valid() && options.expected_diff_id != r.diff_id)
    return Error::DataLoss("layer diff id mismatch: expected " + options.expected_diff_id.str() +
                           ", got " + r.diff_id.str());
  if (options.sync && ::syncfs(dir.get()) != 0) return Error::FromErrno(errno, "sync " + tmp_path);
  if (::renameat2(parent.get(), tmp.c_str(), parent.get(), final_name.c_str(), RENAME_NOREPLACE) !=
      0) {
    if (errno == EEXIST) return Error::AlreadyExists("layer " + final_name + " already exists");
    return Error::FromErrno(errno, "rename " + tmp_path);
  }
  cleanup.Cancel();
  if (options.sync) ::fsync(parent.get());
  return r;
}

Result<void> RemoveTempLayers(const std::string& parent_dir) {
  for (const auto& name : BERTH_TRY(ListDir(parent_dir)))
    if (name.starts_with(".tmp-")) BERTH_TRY(RemoveAll(JoinPath(parent_dir, name)));
  return {};
}

}  // namespace berth::store::archive
