#include "cli/commands/streams.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "util/fd.h"
#include "util/file.h"

namespace berth::cli {
namespace {

// The write end of the pipe the signal handler writes each caught signal's number into.
int g_signal_pipe = -1;

void OnSignal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  if (g_signal_pipe >= 0) (void)!::write(g_signal_pipe, &b, 1);
  errno = saved;
}

// Catches signals into a pipe for the poll loop while it lives; restores the old actions.
class SignalCatcher {
 public:
  explicit SignalCatcher(const std::vector<int>& sigs) {
    auto p = Pipe::Make(O_NONBLOCK);
    if (!p) return;
    pipe_ = std::move(*p);
    g_signal_pipe = pipe_.write.get();
    for (int s : sigs) {
      struct sigaction sa = {}, old = {};
      sa.sa_handler = OnSignal;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_RESTART;
      if (::sigaction(s, &sa, &old) == 0) saved_.emplace_back(s, old);
    }
  }
  ~SignalCatcher() {
    for (auto& [s, old] : saved_) ::sigaction(s, &old, nullptr);
    g_signal_pipe = -1;
  }
  int fd() const { return pipe_.read.get(); }

 private:
  Pipe pipe_;
  std::vector<std::pair<int, struct sigaction>> saved_;
};

// Raw mode on a terminal fd (cfmakeraw, as moby/term's MakeRaw) until destroyed.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (!::isatty(fd) || ::tcgetattr(fd, &saved_) != 0) return;
    struct termios raw = saved_;
    ::cfmakeraw(&raw);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    active_ = ::tcsetattr(fd, TCSADRAIN, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSADRAIN, &saved_);
  }

 private:
  int fd_;
  struct termios saved_ = {};
  bool active_ = false;
};

Result<void> WriteOut(int fd, std::string_view data) {
  auto r = WriteAll(fd, data);
  if (!r && r.error().sys_errno() == EPIPE) return {};
  return r;
}

}  // namespace

Result<std::string> ParseDetachKeys(const std::string& keys) {
  if (keys.empty()) return std::string("\x10\x11", 2);
  std::string out;
  for (const auto& k : Split(keys, ',')) {
    auto bad = [&] {
      return Error::InvalidArgument("invalid detach keys (" + keys + "): Unknown character: '" + k +
                                    "'");
    };
    if (k.size() == 1) {
      out += k;
      continue;
    }
    if (k.size() != 6 || k.rfind("ctrl-", 0) != 0) return bad();
    char c = k[5];
    if (c >= 'a' && c <= 'z')
      out += static_cast<char>(c - 'a' + 1);
    else if (c == '@')
      out += '\0';
    else if (c >= '[' && c <= '_')
      out += static_cast<char>(27 + (c - '['));
    else
      return bad();
  }
  return out;
}

Result<void> Demuxer::Feed(std::string_view data,
                           const std::function<Result<void>(int, std::string_view)>& out) {
  pending_.append(data);
  size_t pos = 0;
  while (pending_.size() - pos >= 8) {
    const auto* h = reinterpret_cast<const unsigned char*>(pending_.data() + pos);
    if (h[0] > 2) return Error::DataLoss("Unrecognized input header: " + std::to_string(h[0]));
    size_t size = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
    if (pending_.size() - pos - 8 < size) break;
    BERTH_TRY(out(h[0] == 2 ? 2 : 1, std::string_view(pending_).substr(pos + 8, size)));
    pos += 8 + size;
  }
  pending_.erase(0, pos);
  return {};
}

std::string EscapeWatch::Filter(std::string_view in, bool* detached) {
  std::string out;
  *detached = false;
  for (char c : in) {
    if (keys_.empty()) {
      out += c;
      continue;
    }
    if (c == keys_[matched_]) {
      if (++matched_ == keys_.size()) {
        *detached = true;
        return out;
      }
      continue;
    }
    // Not the sequence after all: what was held back goes on, then this byte is looked at anew.
    out.append(keys_, 0, matched_);
    matched_ = 0;
    if (c == keys_[0]) {
      matched_ = 1;
      if (keys_.size() == 1) {
        *detached = true;
        return out;
      }
    } else {
      out += c;
    }
  }
  return out;
}

std::pair<int, int> TerminalSize() {
  struct winsize ws = {};
  if (!::isatty(STDOUT_FILENO) || ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) return {0, 0};
  return {ws.ws_row, ws.ws_col};
}

Result<StreamEnd> PumpStreams(api::PendingResponse::Raw conn, const StreamOptions& opts) {
  std::vector<int> sigs = opts.proxy_signals;
  if (opts.on_resize) sigs.push_back(SIGWINCH);
  SignalCatcher catcher(sigs);
  struct sigaction ignore = {}, old_pipe = {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  std::optional<RawTerminal> raw_in, raw_out;
  if (opts.tty && opts.stdin_attached) {
    raw_in.emplace(STDIN_FILENO);
    raw_out.emplace(STDOUT_FILENO);
  }
  // Docker watches for the detach keys only when there is a TTY.
  EscapeWatch escape(!opts.tty                  ? std::string()
                     : opts.detach_keys.empty() ? std::string("\x10\x11", 2)
                                                : opts.detach_keys);
  Demuxer demux;
  auto output = [&](std::string_view data) -> Result<void> {
    if (opts.tty) return WriteOut(STDOUT_FILENO, data);
    return demux.Feed(data, [](int stream, std::string_view payload) {
      return WriteOut(stream == 2 ? STDERR_FILENO : STDOUT_FILENO, payload);
    });
  };
  auto finish = [&](Result<StreamEnd> r) {
    ::sigaction(SIGPIPE, &old_pipe, nullptr);
    return r;
  };
  if (!conn.buffered.empty()) {
    if (auto r = output(conn.buffered); !r) return finish(std::move(r).error());
  }
  bool output_attached = opts.stdout_attached || opts.stderr_attached;
  bool stdin_open = opts.stdin_attached;
  if (!stdin_open) ::shutdown(conn.fd.get(), SHUT_WR);
  char buf[32768];
  for (;;) {
    struct pollfd fds[3];
    int n = 0;
    fds[n++] = {conn.fd.get(), POLLIN, 0};
    int sig_index = -1, in_index = -1;
    if (catcher.fd() >= 0) {
      sig_index = n;
      fds[n++] = {catcher.fd(), POLLIN, 0};
    }
    if (stdin_open) {
      in_index = n;
      fds[n++] = {STDIN_FILENO, POLLIN, 0};
    }
    if (::poll(fds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) continue;
      return finish(Error::FromErrno(errno, "poll"));
    }
    if (sig_index >= 0 && (fds[sig_index].revents & POLLIN)) {
      unsigned char s;
      while (::read(catcher.fd(), &s, 1) == 1) {
        if (s == SIGWINCH) {
          if (opts.on_resize) opts.on_resize();
        } else if (opts.on_signal) {
          opts.on_signal(s);
        }
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(conn.fd.get(), buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return finish(StreamEnd::kEof);
      if (auto w = output(std::string_view(buf, static_cast<size_t>(r))); !w)
        return finish(std::move(w).error());
    }
    if (in_index >= 0 && (fds[in_index].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = ::read(STDIN_FILENO, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        stdin_open = false;
        ::shutdown(conn.fd.get(), SHUT_WR);
        if (!output_attached) return finish(StreamEnd::kEof);
        continue;
      }
      bool detached = false;
      std::string send = escape.Filter(std::string_view(buf, static_cast<size_t>(r)), &detached);
      if (!send.empty()) {
        if (auto w = WriteAll(conn.fd.get(), send); !w) {
          stdin_open = false;  // the daemon stopped reading: the output still ends the stream
        }
      }
      if (detached) return finish(StreamEnd::kDetached);
    }
  }
}

}  // namespace berth::cli
