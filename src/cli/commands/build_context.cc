#include "cli/commands/build_context.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "util/file.h"

namespace berth::cli {
namespace {

constexpr size_t kBlock = 512;

void Octal(char* field, size_t width, uint64_t value) {
  if (value >= (uint64_t{1} << (3 * (width - 1)))) {
    // Too large for octal (a file of 8 GiB or more): GNU's base-256, big-endian, high bit set.
    std::memset(field, 0, width);
    for (size_t i = width; i-- > 1 && value > 0; value >>= 8)
      field[i] = static_cast<char>(value & 0xff);
    field[0] = static_cast<char>(0x80);
    return;
  }
  // width-1 octal digits and a NUL, as Go's archive/tar writes numeric fields.
  char tmp[32];
  std::snprintf(tmp, sizeof tmp, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
  std::memcpy(field, tmp, width);
}

std::string Block(const std::string& name, char type, uint64_t size, mode_t mode, int64_t mtime,
                  const std::string& link) {
  char h[kBlock] = {};
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  Octal(h + 100, 8, mode & 07777);
  Octal(h + 108, 8, 0);  // uid
  Octal(h + 116, 8, 0);  // gid
  Octal(h + 124, 12, size);
  Octal(h + 136, 12, static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
  std::memset(h + 148, ' ', 8);
  h[156] = type;
  std::memcpy(h + 157, link.data(), std::min<size_t>(link.size(), 100));
  std::memcpy(h + 257, "ustar\0", 6);
  std::memcpy(h + 263, "00", 2);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  return std::string(h, kBlock);
}

std::string Padded(std::string data) {
  data.resize((data.size() + kBlock - 1) / kBlock * kBlock, '\0');
  return data;
}

}  // namespace

std::string TarHeader(const std::string& name, const struct stat& st, const std::string& link) {
  char type = '0';
  uint64_t size = 0;
  std::string full = name;
  if (S_ISDIR(st.st_mode)) {
    type = '5';
    full += '/';
  } else if (S_ISLNK(st.st_mode)) {
    type = '2';
  } else {
    size = static_cast<uint64_t>(st.st_size);
  }
  std::string out;
  // GNU long names: an 'L' (or 'K' for the link) entry whose content is the name and a NUL.
  if (full.size() > 100) {
    std::string n = full + '\0';
    out += Block("././@LongLink", 'L', n.size(), 0644, 0, "") + Padded(n);
  }
  if (link.size() > 100) {
    std::string l = link + '\0';
    out += Block("././@LongLink", 'K', l.size(), 0644, 0, "") + Padded(l);
  }
  out += Block(full, type, size, st.st_mode, st.st_mtim.tv_sec, link);
  return out;
}

Result<std::unique_ptr<ContextTar>> ContextTar::Open(const std::string& dir, const Filter& filter,
                                                     const std::vector<std::string>& always) {
  std::unique_ptr<ContextTar> t(new ContextTar());
  t->dir_ = dir;
  BERTH_TRY(t->Walk("", filter, always));
  return t;
}

Result<void> ContextTar::Walk(const std::string& rel, const Filter& filter,
                              const std::vector<std::string>& always) {
  std::string path = rel.empty() ? dir_ : JoinPath(dir_, rel);
  auto names = ListDir(path);
  if (!names) return std::move(names).error().Wrap("error checking context");
  std::sort(names->begin(), names->end());
  for (const auto& n : *names) {
    std::string child = rel.empty() ? n : rel + "/" + n;
    Entry e{child, {}, ""};
    std::string full = JoinPath(dir_, child);
    if (::lstat(full.c_str(), &e.st) != 0)
      return Error::FromErrno(errno, "error checking context: lstat " + full);
    bool is_dir = S_ISDIR(e.st.st_mode);
    bool kept = std::find(always.begin(), always.end(), child) != always.end();
    bool holds_kept = false;
    for (const auto& a : always)
      if (a.size() > child.size() && a.compare(0, child.size(), child) == 0 &&
          a[child.size()] == '/')
        holds_kept = true;
    if (!kept && filter.excluded && filter.excluded(child)) {
      if (is_dir && (holds_kept || (filter.walk_excluded_dir && filter.walk_excluded_dir(child))))
        BERTH_TRY(Walk(child, filter, always));
      continue;
    }
    if (S_ISLNK(e.st.st_mode)) {
      char target[4096];
      ssize_t len = ::readlink(full.c_str(), target, sizeof target);
      if (len < 0) return Error::FromErrno(errno, "error checking context: readlink " + full);
      e.link.assign(target, static_cast<size_t>(len));
    } else if (S_ISREG(e.st.st_mode)) {
      // docker checks readability up front ("can't stat", "no permission to read")
      if (::access(full.c_str(), R_OK) != 0)
        return Error::FromErrno(errno, "error checking context: can't open '" + full + "'");
    } else if (!is_dir) {
      continue;  // sockets, fifos, devices: not sent (docker's archive skips them too)
    }
    entries_.push_back(std::move(e));
    if (is_dir) BERTH_TRY(Walk(child, filter, always));
  }
  return {};
}

void ContextTar::ReplaceFile(const std::string& name, std::string content) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const Entry& e) { return e.rel == name; }),
                 entries_.end());
  AddFile(name, std::move(content));
}

Result<void> ContextTar::Next() {
  pending_.clear();
  pending_pos_ = 0;
  while (next_entry_ < entries_.size()) {
    const Entry& e = entries_[next_entry_++];
    if (S_ISREG(e.st.st_mode)) {
      auto fd = Fd::Open(JoinPath(dir_, e.rel), O_RDONLY | O_NOFOLLOW);
      if (!fd) return std::move(fd).error().Wrap("read build context");
      file_ = std::move(*fd);
      file_left_ = static_cast<uint64_t>(e.st.st_size);
      file_pad_ = (kBlock - file_left_ % kBlock) % kBlock;
    }
    pending_ = TarHeader(e.rel, e.st, e.link);
    return {};
  }
  if (next_extra_ < extra_.size()) {
    const Extra& x = extra_[next_extra_++];
    struct stat st = {};
    st.st_mode = S_IFREG | 0600;
    st.st_size = static_cast<off_t>(x.content.size());
    st.st_mtim.tv_sec = ::time(nullptr);
    pending_ = TarHeader(x.name, st, "") + Padded(x.content);
    return {};
  }
  pending_.assign(2 * kBlock, '\0');
  ended_ = true;
  return {};
}

Result<size_t> ContextTar::Read(char* buf, size_t n) {
  for (;;) {
    if (pending_pos_ < pending_.size()) {
      size_t k = std::min(n, pending_.size() - pending_pos_);
      std::memcpy(buf, pending_.data() + pending_pos_, k);
      pending_pos_ += k;
      return k;
    }
    if (file_left_ > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(n, file_left_));
      ssize_t r = ::read(file_.get(), buf, want);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Error::FromErrno(errno, "read build context");
      }
      if (r == 0) {
        // The file shrank since the walk: the header's size still holds, fill with zeros.
        std::memset(buf, 0, want);
        r = static_cast<ssize_t>(want);
      }
      file_left_ -= static_cast<uint64_t>(r);
      if (file_left_ == 0) {
        file_.Reset();
        pending_.assign(file_pad_, '\0');
        pending_pos_ = 0;
      }
      return static_cast<size_t>(r);
    }
    if (ended_) return size_t{0};
    BERTH_TRY(Next());
  }
}

}  // namespace berth::cli
