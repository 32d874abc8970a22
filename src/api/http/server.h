#pragma once

// The Engine API's HTTP/1.1 server on a unix socket (or a TCP port: the registry): one thread per
// connection (blocking I/O: hijacked attach streams, followed logs and event streams stay simple),
// keep-alive, bodies read into memory up to a limit or streamed to routes that ask for it. A
// malformed request gets a 4xx and its connection is closed; nothing a client sends can stop the
// server.
//
//   Router router;  routes::AddSystemRoutes(&router, ...);
//   Server server(router, {});
//   BERTH_TRY(server.ListenUnix("/run/berth/berth.sock", 0660));
//   server.Serve();          // returns after Stop() (from another thread or a signal watcher)

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "api/http/router.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::api {

struct ServerOptions {
  size_t max_connections = 4096;
  size_t max_header_bytes = 64 << 10;
  size_t max_body_bytes = 64 << 20;  // for bodies read into memory; streamed ones are unbounded
  /// Headers every response carries (Api-Version, Server, ...).
  std::vector<std::pair<std::string, std::string>> common_headers;
};

class Server {
 public:
  Server(const Router& router, ServerOptions options);
  ~Server();

  /// Binds a unix socket at path (a stale socket file is replaced), mode applied with chmod.
  Result<void> ListenUnix(const std::string& path, mode_t mode);
  /// Binds a TCP socket at host (a numeric IPv4 or IPv6 address) and port (0: any free one).
  /// Returns the port bound.
  Result<uint16_t> ListenTcp(const std::string& host, uint16_t port);
  /// Accepts until Stop(). Connections in progress finish on their own threads.
  void Serve();
  /// Thread-safe and async-signal-safe: makes Serve() return.
  void Stop();
  /// Serves one connection accepted elsewhere (the plaintext end of a TLS front's socketpair)
  /// on a thread of its own, as Serve() does its own; takes fd and closes it at the end.
  /// Thread-safe. Defined in serve_connection.cc.
  void ServeConnection(int fd);
  size_t active_connections() const { return active_.load(); }

 private:
  void HandleConnection(int fd);
  static void* ConnectionThread(void* arg);

  const Router& router_;
  ServerOptions options_;
  Fd listen_fd_;
  std::string socket_path_;
  bool tcp_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> active_{0};
};

}  // namespace berth::api
