#pragma once

// A small blocking HTTP/1.1 client for registries, one connection per request (Boost.Beast
// inside http_client.cc only). Bodies stream: a 1 GB layer passes through a 64 KiB buffer.
//
//   auto res = BERTH_TRY(HttpSend({.method = "GET", .url = url, .headers = {{"Accept", a}}}));
//   if (res->status() == 200) while (size_t n = BERTH_TRY(res->Read(buf, sizeof buf))) ...
//
// http: and https: URLs (TLS 1.2+ through OpenSSL, the certificate verified unless the
// request says not to).
// Errors: Unavailable for a registry that cannot be reached or drops the connection, with the
// URL in the message.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "distribution/url.h"
#include "util/result.h"

namespace berth::distribution {

struct HttpRequest {
  std::string method = "GET";
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// A body streamed instead of body: body_length bytes read from body_source (a blob sent
  /// from its file without holding it in memory). Sent with Content-Length.
  std::function<Result<size_t>(char*, size_t)> body_source;
  int64_t body_length = 0;
  /// The longest a read or a connect may wait before the request fails (a registry that
  /// stops sending).
  std::chrono::seconds timeout{60};
  /// https: check the server's certificate (the system's CAs and the *.crt files of ca_dir)
  /// and its name; off for an insecure registry.
  bool tls_verify = true;
  std::string ca_dir;
};

class HttpResponse {
 public:
  virtual ~HttpResponse() = default;
  virtual int status() const = 0;
  /// A header's value ("" if absent); names are matched case-insensitively.
  virtual std::string Header(std::string_view name) const = 0;
  /// The body's length from Content-Length, or -1 if it is not known.
  virtual int64_t ContentLength() const = 0;
  /// Up to n bytes of the body into buf; 0 at its end.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  /// The whole body; InvalidArgument if it is larger than max_bytes.
  Result<std::string> ReadAll(size_t max_bytes);
};

/// Connects, sends the request and reads the response's headers.
Result<std::unique_ptr<HttpResponse>> HttpSend(const HttpRequest& request);

}  // namespace berth::distribution
