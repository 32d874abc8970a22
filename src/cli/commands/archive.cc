// berth save and berth load: image archives through GET /images/get and POST /images/load.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli/cli.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::cli {
namespace {

using nlohmann::json;

// The bytes of an answer held back until it is known to be a tar (an error answer is a small
// JSON document): past this much, or once the status is 2xx, they go to the output.
constexpr size_t kHoldBack = 64 * 1024;

Result<void> WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Error DaemonError(int status, const std::string& body) {
  std::string msg = body;
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    msg = j["message"].get<std::string>();
  return Error(status == 404 ? ErrorCode::kNotFound : ErrorCode::kInternal,
               "Error response from daemon: " + msg);
}

Result<void> SaveTo(api::Client& client, const std::vector<std::string>& names, int fd) {
  std::string path = ApiPrefix() + "/images/get?";
  for (size_t i = 0; i < names.size(); ++i)
    path += (i ? "&names=" : "names=") + QueryEscape(names[i]);
  std::string held;
  bool flushed = false;
  std::optional<Error> write_error;
  auto r = BERTH_TRY(client.Do("GET", path, {}, {}, [&](std::string_view chunk) {
    if (!flushed) {
      held.append(chunk);
      if (held.size() < kHoldBack) return true;
      flushed = true;
      chunk = held;
    }
    if (auto w = WriteAll(fd, chunk); !w) {
      write_error = std::move(w).error();
      return false;
    }
    held.clear();
    return true;
  }));
  if (write_error) return *write_error;
  if (r.status / 100 != 2) return DaemonError(r.status, held);
  return WriteAll(fd, held);
}

// A directory as a tar stream (regular files and directories, sorted, mode and size kept, owner
// 0, mtime 0), written by a thread into a pipe whose read end is fd(): what `berth load -i DIR`
// sends for an OCI image layout made by `skopeo copy … oci:DIR`.
class DirTar {
 public:
  static Result<DirTar> Start(const std::string& root) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) return Error::FromErrno(errno, "pipe");
    DirTar t;
    t.read_end_ = Fd(p[0]);
    t.state_ = std::make_shared<State>();
    t.state_->write_end = Fd(p[1]);
    t.thread_ = std::thread([s = t.state_, root] {
      s->result = WriteTree(s->write_end.get(), root, "");
      if (s->result) s->result = WriteAll(s->write_end.get(), std::string(1024, '\0'));
      s->write_end.Reset();
    });
    return t;
  }
  DirTar() = default;
  DirTar(DirTar&&) = default;
  DirTar& operator=(DirTar&&) = default;
  ~DirTar() {
    read_end_.Reset();  // a writer still going gets EPIPE
    if (thread_.joinable()) thread_.join();
  }
  int fd() const { return read_end_.get(); }
  Result<void> Finish() {
    read_end_.Reset();
    if (thread_.joinable()) thread_.join();
    return state_->result;
  }

 private:
  struct State {
    Fd write_end;
    Result<void> result;
  };

  static void Octal(char* field, size_t width, uint64_t v) {
    std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                  static_cast<unsigned long long>(v));
  }

  static Result<void> Header(int fd, const std::string& name, char type, uint64_t size,
                             mode_t mode) {
    char h[512] = {};
    std::string n = name, prefix;
    if (n.size() > 100) {  // ustar: prefix/name split at a '/'
      auto cut = n.rfind('/', 155);
      if (cut == std::string::npos || n.size() - cut - 1 > 100)
        return Error::InvalidArgument(name + ": name too long for the archive");
      prefix = n.substr(0, cut);
      n = n.substr(cut + 1);
    }
    std::memcpy(h, n.data(), n.size());
    Octal(h + 100, 8, mode & 07777);
    Octal(h + 108, 8, 0);
    Octal(h + 116, 8, 0);
    Octal(h + 124, 12, size);
    Octal(h + 136, 12, 0);
    std::memset(h + 148, ' ', 8);
    h[156] = type;
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memcpy(h + 345, prefix.data(), prefix.size());
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::snprintf(h + 148, 8, "%06o", sum);
    return WriteAll(fd, std::string_view(h, sizeof h));
  }

  static Result<void> WriteTree(int out, const std::string& dir, const std::string& prefix) {
    std::vector<std::string> names = BERTH_TRY(ListDir(dir));
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string path = dir + "/" + name, entry = prefix + name;
      struct stat st;
      if (::lstat(path.c_str(), &st) != 0) return Error::FromErrno(errno, "stat " + path);
      if (S_ISDIR(st.st_mode)) {
        BERTH_TRY(Header(out, entry + "/", '5', 0, st.st_mode));
        BERTH_TRY(WriteTree(out, path, entry + "/"));
      } else if (S_ISREG(st.st_mode)) {
        BERTH_TRY(Header(out, entry, '0', static_cast<uint64_t>(st.st_size), st.st_mode));
        Fd f = BERTH_TRY(Fd::Open(path, O_RDONLY));
        std::string buf(256 * 1024, '\0');
        uint64_t done = 0;
        for (;;) {
          ssize_t n = ::read(f.get(), buf.data(), buf.size());
          if (n < 0 && errno == EINTR) continue;
          if (n < 0) return Error::FromErrno(errno, "read " + path);
          if (n == 0) break;
          done += static_cast<uint64_t>(n);
          if (done > static_cast<uint64_t>(st.st_size))
            return Error::FailedPrecondition(path + ": grew while being read");
          BERTH_TRY(WriteAll(out, std::string_view(buf.data(), static_cast<size_t>(n))));
        }
        if (done != static_cast<uint64_t>(st.st_size))
          return Error::FailedPrecondition(path + ": shrank while being read");
        if (done % 512) BERTH_TRY(WriteAll(out, std::string(512 - done % 512, '\0')));
      }
      // symlinks and anything else: an image layout has none
    }
    return {};
  }

  Fd read_end_;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace

Result<int> CmdSave(Env& env) {
  std::string output;
  std::vector<std::string> names;
  for (size_t i = 0; i < env.args.size(); ++i) {
    const std::string& a = env.args[i];
    if ((a == "-o" || a == "--output") && i + 1 < env.args.size())
      output = env.args[++i];
    else if (a.rfind("--output=", 0) == 0)
      output = a.substr(9);
    else
      names.push_back(a);
  }
  if (names.empty()) {
    return Error::InvalidArgument(
        "\"berth save\" requires at least 1 argument.\nSee 'berth save --help'.");
  }
  if (output.empty()) {
    if (::isatty(STDOUT_FILENO))
      return Error::InvalidArgument(
          "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    BERTH_TRY(SaveTo(*env.client, names, STDOUT_FILENO));
    return 0;
  }
  // Into a temporary file next to the output, renamed when whole.
  std::string tmp = output + ".berth-tmp";
  {
    Fd fd = BERTH_TRY(Fd::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (auto r = SaveTo(*env.client, names, fd.get()); !r) {
      ::unlink(tmp.c_str());
      return std::move(r).error();
    }
  }
  if (::rename(tmp.c_str(), output.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::FromErrno(err, "rename " + tmp);
  }
  return 0;
}

Result<int> CmdLoad(Env& env) {
  std::string input;
  bool quiet = false;
  for (size_t i = 0; i < env.args.size(); ++i) {
    const std::string& a = env.args[i];
    if ((a == "-i" || a == "--input") && i + 1 < env.args.size())
      input = env.args[++i];
    else if (a.rfind("--input=", 0) == 0)
      input = a.substr(8);
    else if (a == "-q" || a == "--quiet")
      quiet = true;
    else
      return Error::InvalidArgument(
          "\"berth load\" accepts no arguments.\nSee 'berth load --help'.");
  }
  // The archive streams to the daemon as it is read: a file, stdin, or a directory (an OCI
  // image layout or an unpacked docker-archive) tarred on the way.
  Fd file;
  std::optional<DirTar> dir;
  int in_fd = STDIN_FILENO;
  if (input.empty()) {
    if (::isatty(STDIN_FILENO))
      return Error::InvalidArgument(
          "requested load from stdin, but stdin is empty. Use the -i flag or redirect");
  } else {
    struct stat st;
    if (::stat(input.c_str(), &st) != 0) return Error::FromErrno(errno, "open " + input);
    if (S_ISDIR(st.st_mode)) {
      dir.emplace(BERTH_TRY(DirTar::Start(input)));
      in_fd = dir->fd();
    } else {
      file = BERTH_TRY(Fd::Open(input, O_RDONLY));
      in_fd = file.get();
    }
  }
  ::signal(SIGPIPE, SIG_IGN);  // a daemon that stops reading answers; its answer is read
  auto read = [in_fd](char* buf, size_t n) -> Result<size_t> {
    for (;;) {
      ssize_t r = ::read(in_fd, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return Error::FromErrno(errno, "read the archive");
    }
  };
  auto pending = BERTH_TRY(
      env.client->SendStream("POST", ApiPrefix() + "/images/load?quiet=" + (quiet ? "1" : "0"),
                             read, {{"Content-Type", "application/x-tar"}}));
  std::string body = BERTH_TRY(pending->ReadBody());
  if (dir) BERTH_TRY(dir->Finish());
  if (pending->status() / 100 != 2) return DaemonError(pending->status(), body);
  for (const auto& line : Split(body, '\n', true)) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("error"))
      return Error::Internal(j["error"].is_string() ? j["error"].get<std::string>() : line);
    if (j.contains("stream") && j["stream"].is_string())
      std::fputs(j["stream"].get<std::string>().c_str(), stdout);
  }
  return 0;
}

}  // namespace berth::cli
