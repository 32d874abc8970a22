#pragma once

// A blocking Engine API client over a unix socket: what `berth` (and tests) use to talk to
// berthd or any Docker-compatible daemon. One connection per Client, kept alive across calls.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

namespace berth::api {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
};

/// A response whose headers have been read and whose body is still to come, on a connection of
/// its own: POST /containers/{id}/wait (the daemon sends the headers at once and the body when
/// the container exits), or a hijacked stream (attach, exec start).
class PendingResponse {
 public:
  struct Impl;
  explicit PendingResponse(std::unique_ptr<Impl> impl);
  ~PendingResponse();
  PendingResponse(const PendingResponse&) = delete;
  PendingResponse& operator=(const PendingResponse&) = delete;

  int status() const;
  /// Names lowercased.
  const std::map<std::string, std::string>& headers() const;
  /// The connection, to poll(2) on before calling ReadBody.
  int fd() const;
  /// Reads the rest of the body (blocking) and returns it whole, at most 64 MiB.
  Result<std::string> ReadBody();
  /// Reads the next piece of the body as it arrives (blocking; log and event streams): false
  /// once the body has ended, with nothing appended.
  Result<bool> ReadSome(std::string* out);

  /// Takes the connection over (a 101 Switching Protocols, or a 200 whose body is a raw stream
  /// until EOF): the socket, and the bytes already read past the headers, which come first in
  /// the stream. The PendingResponse is empty afterwards.
  struct Raw {
    Fd fd;
    std::string buffered;
  };
  Raw TakeConnection();

 private:
  std::unique_ptr<Impl> impl_;
};

class Client {
 public:
  /// host: "unix:///path" (or a bare path).
  explicit Client(std::string host);
  ~Client();

  /// The host clients should use: BERTH_HOST, else DOCKER_HOST, else the default socket.
  static std::string DefaultHost();

  /// Sends one request. path is the full target ("/v1.51/images/json?all=1"). With on_chunk,
  /// the body is handed over as it arrives (progress and event streams) instead of collected.
  /// A daemon that is not there is Unavailable with Docker's wording ("Cannot connect to ...").
  Result<ClientResponse> Do(std::string_view method, std::string_view path,
                            std::string_view body = {},
                            const std::vector<std::pair<std::string, std::string>>& headers = {},
                            const std::function<bool(std::string_view)>& on_chunk = {});
  const std::string& host() const { return host_; }

  /// Sends one request on a new connection (not the kept-alive one) and returns once the
  /// response headers are in; the body is read later through the PendingResponse. Errors as Do.
  Result<std::unique_ptr<PendingResponse>> Send(
      std::string_view method, std::string_view path, std::string_view body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {});

  /// Send with "Connection: Upgrade" and "Upgrade: tcp", as the docker CLI asks for attach and
  /// exec start. On 101 or 200 take the stream with TakeConnection(); any other status carries
  /// the daemon's error in ReadBody().
  Result<std::unique_ptr<PendingResponse>> Hijack(
      std::string_view method, std::string_view path, std::string_view body = {},
      std::vector<std::pair<std::string, std::string>> headers = {});

  /// Send with a request body read from body until it returns 0 (or an error, returned as is),
  /// sent chunked as it is read: an archive of any size goes to the daemon without being held
  /// in memory (berth load, berth import).
  Result<std::unique_ptr<PendingResponse>> SendStream(
      std::string_view method, std::string_view path,
      const std::function<Result<size_t>(char* buf, size_t n)>& body,
      const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  Result<Fd> Dial() const;
  Result<void> Connect();
  std::string host_;
  std::string socket_path_;
  Fd fd_;
};

}  // namespace berth::api
