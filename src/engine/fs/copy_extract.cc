// ExtractArchive (PUT /containers/{id}/archive): a tar unpacked into a directory of the
// container, every entry created inside the container's root.

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "engine/fs/copy.h"
#include "engine/fs/copy_internal.h"
#include "runtime/rootfs/rootfs.h"
#include "util/file.h"

namespace berth::engine::fs {
namespace {

using ArchivePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;

struct Source {
  const std::function<Result<size_t>(char*, size_t)>* read;
  std::vector<char> buf = std::vector<char>(1 << 20);
  std::optional<Error> error;

  static la_ssize_t Read(struct archive* a, void* self, const void** out) {
    auto* s = static_cast<Source*>(self);
    auto n = (*s->read)(s->buf.data(), s->buf.size());
    if (!n) {
      s->error.emplace(std::move(n).error());
      archive_set_error(a, EIO, "%s", s->error->message().c_str());
      return -1;
    }
    *out = s->buf.data();
    return static_cast<la_ssize_t>(*n);
  }
};

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

/// name made relative and clean; false if it climbs above the top.
bool CleanName(std::string_view raw, std::vector<std::string>* parts) {
  for (auto& p : Split(raw, '/', /*skip_empty=*/true)) {
    if (p == ".") continue;
    if (p == "..") {
      if (parts->empty()) return false;
      parts->pop_back();
      continue;
    }
    parts->push_back(std::move(p));
  }
  return true;
}

std::string ProcPath(int fd, const std::string& name) {
  return "/proc/self/fd/" + std::to_string(fd) + (name.empty() ? "" : "/" + name);
}

bool IsOverlayXattr(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

struct DirTime {
  std::string path;  // relative to the root
  timespec times[2];
};

class Extractor {
 public:
  Extractor(int root, std::string dest_rel, std::string dest_abs, const ExtractOptions& opt)
      : root_(root),
        dest_rel_(std::move(dest_rel)),
        dest_abs_(std::move(dest_abs)),
        opt_(opt),
        owner_(opt.owner) {}

  Result<void> Apply(struct archive* a, struct archive_entry* e, std::string_view raw) {
    std::string_view trimmed = raw;
    while (trimmed.starts_with('/')) trimmed.remove_prefix(1);
    if (trimmed.starts_with(".wh..wh.")) return {};  // aufs metadata, as Docker skips it
    std::vector<std::string> parts;
    if (!CleanName(trimmed, &parts)) return Error::InvalidArgument("outside of " + dest_abs_);
    if (parts.empty()) return {};  // "." is the destination itself, which exists
    const std::string name = parts.back();
    const std::string rel = Join(parts, parts.size());
    const std::string shown = (dest_abs_ == "/" ? "" : dest_abs_) + "/" + rel;
    Fd parent = BERTH_TRY(OpenParent(parts));
    mode_t type = archive_entry_filetype(e);
    const char* hardlink = archive_entry_hardlink(e);
    bool is_dir = !hardlink && type == AE_IFDIR;

    struct stat st;
    if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      bool was_dir = S_ISDIR(st.st_mode);
      if (opt_.no_overwrite_dir_non_dir && was_dir && !is_dir)
        return Error::InvalidArgument("cannot overwrite directory \"" + shown +
                                      "\" with non-directory \"" + std::string(raw) + "\"");
      if (opt_.no_overwrite_dir_non_dir && !was_dir && is_dir)
        return Error::InvalidArgument("cannot overwrite non-directory \"" + shown +
                                      "\" with directory \"" + std::string(raw) + "\"");
      if (!(was_dir && is_dir)) BERTH_TRY(RemoveAll(ProcPath(parent.get(), name)));
    }

    if (hardlink) return HardLink(parent.get(), name, hardlink);
    mode_t perm = archive_entry_perm(e);
    switch (type) {
      case AE_IFDIR: {
        if (::mkdirat(parent.get(), name.c_str(), 0700) != 0 && errno != EEXIST)
          return Error::FromErrno(errno, "mkdir");
        int fd =
            ::openat(parent.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return Error::FromErrno(errno, "open");
        Fd dir(fd);
        BERTH_TRY(Attributes(e, dir.get(), -1, "", false));
        DirTime d{dest_rel_.empty() ? rel : dest_rel_ + "/" + rel, {}};
        Times(e, d.times);
        dirs_.push_back(std::move(d));
        return {};
      }
      case AE_IFREG:
        return Regular(a, e, parent.get(), name);
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        if (!target) return Error::InvalidArgument("symlink without a target");
        // As Docker: a relative target may not climb above the destination (an absolute one
        // resolves inside the container's root anyway).
        if (target[0] != '/') {
          std::vector<std::string> t(parts.begin(), parts.end() - 1);
          if (!CleanName(target, &t))
            return Error::InvalidArgument("invalid symlink to " + std::string(target));
        }
        if (::symlinkat(target, parent.get(), name.c_str()) != 0)
          return Error::FromErrno(errno, "symlink");
        return Attributes(e, -1, parent.get(), name, true);
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO: {
        dev_t dev =
            type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (::mknodat(parent.get(), name.c_str(), type | perm, dev) != 0)
          return Error::FromErrno(errno, "mknod");
        return Attributes(e, -1, parent.get(), name, false);
      }
      default:
        return Error::InvalidArgument("unhandled tar entry type " + std::to_string(type));
    }
  }

  /// Directory times last, once nothing more is made inside them.
  Result<void> Finish() {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      auto dir = runtime::rootfs::OpenInRoot(root_, it->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (!dir) continue;  // replaced by a later entry
      if (::futimens(dir->get(), it->times) != 0)
        return Error::FromErrno(errno, "set times of /" + it->path);
    }
    return {};
  }

 private:
  /// The entry's directory, resolved in the container root, made (0755) where missing.
  Result<Fd> OpenParent(const std::vector<std::string>& parts) {
    std::string path = dest_rel_;
    auto open = [&](const std::string& p) {
      return runtime::rootfs::OpenInRoot(root_, p, O_RDONLY | O_DIRECTORY);
    };
    Fd cur = BERTH_TRY(open(path));
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      path = path.empty() ? parts[i] : path + "/" + parts[i];
      auto next = open(path);
      if (!next && next.error().sys_errno() == ENOENT) {
        if (::mkdirat(cur.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST)
          return Error::FromErrno(errno, "mkdir /" + path);
        next = open(path);
      }
      if (!next) return std::move(next).error();
      cur = std::move(*next);
    }
    return cur;
  }

  Result<void> HardLink(int parent, const std::string& name, const char* raw_target) {
    std::string_view t = raw_target;
    while (t.starts_with('/')) t.remove_prefix(1);
    std::vector<std::string> tparts;
    if (!CleanName(t, &tparts) || tparts.empty())
      return Error::InvalidArgument("invalid hardlink to " + std::string(raw_target));
    std::string tdir = dest_rel_;
    for (size_t i = 0; i + 1 < tparts.size(); ++i) tdir += (tdir.empty() ? "" : "/") + tparts[i];
    Fd dir = BERTH_TRY_CTX(runtime::rootfs::OpenInRoot(root_, tdir, O_PATH | O_DIRECTORY),
                           "hard link target " + std::string(raw_target));
    if (::linkat(dir.get(), tparts.back().c_str(), parent, name.c_str(), 0) != 0)
      return Error::FromErrno(errno, "link to " + std::string(raw_target));
    return {};
  }

  Result<void> Regular(struct archive* a, struct archive_entry* e, int parent,
                       const std::string& name) {
    int fd = ::openat(parent, name.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) return Error::FromErrno(errno, "create");
    Fd file(fd);
    for (;;) {
      const void* buf;
      size_t len;
      la_int64_t offset;
      int rc = archive_read_data_block(a, &buf, &len, &offset);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) return Error::DataLoss(std::string(archive_error_string(a)));
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
    int64_t size = archive_entry_size(e);
    if (size >= 0 && ::ftruncate(file.get(), size) != 0) return Error::FromErrno(errno, "truncate");
    return Attributes(e, file.get(), -1, "", false);
  }

  /// Owner, mode, xattrs and times (chown first: it clears setuid bits). On fd, or on
  /// parent/name not followed.
  Result<void> Attributes(struct archive_entry* e, int fd, int parent, const std::string& name,
                          bool is_link) {
    uid_t uid = owner_ ? owner_->uid : static_cast<uid_t>(archive_entry_uid(e));
    gid_t gid = owner_ ? owner_->gid : static_cast<gid_t>(archive_entry_gid(e));
    int rc = fd >= 0 ? ::fchown(fd, uid, gid)
                     : ::fchownat(parent, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return Error::FromErrno(errno, "chown");
    if (!is_link) {
      mode_t perm = archive_entry_perm(e);
      rc = fd >= 0 ? ::fchmod(fd, perm) : ::fchmodat(parent, name.c_str(), perm, 0);
      if (rc != 0) return Error::FromErrno(errno, "chmod");
    }
    if (archive_entry_xattr_reset(e) > 0) {
      const char* xname;
      const void* value;
      size_t size;
      std::string path = fd >= 0 ? "" : ProcPath(parent, name);
      while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
        if (IsOverlayXattr(xname)) continue;
        rc = fd >= 0 ? ::fsetxattr(fd, xname, value, size, 0)
                     : ::lsetxattr(path.c_str(), xname, value, size, 0);
        // As Docker: a filesystem without xattrs, or a namespace we may not write, is no error.
        if (rc != 0 && errno != ENOTSUP && errno != EPERM)
          return Error::FromErrno(errno, std::string("set xattr ") + xname);
      }
    }
    if (archive_entry_filetype(e) != AE_IFDIR) {
      timespec times[2];
      Times(e, times);
      rc = fd >= 0 ? ::futimens(fd, times)
                   : ::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
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

  int root_;
  std::string dest_rel_;
  std::string dest_abs_;
  const ExtractOptions& opt_;
  std::optional<Owner> owner_;
  std::vector<DirTime> dirs_;
};

}  // namespace

Result<void> ExtractArchive(const std::string& rootfs, std::string_view dest,
                            std::string_view container,
                            const std::function<Result<size_t>(char*, size_t)>& read,
                            const ExtractOptions& options) {
  internal::CopyPath p = internal::ParseCopyPath(dest);
  Fd root = BERTH_TRY(internal::OpenRoot(rootfs));
  // The destination is followed to its end, inside the root.
  std::string resolved = BERTH_TRY(internal::ResolveInScope(root.get(), p.clean));
  auto fd = runtime::rootfs::OpenInRoot(root.get(), internal::RelPath(resolved), O_PATH);
  if (!fd) {
    if (fd.error().sys_errno() == ENOENT || fd.error().sys_errno() == ENOTDIR)
      return internal::FileNotFound(dest, container);
    return std::move(fd).error();
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Error::FromErrno(errno, "stat " + std::string(dest));
  if (!S_ISDIR(st.st_mode)) return Error::InvalidArgument("extraction point is not a directory");

  Source src{&read};
  ArchivePtr a(archive_read_new(), archive_read_free);
  if (!a) return Error::Internal("archive_read_new");
  archive_read_support_format_tar(a.get());
  // The compressions Docker accepts (and zstd); never filter_all, whose rarer filters run
  // external programs on hostile input.
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_zstd(a.get());
  if (archive_read_open(a.get(), &src, nullptr, &Source::Read, nullptr) != ARCHIVE_OK) {
    if (src.error) return *src.error;
    return Error::InvalidArgument(std::string("read archive: ") + archive_error_string(a.get()));
  }
  Extractor ex(root.get(), internal::RelPath(resolved), resolved, options);
  for (;;) {
    struct archive_entry* e;
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      if (src.error) return *src.error;
      return Error::InvalidArgument(std::string("read archive: ") + archive_error_string(a.get()));
    }
    const char* raw = archive_entry_pathname(e);
    if (!raw) raw = archive_entry_pathname_utf8(e);
    if (!raw) return Error::InvalidArgument("archive entry without a name");
    if (auto r = ex.Apply(a.get(), e, raw); !r) {
      if (src.error) return *src.error;
      return std::move(r).error().Wrap("archive entry " + std::string(raw));
    }
  }
  return ex.Finish();
}

}  // namespace berth::engine::fs
