// WriteCopyLayer and ResolveChown (copy.h).

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <memory>

#include "build/copy.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::build {
namespace {

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;
using EntryPtr = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;

Error ArchiveError(archive* a, const std::string& what) {
  const char* m = archive_error_string(a);
  return Error::Internal(what + ": " + (m ? m : "archive error"));
}

std::optional<uint32_t> Number(std::string_view s) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

/// Field `field` (0-based) of the line of an /etc/passwd-style file whose first field is name
/// (or, by_id, whose third field is it).
std::optional<std::string> Lookup(const std::string& text, const std::string& name, int field) {
  for (const auto& line : Split(text, '\n', true)) {
    auto f = Split(line, ':');
    if (f.size() > static_cast<size_t>(field) && f[0] == name) return f[field];
  }
  return std::nullopt;
}

class LayerWriter {
 public:
  LayerWriter(int fd, const CopyRequest& r)
      : a_(archive_write_new(), archive_write_free), fd_(fd), r_(r) {}

  Result<void> Open() {
    if (archive_write_set_format_pax_restricted(a_.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a_.get(), 10240) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a_.get(), 1) != ARCHIVE_OK ||
        archive_write_open_fd(a_.get(), fd_) != ARCHIVE_OK)
      return ArchiveError(a_.get(), "layer tar");
    return {};
  }

  Result<void> Add(const CopyItem& i, bool parent) {
    if (i.archive) return Extract(i);
    EntryPtr e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), i.dest.substr(1).c_str());
    mode_t mode = i.st.st_mode;
    if (!parent && r_.chmod && !S_ISLNK(mode)) mode = (mode & S_IFMT) | (*r_.chmod & 07777);
    archive_entry_set_mode(e.get(), mode);
    uint32_t uid = parent ? i.st.st_uid : r_.uid.value_or(0);
    uint32_t gid = parent ? i.st.st_gid : r_.gid.value_or(r_.uid.value_or(0));
    archive_entry_set_uid(e.get(), uid);
    archive_entry_set_gid(e.get(), gid);
    archive_entry_set_mtime(e.get(), i.st.st_mtime, 0);
    if (S_ISLNK(mode)) archive_entry_set_symlink(e.get(), i.link_target.c_str());
    bool data = S_ISREG(mode);
    if (S_ISCHR(mode) || S_ISBLK(mode)) archive_entry_set_rdev(e.get(), i.st.st_rdev);
    Fd fd;
    if (data && !i.inline_file) {
      fd = BERTH_TRY_CTX(Fd::Open(i.host_path, O_RDONLY | O_NOFOLLOW), r_.keyword);
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) return Error::FromErrno(errno, "stat " + i.host_path);
      archive_entry_set_size(e.get(), st.st_size);
    } else {
      archive_entry_set_size(e.get(), data ? static_cast<int64_t>(i.inline_data.size()) : 0);
    }
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK)
      return ArchiveError(a_.get(), "layer tar: " + i.dest);
    if (!data) return {};
    if (i.inline_file) return Data(i.inline_data.data(), i.inline_data.size(), i.dest);
    int64_t left = archive_entry_size(e.get());
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buf_, std::min<int64_t>(left, sizeof buf_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::FromErrno(errno, "read " + i.host_path);
      if (n == 0) return Error::Internal(i.host_path + ": file shrank while copied");
      BERTH_TRY(Data(buf_, static_cast<size_t>(n), i.dest));
      left -= n;
    }
    return {};
  }

  Result<void> Close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) return ArchiveError(a_.get(), "layer tar");
    return {};
  }

  int64_t bytes() const { return bytes_; }

 private:
  Result<void> Data(const char* p, size_t n, const std::string& what) {
    if (archive_write_data(a_.get(), p, n) != static_cast<la_ssize_t>(n))
      return ArchiveError(a_.get(), "layer tar: " + what);
    bytes_ += static_cast<int64_t>(n);
    return {};
  }

  /// ADD's archive: every entry again under i.dest, with its own owner and mode (as Docker).
  Result<void> Extract(const CopyItem& i) {
    ArchivePtr in(archive_read_new(), archive_read_free);
    archive_read_support_format_tar(in.get());
    archive_read_support_filter_gzip(in.get());
    archive_read_support_filter_bzip2(in.get());
    archive_read_support_filter_xz(in.get());
    if (archive_read_open_filename(in.get(), i.host_path.c_str(), 64 * 1024) != ARCHIVE_OK)
      return ArchiveError(in.get(), "ADD " + i.host_path);
    archive_entry* e;
    for (;;) {
      int rc = archive_read_next_header(in.get(), &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return ArchiveError(in.get(), "ADD archive");
      std::string name = CleanAbs("/" + std::string(archive_entry_pathname(e)));
      if (name == "/") continue;
      std::string path = (i.dest == "/" ? name : i.dest + name).substr(1);
      archive_entry_set_pathname(e, path.c_str());
      if (const char* hl = archive_entry_hardlink(e)) {
        std::string t = CleanAbs("/" + std::string(hl));
        archive_entry_set_hardlink(e, (i.dest == "/" ? t : i.dest + t).substr(1).c_str());
      }
      if (archive_write_header(a_.get(), e) != ARCHIVE_OK)
        return ArchiveError(a_.get(), "layer tar: " + path);
      for (;;) {
        la_ssize_t n = archive_read_data(in.get(), buf_, sizeof buf_);
        if (n < 0) return ArchiveError(in.get(), "ADD archive");
        if (n == 0) break;
        BERTH_TRY(Data(buf_, static_cast<size_t>(n), path));
      }
    }
    return {};
  }

  ArchivePtr a_;
  int fd_;
  const CopyRequest& r_;
  int64_t bytes_ = 0;
  char buf_[64 * 1024];
};

}  // namespace

Result<int64_t> WriteCopyLayer(const CopyPlan& plan, const CopyRequest& r, int fd) {
  auto w = std::make_unique<LayerWriter>(fd, r);
  BERTH_TRY(w->Open());
  for (const auto& p : plan.parents) BERTH_TRY(w->Add(p, true));
  for (const auto& i : plan.items) BERTH_TRY(w->Add(i, false));
  BERTH_TRY(w->Close());
  return w->bytes();
}

Result<std::pair<uint32_t, uint32_t>> ResolveChown(const FileTree& rootfs,
                                                   const std::string& spec) {
  size_t colon = spec.find(':');
  std::string user = spec.substr(0, colon);
  std::string group = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (user.empty()) return Error::InvalidArgument("invalid --chown value: " + spec);
  std::optional<std::string> passwd, groups;
  auto read_passwd = [&]() -> const std::string& {
    if (!passwd) passwd = ReadTreeFile(rootfs, "/etc/passwd").value_or("");
    return *passwd;
  };
  uint32_t uid = 0, gid = 0;
  if (auto n = Number(user)) {
    uid = *n;
    gid = *n;
  } else {
    auto u = Lookup(read_passwd(), user, 2);
    auto g = Lookup(read_passwd(), user, 3);
    auto un = u ? Number(*u) : std::nullopt;
    auto gn = g ? Number(*g) : std::nullopt;
    if (!un || !gn)
      return Error::InvalidArgument(
          "unable to convert uid/gid chown string to host mapping: "
          "can't find uid for user " +
          user + ": no such user: " + user);
    uid = *un;
    gid = *gn;
  }
  if (!group.empty()) {
    if (auto n = Number(group)) {
      gid = *n;
    } else {
      if (!groups) groups = ReadTreeFile(rootfs, "/etc/group").value_or("");
      auto g = Lookup(*groups, group, 2);
      auto gn = g ? Number(*g) : std::nullopt;
      if (!gn)
        return Error::InvalidArgument(
            "unable to convert uid/gid chown string to host mapping: "
            "can't find gid for group " +
            group + ": no such group: " + group);
      gid = *gn;
    }
  }
  return std::make_pair(uid, gid);
}

}  // namespace berth::build
