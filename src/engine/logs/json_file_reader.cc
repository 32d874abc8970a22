// ReadLogs: the json-file reader behind GET /containers/{id}/logs.

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/logs/json_file.h"
#include "util/file.h"

namespace berth::engine::logs {

bool DecodeEntry(std::string_view json_line, LogEntry* out) {
  auto j = nlohmann::json::parse(json_line, nullptr, false);
  if (!j.is_object()) return false;
  auto log = j.find("log");
  auto stream = j.find("stream");
  auto time = j.find("time");
  if (log == j.end() || !log->is_string() || stream == j.end() || !stream->is_string() ||
      time == j.end() || !time->is_string())
    return false;
  auto ns = ParseRfc3339(time->get_ref<const std::string&>());
  if (!ns) return false;
  out->line = std::move(log->get_ref<std::string&>());
  out->stream = std::move(stream->get_ref<std::string&>());
  out->time_ns = *ns;
  return true;
}

namespace {

constexpr size_t kBlock = 64 * 1024;
// An entry is at most ~6 bytes of JSON per byte of a 16 KiB line.
constexpr size_t kMaxPending = 1 << 20;

struct OpenFile {
  Fd fd;
  dev_t dev = 0;
  ino_t ino = 0;
};

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Result<bool> OpenIfExists(const std::string& path, OpenFile* out) {
  auto fd = Fd::Open(path, O_RDONLY);
  if (!fd) {
    if (fd.error().IsNotFound()) return false;
    return fd.error();
  }
  struct stat st;
  if (fstat(fd->get(), &st) < 0) return Error::FromErrno(errno, "stat " + path);
  out->fd = std::move(*fd);
  out->dev = st.st_dev;
  out->ino = st.st_ino;
  return true;
}

// <path>, <path>.1, ... as they are now, oldest first. A rotation while they are opened could
// show one file under two names: the second is dropped (same inode).
Result<std::vector<OpenFile>> OpenFiles(const std::string& path) {
  std::vector<OpenFile> files;
  for (int i = 0;; i++) {
    OpenFile f;
    std::string p = i == 0 ? path : path + "." + std::to_string(i);
    if (!BERTH_TRY(OpenIfExists(p, &f))) {
      if (i == 0) continue;  // a rotation in progress, or no log yet
      break;
    }
    bool dup = false;
    for (const auto& o : files) dup = dup || (o.dev == f.dev && o.ino == f.ino);
    if (!dup) files.push_back(std::move(f));
  }
  std::reverse(files.begin(), files.end());
  return files;
}

class Selector {
 public:
  explicit Selector(const ReadOptions& o) : o_(o) {}
  bool Selects(const LogEntry& e) const {
    if (e.stream == "stdout" ? !o_.stdout : e.stream == "stderr" ? !o_.stderr : true) return false;
    if (o_.since_ns != 0 && e.time_ns < o_.since_ns) return false;
    if (o_.until_ns != 0 && e.time_ns > o_.until_ns) return false;
    return true;
  }

 private:
  const ReadOptions& o_;
};

Result<size_t> PRead(int fd, char* buf, size_t n, int64_t off) {
  for (;;) {
    ssize_t r = pread(fd, buf, n, off);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return Error::FromErrno(errno, "read log");
  }
}

// Reads fd forward from *offset to its end; each complete line is decoded and, if selected,
// given to sink. *offset ends after the last complete line (a line being written stays).
Result<void> ReadForward(int fd, int64_t* offset, const Selector& sel,
                         const std::function<Result<void>(const LogEntry&)>& sink) {
  std::string buf;
  std::vector<char> block(kBlock);
  LogEntry e;
  for (;;) {
    size_t n = BERTH_TRY(PRead(fd, block.data(), block.size(), *offset + buf.size()));
    if (n == 0) return {};
    buf.append(block.data(), n);
    size_t start = 0;
    for (size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (DecodeEntry(std::string_view(buf).substr(start, nl - start), &e) && sel.Selects(e))
        BERTH_TRY(sink(e));
    }
    *offset += static_cast<int64_t>(start);
    buf.erase(0, start);
    if (buf.size() > kMaxPending) {
      // No entry is this long: skip the garbage; its rest, up to a newline, fails to decode.
      *offset += static_cast<int64_t>(buf.size());
      buf.clear();
    }
  }
}

// Where the last complete line of fd's bytes [0, end) ends (0 if there is none): bytes after
// it are a line still being written.
Result<int64_t> LastLineEnd(int fd, int64_t end) {
  std::vector<char> block(kBlock);
  for (int64_t pos = end; pos > 0;) {
    size_t n = static_cast<size_t>(std::min<int64_t>(pos, kBlock));
    pos -= static_cast<int64_t>(n);
    size_t got = BERTH_TRY(PRead(fd, block.data(), n, pos));
    for (size_t i = got; i-- > 0;)
      if (block[i] == '\n') return pos + static_cast<int64_t>(i) + 1;
  }
  return 0;
}

// The last `want` selected entries among the complete lines of fd's bytes [0, end), newest
// first, appended to out until it holds want. Reads blocks from the end backwards.
Result<void> ReadBackward(int fd, int64_t end, size_t want, const Selector& sel,
                          std::vector<LogEntry>* out) {
  end = BERTH_TRY(LastLineEnd(fd, end));
  std::string data;  // [pos, pos + data.size()): whole lines only at its end
  std::vector<char> block(kBlock);
  LogEntry e;
  auto take = [&](std::string_view line) {
    if (DecodeEntry(line, &e) && sel.Selects(e)) out->push_back(std::move(e));
    return out->size() >= want;
  };
  for (int64_t pos = end; pos > 0 && out->size() < want;) {
    size_t n = static_cast<size_t>(std::min<int64_t>(pos, kBlock));
    pos -= static_cast<int64_t>(n);
    size_t got = BERTH_TRY(PRead(fd, block.data(), n, pos));
    if (got != n) return Error::DataLoss("log file shrank while read");
    data.insert(0, block.data(), n);
    // data ends in "\n"; each line is between two newlines (or the start of the file).
    size_t line_end = data.size() - 1;
    for (;;) {
      size_t prev = line_end == 0 ? std::string::npos : data.rfind('\n', line_end - 1);
      if (prev == std::string::npos) break;
      if (take(std::string_view(data).substr(prev + 1, line_end - prev - 1))) return {};
      line_end = prev;
    }
    data.resize(line_end + 1);  // the head of a line, whose start is in an earlier block
    if (pos == 0 && take(std::string_view(data).substr(0, data.size() - 1))) return {};
  }
  return {};
}

// The file written after cur: cur is now <path>.j (rotated) and the next one <path>.j-1, or
// <path> itself. False when cur is still <path> (or no file is there yet). When rotations
// outran the reader and removed cur, the oldest kept file.
Result<bool> OpenNext(const std::string& path, const OpenFile& cur, OpenFile* next) {
  auto same = [&](const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && st.st_dev == cur.dev && st.st_ino == cur.ino;
  };
  auto name = [&](int i) { return i == 0 ? path : path + "." + std::to_string(i); };
  if (!cur.fd) return OpenIfExists(path, next);
  if (same(path)) return false;
  int j = 1;
  while (PathExists(name(j)) && !same(name(j))) j++;
  // Not found: j is one past the oldest kept file.
  for (int i = j - 1; i >= 0; i--) {
    if (BERTH_TRY(OpenIfExists(name(i), next))) {
      if (next->dev == cur.dev && next->ino == cur.ino) return false;
      return true;
    }
  }
  return false;
}

class Watcher {
 public:
  explicit Watcher(const std::string& path) {
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return;
    fd_ = Fd(fd);
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (inotify_add_watch(fd, dir.c_str(), IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM) < 0)
      fd_.Reset();
  }
  // Waits for a change in the log's directory or timeout_ms.
  void Wait(int timeout_ms) {
    if (!fd_) {
      struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
      nanosleep(&ts, nullptr);
      return;
    }
    struct pollfd p = {fd_.get(), POLLIN, 0};
    if (poll(&p, 1, timeout_ms) > 0) {
      char buf[4096];
      while (read(fd_.get(), buf, sizeof buf) > 0) {
      }
    }
  }

 private:
  Fd fd_;
};

// Follows <path> from (cur, offset): new lines as they come, into the next file at rotation,
// back to the start when the file is truncated (max-file 1).
Result<void> Follow(const std::string& path, const ReadOptions& o, OpenFile cur, int64_t offset,
                    const Selector& sel, const std::function<Result<void>(const LogEntry&)>& sink) {
  Watcher watcher(path);
  for (;;) {
    // Decided before reading, so that the lines written before the end are all read.
    bool stopping = !o.running || !o.running() || (o.until_ns != 0 && NowNs() > o.until_ns);
    bool moved = false;
    for (;;) {
      if (cur.fd) {
        struct stat st;
        if (fstat(cur.fd.get(), &st) == 0 && st.st_size < offset) offset = 0;  // truncated
        int64_t before = offset;
        BERTH_TRY(ReadForward(cur.fd.get(), &offset, sel, sink));
        moved = moved || offset != before;
      }
      // Rotated: the old file is read to its end above; go on with the one after it.
      OpenFile next;
      if (!BERTH_TRY(OpenNext(path, cur, &next))) break;
      cur = std::move(next);
      offset = 0;
      moved = true;
    }
    if (stopping) return {};
    if (!moved) watcher.Wait(o.poll_ms);
  }
}

}  // namespace

Result<void> ReadLogs(const std::string& path, const ReadOptions& o,
                      const std::function<Result<void>(const LogEntry&)>& sink) {
  Selector sel(o);
  std::vector<OpenFile> files = BERTH_TRY(OpenFiles(path));
  int64_t offset = 0;  // in the newest file, where follow goes on
  if (!files.empty()) {
    struct stat st;
    if (fstat(files.back().fd.get(), &st) < 0) return Error::FromErrno(errno, "stat " + path);
    int64_t end = st.st_size;
    if (o.tail >= 0) {
      offset = BERTH_TRY(LastLineEnd(files.back().fd.get(), end));
      std::vector<LogEntry> picked;  // newest first
      size_t want = static_cast<size_t>(o.tail);
      for (size_t i = files.size(); i-- > 0 && picked.size() < want;) {
        int64_t file_end = offset;
        if (i + 1 != files.size()) {
          struct stat s;
          if (fstat(files[i].fd.get(), &s) < 0) return Error::FromErrno(errno, "stat " + path);
          file_end = s.st_size;
        }
        BERTH_TRY(ReadBackward(files[i].fd.get(), file_end, want, sel, &picked));
      }
      for (auto it = picked.rbegin(); it != picked.rend(); ++it) BERTH_TRY(sink(*it));
    } else {
      for (size_t i = 0; i < files.size(); i++) {
        int64_t off = 0;
        BERTH_TRY(ReadForward(files[i].fd.get(), &off, sel, sink));
        if (i + 1 == files.size()) offset = off;
      }
    }
  }
  if (!o.follow) return {};
  OpenFile cur;
  if (!files.empty()) cur = std::move(files.back());
  return Follow(path, o, std::move(cur), offset, sel, sink);
}

}  // namespace berth::engine::logs
