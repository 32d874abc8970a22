// PathArchive (GET /containers/{id}/archive): a tar of one container path, named as Docker
// names it.

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "engine/fs/copy.h"
#include "engine/fs/copy_internal.h"

namespace berth::engine::fs {
namespace {

constexpr size_t kChunk = 128 * 1024;

using ArchivePtr = std::unique_ptr<struct archive, int (*)(struct archive*)>;
using EntryPtr = std::unique_ptr<struct archive_entry, void (*)(struct archive_entry*)>;

struct Sink {
  int fd;
  std::optional<Error> error;

  static la_ssize_t Write(struct archive* a, void* self, const void* buf, size_t n) {
    auto* s = static_cast<Sink*>(self);
    auto r = WriteAll(s->fd, std::string_view(static_cast<const char*>(buf), n));
    if (!r) {
      s->error.emplace(std::move(r).error());
      archive_set_error(a, EIO, "%s", s->error->message().c_str());
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }
};

class TreeTar {
 public:
  TreeTar(struct archive* a, Sink* sink) : a_(a), sink_(sink) {}

  /// Writes dir/name (dir itself if name is empty) as tar_name, and what is below it.
  Result<void> Add(int dir, const std::string& name, const std::string& tar_name) {
    struct stat st;
    int rc =
        name.empty() ? ::fstat(dir, &st) : ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
    if (rc != 0) return Error::FromErrno(errno, "stat " + tar_name);
    if (S_ISSOCK(st.st_mode)) return {};  // Docker leaves sockets out too
    EntryPtr e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), tar_name.c_str());
    archive_entry_set_mode(e.get(), st.st_mode);
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, 0);

    if (S_ISDIR(st.st_mode)) {
      int fd = name.empty()
                   ? ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                   : ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return Error::FromErrno(errno, "open " + tar_name);
      Fd sub(fd);
      Capability(sub.get(), "", e.get());
      std::string dir_name = tar_name.ends_with('/') ? tar_name : tar_name + "/";
      archive_entry_set_pathname(e.get(), dir_name.c_str());
      BERTH_TRY(Header(e.get()));
      for (const auto& child : BERTH_TRY(Names(sub.get(), tar_name))) {
        std::string child_name = tar_name == "/" ? "/" + child : tar_name + "/" + child;
        BERTH_TRY(Add(sub.get(), child, child_name));
      }
      return {};
    }
    if (S_ISLNK(st.st_mode)) {
      char buf[PATH_MAX + 1];
      ssize_t n = ::readlinkat(dir, name.c_str(), buf, PATH_MAX);
      if (n < 0) return Error::FromErrno(errno, "readlink " + tar_name);
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
    if (!S_ISREG(st.st_mode)) return Error::InvalidArgument(tar_name + ": unsupported file type");
    if (st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      if (auto it = links_.find(key); it != links_.end()) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        return Header(e.get());
      }
      links_.emplace(key, tar_name);
    }
    int fd = ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return Error::FromErrno(errno, "open " + tar_name);
    Fd file(fd);
    Capability(file.get(), "", e.get());
    archive_entry_set_size(e.get(), st.st_size);
    BERTH_TRY(Header(e.get()));
    std::vector<char> buf(kChunk);
    off_t left = st.st_size;
    while (left > 0) {
      ssize_t n = ::read(file.get(), buf.data(), std::min<off_t>(left, buf.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::FromErrno(errno, "read " + tar_name);
      if (n == 0) break;  // shrank while read: the tar pads the entry with zeros
      if (archive_write_data(a_, buf.data(), static_cast<size_t>(n)) != n) return ArchiveError();
      left -= n;
    }
    return {};
  }

 private:
  static Result<std::vector<std::string>> Names(int dir, const std::string& what) {
    int dup = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0) return Error::FromErrno(errno, "open " + what);
    DIR* d = ::fdopendir(dup);
    if (!d) {
      ::close(dup);
      return Error::FromErrno(errno, "open " + what);
    }
    std::vector<std::string> names;
    while (struct dirent* de = ::readdir(d)) {
      std::string_view n = de->d_name;
      if (n != "." && n != "..") names.emplace_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  // The one xattr Docker's tars carry (file capabilities).
  static void Capability(int fd, const char*, struct archive_entry* e) {
    char buf[256];
    ssize_t n = ::fgetxattr(fd, "security.capability", buf, sizeof buf);
    if (n > 0) archive_entry_xattr_add_entry(e, "security.capability", buf, static_cast<size_t>(n));
  }

  Result<void> Header(struct archive_entry* e) {
    if (archive_write_header(a_, e) < ARCHIVE_WARN) return ArchiveError();
    return {};
  }

  Error ArchiveError() {
    if (sink_->error) return *sink_->error;
    return Error::Internal(std::string("write tar: ") + archive_error_string(a_));
  }

  struct archive* a_;
  Sink* sink_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Result<PathArchive> PathArchive::Open(const std::string& rootfs, std::string_view path,
                                      std::string_view container) {
  internal::CopyPath p = internal::ParseCopyPath(path);
  Fd root = BERTH_TRY(internal::OpenRoot(rootfs));
  internal::Entry e = BERTH_TRY(internal::OpenEntry(root.get(), p, path, container));
  PathArchive a;
  a.stat_ = BERTH_TRY(internal::MakeStat(root.get(), p, e));
  a.tar_name_ = p.name;
  a.name_ = std::move(e.name);
  // An O_PATH descriptor cannot be read: the entry's directory is opened for reading (it is
  // the same inode, so what was stated is what is archived).
  int fd = ::openat(e.dir.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno(errno, "open " + std::string(path));
  a.dir_ = Fd(fd);
  return a;
}

Result<void> PathArchive::WriteTo(int out_fd) {
  Sink sink{out_fd, std::nullopt};
  ArchivePtr a(archive_write_new(), archive_write_free);
  if (!a) return Error::Internal("archive_write_new");
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_per_block(a.get(), 0);
  if (archive_write_open(a.get(), &sink, nullptr, &Sink::Write, nullptr) != ARCHIVE_OK)
    return Error::Internal(std::string("write tar: ") + archive_error_string(a.get()));
  TreeTar tar(a.get(), &sink);
  BERTH_TRY(tar.Add(dir_.get(), name_, tar_name_));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    if (sink.error) return *sink.error;
    return Error::Internal(std::string("write tar: ") + archive_error_string(a.get()));
  }
  return {};
}

}  // namespace berth::engine::fs
