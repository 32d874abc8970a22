#include "engine/monitor/monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <memory>

#include "engine/logs/json_file.h"
#include "engine/monitor/protocol.h"
#include "oci/runtime_spec.h"
#include "runtime/container/runtime.h"
#include "util/file.h"
#include "util/scope_exit.h"

namespace berth::engine::monitor {
namespace {

using nlohmann::json;

int64_t NowNs() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string Rfc3339Nano(int64_t ns) {
  time_t secs = static_cast<time_t>(ns / 1000000000);
  struct tm tm;
  ::gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(ns % 1000000000));
  return buf;
}

void SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

std::string ToHex(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

std::string FromHex(std::string_view hex) {
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = val(hex[i]), lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return out;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

namespace {

void Frame(std::string* out, int stream, std::string_view data) {
  uint32_t n = static_cast<uint32_t>(data.size());
  char h[8] = {static_cast<char>(stream),
               0,
               0,
               0,
               static_cast<char>(n >> 24),
               static_cast<char>(n >> 16),
               static_cast<char>(n >> 8),
               static_cast<char>(n)};
  out->append(h, 8);
  out->append(data);
}

// The epoll loop: a callback per fd.
class Loop {
 public:
  Loop() : ep_(::epoll_create1(EPOLL_CLOEXEC)) {}
  bool Add(int fd, uint32_t events, std::function<void(uint32_t)> fn) {
    epoll_event ev{events, {.fd = fd}};
    if (::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) return false;
    handlers_[fd] = std::make_shared<std::function<void(uint32_t)>>(std::move(fn));
    return true;
  }
  void Modify(int fd, uint32_t events) {
    epoll_event ev{events, {.fd = fd}};
    ::epoll_ctl(ep_.get(), EPOLL_CTL_MOD, fd, &ev);
  }
  void Remove(int fd) {
    ::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
    handlers_.erase(fd);
  }
  void RunOnce(int timeout_ms) {
    epoll_event evs[32];
    int n = ::epoll_wait(ep_.get(), evs, 32, timeout_ms);
    for (int i = 0; i < n; ++i) {
      auto it = handlers_.find(evs[i].data.fd);
      if (it == handlers_.end()) continue;
      auto fn = it->second;  // keeps the callback alive if it removes itself
      (*fn)(evs[i].events);
    }
  }

 private:
  Fd ep_;
  std::map<int, std::shared_ptr<std::function<void(uint32_t)>>> handlers_;
};

// Bytes for a non-blocking fd, kept while the fd is full. A peer that falls more than
// kMaxPending behind is dropped (its output is still in the log).
constexpr size_t kMaxPending = 8 << 20;

struct Sink {
  int fd = -1;
  std::string pending;
  bool broken = false;

  // Writes what it can now; false if the peer is gone or too slow.
  bool Write(std::string_view data) {
    if (broken) return false;
    if (!pending.empty()) {
      if (pending.size() + data.size() > kMaxPending) return broken = true, false;
      pending.append(data);
      return Flush();
    }
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          pending.assign(data);
          return true;
        }
        return broken = true, false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool Flush() {
    while (!pending.empty()) {
      ssize_t n = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == ENOTSOCK) n = ::write(fd, pending.data(), pending.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        return broken = true, false;
      }
      pending.erase(0, static_cast<size_t>(n));
    }
    return true;
  }
  // Blocks up to timeout_ms to write what is pending (at the end).
  void Drain(int timeout_ms) {
    int64_t deadline = NowNs() + int64_t{timeout_ms} * 1000000;
    while (!broken && !pending.empty() && NowNs() < deadline) {
      Flush();
      if (pending.empty() || broken) break;
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 100);
    }
  }
};

// The process side of a session: the init's or an exec's stdio.
struct ProcessIo {
  Fd master;  // tty
  Fd in;      // stdin pipe (write end), if open
  Fd out, err;
  Sink in_sink;
};

// An attached client: output goes to it, its input to the process's stdin.
struct Client {
  Fd sock;
  bool in = false, out = true, err = true;
  bool mux = true;  // 8-byte frames (no tty)
  std::string keys;
  size_t matched = 0;
  bool input_closed = false;
  Sink sink;
};

struct Exec {
  std::string id;
  pid_t pid = 0;
  Fd pidfd;
  bool tty = false;
  ProcessIo io;
  std::unique_ptr<Client> client;
};

class Monitor {
 public:
  Monitor(const MonitorConfig& c, Fd report) : c_(c), rt_({.root = c.runtime_root}) {
    watchers_.push_back(std::move(report));
  }

  int Run(std::vector<Fd> attach_fds);

 private:
  Result<void> StartContainer();
  Result<ProcessIo> MakeStdio(bool tty, bool open_stdin, Fd* in_child, Fd* out_child,
                              Fd* err_child);
  void WatchOutput(ProcessIo& io, bool is_init, Exec* exec);
  void OnOutput(int stream, std::string_view data, Exec* exec);
  void AddClient(std::unique_ptr<Client> client, Exec* exec);
  void OnClientReadable(Client* client, Exec* exec);
  void DropClient(Client* client, Exec* exec);
  void OnControl(int fd);
  json Handle(const json& req, std::vector<Fd>& fds, int from);
  Result<json> StartExec(const json& req, std::vector<Fd>& fds);
  void OnExecExit(const std::string& id);
  void OnInitExit();
  void Broadcast(const json& event);
  void Resize(int master, uint32_t h, uint32_t w);

  const MonitorConfig& c_;
  runtime::Runtime rt_;
  Loop loop_;
  Fd listen_;
  std::vector<Fd> watchers_;
  std::vector<Fd> controls_;
  ProcessIo io_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::map<std::string, std::unique_ptr<Exec>> execs_;
  std::unique_ptr<logs::JsonFileWriter> log_;
  pid_t pid_ = 0;
  Fd pidfd_;
  bool done_ = false;
  int exit_code_ = 0;
};

Result<ProcessIo> Monitor::MakeStdio(bool tty, bool open_stdin, Fd* in_child, Fd* out_child,
                                     Fd* err_child) {
  ProcessIo io;
  if (tty) return io;  // the runtime makes the pty; its master comes back from Create/Exec
  if (open_stdin) {
    Pipe p = BERTH_TRY(Pipe::Make());
    *in_child = std::move(p.read);
    io.in = std::move(p.write);
  }
  Pipe o = BERTH_TRY(Pipe::Make());
  Pipe e = BERTH_TRY(Pipe::Make());
  *out_child = std::move(o.write);
  *err_child = std::move(e.write);
  io.out = std::move(o.read);
  io.err = std::move(e.read);
  return io;
}

// Runs fn with fds 0-2 replaced by in/out/err (or /dev/null): the runtime's init and exec
// processes inherit the caller's stdio.
template <typename F>
auto WithStdio(int in, int out, int err, F fn) {
  int saved[3] = {::dup(0), ::dup(1), ::dup(2)};
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  ::dup2(in >= 0 ? in : null, 0);
  ::dup2(out >= 0 ? out : null, 1);
  ::dup2(err >= 0 ? err : null, 2);
  auto result = fn();
  for (int i = 0; i < 3; ++i) {
    ::dup2(saved[i], i);
    ::close(saved[i]);
  }
  ::close(null);
  return result;
}

Result<void> Monitor::StartContainer() {
  Fd in_child, out_child, err_child;
  io_ = BERTH_TRY(MakeStdio(c_.tty, c_.open_stdin, &in_child, &out_child, &err_child));
  runtime::CreateOptions o;
  o.id = c_.id;
  o.bundle = c_.bundle;
  o.own_console = c_.tty;
  auto created =
      WithStdio(in_child.get(), out_child.get(), err_child.get(), [&] { return rt_.Create(o); });
  if (!created) return std::move(created).error();
  in_child.Reset();
  out_child.Reset();
  err_child.Reset();
  pid_ = created->pid;
  pidfd_ = std::move(created->pidfd);
  if (c_.tty) {
    io_.master = std::move(created->console);
    if (c_.console_height && c_.console_width)
      Resize(io_.master.get(), c_.console_height, c_.console_width);
  }
  if (auto r = rt_.Start(c_.id); !r) {
    (void)rt_.Delete(c_.id, true);
    ::waitpid(pid_, nullptr, 0);
    return std::move(r).error();
  }
  return {};
}

void Monitor::Resize(int master, uint32_t h, uint32_t w) {
  winsize ws = {};
  ws.ws_row = static_cast<unsigned short>(h);
  ws.ws_col = static_cast<unsigned short>(w);
  ::ioctl(master, TIOCSWINSZ, &ws);
}

void Monitor::WatchOutput(ProcessIo& io, bool is_init, Exec* exec) {
  auto watch = [this, exec](Fd& fd, int stream) {
    if (!fd) return;
    SetNonBlocking(fd.get());
    int raw = fd.get();
    Fd* slot = &fd;
    loop_.Add(raw, EPOLLIN, [this, raw, slot, stream, exec](uint32_t) {
      char buf[65536];
      for (int rounds = 0; rounds < 16; ++rounds) {
        ssize_t n = ::read(raw, buf, sizeof buf);
        if (n > 0) {
          OnOutput(stream, std::string_view(buf, static_cast<size_t>(n)), exec);
          continue;
        }
        if (n < 0 && (errno == EINTR)) continue;
        if (n < 0 && errno == EAGAIN) return;
        // EOF, or EIO on a pty whose processes are all gone.
        loop_.Remove(raw);
        slot->Reset();
        return;
      }
    });
  };
  (void)is_init;
  if (io.master) {
    watch(io.master, 1);
  } else {
    watch(io.out, 1);
    watch(io.err, 2);
  }
  int in_fd = io.master ? io.master.get() : io.in.get();
  if (in_fd >= 0) {
    io.in_sink.fd = in_fd;
    if (!io.master) SetNonBlocking(in_fd);
  }
}

void Monitor::OnOutput(int stream, std::string_view data, Exec* exec) {
  if (exec) {
    Client* cl = exec->client.get();
    if (!cl || (stream == 1 && !cl->out) || (stream == 2 && !cl->err)) return;
    std::string framed;
    if (cl->mux) {
      Frame(&framed, stream, data);
      if (!cl->sink.Write(framed)) DropClient(cl, exec);
    } else if (!cl->sink.Write(data)) {
      DropClient(cl, exec);
    }
    return;
  }
  if (log_) (void)log_->Write(stream == 2 ? "stderr" : "stdout", data, NowNs());
  std::string framed;
  for (size_t i = 0; i < clients_.size();) {
    Client* cl = clients_[i].get();
    bool wants = stream == 2 ? cl->err : cl->out;
    bool ok = true;
    if (wants) {
      if (cl->mux) {
        if (framed.empty()) Frame(&framed, stream, data);
        ok = cl->sink.Write(framed);
      } else {
        ok = cl->sink.Write(data);
      }
    }
    if (!ok) {
      DropClient(cl, nullptr);
      continue;
    }
    ++i;
  }
}

void Monitor::AddClient(std::unique_ptr<Client> client, Exec* exec) {
  SetNonBlocking(client->sock.get());
  client->sink.fd = client->sock.get();
  Client* cl = client.get();
  if (exec)
    exec->client = std::move(client);
  else
    clients_.push_back(std::move(client));
  loop_.Add(cl->sock.get(), EPOLLIN | EPOLLRDHUP, [this, cl, exec](uint32_t ev) {
    if (ev & EPOLLOUT) {
      if (!cl->sink.Flush()) return DropClient(cl, exec);
      if (cl->sink.pending.empty())
        loop_.Modify(cl->sock.get(), cl->input_closed ? 0 : EPOLLIN | EPOLLRDHUP);
    }
    if ((ev & (EPOLLHUP | EPOLLERR)) && cl->input_closed) return DropClient(cl, exec);
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) OnClientReadable(cl, exec);
  });
}

void Monitor::OnClientReadable(Client* cl, Exec* exec) {
  ProcessIo& io = exec ? exec->io : io_;
  char buf[16384];
  ssize_t n = ::recv(cl->sock.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    // The client closed its side (or went away): its input ends.
    if (n < 0 || cl->input_closed) return DropClient(cl, exec);
    cl->input_closed = true;
    loop_.Modify(cl->sock.get(), cl->sink.pending.empty() ? 0 : EPOLLOUT);
    if (cl->in) {
      bool once = exec ? true : c_.stdin_once;
      if (once && io.in) {
        io.in_sink.Drain(1000);
        io.in.Reset();
        io.in_sink.fd = -1;
      }
    }
    return;
  }
  if (!cl->in) return;
  std::string_view data(buf, static_cast<size_t>(n));
  std::string forward;
  if (!cl->keys.empty()) {
    for (char ch : data) {
      if (ch == cl->keys[cl->matched]) {
        if (++cl->matched == cl->keys.size()) {
          // Detach: the client goes, the container keeps running.
          if (!forward.empty() && io.in_sink.fd >= 0) io.in_sink.Write(forward);
          return DropClient(cl, exec);
        }
        continue;
      }
      if (cl->matched) forward.append(cl->keys, 0, cl->matched);
      cl->matched = 0;
      if (ch == cl->keys[0])
        cl->matched = 1;
      else
        forward.push_back(ch);
    }
  } else {
    forward.assign(data);
  }
  if (!forward.empty() && io.in_sink.fd >= 0) io.in_sink.Write(forward);
}

void Monitor::DropClient(Client* cl, Exec* exec) {
  loop_.Remove(cl->sock.get());
  ::shutdown(cl->sock.get(), SHUT_RDWR);
  if (exec) {
    if (exec->client.get() == cl) exec->client.reset();
    return;
  }
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->get() == cl) {
      clients_.erase(it);
      return;
    }
  }
}

Result<json> Monitor::StartExec(const json& req, std::vector<Fd>& fds) {
  auto e = std::make_unique<Exec>();
  e->id = req.value("exec_id", "");
  if (e->id.empty() || execs_.count(e->id)) return Error::InvalidArgument("bad exec id");
  e->tty = req.value("tty", false);
  bool want_in = req.value("stdin", false);
  oci::Process process = BERTH_TRY_CTX(oci::ParseProcess(req.at("process").dump()), "exec process");
  process.terminal = e->tty;
  Fd in_child, out_child, err_child;
  bool attached = !fds.empty();
  e->io = BERTH_TRY(MakeStdio(e->tty, attached && want_in, &in_child, &out_child, &err_child));
  runtime::ExecOptions o;
  o.id = c_.id;
  o.process = std::move(process);
  o.own_console = e->tty;
  auto created =
      WithStdio(in_child.get(), out_child.get(), err_child.get(), [&] { return rt_.Exec(o); });
  if (!created) return std::move(created).error();
  e->pid = created->pid;
  e->pidfd = std::move(created->pidfd);
  if (e->tty) {
    e->io.master = std::move(created->console);
    if (req.contains("height") && req.contains("width"))
      Resize(e->io.master.get(), req.value("height", 0u), req.value("width", 0u));
  }
  Exec* ex = e.get();
  std::string id = e->id;
  execs_[id] = std::move(e);
  WatchOutput(ex->io, false, ex);
  if (attached) {
    auto cl = std::make_unique<Client>();
    cl->sock = std::move(fds[0]);
    cl->in = want_in;
    cl->out = req.value("stdout", true);
    cl->err = req.value("stderr", true);
    cl->mux = !ex->tty;
    if (want_in) cl->keys = BERTH_TRY(ParseDetachKeys(req.value("detach_keys", "")));
    std::string initial = FromHex(req.value("initial", ""));
    AddClient(std::move(cl), ex);
    if (!initial.empty() && ex->io.in_sink.fd >= 0) ex->io.in_sink.Write(initial);
  }
  loop_.Add(ex->pidfd.get(), EPOLLIN, [this, id](uint32_t) { OnExecExit(id); });
  return json{{"pid", ex->pid}};
}

void Monitor::OnExecExit(const std::string& id) {
  auto it = execs_.find(id);
  if (it == execs_.end()) return;
  Exec* e = it->second.get();
  loop_.Remove(e->pidfd.get());
  int status = 0;
  while (::waitpid(e->pid, &status, 0) < 0 && errno == EINTR) {
  }
  int code = runtime::ExitCode(status);
  // What the process wrote before it exited is still in the pipe or pty.
  for (Fd* fd : {&e->io.master, &e->io.out, &e->io.err}) {
    if (!*fd) continue;
    int stream = fd == &e->io.err ? 2 : 1;
    char buf[65536];
    for (;;) {
      ssize_t n = ::read(fd->get(), buf, sizeof buf);
      if (n <= 0) break;
      OnOutput(stream, std::string_view(buf, static_cast<size_t>(n)), e);
    }
    loop_.Remove(fd->get());
    fd->Reset();
  }
  json record{{"exit_code", code}};
  (void)WriteFileReplace(ExecExitFile(c_.run_dir, id), record.dump());
  if (e->client) {
    e->client->sink.Drain(5000);
    loop_.Remove(e->client->sock.get());
    ::shutdown(e->client->sock.get(), SHUT_RDWR);
  }
  Broadcast({{"event", "exec_exit"}, {"exec_id", id}, {"exit_code", code}});
  execs_.erase(it);
}

void Monitor::Broadcast(const json& event) {
  for (size_t i = 0; i < watchers_.size();) {
    if (!Send(watchers_[i].get(), event)) {
      watchers_.erase(watchers_.begin() + static_cast<long>(i));
      continue;
    }
    ++i;
  }
}

json Monitor::Handle(const json& req, std::vector<Fd>& fds, int from) {
  std::string op = req.value("op", "");
  if (op == "attach") {
    if (fds.empty()) return ErrorBody(Error::InvalidArgument("attach without a client socket"));
    auto cl = std::make_unique<Client>();
    cl->sock = std::move(fds[0]);
    cl->in = req.value("stdin", false) && (io_.in || io_.master);
    cl->out = req.value("stdout", true);
    cl->err = req.value("stderr", true);
    cl->mux = !c_.tty;
    auto keys = ParseDetachKeys(req.value("detach_keys", ""));
    if (!keys) return ErrorBody(keys.error());
    if (cl->in) cl->keys = *keys;
    std::string initial = FromHex(req.value("initial", ""));
    bool in = cl->in;
    AddClient(std::move(cl), nullptr);
    if (in && !initial.empty() && io_.in_sink.fd >= 0) io_.in_sink.Write(initial);
    return {{"ok", true}};
  }
  if (op == "resize") {
    if (io_.master) Resize(io_.master.get(), req.value("height", 0u), req.value("width", 0u));
    return {{"ok", true}};
  }
  if (op == "exec") {
    auto r = StartExec(req, fds);
    if (!r) return ErrorBody(r.error());
    return *r;
  }
  if (op == "exec_resize") {
    auto it = execs_.find(req.value("exec_id", ""));
    if (it == execs_.end()) return ErrorBody(Error::NotFound("no such exec"));
    if (it->second->io.master)
      Resize(it->second->io.master.get(), req.value("height", 0u), req.value("width", 0u));
    return {{"ok", true}};
  }
  if (op == "watch") {
    for (auto it = controls_.begin(); it != controls_.end(); ++it) {
      if (it->get() == from) {
        loop_.Remove(from);
        watchers_.push_back(std::move(*it));
        controls_.erase(it);
        break;
      }
    }
    return {{"ok", true}, {"pid", pid_}};
  }
  return ErrorBody(Error::InvalidArgument("unknown monitor request " + op));
}

void Monitor::OnControl(int fd) {
  auto msg = Recv(fd, 0);
  if (!msg || !*msg) {
    loop_.Remove(fd);
    for (auto it = controls_.begin(); it != controls_.end(); ++it)
      if (it->get() == fd) {
        controls_.erase(it);
        break;
      }
    return;
  }
  json reply = Handle((*msg)->body, (*msg)->fds, fd);
  (void)Send(fd, reply);
}

void Monitor::OnInitExit() {
  siginfo_t si = {};
  int code = 255;
  while (::waitid(P_PID, static_cast<id_t>(pid_), &si, WEXITED) < 0 && errno == EINTR) {
  }
  if (si.si_code == CLD_EXITED)
    code = si.si_status;
  else if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
    code = 128 + si.si_status;
  exit_code_ = code;
  bool oom = false;
  // The init has exited (the container is stopped) but its cgroup is still there.
  if (auto st = rt_.FinalStats(c_.id); st) oom = st->oom_kill > 0;
  // The processes are gone: what is left in the pipes is the last output.
  for (Fd* fd : {&io_.master, &io_.out, &io_.err}) {
    if (!*fd) continue;
    int stream = fd == &io_.err ? 2 : 1;
    char buf[65536];
    for (int i = 0; i < 4096; ++i) {
      ssize_t n = ::read(fd->get(), buf, sizeof buf);
      if (n <= 0) break;
      OnOutput(stream, std::string_view(buf, static_cast<size_t>(n)), nullptr);
    }
    loop_.Remove(fd->get());
    fd->Reset();
  }
  if (log_) (void)log_->Flush(NowNs());
  // Exec sessions die with the container's pid namespace.
  while (!execs_.empty()) {
    auto id = execs_.begin()->first;
    OnExecExit(id);
  }
  (void)rt_.Delete(c_.id, true);
  if (!c_.rootfs_mount.empty()) ::umount2(c_.rootfs_mount.c_str(), MNT_DETACH);
  std::string finished = Rfc3339Nano(NowNs());
  json record{{"exit_code", code}, {"finished_at", finished}, {"oom_killed", oom}};
  (void)WriteFileReplace(ExitFile(c_.run_dir), record.dump());
  for (auto& cl : clients_) {
    cl->sink.Drain(5000);
    ::shutdown(cl->sock.get(), SHUT_RDWR);
  }
  clients_.clear();
  json event = record;
  event["event"] = "exit";
  Broadcast(event);
  done_ = true;
}

int Monitor::Run(std::vector<Fd> attach_fds) {
  if (auto l = Listen(SocketPath(c_.run_dir)); l) listen_ = std::move(*l);
  if (!c_.log_path.empty()) {
    auto w = logs::JsonFileWriter::Open(c_.log_path, c_.log_max_size, c_.log_max_files);
    if (w) log_ = std::make_unique<logs::JsonFileWriter>(std::move(*w));
  }
  if (auto r = StartContainer(); !r) {
    json e = ErrorBody(r.error());
    e["event"] = "error";
    Broadcast(e);
    if (!c_.rootfs_mount.empty()) ::umount2(c_.rootfs_mount.c_str(), MNT_DETACH);
    ::unlink(SocketPath(c_.run_dir).c_str());
    return 1;
  }
  (void)WriteFileReplace(JoinPath(c_.run_dir, "monitor.pid"), std::to_string(::getpid()));
  WatchOutput(io_, true, nullptr);
  for (size_t i = 0; i < attach_fds.size() && i < c_.attaches.size(); ++i) {
    const AttachRequest& a = c_.attaches[i];
    auto cl = std::make_unique<Client>();
    cl->sock = std::move(attach_fds[i]);
    cl->in = a.stdin && (io_.in || io_.master);
    cl->out = a.stdout;
    cl->err = a.stderr;
    cl->mux = !c_.tty;
    if (cl->in) cl->keys = ParseDetachKeys(a.detach_keys).value_or("");
    bool in = cl->in;
    AddClient(std::move(cl), nullptr);
    if (in && !a.initial.empty() && io_.in_sink.fd >= 0) io_.in_sink.Write(a.initial);
  }
  Broadcast({{"event", "started"}, {"pid", pid_}});
  // A stdin nobody attached to is closed at once when stdin_once (docker run -i without a
  // client never gets input).
  if (listen_) {
    loop_.Add(listen_.get(), EPOLLIN, [this](uint32_t) {
      for (;;) {
        int c = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c < 0) return;
        controls_.emplace_back(c);
        loop_.Add(c, EPOLLIN, [this, c](uint32_t) { OnControl(c); });
      }
    });
  }
  for (auto& w : watchers_) {
    int fd = w.get();
    // berthd may also send requests on its report socket.
    loop_.Add(fd, EPOLLIN, [this, fd](uint32_t) {
      auto msg = Recv(fd, 0);
      if (!msg || !*msg) {
        loop_.Remove(fd);
        for (auto it = watchers_.begin(); it != watchers_.end(); ++it)
          if (it->get() == fd) {
            watchers_.erase(it);
            break;
          }
        return;
      }
      (void)Send(fd, Handle((*msg)->body, (*msg)->fds, fd));
    });
  }
  loop_.Add(pidfd_.get(), EPOLLIN, [this](uint32_t) {
    loop_.Remove(pidfd_.get());
    OnInitExit();
  });
  while (!done_) {
    // Pending writes to slow clients and to the container's stdin.
    for (auto& cl : clients_)
      if (!cl->sink.pending.empty()) loop_.Modify(cl->sock.get(), EPOLLIN | EPOLLOUT);
    if (!io_.in_sink.pending.empty()) io_.in_sink.Flush();
    loop_.RunOnce(io_.in_sink.pending.empty() ? -1 : 50);
  }
  ::unlink(SocketPath(c_.run_dir).c_str());
  return 0;
}

}  // namespace

std::string ExitFile(const std::string& run_dir) { return JoinPath(run_dir, "exit.json"); }
std::string ExecExitFile(const std::string& run_dir, const std::string& exec_id) {
  return JoinPath(run_dir, "exec-" + exec_id + ".json");
}
std::string SocketPath(const std::string& run_dir) { return JoinPath(run_dir, "monitor.sock"); }

Result<std::string> ParseDetachKeys(std::string_view keys) {
  if (keys.empty()) return std::string("\x10\x11");  // ctrl-p, ctrl-q
  std::string out;
  for (auto part : Split(keys, ',')) {
    std::string_view k = Trim(part);
    if (k.size() == 1) {
      out.push_back(k[0]);
      continue;
    }
    if (k.size() == 6 && k.substr(0, 5) == "ctrl-") {
      char ch = k[5];
      if (ch >= 'a' && ch <= 'z') {
        out.push_back(static_cast<char>(ch - 'a' + 1));
        continue;
      }
      if (ch >= 'A' && ch <= 'Z') {
        out.push_back(static_cast<char>(ch - 'A' + 1));
        continue;
      }
      const char* specials = "@[\\]^_";
      if (const char* p = std::strchr(specials, ch); p && ch) {
        out.push_back(static_cast<char>(p - specials == 0 ? 0 : 27 + (p - specials - 1)));
        continue;
      }
    }
    return Error::InvalidArgument("Invalid detach keys (" + std::string(keys) + ") provided");
  }
  return out;
}

json ToJson(const MonitorConfig& c) {
  json attaches = json::array();
  for (const auto& a : c.attaches)
    attaches.push_back({{"stdin", a.stdin},
                        {"stdout", a.stdout},
                        {"stderr", a.stderr},
                        {"detach_keys", a.detach_keys},
                        {"initial", ToHex(a.initial)}});
  return {{"id", c.id},
          {"bundle", c.bundle},
          {"runtime_root", c.runtime_root},
          {"run_dir", c.run_dir},
          {"log_path", c.log_path},
          {"log_max_size", c.log_max_size},
          {"log_max_files", c.log_max_files},
          {"tty", c.tty},
          {"open_stdin", c.open_stdin},
          {"stdin_once", c.stdin_once},
          {"console_height", c.console_height},
          {"console_width", c.console_width},
          {"rootfs_mount", c.rootfs_mount},
          {"attaches", attaches}};
}

Result<MonitorConfig> MonitorConfigFromJson(const json& j) {
  MonitorConfig c;
  try {
    c.id = j.at("id").get<std::string>();
    c.bundle = j.at("bundle").get<std::string>();
    c.runtime_root = j.at("runtime_root").get<std::string>();
    c.run_dir = j.at("run_dir").get<std::string>();
    c.log_path = j.value("log_path", "");
    c.log_max_size = j.value("log_max_size", int64_t{0});
    c.log_max_files = j.value("log_max_files", 1);
    c.tty = j.value("tty", false);
    c.open_stdin = j.value("open_stdin", false);
    c.stdin_once = j.value("stdin_once", false);
    c.console_height = j.value("console_height", 0u);
    c.console_width = j.value("console_width", 0u);
    c.rootfs_mount = j.value("rootfs_mount", "");
    for (const auto& a : j.value("attaches", json::array()))
      c.attaches.push_back({.stdin = a.value("stdin", false),
                            .stdout = a.value("stdout", true),
                            .stderr = a.value("stderr", true),
                            .detach_keys = a.value("detach_keys", ""),
                            .initial = FromHex(a.value("initial", ""))});
  } catch (const json::exception& e) {
    return Error::InvalidArgument(std::string("monitor config: ") + e.what());
  }
  return c;
}

int RunMonitor(const MonitorConfig& config, Fd report, std::vector<Fd> attach_fds) {
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);
  Monitor m(config, std::move(report));
  return m.Run(std::move(attach_fds));
}

}  // namespace berth::engine::monitor
