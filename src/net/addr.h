#pragma once

// IP addresses and prefixes (CIDR) as values: parsing, printing, masking, offsets. Shared by
// the link, firewall and DNS code and by the engine's IPAM.
//
//   IpPrefix subnet = BERTH_TRY(IpPrefix::Parse("172.18.0.0/16"));
//   IpAddr gateway = subnet.Network().Offset(1);          // 172.18.0.1
//   bool in = subnet.Contains(BERTH_TRY(IpAddr::Parse("172.18.3.4")));  // true

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace berth::net {

/// An IPv4 or IPv6 address. An IPv4 address keeps its 4 bytes in bytes[0..3].
struct IpAddr {
  enum class Family : uint8_t { kV4, kV6 };
  Family family = Family::kV4;
  std::array<uint8_t, 16> bytes{};

  /// "10.0.0.1" or "fd00::1" (inet_pton's forms; no brackets, no zone, no port).
  /// Errors: InvalidArgument.
  static Result<IpAddr> Parse(std::string_view text);
  static IpAddr V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

  bool is_v4() const { return family == Family::kV4; }
  bool is_v6() const { return family == Family::kV6; }
  /// 4 or 16.
  size_t size() const { return is_v4() ? 4 : 16; }
  /// 32 or 128.
  int bits() const { return is_v4() ? 32 : 128; }
  /// inet_ntop's form ("10.0.0.1", "fd00::1").
  std::string ToString() const;
  /// This address plus n (wrapping inside the family); Offset(-1) is the one before.
  IpAddr Offset(int64_t n) const;
  /// 127.0.0.0/8 or ::1.
  bool IsLoopback() const;

  auto operator<=>(const IpAddr&) const = default;
};

/// An address with a prefix length: "172.18.0.2/16" (an interface address) or
/// "172.18.0.0/16" (a subnet). Parse keeps the host bits; Network() clears them.
struct IpPrefix {
  IpAddr addr;
  int len = 0;

  /// "ADDR/LEN"; a bare address gets the full length (/32, /128). Errors: InvalidArgument.
  static Result<IpPrefix> Parse(std::string_view text);

  std::string ToString() const;
  /// The prefix with its host bits cleared (the subnet).
  IpPrefix Network() const;
  /// The last address of the prefix (the IPv4 broadcast).
  IpAddr Last() const;
  /// Whether a is in this prefix (same family, same leading len bits).
  bool Contains(const IpAddr& a) const;
  /// Whether the two prefixes share any address.
  bool Overlaps(const IpPrefix& other) const;

  auto operator<=>(const IpPrefix&) const = default;
};

/// A MAC address "02:42:ac:11:00:02" parsed into bytes. Errors: InvalidArgument.
Result<std::array<uint8_t, 6>> ParseMac(std::string_view text);
std::string MacToString(const std::array<uint8_t, 6>& mac);
/// Docker's MAC for an IPv4 address: 02:42 followed by the 4 address bytes.
std::array<uint8_t, 6> MacForIp(const IpAddr& v4);

}  // namespace berth::net
