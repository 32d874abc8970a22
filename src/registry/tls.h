#pragma once

// TLS in front of the registry's HTTP server (`berth registry serve --tls-cert F --tls-key F`).
//
// The HTTP server (api/http/server.cc) reads and writes a plain socket fd with blocking calls,
// one thread per connection. Rather than make it generic over its stream, the TLS front
// accepts the TCP connections itself, does the handshake with OpenSSL (libssl), and hands the
// server the other end of a socketpair through Server::ServeConnection; a relay thread per
// connection moves the bytes between the TLS session and the socketpair. The server sees an
// ordinary connection: nothing in it knows about TLS.
//
//   auto tls = BERTH_TRY(TlsFront::Create(cert, key));
//   uint16_t port = BERTH_TRY(tls->Listen("127.0.0.1", 0));
//   tls->Serve(server);          // until Stop(), from another thread
//
// TLS 1.2 and 1.3 only; the certificate file may hold a chain (leaf first). A handshake that
// does not finish in 30 s is dropped, so a silent client holds no thread for long.

#include <openssl/ssl.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http/server.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::registry {

class TlsFront {
 public:
  /// InvalidArgument if the certificate or key cannot be read or do not match.
  static Result<std::unique_ptr<TlsFront>> Create(const std::string& cert_file,
                                                  const std::string& key_file);
  ~TlsFront();

  /// Binds host (numeric IPv4 or IPv6) and port (0: a free one); returns the port.
  Result<uint16_t> Listen(const std::string& host, uint16_t port);
  /// Accepts until Stop(); every connection's plaintext goes to server.
  void Serve(api::Server& server);
  /// Thread-safe: makes Serve() return. Connections in progress finish on their own threads.
  void Stop();

 private:
  TlsFront() = default;
  static void Connection(SSL_CTX* ctx, int tcp, api::Server* server);

  SSL_CTX* ctx_ = nullptr;
  Fd listen_fd_;
  std::atomic<bool> stopping_{false};
};

}  // namespace berth::registry
