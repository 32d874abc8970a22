#pragma once

// The HTTP types the Engine API's routes see: plain structs, no Boost. The server
// (server.cc, Boost.Beast) parses requests into these and writes Responses back, so only one
// translation unit of the tree pays for Beast's headers (DESIGN.md, Dependencies).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace berth::api {

struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
  using is_transparent = void;
};

/// Streams a request body that the server did not read into memory (routes that take archives).
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  /// Up to n bytes into buf; 0 at the end of the body.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

struct Request {
  std::string method;       // GET, HEAD, POST, PUT, DELETE
  std::string target;       // as sent: /v1.44/images/json?all=1
  std::string path;         // without the version prefix and query: /images/json
  std::string api_version;  // "1.44" from a /v1.44/ prefix, "" without one
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::map<std::string, std::string> params;  // {name} segments of the matched route
  std::string body;                           // the whole body, unless the route streams it
  BodyReader* body_stream = nullptr;          // the body, for streaming routes

  /// The last value of a query parameter, or def.
  std::string Query(std::string_view key, std::string def = "") const;
  /// Docker's boolean query values: "1", "true", "True" (anything but "", "0", "false").
  bool QueryBool(std::string_view key, bool def = false) const;
  std::string Header(std::string_view key) const;
};

/// Writes a streamed response body: chunks as they come (Docker's JSON progress, events).
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  /// One chunk, sent at once. An error means the client went away: stop producing.
  virtual Result<void> Write(std::string_view data) = 0;
  /// True once the client has hung up (or shut its sending side), seen without writing: a
  /// stream that waits long between chunks (logs -f of a quiet container, events) checks it
  /// so that a client gone does not hold a thread until the next chunk.
  virtual bool ClientGone() const { return false; }
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// When set, the body is produced by this function after the headers are sent (chunked).
  std::function<Result<void>(BodyWriter&)> stream;
  /// With stream: the exact length of the body, sent as Content-Length instead of chunked
  /// framing (the stream must write exactly that many bytes: registry blobs). For HEAD: the
  /// Content-Length to announce for a body that is not sent.
  std::optional<uint64_t> content_length;
  /// When set, the connection is taken over once the status line and headers are sent (no
  /// body framing): attach and exec streams. fn gets the socket and the bytes the client sent
  /// past its request (the start of its stream); it dups what it keeps: the server closes its
  /// own fd when fn returns. Status 101 with Upgrade: tcp when the client asked for it.
  std::function<void(int fd, std::string_view buffered)> hijack;

  Response& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

/// A JSON body (already serialised) with Content-Type application/json.
Response JsonResponse(int status, std::string json);
/// Docker's error shape, {"message": "..."}, with the status the error's code maps to.
Response ErrorResponse(const Error& error);
/// The HTTP status of an error code (moby's httpstatus.FromError): NotFound 404,
/// InvalidArgument 400, AlreadyExists and Conflict 409, FailedPrecondition 409 (e.g. a running
/// container), PermissionDenied 403, NotImplemented 501, Unavailable 503, else 500.
int HttpStatus(ErrorCode code);

}  // namespace berth::api
