// The DNS server's thread: epoll over the per-container sockets and the forwarders' sockets.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include "net/dns.h"
#include "net/netns.h"
#include "util/fd.h"
#include "util/log.h"

namespace berth::net::dns {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxTcpConnsPerNs = 16;
constexpr size_t kMaxPending = 1024;

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

// "IP", "IP:PORT", "[IPv6]:PORT".
Result<Endpoint> ParseEndpoint(const std::string& text, uint16_t default_port) {
  std::string host = text;
  uint16_t port = default_port;
  auto parse_port = [&](std::string_view p) -> bool {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || ptr != p.data() + p.size() || v == 0 || v > 65535) return false;
    port = static_cast<uint16_t>(v);
    return true;
  };
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return Error::InvalidArgument("dns: bad address " + text);
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':' || !parse_port(std::string_view(text).substr(close + 2))) {
        return Error::InvalidArgument("dns: bad address " + text);
      }
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    if (!parse_port(std::string_view(text).substr(colon + 1))) {
      return Error::InvalidArgument("dns: bad address " + text);
    }
  }
  IpAddr a = BERTH_TRY(IpAddr::Parse(host));
  Endpoint e;
  if (a.is_v4()) {
    auto* s = reinterpret_cast<sockaddr_in*>(&e.addr);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    memcpy(&s->sin_addr, a.bytes.data(), 4);
    e.len = sizeof(*s);
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&e.addr);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    memcpy(&s->sin6_addr, a.bytes.data(), 16);
    e.len = sizeof(*s);
  }
  return e;
}

struct Namespace {
  std::string key;
  Resolver resolver;
  Fd udp;
  Fd tcp;
  std::map<int, Fd> conns;  // TCP clients
};

// A TCP client's read buffer.
struct TcpConn {
  std::string key;
  std::vector<uint8_t> buf;
};

// A query sent upstream, waiting for its answer.
struct Pending {
  std::string key;
  bool tcp = false;
  int client_fd = -1;  // the ns UDP socket or the TCP connection
  Endpoint client;
  std::vector<uint8_t> query;
  size_t upstream = 0;
  Clock::time_point deadline;
  Fd sock;  // connected to the upstream, in berthd's netns
};

class EpollDnsServer final : public DnsServer {
 public:
  explicit EpollDnsServer(Options o) : options_(std::move(o)) {}
  ~EpollDnsServer() override {
    stop_ = true;
    uint64_t one = 1;
    (void)!write(wake_.get(), &one, sizeof(one));
    if (thread_.joinable()) thread_.join();
  }

  Result<void> Init() {
    BERTH_TRY(SetUpstreamsChecked(options_.upstreams));
    BERTH_TRY(IpAddr::Parse(options_.listen_address));
    ep_ = Fd(epoll_create1(EPOLL_CLOEXEC));
    if (!ep_) return Error::FromErrno(errno, "dns: epoll_create1");
    wake_ = Fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_) return Error::FromErrno(errno, "dns: eventfd");
    BERTH_TRY(Watch(wake_.get()));
    thread_ = std::thread([this] { Loop(); });
    return {};
  }

  Result<void> AddNamespace(const std::string& key, const std::string& netns_path,
                            Resolver resolver) override {
    {
      std::lock_guard lock(mu_);
      if (namespaces_.count(key)) return Error::AlreadyExists("dns: namespace " + key);
    }
    Endpoint listen = BERTH_TRY(ParseEndpoint(options_.listen_address, options_.listen_port));
    auto open = [&](int type) -> Result<Fd> {
      return InNetns(netns_path, [&]() -> Result<Fd> {
        Fd s(socket(listen.addr.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (!s) return Error::FromErrno(errno, "socket");
        int one = 1;
        if (type == SOCK_STREAM) setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(s.get(), reinterpret_cast<const sockaddr*>(&listen.addr), listen.len) < 0) {
          int err = errno;
          Error e = Error::FromErrno(
              err, "bind " + options_.listen_address + ":" + std::to_string(options_.listen_port));
          if (err == EADDRINUSE) return Error(ErrorCode::kConflict, e.message(), err);
          return e;
        }
        if (type == SOCK_STREAM && listen_backlog(s.get()) < 0) {
          return Error::FromErrno(errno, "listen");
        }
        return s;
      });
    };
    auto ns = std::make_unique<Namespace>();
    ns->key = key;
    ns->resolver = std::move(resolver);
    ns->udp = BERTH_TRY_CTX(open(SOCK_DGRAM), "dns: namespace " + key);
    ns->tcp = BERTH_TRY_CTX(open(SOCK_STREAM), "dns: namespace " + key);
    std::lock_guard lock(mu_);
    if (namespaces_.count(key)) return Error::AlreadyExists("dns: namespace " + key);
    BERTH_TRY(Watch(ns->udp.get()));
    BERTH_TRY(Watch(ns->tcp.get()));
    fd_owner_[ns->udp.get()] = key;
    fd_owner_[ns->tcp.get()] = key;
    namespaces_[key] = std::move(ns);
    return {};
  }

  void RemoveNamespace(const std::string& key) override {
    std::lock_guard lock(mu_);
    auto it = namespaces_.find(key);
    if (it == namespaces_.end()) return;
    Namespace& ns = *it->second;
    for (int fd : {ns.udp.get(), ns.tcp.get()}) Forget(fd);
    for (auto& [fd, conn] : ns.conns) Forget(fd);
    for (auto p = pending_.begin(); p != pending_.end();) {
      if (p->second.key == key) {
        Forget(p->first);
        p = pending_.erase(p);
      } else {
        ++p;
      }
    }
    namespaces_.erase(it);
  }

  void SetUpstreams(std::vector<std::string> upstreams) override {
    std::vector<Endpoint> eps;
    for (const std::string& u : upstreams) {
      Result<Endpoint> e = ParseEndpoint(u, 53);
      if (!e) {
        log_.Warn("dns: upstream skipped: {}", e.error().message());
        continue;
      }
      eps.push_back(*e);
    }
    std::lock_guard lock(mu_);
    upstreams_ = std::move(eps);
  }

 private:
  static int listen_backlog(int fd) { return ::listen(fd, 16); }

  Result<void> SetUpstreamsChecked(const std::vector<std::string>& upstreams) {
    std::vector<Endpoint> eps;
    for (const std::string& u : upstreams) eps.push_back(BERTH_TRY(ParseEndpoint(u, 53)));
    std::lock_guard lock(mu_);
    upstreams_ = std::move(eps);
    return {};
  }

  Result<void> Watch(int fd) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
      return Error::FromErrno(errno, "dns: epoll_ctl");
    }
    return {};
  }

  // REQUIRES: mu_. Stops watching fd (its owner closes it).
  void Forget(int fd) {
    epoll_ctl(ep_.get(), EPOLL_CTL_DEL, fd, nullptr);
    fd_owner_.erase(fd);
    tcp_.erase(fd);
  }

  void Loop() {
    epoll_event events[32];
    while (!stop_) {
      int timeout = NextTimeoutMs();
      int n = epoll_wait(ep_.get(), events, 32, timeout);
      if (n < 0 && errno != EINTR) break;
      std::lock_guard lock(mu_);
      for (int i = 0; i < n; ++i) {
        try {
          Handle(events[i].data.fd);
        } catch (const std::exception& e) {
          log_.Error("dns: {}", e.what());
        }
      }
      Expire();
    }
  }

  int NextTimeoutMs() {
    std::lock_guard lock(mu_);
    if (pending_.empty()) return -1;
    auto next = Clock::time_point::max();
    for (auto& [fd, p] : pending_) next = std::min(next, p.deadline);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(ms + 1, 0, 60000));
  }

  // REQUIRES: mu_.
  void Handle(int fd) {
    if (fd == wake_.get()) {
      uint64_t v;
      (void)!read(fd, &v, sizeof(v));
      return;
    }
    if (auto p = pending_.find(fd); p != pending_.end()) return UpstreamAnswer(p);
    if (auto c = tcp_.find(fd); c != tcp_.end()) return TcpRead(fd, c->second);
    auto owner = fd_owner_.find(fd);
    if (owner == fd_owner_.end()) return;
    Namespace& ns = *namespaces_.at(owner->second);
    if (fd == ns.udp.get()) return UdpQuery(ns);
    if (fd == ns.tcp.get()) return TcpAccept(ns);
  }

  void UdpQuery(Namespace& ns) {
    for (int i = 0; i < 64; ++i) {  // drain, bounded
      uint8_t buf[4096];
      Endpoint from;
      from.len = sizeof(from.addr);
      ssize_t n = recvfrom(ns.udp.get(), buf, sizeof(buf), 0,
                           reinterpret_cast<sockaddr*>(&from.addr), &from.len);
      if (n < 0) return;
      Answer(ns, false, ns.udp.get(), from, std::span<const uint8_t>(buf, n));
    }
  }

  void TcpAccept(Namespace& ns) {
    int c = accept4(ns.tcp.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) return;
    if (ns.conns.size() >= kMaxTcpConnsPerNs || !Watch(c)) {
      close(c);
      return;
    }
    ns.conns[c] = Fd(c);
    fd_owner_[c] = ns.key;
    tcp_[c] = TcpConn{ns.key, {}};
  }

  // Closes a TCP client and drops the queries it has upstream (their answer has nowhere to go,
  // and the fd number may be reused).
  void CloseTcp(int fd, const std::string& key) {
    for (auto p = pending_.begin(); p != pending_.end();) {
      if (p->second.tcp && p->second.client_fd == fd) {
        Forget(p->first);
        p = pending_.erase(p);
      } else {
        ++p;
      }
    }
    Forget(fd);
    if (auto it = namespaces_.find(key); it != namespaces_.end()) it->second->conns.erase(fd);
  }

  void TcpRead(int fd, TcpConn& conn) {
    std::string key = conn.key;
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) CloseTcp(fd, key);
      return;
    }
    conn.buf.insert(conn.buf.end(), buf, buf + n);
    while (conn.buf.size() >= 2) {
      size_t len = static_cast<size_t>(conn.buf[0] << 8 | conn.buf[1]);
      if (len == 0) return CloseTcp(fd, key);
      if (conn.buf.size() < 2 + len) return;
      std::vector<uint8_t> msg(conn.buf.begin() + 2, conn.buf.begin() + 2 + len);
      conn.buf.erase(conn.buf.begin(), conn.buf.begin() + 2 + len);
      Answer(*namespaces_.at(key), true, fd, {}, msg);
      if (!tcp_.count(fd)) return;  // closed while answering
    }
  }

  void Send(bool tcp, int fd, const Endpoint& to, std::span<const uint8_t> msg) {
    if (msg.empty()) return;
    if (!tcp) {
      sendto(fd, msg.data(), msg.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to.addr),
             to.len);
      return;
    }
    std::vector<uint8_t> framed = {static_cast<uint8_t>(msg.size() >> 8),
                                   static_cast<uint8_t>(msg.size() & 0xff)};
    framed.insert(framed.end(), msg.begin(), msg.end());
    // Answers are small; a client that does not read them loses its connection.
    if (send(fd, framed.data(), framed.size(), MSG_DONTWAIT | MSG_NOSIGNAL) !=
        static_cast<ssize_t>(framed.size())) {
      auto c = tcp_.find(fd);
      if (c != tcp_.end()) CloseTcp(fd, c->second.key);
    }
  }

  void Answer(Namespace& ns, bool tcp, int fd, const Endpoint& from,
              std::span<const uint8_t> query) {
    Reply r = BuildReply(query, ns.resolver, !upstreams_.empty(), tcp);
    if (!r.forward) return Send(tcp, fd, from, r.packet);
    if (pending_.size() >= kMaxPending) {
      return Send(tcp, fd, from, ErrorReply(query, kRcodeServFail));
    }
    Pending p;
    p.key = ns.key;
    p.tcp = tcp;
    p.client_fd = fd;
    p.client = from;
    p.query.assign(query.begin(), query.end());
    StartUpstream(std::move(p), 0);
  }

  // Sends p's query to upstream i (or SERVFAIL when none is left).
  void StartUpstream(Pending p, size_t i) {
    for (; i < upstreams_.size(); ++i) {
      const Endpoint& up = upstreams_[i];
      // Made on this thread, so in berthd's netns: the container may have no route out.
      Fd s(socket(up.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      if (!s) continue;
      if (connect(s.get(), reinterpret_cast<const sockaddr*>(&up.addr), up.len) < 0) continue;
      if (send(s.get(), p.query.data(), p.query.size(), 0) < 0) continue;
      if (!Watch(s.get())) continue;
      p.upstream = i;
      p.deadline = Clock::now() + std::chrono::milliseconds(options_.upstream_timeout_ms);
      int fd = s.get();
      p.sock = std::move(s);
      pending_[fd] = std::move(p);
      return;
    }
    Send(p.tcp, p.client_fd, p.client, ErrorReply(p.query, kRcodeServFail));
  }

  void UpstreamAnswer(std::map<int, Pending>::iterator it) {
    uint8_t buf[65535];
    ssize_t n = recv(it->first, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;  // a stale event
    Pending p = std::move(it->second);
    Forget(it->first);
    pending_.erase(it);
    // Only an answer to our query (same id) goes back; anything else: try the next one.
    if (n < 12 || buf[0] != p.query[0] || buf[1] != p.query[1] || !(buf[2] & 0x80)) {
      size_t next = p.upstream + 1;
      return StartUpstream(std::move(p), next);
    }
    Send(p.tcp, p.client_fd, p.client, std::span<const uint8_t>(buf, n));
  }

  void Expire() {
    auto now = Clock::now();
    std::vector<Pending> late;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->second.deadline <= now) {
        late.push_back(std::move(it->second));
        int fd = it->first;
        it = pending_.erase(it);
        Forget(fd);
      } else {
        ++it;
      }
    }
    for (Pending& p : late) {
      size_t next = p.upstream + 1;
      StartUpstream(std::move(p), next);
    }
  }

  Options options_;
  Fd ep_;
  Fd wake_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;  // guards everything below; held by the thread while it handles events
  std::vector<Endpoint> upstreams_;
  std::map<std::string, std::unique_ptr<Namespace>> namespaces_;
  std::map<int, std::string> fd_owner_;
  std::map<int, TcpConn> tcp_;
  std::map<int, Pending> pending_;
  log::Logger log_{"net"};
};

}  // namespace

Result<std::unique_ptr<DnsServer>> DnsServer::Start(Options options) {
  auto s = std::make_unique<EpollDnsServer>(std::move(options));
  BERTH_TRY(s->Init());
  return std::unique_ptr<DnsServer>(std::move(s));
}

}  // namespace berth::net::dns
