#pragma once

// The embedded DNS server of user-defined networks, as Docker's 127.0.0.11.
//
// Two parts:
//  - a pure one (BuildReply): a query packet in, an answer packet out (or "forward it"),
//    from a Resolver the engine gives per container. Any input is safe: the parser is
//    bounded (no recursion, compression pointers must point backwards, every read checked).
//  - DnsServer: one thread with epoll serving a UDP and a TCP socket per container, each
//    opened INSIDE the container's netns and bound to 127.0.0.11:53 (lo has 127.0.0.0/8 there;
//    a socket keeps the netns it was made in). Names the Resolver does not know are forwarded
//    to the upstream resolvers over sockets made in berthd's own netns (the container may have
//    no route out); an upstream that does not answer in time: SERVFAIL, never a hang.
//
//   auto dns = BERTH_TRY(DnsServer::Start({.upstreams = UpstreamsFromResolvConf(text)}));
//   BERTH_TRY(dns->AddNamespace(container_id, netns_path, resolver));
//   ...
//   dns->RemoveNamespace(container_id);
//
// Docker's rules kept here: names are case-insensitive; a known name with no address of the
// asked type answers NOERROR with no records (not NXDOMAIN); other names go upstream (with
// no upstream: NXDOMAIN); answers have TTL 600.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/addr.h"
#include "util/result.h"

namespace berth::net::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeOpt = 41;
inline constexpr uint8_t kRcodeNoError = 0;
inline constexpr uint8_t kRcodeFormErr = 1;
inline constexpr uint8_t kRcodeServFail = 2;
inline constexpr uint8_t kRcodeNxDomain = 3;
inline constexpr uint8_t kRcodeNotImp = 4;
inline constexpr uint8_t kRcodeRefused = 5;
/// The largest UDP answer without EDNS (RFC 1035 4.2.1).
inline constexpr size_t kClassicUdpSize = 512;
inline constexpr uint32_t kTtl = 600;

/// Answers names for one container. Both functions are called on the DNS thread and must not
/// block for long; they may be called after RemoveNamespace started (until it returns).
struct Resolver {
  /// The addresses of name (lowercase, no final dot: "web", "web.mynet"); nullopt: not a name
  /// of ours (forward it). An empty vector: ours, but no address (NOERROR, no records).
  std::function<std::optional<std::vector<IpAddr>>(std::string_view name)> lookup;
  /// The name of an address (for PTR); nullopt: not ours. May be left empty.
  std::function<std::optional<std::string>(const IpAddr& addr)> reverse;
};

/// The question of a query, as parsed.
struct Question {
  uint16_t id = 0;
  /// Lowercase, dot-separated, no final dot ("" for the root).
  std::string name;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  bool recursion_desired = false;
  /// The client's EDNS UDP payload size if the query had an OPT record, else 0.
  uint16_t edns_udp_size = 0;
};

/// Parses a query: a header with QR=0, opcode 0, exactly one question, an optional OPT in
/// the additional section. Errors: InvalidArgument (truncated, malformed, a response,
/// several questions, a name over 255 bytes, a forward-pointing or looping compression).
Result<Question> ParseQuery(std::span<const uint8_t> packet);

/// What BuildReply decided.
struct Reply {
  /// True: the server has to forward the query upstream (packet is then empty).
  bool forward = false;
  /// The answer to send back (for UDP at most the client's size, truncated with TC=1).
  std::vector<uint8_t> packet;
};

/// Answers a query from resolver: A and AAAA from lookup, PTR (in-addr.arpa, ip6.arpa) from
/// reverse. Names the resolver does not know: forward if can_forward, else NXDOMAIN. A
/// malformed query gets FORMERR when its header is readable, else no reply (empty packet).
/// over_tcp: no size limit but 65535; else the client's EDNS size (at least 512, at most
/// 4096) or 512, with the answers that do not fit dropped and TC set.
Reply BuildReply(std::span<const uint8_t> query, const Resolver& resolver, bool can_forward,
                 bool over_tcp);

/// A response header-only error answer (SERVFAIL after an upstream timeout, ...) for a
/// query; empty if query has no readable header.
std::vector<uint8_t> ErrorReply(std::span<const uint8_t> query, uint8_t rcode);

/// The nameservers of a resolv.conf text, skipping loopback ones (127.0.0.0/8, ::1) as
/// Docker does: they are unreachable from a container's point of view and the forwarder must
/// not loop to itself. Each is "IP" (port 53 implied).
std::vector<std::string> UpstreamsFromResolvConf(std::string_view resolv_conf);

/// The /etc/resolv.conf of a container on a user-defined network: "nameserver 127.0.0.11",
/// the host's search and options lines kept, plus "options ndots:0" as Docker writes it.
std::string EmbeddedResolvConf(std::string_view host_resolv_conf);

class DnsServer {
 public:
  struct Options {
    /// Upstream resolvers: "IP" or "IP:PORT" ("[IPv6]:PORT"), tried in order.
    std::vector<std::string> upstreams;
    /// How long one upstream gets before the next is tried (then SERVFAIL).
    int upstream_timeout_ms = 2000;
    /// Where the per-container sockets listen (tests use another loopback address or port).
    std::string listen_address = "127.0.0.11";
    uint16_t listen_port = 53;
  };

  /// Starts the server thread. Must be called from a thread in berthd's own netns (forwarding
  /// sockets are made on the server thread, which inherits it).
  static Result<std::unique_ptr<DnsServer>> Start(Options options);
  /// Stops the thread and closes every socket.
  virtual ~DnsServer() = default;

  /// Opens the UDP and TCP sockets inside netns_path and serves them with resolver.
  /// Errors: AlreadyExists (key in use), those of opening/binding the sockets in the netns
  /// (e.g. Conflict when something in the container already holds the address:port).
  virtual Result<void> AddNamespace(const std::string& key, const std::string& netns_path,
                                    Resolver resolver) = 0;
  /// Stops serving key and closes its sockets; when it returns the resolver is no longer
  /// called. An unknown key is not an error.
  virtual void RemoveNamespace(const std::string& key) = 0;
  /// Replaces the upstream resolvers.
  virtual void SetUpstreams(std::vector<std::string> upstreams) = 0;

 protected:
  DnsServer() = default;
};

}  // namespace berth::net::dns
