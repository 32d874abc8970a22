#include "registry/tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "util/log.h"

namespace berth::registry {
namespace {

const auto& logger = log::Get("registry");

constexpr int kHandshakeSeconds = 30;

std::string SslError(std::string_view what) {
  unsigned long e = ERR_get_error();
  char buf[256] = {};
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return std::string(what) + (e ? std::string(": ") + buf : "");
}

bool WaitFor(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, -1);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

bool WriteAllFd(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// SSL_write of all of data on a non-blocking socket.
bool SslWriteAll(SSL* ssl, int tcp, const char* data, size_t n) {
  while (n > 0) {
    int w = SSL_write(ssl, data, static_cast<int>(std::min<size_t>(n, 1 << 20)));
    if (w > 0) {
      data += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    int e = SSL_get_error(ssl, w);
    if (e == SSL_ERROR_WANT_WRITE && WaitFor(tcp, POLLOUT)) continue;
    if (e == SSL_ERROR_WANT_READ && WaitFor(tcp, POLLIN)) continue;
    return false;
  }
  return true;
}

// Moves bytes between the TLS session on tcp and the server's end, plain, until both sides
// are done. The client's close reaches the server as EOF (shutdown SHUT_WR); the server's
// close ends the session.
void Relay(SSL* ssl, int tcp, int plain) {
  std::vector<char> buf(64 << 10);
  bool client_open = true;
  for (;;) {
    // Decrypt all the client sent (SSL may hold whole records already read: SSL_pending).
    while (client_open) {
      int n = SSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
      if (n > 0) {
        if (!WriteAllFd(plain, buf.data(), static_cast<size_t>(n))) return;
        continue;
      }
      int e = SSL_get_error(ssl, n);
      if (e == SSL_ERROR_WANT_READ) break;
      if (e == SSL_ERROR_WANT_WRITE) {
        if (!WaitFor(tcp, POLLOUT)) return;
        continue;
      }
      ERR_clear_error();
      client_open = false;  // close_notify, a reset or garbage: no more from the client
      ::shutdown(plain, SHUT_WR);
    }
    struct pollfd p[2] = {{plain, POLLIN, 0},
                          {tcp, static_cast<short>(client_open ? POLLIN : 0), 0}};
    int r = ::poll(p, client_open ? 2 : 1, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(plain, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        SSL_shutdown(ssl);  // the server closed: send close_notify
        return;
      }
      if (!SslWriteAll(ssl, tcp, buf.data(), static_cast<size_t>(n))) return;
    }
  }
}

}  // namespace

Result<std::unique_ptr<TlsFront>> TlsFront::Create(const std::string& cert_file,
                                                   const std::string& key_file) {
  std::unique_ptr<TlsFront> t(new TlsFront());
  t->ctx_ = SSL_CTX_new(TLS_server_method());
  if (!t->ctx_) return Error::Internal(SslError("SSL_CTX_new"));
  SSL_CTX_set_min_proto_version(t->ctx_, TLS1_2_VERSION);
  SSL_CTX_set_options(t->ctx_, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(t->ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(t->ctx_, cert_file.c_str()) != 1)
    return Error::InvalidArgument(SslError("TLS certificate " + cert_file));
  if (SSL_CTX_use_PrivateKey_file(t->ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return Error::InvalidArgument(SslError("TLS key " + key_file));
  if (SSL_CTX_check_private_key(t->ctx_) != 1)
    return Error::InvalidArgument(SslError("TLS key " + key_file + " does not match " + cert_file));
  return t;
}

TlsFront::~TlsFront() { SSL_CTX_free(ctx_); }

Result<uint16_t> TlsFront::Listen(const std::string& host, uint16_t port) {
  struct sockaddr_storage ss = {};
  socklen_t len = 0;
  auto* in4 = reinterpret_cast<struct sockaddr_in*>(&ss);
  auto* in6 = reinterpret_cast<struct sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    len = sizeof *in4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    len = sizeof *in6;
  } else {
    return Error::InvalidArgument("not an IP address: " + host);
  }
  int s = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Error::FromErrno(errno, "socket");
  Fd fd(s);
  int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  std::string where =
      (ss.ss_family == AF_INET6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  if (::bind(s, reinterpret_cast<struct sockaddr*>(&ss), len) < 0 || ::listen(s, 1024) < 0)
    return Error::FromErrno(errno, "listen tcp " + where);
  if (::getsockname(s, reinterpret_cast<struct sockaddr*>(&ss), &len) < 0)
    return Error::FromErrno(errno, "getsockname");
  listen_fd_ = std::move(fd);
  return ntohs(ss.ss_family == AF_INET6 ? in6->sin6_port : in4->sin_port);
}

void TlsFront::Stop() {
  stopping_.store(true);
  if (listen_fd_) ::shutdown(listen_fd_.get(), SHUT_RDWR);
}

void TlsFront::Serve(api::Server& server) {
  while (!stopping_.load()) {
    int c = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (stopping_.load()) break;
      if (errno == EMFILE || errno == ENFILE) {
        logger.Warn("accept: out of file descriptors; pausing");
        ::usleep(10000);
        continue;
      }
      logger.Error("accept: {}", std::strerror(errno));
      break;
    }
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    try {
      std::thread(&TlsFront::Connection, ctx_, c, &server).detach();
    } catch (const std::exception& e) {
      logger.Error("connection thread: {}", e.what());
      ::close(c);
    }
  }
}

void TlsFront::Connection(SSL_CTX* ctx, int tcp_fd, api::Server* server) {
  Fd tcp(tcp_fd);
  struct timeval tv = {kHandshakeSeconds, 0};
  ::setsockopt(tcp.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(tcp.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx), SSL_free);
  if (!ssl || SSL_set_fd(ssl.get(), tcp.get()) != 1) return;
  if (SSL_accept(ssl.get()) != 1) {
    logger.Debug("{}", SslError("TLS handshake"));
    return;
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
    logger.Error("socketpair: {}", std::strerror(errno));
    return;
  }
  Fd plain(pair[0]);
  server->ServeConnection(pair[1]);  // the server closes its end
  int flags = ::fcntl(tcp.get(), F_GETFL);
  ::fcntl(tcp.get(), F_SETFL, flags | O_NONBLOCK);
  Relay(ssl.get(), tcp.get(), plain.get());
}

}  // namespace berth::registry
