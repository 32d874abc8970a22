#include "net/addr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace berth::net {

Result<IpAddr> IpAddr::Parse(std::string_view text) {
  // inet_pton wants a NUL-terminated string; anything longer than INET6_ADDRSTRLEN is wrong.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return Error::InvalidArgument("invalid IP address \"" + std::string(text) + "\"");
  }
  char buf[INET6_ADDRSTRLEN];
  memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddr a;
  if (inet_pton(AF_INET, buf, a.bytes.data()) == 1) {
    a.family = Family::kV4;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    a.family = Family::kV6;
    return a;
  }
  return Error::InvalidArgument("invalid IP address \"" + std::string(text) + "\"");
}

IpAddr IpAddr::V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddr r;
  r.bytes[0] = a;
  r.bytes[1] = b;
  r.bytes[2] = c;
  r.bytes[3] = d;
  return r;
}

std::string IpAddr::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf))) return "";
  return buf;
}

IpAddr IpAddr::Offset(int64_t n) const {
  IpAddr r = *this;
  // Add n as a big-endian number over size() bytes, two's complement for negative n.
  uint64_t add = static_cast<uint64_t>(n);
  uint64_t fill = n < 0 ? 0xff : 0;
  unsigned carry = 0;
  for (size_t i = 0; i < size(); ++i) {
    size_t pos = size() - 1 - i;
    unsigned byte = i < 8 ? (add >> (8 * i)) & 0xff : fill;
    unsigned sum = r.bytes[pos] + byte + carry;
    r.bytes[pos] = sum & 0xff;
    carry = sum >> 8;
  }
  return r;
}

bool IpAddr::IsLoopback() const {
  if (is_v4()) return bytes[0] == 127;
  for (int i = 0; i < 15; ++i) {
    if (bytes[i] != 0) return false;
  }
  return bytes[15] == 1;
}

Result<IpPrefix> IpPrefix::Parse(std::string_view text) {
  IpPrefix p;
  size_t slash = text.find('/');
  p.addr = BERTH_TRY(IpAddr::Parse(text.substr(0, slash)));
  if (slash == std::string_view::npos) {
    p.len = p.addr.bits();
    return p;
  }
  std::string_view len = text.substr(slash + 1);
  int v = -1;
  auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), v);
  if (len.empty() || ec != std::errc() || ptr != len.data() + len.size() || v < 0 ||
      v > p.addr.bits()) {
    return Error::InvalidArgument("invalid CIDR \"" + std::string(text) + "\"");
  }
  p.len = v;
  return p;
}

std::string IpPrefix::ToString() const { return addr.ToString() + "/" + std::to_string(len); }

IpPrefix IpPrefix::Network() const {
  IpPrefix r = *this;
  for (int i = 0; i < r.addr.bits(); ++i) {
    if (i >= len) r.addr.bytes[i / 8] &= static_cast<uint8_t>(~(0x80u >> (i % 8)));
  }
  return r;
}

IpAddr IpPrefix::Last() const {
  IpAddr r = addr;
  for (int i = len; i < r.bits(); ++i) r.bytes[i / 8] |= static_cast<uint8_t>(0x80u >> (i % 8));
  return r;
}

bool IpPrefix::Contains(const IpAddr& a) const {
  if (a.family != addr.family) return false;
  for (int i = 0; i < len; ++i) {
    uint8_t bit = static_cast<uint8_t>(0x80u >> (i % 8));
    if ((a.bytes[i / 8] & bit) != (addr.bytes[i / 8] & bit)) return false;
  }
  return true;
}

bool IpPrefix::Overlaps(const IpPrefix& other) const {
  if (other.addr.family != addr.family) return false;
  // Two prefixes overlap iff the shorter one contains the other's network address.
  return len <= other.len ? Contains(other.addr) : other.Contains(addr);
}

Result<std::array<uint8_t, 6>> ParseMac(std::string_view text) {
  std::array<uint8_t, 6> mac{};
  auto bad = [&] {
    return Error::InvalidArgument("invalid MAC address \"" + std::string(text) + "\"");
  };
  if (text.size() != 17) return bad();
  for (int i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return bad();
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i * 3, text.data() + i * 3 + 2, v, 16);
    if (ec != std::errc() || ptr != text.data() + i * 3 + 2) return bad();
    mac[i] = static_cast<uint8_t>(v);
  }
  return mac;
}

std::string MacToString(const std::array<uint8_t, 6>& mac) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 6; ++i) {
    if (i) s += ':';
    s += kHex[mac[i] >> 4];
    s += kHex[mac[i] & 15];
  }
  return s;
}

std::array<uint8_t, 6> MacForIp(const IpAddr& v4) {
  return {0x02, 0x42, v4.bytes[0], v4.bytes[1], v4.bytes[2], v4.bytes[3]};
}

}  // namespace berth::net
