#include <utility>  // Boost 1.74's Asio uses std::exchange without including it

#include "distribution/http_client.h"

#include <dirent.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <memory>
#include <optional>

namespace berth::distribution {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

class BeastResponse final : public HttpResponse {
 public:
  BeastResponse(std::string what) : what_(std::move(what)), socket_(io_) {}

  // Calls f with the stream the request goes over: the socket, or TLS over it.
  template <class F>
  auto OnStream(F&& f) {
    if (tls_) return f(*tls_);
    return f(socket_);
  }

  // TLS over the connected socket: the server's certificate checked against the system's CAs
  // and the *.crt files of ca_dir (docker's /etc/docker/certs.d/HOST:PORT), and its name
  // against the host, unless verify is off (an insecure registry).
  Result<void> Handshake(const HttpRequest& r, const std::string& host) {
    ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (r.tls_verify) {
      ctx_->set_default_verify_paths(ec);
      if (!r.ca_dir.empty()) {
        if (DIR* d = ::opendir(r.ca_dir.c_str())) {
          while (dirent* e = ::readdir(d)) {
            std::string name = e->d_name;
            if (name.size() > 4 && name.compare(name.size() - 4, 4, ".crt") == 0)
              ctx_->load_verify_file(r.ca_dir + "/" + name, ec);
          }
          ::closedir(d);
        }
      }
      ctx_->set_verify_mode(asio::ssl::verify_peer);
    } else {
      ctx_->set_verify_mode(asio::ssl::verify_none);
    }
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *ctx_);
    if (r.tls_verify) tls_->set_verify_callback(asio::ssl::host_name_verification(host));
    ::SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    tls_->handshake(asio::ssl::stream_base::client, ec);
    if (ec) return Error::Unavailable(what_ + ": tls handshake: " + ec.message());
    return {};
  }

  Result<void> Send(const HttpRequest& r) {
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    std::string host = r.url.host;
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    auto endpoints = resolver.resolve(host, r.url.port, ec);
    if (ec) return Error::Unavailable(what_ + ": lookup " + host + ": " + ec.message());
    asio::connect(socket_, endpoints, ec);
    if (ec)
      return Error::Unavailable(what_ + ": dial tcp " + r.url.Authority() + ": " + ec.message());
    timeout_ = r.timeout;
    struct timeval tv = {static_cast<time_t>(r.timeout.count()), 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (r.url.scheme == "https") BERTH_TRY(Handshake(r, host));

    if (r.body_source) {
      BERTH_TRY(SendStreamed(r));
    } else {
      http::request<http::string_body> req{http::string_to_verb(r.method), r.url.target, 11};
      req.set(http::field::host, r.url.Authority());
      req.set(http::field::user_agent, "berth/0.1.0");
      for (const auto& [k, v] : r.headers) req.set(k, v);
      if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
        req.body() = r.body;
        req.prepare_payload();
      }
      OnStream([&](auto& stream) { http::write(stream, req, ec); });
      if (ec) return Error::Unavailable(what_ + ": " + ec.message());
    }
    buffer_.reserve(64 << 10);
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (r.method == "HEAD") parser_.skip(true);
    return ReadWithin("read response", [&](auto& stream, auto&& done) {
      http::async_read_header(stream, buffer_, parser_, std::move(done));
    });
  }

  // The headers with Content-Length, then body_length bytes of body_source as they come.
  Result<void> SendStreamed(const HttpRequest& r) {
    boost::system::error_code ec;
    http::request<http::empty_body> req{http::string_to_verb(r.method), r.url.target, 11};
    req.set(http::field::host, r.url.Authority());
    req.set(http::field::user_agent, "berth/0.1.0");
    for (const auto& [k, v] : r.headers) req.set(k, v);
    req.content_length(static_cast<uint64_t>(r.body_length));
    http::request_serializer<http::empty_body> sr{req};
    OnStream([&](auto& stream) { http::write_header(stream, sr, ec); });
    if (ec) return Error::Unavailable(what_ + ": " + ec.message());
    std::string buf(256 << 10, '\0');
    int64_t left = r.body_length;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf.size())));
      size_t n = BERTH_TRY(r.body_source(buf.data(), want));
      if (n == 0)
        return Error::DataLoss(what_ + ": the body ended " + std::to_string(left) + " bytes early");
      OnStream([&](auto& stream) { asio::write(stream, asio::buffer(buf.data(), n), ec); });
      if (ec) return Error::Unavailable(what_ + ": " + ec.message());
      left -= static_cast<int64_t>(n);
    }
    return {};
  }

  // Asio's blocking reads wait in poll(-1) when recv gives EAGAIN, so SO_RCVTIMEO alone never
  // ends a read of a registry that stopped sending (and polling the fd misses what asio's TLS
  // engine has already buffered): reads run asynchronously on io_ for at most the request's
  // timeout, and are cancelled after it.
  template <class Start>
  Result<void> ReadWithin(const char* what, Start&& start) {
    boost::system::error_code ec;
    bool done = false;
    OnStream([&](auto& stream) {
      start(stream, [&](boost::system::error_code e, size_t) {
        ec = e;
        done = true;
      });
    });
    io_.restart();
    io_.run_for(timeout_);
    if (!done) {
      boost::system::error_code ignored;
      socket_.cancel(ignored);
      io_.restart();
      io_.run();
      return Error::Unavailable(what_ + ": " + what + ": no data for " +
                                std::to_string(timeout_.count()) + " s");
    }
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return Error::Unavailable(what_ + ": " + what + ": " + ec.message());
    return {};
  }

  int status() const override { return static_cast<int>(parser_.get().result_int()); }
  std::string Header(std::string_view name) const override {
    auto it = parser_.get().find(beast::string_view(name.data(), name.size()));
    if (it == parser_.get().end()) return "";
    return std::string(it->value());
  }
  int64_t ContentLength() const override {
    auto n = parser_.content_length();
    return n ? static_cast<int64_t>(*n) : -1;
  }
  Result<size_t> Read(char* buf, size_t n) override {
    // A body that failed once fails again at once: its stream and parser are not read again
    // (another read of a connection that ended waited out the whole timeout).
    if (failed_) return *failed_;
    while (!parser_.is_done()) {
      parser_.get().body().data = buf;
      parser_.get().body().size = n;
      auto r = ReadWithin("read body", [&](auto& stream, auto&& done) {
        http::async_read_some(stream, buffer_, parser_, std::move(done));
      });
      if (!r) {
        failed_ = r.error();
        return std::move(r).error();
      }
      size_t got = n - parser_.get().body().size;
      if (got > 0) return got;
    }
    return size_t{0};
  }

 private:
  std::string what_;
  std::chrono::seconds timeout_{60};
  std::optional<Error> failed_;
  asio::io_context io_;
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::context> ctx_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  beast::flat_buffer buffer_;
  http::response_parser<http::buffer_body> parser_;
};

}  // namespace

Result<std::string> HttpResponse::ReadAll(size_t max_bytes) {
  std::string out;
  char buf[65536];
  for (;;) {
    size_t n = BERTH_TRY(Read(buf, sizeof buf));
    if (n == 0) return out;
    out.append(buf, n);
    if (out.size() > max_bytes)
      return Error::InvalidArgument("response larger than " + std::to_string(max_bytes) + " bytes");
  }
}

Result<std::unique_ptr<HttpResponse>> HttpSend(const HttpRequest& request) {
  std::string what = request.method + " " + request.url.String();
  if (request.url.scheme != "http" && request.url.scheme != "https")
    return Error::InvalidArgument(what + ": unsupported scheme");
  auto res = std::make_unique<BeastResponse>(what);
  try {
    BERTH_TRY(res->Send(request));
  } catch (const std::exception& e) {
    return Error::Unavailable(what + ": " + e.what());
  }
  return std::unique_ptr<HttpResponse>(std::move(res));
}

}  // namespace berth::distribution
