#pragma once

// Messages between berthd and the per-container monitors: one JSON object per SOCK_SEQPACKET
// packet, with up to kMaxFds file descriptors (SCM_RIGHTS) riding along. A hijacked API
// connection is handed to the monitor this way, so the bytes of an attach or exec stream go
// between the client and the container without passing through berthd.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/fd.h"
#include "util/result.h"

namespace berth::engine::monitor {

constexpr size_t kMaxMessage = 256 << 10;
constexpr size_t kMaxFds = 16;

struct Message {
  nlohmann::json body;
  std::vector<Fd> fds;
};

/// A connected SOCK_SEQPACKET pair, both ends close-on-exec.
Result<std::pair<Fd, Fd>> SocketPair();
/// Connects to a monitor's control socket. NotFound if nothing listens there.
Result<Fd> Connect(const std::string& path);
/// Binds and listens on path (a stale socket file is replaced).
Result<Fd> Listen(const std::string& path);

Result<void> Send(int sock, const nlohmann::json& body, const std::vector<int>& fds = {});
/// The next message; nullopt when the peer closed. timeout_ms < 0 waits forever;
/// Unavailable on timeout.
Result<std::optional<Message>> Recv(int sock, int timeout_ms = -1);
/// Send, then one reply: an {"error": "..."} reply becomes an Error (code from "code").
Result<Message> Call(int sock, const nlohmann::json& body, const std::vector<int>& fds = {},
                     int timeout_ms = 30000);

/// {"error": message, "code": n} for an Error, as Call turns it back.
nlohmann::json ErrorBody(const Error& error);

}  // namespace berth::engine::monitor
