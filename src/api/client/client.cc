#include <utility>  // Boost 1.74's Asio uses std::exchange without including it

#include "api/client/client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "api/http/fd_stream_internal.h"

namespace berth::api {
namespace {

namespace beast = boost::beast;
namespace http = boost::beast::http;

// What a request needs besides its method, path and body, as Do sends them.
http::request<http::string_body> MakeRequest(
    std::string_view method, std::string_view path, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  http::request<http::string_body> req{http::string_to_verb(std::string(method)), std::string(path),
                                       11};
  req.set(http::field::host, "berth");
  req.set(http::field::user_agent, "berth-cli/0.1.0");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.body() = std::string(body);
    req.prepare_payload();
  }
  return req;
}

std::map<std::string, std::string> LowercaseHeaders(const http::fields& fields) {
  std::map<std::string, std::string> out;
  for (const auto& f : fields) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[name] = std::string(f.value());
  }
  return out;
}

}  // namespace

struct PendingResponse::Impl {
  Fd fd;
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  std::map<std::string, std::string> headers;
  std::string host;
};

PendingResponse::PendingResponse(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PendingResponse::~PendingResponse() = default;

int PendingResponse::status() const {
  return impl_ ? static_cast<int>(impl_->parser.get().result_int()) : 0;
}

const std::map<std::string, std::string>& PendingResponse::headers() const {
  static const std::map<std::string, std::string> kNone;
  return impl_ ? impl_->headers : kNone;
}

int PendingResponse::fd() const { return impl_ ? impl_->fd.get() : -1; }

Result<std::string> PendingResponse::ReadBody() {
  std::string body;
  for (;;) {
    bool more = BERTH_TRY(ReadSome(&body));
    if (!more) return body;
    if (body.size() > (64u << 20)) return Error::InvalidArgument("answer larger than 64 MiB");
  }
}

Result<bool> PendingResponse::ReadSome(std::string* out) {
  if (!impl_) return Error::FailedPrecondition("response already taken over");
  auto& parser = impl_->parser;
  if (parser.get().result_int() == 101 || parser.is_done()) return false;
  internal::FdStream stream(impl_->fd.get());
  char chunk[65536];
  for (;;) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    boost::system::error_code ec;
    http::read_some(stream, impl_->buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return Error::Unavailable("read from " + impl_->host + ": " + ec.message());
    size_t got = sizeof chunk - parser.get().body().size;
    out->append(chunk, got);
    if (got > 0) return true;
    if (parser.is_done()) return false;
  }
}

PendingResponse::Raw PendingResponse::TakeConnection() {
  Raw raw;
  if (!impl_) return raw;
  auto data = impl_->buffer.data();
  raw.buffered.assign(static_cast<const char*>(data.data()), data.size());
  raw.fd = std::move(impl_->fd);
  impl_.reset();
  return raw;
}

Client::Client(std::string host) : host_(std::move(host)) {
  socket_path_ = host_.rfind("unix://", 0) == 0 ? host_.substr(7) : host_;
}

Client::~Client() = default;

std::string Client::DefaultHost() {
  for (const char* var : {"BERTH_HOST", "DOCKER_HOST"}) {
    const char* v = std::getenv(var);
    if (v && *v) return v;
  }
  return "unix:///run/berth/berth.sock";
}

Result<Fd> Client::Dial() const {
  auto unavailable = [&] {
    return Error::Unavailable("Cannot connect to the Berth daemon at " + host_ +
                              ". Is the berthd daemon running?");
  };
  if (host_.rfind("unix://", 0) != 0 && host_.find("://") != std::string::npos)
    return Error::InvalidArgument("unsupported host " + host_ + ": only unix:// sockets");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path) return unavailable();
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size());
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Error::FromErrno(errno, "socket");
  Fd fd(s);
  if (::connect(s, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
    if (errno == EACCES)
      return Error::PermissionDenied(
          "permission denied while trying to connect to the Berth daemon socket at " + host_);
    return unavailable();
  }
  return fd;
}

Result<void> Client::Connect() {
  fd_ = BERTH_TRY(Dial());
  return {};
}

Result<ClientResponse> Client::Do(std::string_view method, std::string_view path,
                                  std::string_view body,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::function<bool(std::string_view)>& on_chunk) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = fd_.valid();
    if (!fd_) BERTH_TRY(Connect());
    internal::FdStream stream(fd_.get());
    auto req = MakeRequest(method, path, body, headers);
    boost::system::error_code ec;
    http::write(stream, req, ec);
    if (ec) {
      fd_.Reset();
      if (reused) continue;
      return Error::Unavailable("send to " + host_ + ": " + ec.message());
    }
    beast::flat_buffer buffer;
    // Beast reads min(free capacity, 64 KiB) at a time, and at least 512 bytes: without room
    // reserved a 100 MB body arrives in ~200,000 reads of 512 bytes.
    buffer.reserve(64 << 10);
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (method == "HEAD") parser.skip(true);
    http::read_header(stream, buffer, parser, ec);
    if (ec) {
      fd_.Reset();
      if (reused && ec == internal::net::error::eof)
        continue;  // the daemon closed a kept-alive one
      return Error::Unavailable("read from " + host_ + ": " + ec.message());
    }
    ClientResponse out;
    out.status = static_cast<int>(parser.get().result_int());
    out.headers = LowercaseHeaders(parser.get());
    bool keep = parser.get().keep_alive();
    char chunk[65536];
    bool stop = false;
    while (!parser.is_done() && method != "HEAD") {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      // a stream (events, stats, progress) goes to on_chunk as it arrives: read_some returns
      // with what is there instead of waiting for 64 KiB
      if (on_chunk)
        http::read_some(stream, buffer, parser, ec);
      else
        http::read(stream, buffer, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        fd_.Reset();
        return Error::Unavailable("read from " + host_ + ": " + ec.message());
      }
      std::string_view got(chunk, sizeof chunk - parser.get().body().size);
      if (on_chunk) {
        if (!got.empty() && !on_chunk(got)) {
          stop = true;
          break;
        }
      } else {
        out.body.append(got);
      }
    }
    if (!keep || stop) fd_.Reset();
    return out;
  }
  return Error::Unavailable("Cannot connect to the Berth daemon at " + host_);
}

Result<std::unique_ptr<PendingResponse>> Client::Send(
    std::string_view method, std::string_view path, std::string_view body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  auto impl = std::make_unique<PendingResponse::Impl>();
  impl->fd = BERTH_TRY(Dial());
  impl->host = host_;
  internal::FdStream stream(impl->fd.get());
  auto req = MakeRequest(method, path, body, headers);
  boost::system::error_code ec;
  http::write(stream, req, ec);
  if (ec) return Error::Unavailable("send to " + host_ + ": " + ec.message());
  impl->parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  // The headers only: what follows them (a hijacked stream) stays in the buffer for the caller.
  http::read_header(stream, impl->buffer, impl->parser, ec);
  if (ec) return Error::Unavailable("read from " + host_ + ": " + ec.message());
  impl->headers = LowercaseHeaders(impl->parser.get());
  return std::make_unique<PendingResponse>(std::move(impl));
}

Result<std::unique_ptr<PendingResponse>> Client::Hijack(
    std::string_view method, std::string_view path, std::string_view body,
    std::vector<std::pair<std::string, std::string>> headers) {
  headers.emplace_back("Connection", "Upgrade");
  headers.emplace_back("Upgrade", "tcp");
  return Send(method, path, body, headers);
}

Result<std::unique_ptr<PendingResponse>> Client::SendStream(
    std::string_view method, std::string_view path,
    const std::function<Result<size_t>(char* buf, size_t n)>& body,
    const std::vector<std::pair<std::string, std::string>>& headers) {
  auto impl = std::make_unique<PendingResponse::Impl>();
  impl->fd = BERTH_TRY(Dial());
  impl->host = host_;
  internal::FdStream stream(impl->fd.get());
  http::request<http::empty_body> req{http::string_to_verb(std::string(method)), std::string(path),
                                      11};
  req.set(http::field::host, "berth");
  req.set(http::field::user_agent, "berth-cli/0.1.0");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.chunked(true);
  http::request_serializer<http::empty_body> sr{req};
  boost::system::error_code ec;
  http::write_header(stream, sr, ec);
  std::string buf(256 * 1024, '\0');
  while (!ec) {
    size_t n = BERTH_TRY(body(buf.data(), buf.size()));
    if (n == 0) {
      internal::net::write(stream, http::make_chunk_last(), ec);
      break;
    }
    internal::net::write(stream, http::make_chunk(internal::net::buffer(buf.data(), n)), ec);
  }
  // A daemon that stopped reading (an error before the end of the body) has answered: read it.
  boost::system::error_code send_ec = ec;
  ec = {};
  impl->parser.body_limit(64u << 20);
  http::read_header(stream, impl->buffer, impl->parser, ec);
  if (ec && send_ec) return Error::Unavailable("send to " + host_ + ": " + send_ec.message());
  if (ec) return Error::Unavailable("read from " + host_ + ": " + ec.message());
  impl->headers = LowercaseHeaders(impl->parser.get());
  return std::make_unique<PendingResponse>(std::move(impl));
}

}  // namespace berth::api
