#pragma once

// A blocking Engine API client over a unix socket: what `berth` (and tests) use to talk to
// berthd or any Docker-compatible daemon. One connection per Client, kept alive across calls.

#include <functional>
#include <map>
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

 private:
  Result<void> Connect();
  std::string host_;
  std::string socket_path_;
  Fd fd_;
};

}  // namespace berth::api
