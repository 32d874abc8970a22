#include "cli/commands/cp_tar.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "util/fd.h"
#include "util/file.h"

namespace berth::cli {
namespace {

void Octal(char* field, size_t len, uint64_t v) {
  std::snprintf(field, len, "%0*llo", static_cast<int>(len - 1),
                static_cast<unsigned long long>(v));
}

void Checksum(char* h) {
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += static_cast<unsigned char>(h[i]);
  std::snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
}

void Pad(std::string& out) { out.append((512 - out.size() % 512) % 512, '\0'); }

void Header(std::string& out, const std::string& name, char type, const struct stat& st,
            uint64_t size, const std::string& link) {
  auto gnu_long = [&](char t, const std::string& value) {
    char h[512] = {};
    std::memcpy(h, "././@LongLink", 13);
    Octal(h + 100, 8, 0644);
    Octal(h + 108, 8, 0);
    Octal(h + 116, 8, 0);
    Octal(h + 124, 12, value.size() + 1);
    Octal(h + 136, 12, 0);
    h[156] = t;
    std::memcpy(h + 257, "ustar  ", 8);
    Checksum(h);
    out.append(h, 512);
    out.append(value);
    out += '\0';
    Pad(out);
  };
  if (name.size() > 100) gnu_long('L', name);
  if (link.size() > 100) gnu_long('K', link);
  char h[512] = {};
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  Octal(h + 100, 8, st.st_mode & 07777);
  Octal(h + 108, 8, st.st_uid);
  Octal(h + 116, 8, st.st_gid);
  Octal(h + 124, 12, size);
  Octal(h + 136, 12, static_cast<uint64_t>(std::max<int64_t>(st.st_mtime, 0)));
  h[156] = type;
  std::memcpy(h + 157, link.data(), std::min<size_t>(link.size(), 100));
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  Checksum(h);
  out.append(h, 512);
}

Result<void> Add(const std::string& path, const std::string& name, bool follow, std::string& out) {
  struct stat st;
  if ((follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st)) < 0)
    return Error::FromErrno(errno, "stat " + path);
  if (S_ISDIR(st.st_mode)) {
    std::string dir_name = name == "." ? "./" : name + "/";
    Header(out, dir_name, '5', st, 0, "");
    DIR* d = ::opendir(path.c_str());
    if (!d) return Error::FromErrno(errno, "open " + path);
    std::vector<std::string> entries;
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") entries.push_back(n);
    }
    ::closedir(d);
    std::sort(entries.begin(), entries.end());
    for (const auto& e : entries)
      BERTH_TRY(Add(path + "/" + e, name == "." ? e : name + "/" + e, false, out));
  } else if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlink(path.c_str(), target, sizeof target);
    if (n < 0) return Error::FromErrno(errno, "readlink " + path);
    Header(out, name, '2', st, 0, std::string(target, static_cast<size_t>(n)));
  } else if (S_ISREG(st.st_mode)) {
    Fd fd = BERTH_TRY(Fd::Open(path, O_RDONLY));
    std::string data = BERTH_TRY(ReadAll(fd.get(), size_t{8} << 30));
    Header(out, name, '0', st, data.size(), "");
    out += data;
    Pad(out);
  }
  // sockets, fifos and devices are left out, as docker cp leaves sockets out
  return {};
}

uint64_t ParseNumber(const char* field, size_t len) {
  if (static_cast<unsigned char>(field[0]) & 0x80) {  // base-256
    uint64_t v = static_cast<unsigned char>(field[0]) & 0x7f;
    for (size_t i = 1; i < len; ++i) v = (v << 8) | static_cast<unsigned char>(field[i]);
    return v;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < len && field[i]; ++i) {
    if (field[i] == ' ') continue;
    if (field[i] < '0' || field[i] > '7') break;
    v = v * 8 + static_cast<uint64_t>(field[i] - '0');
  }
  return v;
}

std::string Field(const char* f, size_t len) { return std::string(f, strnlen(f, len)); }

}  // namespace

Result<void> TarPath(const std::string& src, const std::string& root, bool follow,
                     std::string& out) {
  BERTH_TRY(Add(src, root, follow, out));
  out.append(1024, '\0');
  return {};
}

TarExtractor::TarExtractor(std::string dir, std::string rebase_from, std::string rebase_to)
    : dir_(std::move(dir)),
      rebase_from_(std::move(rebase_from)),
      rebase_to_(std::move(rebase_to)) {}

Result<void> TarExtractor::Feed(std::string_view data) {
  while (!data.empty() && !ended_) {
    if (in_entry_) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left_, data.size()));
      if (n > 0) BERTH_TRY(Content(data.substr(0, n)));
      left_ -= n;
      data.remove_prefix(n);
      if (left_ == 0) {
        size_t p = static_cast<size_t>(std::min<uint64_t>(pad_, data.size()));
        pad_ -= p;
        data.remove_prefix(p);
        if (pad_ == 0) {
          BERTH_TRY(End());
          in_entry_ = false;
        }
      }
      continue;
    }
    size_t n = std::min(512 - buf_.size(), data.size());
    buf_.append(data.substr(0, n));
    data.remove_prefix(n);
    if (buf_.size() == 512) {
      BERTH_TRY(Header());
      buf_.clear();
    }
  }
  return {};
}

Result<void> TarExtractor::Finish() {
  if (in_entry_ || !buf_.empty()) return Error::DataLoss("unexpected EOF in the tar stream");
  return {};
}

Result<void> TarExtractor::Header() {
  const char* h = buf_.data();
  if (std::all_of(buf_.begin(), buf_.end(), [](char c) { return c == 0; })) {
    // two zero blocks end the archive; one is enough to stop reading
    ended_ = true;
    return {};
  }
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  if (sum != ParseNumber(h + 148, 8)) return Error::DataLoss("tar header checksum mismatch");
  type_ = h[156];
  std::string name = Field(h, 100);
  if (std::memcmp(h + 257, "ustar\0", 6) == 0 && h[345]) name = Field(h + 345, 155) + "/" + name;
  link_ = Field(h + 157, 100);
  size_ = ParseNumber(h + 124, 12);
  mode_ = static_cast<unsigned>(ParseNumber(h + 100, 8));
  mtime_ = static_cast<int64_t>(ParseNumber(h + 136, 12));
  if (type_ == 'L' || type_ == 'K' || type_ == 'x' || type_ == 'g') {
    meta_.clear();
  } else {
    name_ = !pax_path_.empty() ? pax_path_ : !long_name_.empty() ? long_name_ : name;
    if (!pax_link_.empty())
      link_ = pax_link_;
    else if (!long_link_.empty())
      link_ = long_link_;
    if (pax_size_ >= 0) size_ = static_cast<uint64_t>(pax_size_);
    long_name_.clear();
    long_link_.clear();
    pax_path_.clear();
    pax_link_.clear();
    pax_size_ = -1;
    if (type_ != '0' && type_ != '\0' && type_ != '7')
      size_ = type_ == '1' || type_ == '2' || type_ == '5' ? 0 : size_;
  }
  left_ = size_;
  pad_ = (512 - size_ % 512) % 512;
  BERTH_TRY(Begin());
  in_entry_ = true;
  if (left_ == 0 && pad_ == 0) {
    BERTH_TRY(End());
    in_entry_ = false;
  }
  return {};
}

std::string TarExtractor::Rebase(const std::string& raw) const {
  std::string name = raw;
  while (name.rfind("./", 0) == 0) name = name.substr(2);
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  if (name.empty() || name == "/") name = ".";
  if (rebase_from_.empty()) return name;
  if (rebase_from_ == ".") {
    // a directory's contents ("dir/."): every entry goes below the new name
    if (rebase_to_.empty() || rebase_to_ == ".") return name;
    return name == "." ? rebase_to_ : rebase_to_ + "/" + name;
  }
  std::string first = name.substr(0, name.find('/'));
  if (first != rebase_from_) return name;
  std::string rest = name.substr(first.size());
  if (rebase_to_ == "." || rebase_to_.empty()) return rest.empty() ? "." : rest.substr(1);
  return rebase_to_ + rest;
}

TarExtractor::~TarExtractor() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

// Creates the parents of rel under dir, refusing any that is not a real directory.
Result<void> Parents(const std::string& dir, const std::string& rel) {
  auto parts = Split(rel, '/', true);
  std::string p = dir;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    p += "/" + parts[i];
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        return Error::Internal("cannot extract through " + p + ": not a directory");
      continue;
    }
    if (::mkdir(p.c_str(), 0755) < 0 && errno != EEXIST)
      return Error::FromErrno(errno, "mkdir " + p);
  }
  return {};
}

Result<std::string> Safe(const std::string& rel) {
  if (rel.empty() || rel[0] == '/')
    return Error::Internal("tar entry with an absolute name: " + rel);
  for (const auto& part : Split(rel, '/', true))
    if (part == "..") return Error::Internal("tar entry outside the destination: " + rel);
  return rel;
}

}  // namespace

Result<void> TarExtractor::Begin() {
  if (type_ == 'L' || type_ == 'K' || type_ == 'x' || type_ == 'g') return {};
  std::string rel = Rebase(name_);
  if (rel == "." || rel.empty()) {
    // the top directory itself ("./"): it is dir_
    if (type_ == '5') return {};
    return Error::Internal("tar entry with an empty name");
  }
  rel = BERTH_TRY(Safe(rel));
  BERTH_TRY(Parents(dir_, rel));
  std::string path = dir_ + "/" + rel;
  struct stat st;
  bool exists = ::lstat(path.c_str(), &st) == 0;
  switch (type_) {
    case '5':
      if (exists && !S_ISDIR(st.st_mode))
        return Error::Internal("cannot overwrite non-directory " + path + " with a directory");
      if (!exists && ::mkdir(path.c_str(), mode_ & 07777) < 0)
        return Error::FromErrno(errno, "mkdir " + path);
      ::chmod(path.c_str(), mode_ & 07777);
      return {};
    case '0':
    case '\0':
    case '7': {
      if (exists && S_ISDIR(st.st_mode))
        return Error::Internal("cannot overwrite directory " + path + " with a file");
      if (exists) ::unlink(path.c_str());
      int fd =
          ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode_ & 07777);
      if (fd < 0) return Error::FromErrno(errno, "create " + path);
      fd_ = fd;
      return {};
    }
    case '2':
      if (exists && S_ISDIR(st.st_mode))
        return Error::Internal("cannot overwrite directory " + path + " with a symlink");
      if (exists) ::unlink(path.c_str());
      if (::symlink(link_.c_str(), path.c_str()) < 0)
        return Error::FromErrno(errno, "symlink " + path);
      return {};
    case '1': {
      std::string target = BERTH_TRY(Safe(Rebase(link_)));
      if (exists) ::unlink(path.c_str());
      if (::linkat(AT_FDCWD, (dir_ + "/" + target).c_str(), AT_FDCWD, path.c_str(), 0) < 0)
        return Error::FromErrno(errno, "link " + path);
      return {};
    }
    default:
      return {};  // devices and fifos are not made by cp
  }
}

Result<void> TarExtractor::Content(std::string_view data) {
  if (type_ == 'L' || type_ == 'K' || type_ == 'x' || type_ == 'g') {
    if (meta_.size() + data.size() > (1u << 20)) return Error::Internal("tar header too long");
    meta_.append(data);
    return {};
  }
  if (fd_ < 0) return {};
  BERTH_TRY(WriteAll(fd_, data));
  written_ += data.size();
  return {};
}

Result<void> TarExtractor::End() {
  if (type_ == 'L' || type_ == 'K') {
    std::string v = meta_.substr(0, meta_.find('\0'));
    (type_ == 'L' ? long_name_ : long_link_) = v;
    return {};
  }
  if (type_ == 'x') {
    // "LEN key=value\n" records
    size_t at = 0;
    while (at < meta_.size()) {
      size_t sp = meta_.find(' ', at);
      if (sp == std::string::npos) break;
      size_t len = std::strtoul(meta_.substr(at, sp - at).c_str(), nullptr, 10);
      if (len == 0 || at + len > meta_.size()) break;
      std::string rec = meta_.substr(sp + 1, at + len - sp - 2);
      size_t eq = rec.find('=');
      if (eq != std::string::npos) {
        std::string k = rec.substr(0, eq), v = rec.substr(eq + 1);
        if (k == "path") pax_path_ = v;
        if (k == "linkpath") pax_link_ = v;
        if (k == "size") pax_size_ = std::strtoll(v.c_str(), nullptr, 10);
      }
      at += len;
    }
    return {};
  }
  if (type_ == 'g') return {};
  std::string rel = Rebase(name_);
  if (fd_ >= 0) {
    ::fchmod(fd_, mode_ & 07777);
    ::close(fd_);
    fd_ = -1;
  }
  if (rel.empty() || rel == ".") return {};
  struct timespec times[2] = {{mtime_, 0}, {mtime_, 0}};
  ::utimensat(AT_FDCWD, (dir_ + "/" + rel).c_str(), times, AT_SYMLINK_NOFOLLOW);
  return {};
}

}  // namespace berth::cli
