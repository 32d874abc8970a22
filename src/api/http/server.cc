// The only translation unit of the API server that includes Boost.Beast.
#include <utility>  // Boost 1.74's Asio uses std::exchange without including it (DESIGN.md)

#include "api/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <limits>

#include "api/http/fd_stream_internal.h"
#include "util/fd.h"
#include "util/log.h"

namespace berth::api {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace net = boost::asio;
using boost::system::error_code;

const auto& logger = log::Get("api");
using internal::FdStream;

using Parser = http::request_parser<http::buffer_body>;

// Reads the rest of a request body from the parser, chunk by chunk.
class ParserBodyReader : public BodyReader {
 public:
  ParserBodyReader(FdStream& stream, beast::flat_buffer& buffer, Parser& parser, bool expect)
      : stream_(stream), buffer_(buffer), parser_(parser), expect_continue_(expect) {}

  Result<size_t> Read(char* buf, size_t n) override {
    if (expect_continue_ && !parser_.is_done()) {
      // "Expect: 100-continue": the client waits for this before it sends the body (curl
      // for bodies over 1 MiB). Sent only once a route reads the body.
      expect_continue_ = false;
      static const std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      error_code ec;
      net::write(stream_, net::buffer(kContinue.data(), kContinue.size()), ec);
      if (ec) return Error::Unavailable("write 100 Continue: " + ec.message());
    }
    if (!failed_.empty()) return Error::Unavailable(failed_);
    while (!parser_.is_done()) {
      parser_.get().body().data = buf;
      parser_.get().body().size = n;
      error_code ec;
      http::read(stream_, buffer_, parser_, ec);
      if (ec == http::error::need_buffer) ec = {};
      size_t got = n - parser_.get().body().size;
      if (ec) {
        failed_ = "read request body: " + ec.message();
        // The bytes that came before the error still count (a registry upload keeps them
        // for the client to resume): the error is returned by the next call.
        if (got > 0) return got;
        return Error::Unavailable(failed_);
      }
      if (got > 0) return got;
    }
    return size_t{0};
  }

 private:
  FdStream& stream_;
  beast::flat_buffer& buffer_;
  Parser& parser_;
  bool expect_continue_;
  std::string failed_;  // the error that ended the body, once seen
};

// A peer that closed or shut down its side: a hang-up is seen without reading.
bool PeerGone(int fd) {
  struct pollfd p = {fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

// Writes a body whose length was announced in Content-Length.
class RawWriter : public BodyWriter {
 public:
  explicit RawWriter(FdStream& stream) : stream_(stream) {}
  Result<void> Write(std::string_view data) override {
    if (data.empty()) return {};
    error_code ec;
    net::write(stream_, net::buffer(data.data(), data.size()), ec);
    if (ec) return Error::Unavailable("client went away: " + ec.message());
    return {};
  }
  bool ClientGone() const override { return PeerGone(stream_.fd()); }

 private:
  FdStream& stream_;
};

class ChunkWriter : public BodyWriter {
 public:
  explicit ChunkWriter(FdStream& stream) : stream_(stream) {}
  Result<void> Write(std::string_view data) override {
    if (data.empty()) return {};
    error_code ec;
    net::write(stream_, http::make_chunk(net::buffer(data.data(), data.size())), ec);
    if (ec) return Error::Unavailable("client went away: " + ec.message());
    return {};
  }
  bool ClientGone() const override { return PeerGone(stream_.fd()); }

 private:
  FdStream& stream_;
};

// Writes a whole response; false if the connection must close.
bool WriteResponse(FdStream& stream, const Request& req, Response& res,
                   const ServerOptions& options, bool keep_alive) {
  error_code ec;
  bool head = req.method == "HEAD";
  if (res.stream && !head && res.content_length) {
    http::response<http::empty_body> h{static_cast<http::status>(res.status), 11};
    for (const auto& [k, v] : options.common_headers) h.set(k, v);
    for (const auto& [k, v] : res.headers) h.set(k, v);
    h.content_length(*res.content_length);
    h.keep_alive(keep_alive);
    http::response_serializer<http::empty_body> sr{h};
    http::write_header(stream, sr, ec);
    if (ec) return false;
    RawWriter writer(stream);
    // A stream that fails part way leaves the client short of the announced length: close.
    return res.stream(writer) && keep_alive;
  }
  if (res.stream && !head) {
    http::response<http::empty_body> h{static_cast<http::status>(res.status), 11};
    for (const auto& [k, v] : options.common_headers) h.set(k, v);
    for (const auto& [k, v] : res.headers) h.set(k, v);
    h.chunked(true);
    h.keep_alive(keep_alive);
    http::response_serializer<http::empty_body> sr{h};
    http::write_header(stream, sr, ec);
    if (ec) return false;
    ChunkWriter writer(stream);
    auto r = res.stream(writer);
    if (!r) return false;
    net::write(stream, http::make_chunk_last(), ec);
    return !ec && keep_alive;
  }
  http::response<http::string_body> out{static_cast<http::status>(res.status), 11};
  for (const auto& [k, v] : options.common_headers) out.set(k, v);
  for (const auto& [k, v] : res.headers) out.set(k, v);
  out.keep_alive(keep_alive);
  if (head) {
    out.content_length(res.content_length ? *res.content_length : res.body.size());
    http::response_serializer<http::string_body> sr{out};
    http::write_header(stream, sr, ec);
  } else {
    out.body() = std::move(res.body);
    out.prepare_payload();
    http::write(stream, out, ec);
  }
  return !ec && keep_alive;
}

struct ConnectionArg {
  Server* server;
  int fd;
};

}  // namespace

Server::Server(const Router& router, ServerOptions options)
    : router_(router), options_(std::move(options)) {}

Server::~Server() {
  if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
}

Result<void> Server::ListenUnix(const std::string& path, mode_t mode) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Error::InvalidArgument("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Error::FromErrno(errno, "socket");
  Fd fd(s);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return Error::AlreadyExists(path + " exists and is not a socket");
    ::unlink(path.c_str());
  }
  if (::bind(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0)
    return Error::FromErrno(errno, "bind " + path);
  if (::chmod(path.c_str(), mode) < 0) return Error::FromErrno(errno, "chmod " + path);
  if (::listen(s, 1024) < 0) return Error::FromErrno(errno, "listen " + path);
  listen_fd_ = std::move(fd);
  socket_path_ = path;
  return {};
}

Result<uint16_t> Server::ListenTcp(const std::string& host, uint16_t port) {
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
  if (::bind(s, reinterpret_cast<struct sockaddr*>(&ss), len) < 0)
    return Error::FromErrno(errno, "listen tcp " + where);
  if (::listen(s, 1024) < 0) return Error::FromErrno(errno, "listen tcp " + where);
  if (::getsockname(s, reinterpret_cast<struct sockaddr*>(&ss), &len) < 0)
    return Error::FromErrno(errno, "getsockname");
  listen_fd_ = std::move(fd);
  tcp_ = true;
  return ntohs(ss.ss_family == AF_INET6 ? in6->sin6_port : in4->sin_port);
}

void Server::Stop() {
  stopping_.store(true);
  if (listen_fd_) ::shutdown(listen_fd_.get(), SHUT_RDWR);
}

void Server::Serve() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 512 << 10);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
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
    if (active_.load() >= options_.max_connections) {
      static const std::string kBody = "{\"message\":\"too many connections\"}\n";
      static const std::string kBusy =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
          std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + kBody;
      (void)!::send(c, kBusy.data(), kBusy.size(), MSG_NOSIGNAL);
      ::close(c);
      continue;
    }
    if (tcp_) {
      int one = 1;  // responses are written whole: no Nagle delay before the last segment
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    active_.fetch_add(1);
    auto* arg = new ConnectionArg{this, c};
    pthread_t t;
    if (pthread_create(&t, &attr, &Server::ConnectionThread, arg) != 0) {
      active_.fetch_sub(1);
      ::close(c);
      delete arg;
    }
  }
  pthread_attr_destroy(&attr);
}

void* Server::ConnectionThread(void* p) {
  auto* arg = static_cast<ConnectionArg*>(p);
  Server* self = arg->server;
  int fd = arg->fd;
  delete arg;
  try {
    self->HandleConnection(fd);
  } catch (const std::exception& e) {
    logger.Error("connection: {}", e.what());
  } catch (...) {
    logger.Error("connection: unknown exception");
  }
  ::close(fd);
  self->active_.fetch_sub(1);
  return nullptr;
}

void Server::HandleConnection(int fd) {
  FdStream stream(fd);
  beast::flat_buffer buffer;
  // Beast reads min(free capacity, 64 KiB) at a time, and at least 512 bytes: without room
  // reserved a 100 MB body arrives in ~200,000 reads of 512 bytes.
  buffer.reserve(64 << 10);
  for (;;) {
    Parser parser;
    parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    error_code ec;
    http::read_header(stream, buffer, parser, ec);
    if (ec) {
      if (ec != net::error::eof && ec != http::error::end_of_stream &&
          ec != net::error::connection_reset) {
        Request none;
        Response bad = ErrorResponse(Error::InvalidArgument("malformed request: " + ec.message()));
        WriteResponse(stream, none, bad, options_, false);
      }
      return;
    }
    auto& h = parser.get();
    Request req;
    req.method = std::string(h.method_string());
    req.target = std::string(h.target());
    for (const auto& field : h)
      req.headers[std::string(field.name_string())] = std::string(field.value());
    bool keep_alive = h.keep_alive();
    Response res;
    bool body_consumed = false;
    if (!Router::ParseTarget(req.target, &req)) {
      res = ErrorResponse(Error::InvalidArgument("malformed request target"));
      keep_alive = false;
    } else {
      Router::Match m = router_.Find(req);
      auto expect = req.headers.find("Expect");
      bool expect_continue =
          expect != req.headers.end() && ::strcasecmp(expect->second.c_str(), "100-continue") == 0;
      ParserBodyReader reader(stream, buffer, parser, expect_continue);
      if (!m.handler) {
        res = m.path_known ? ErrorResponse(Error(ErrorCode::kNotImplemented, "method not allowed"))
                           : ErrorResponse(Error::NotFound("page not found"));
        if (m.path_known) res.status = 405;
      } else if (m.stream_body) {
        req.body_stream = &reader;
        body_consumed = true;
      } else {
        char chunk[16384];
        bool too_big = false;
        for (;;) {
          auto n = reader.Read(chunk, sizeof chunk);
          if (!n) return;
          if (*n == 0) break;
          if (req.body.size() + *n > options_.max_body_bytes) {
            too_big = true;
            break;
          }
          req.body.append(chunk, *n);
        }
        body_consumed = !too_big;
        if (too_big) {
          res = ErrorResponse(Error::InvalidArgument("request body too large"));
          res.status = 413;
          keep_alive = false;
        }
      }
      if (m.handler && body_consumed) {
        try {
          res = (*m.handler)(req);
        } catch (const std::exception& e) {
          logger.Error({{"path", req.path}}, "handler: {}", e.what());
          res = ErrorResponse(Error::Internal(e.what()));
        }
        // A streaming route that left part of its body unread: the connection cannot be reused.
        if (m.stream_body && !parser.is_done()) keep_alive = false;
      }
    }
    if (res.hijack && res.status < 300) {
      std::string head = "HTTP/1.1 " + std::to_string(res.status) +
                         (res.status == 101 ? " UPGRADED\r\n" : " OK\r\n");
      for (const auto& [k, v] : options_.common_headers) head += k + ": " + v + "\r\n";
      for (const auto& [k, v] : res.headers) head += k + ": " + v + "\r\n";
      head += "\r\n";
      if (!WriteAll(fd, head)) return;
      auto data = buffer.data();
      std::string_view rest(static_cast<const char*>(data.data()), data.size());
      logger.Debug({{"method", req.method}, {"path", req.target}}, "{} hijacked", res.status);
      res.hijack(fd, rest);
      return;
    }
    // Unread body bytes would be taken for the next request.
    if (!body_consumed && !parser.is_done()) keep_alive = false;
    logger.Debug({{"method", req.method}, {"path", req.target}}, "{}", res.status);
    if (!WriteResponse(stream, req, res, options_, keep_alive)) return;
  }
}

}  // namespace berth::api
