#pragma once

// Helpers of the DNS tests: build queries, read answers back. Header-only, tests only.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "net/addr.h"
#include "net/dns.h"

namespace berth::net::dns::testing {

inline void Put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(v >> 8);
  out.push_back(v & 0xff);
}

/// The wire form of a dotted name ("" is the root).
inline std::vector<uint8_t> WireName(std::string_view name) {
  std::vector<uint8_t> out;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  }
  out.push_back(0);
  return out;
}

/// A standard query (RD set) for name/qtype, class IN; edns > 0 adds an OPT with that size.
inline std::vector<uint8_t> MakeQuery(uint16_t id, std::string_view name, uint16_t qtype,
                                      uint16_t edns = 0) {
  std::vector<uint8_t> q;
  Put16(q, id);
  Put16(q, 0x0100);
  Put16(q, 1);
  Put16(q, 0);
  Put16(q, 0);
  Put16(q, edns ? 1 : 0);
  std::vector<uint8_t> n = WireName(name);
  q.insert(q.end(), n.begin(), n.end());
  Put16(q, qtype);
  Put16(q, 1);
  if (edns) {
    q.push_back(0);
    Put16(q, kTypeOpt);
    Put16(q, edns);
    Put16(q, 0);
    Put16(q, 0);
    Put16(q, 0);
  }
  return q;
}

/// One answer record as read back.
struct AnswerRr {
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::vector<uint8_t> rdata;
};

/// An answer packet as read back by a small parser of the test's own (not the one under
/// test). nullopt when the packet is not a well-formed answer of the kind BuildReply makes.
struct Answer {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0, ancount = 0, arcount = 0;
  std::vector<AnswerRr> answers;
  uint8_t rcode() const { return flags & 0xf; }
  bool tc() const { return flags & 0x0200; }
  bool qr() const { return flags & 0x8000; }
};

inline uint16_t At16(const std::vector<uint8_t>& p, size_t i) {
  return static_cast<uint16_t>(p.at(i) << 8 | p.at(i + 1));
}

// Skips an uncompressed name or a name ending in one pointer.
inline size_t SkipName(const std::vector<uint8_t>& p, size_t i) {
  for (;;) {
    uint8_t len = p.at(i);
    if ((len & 0xc0) == 0xc0) return i + 2;
    if (len == 0) return i + 1;
    i += 1 + len;
  }
}

inline std::optional<Answer> ReadAnswer(const std::vector<uint8_t>& p) {
  try {
    Answer a;
    a.id = At16(p, 0);
    a.flags = At16(p, 2);
    a.qdcount = At16(p, 4);
    a.ancount = At16(p, 6);
    a.arcount = At16(p, 10);
    size_t i = 12;
    for (int k = 0; k < a.qdcount; ++k) i = SkipName(p, i) + 4;
    for (int k = 0; k < a.ancount; ++k) {
      i = SkipName(p, i);
      AnswerRr rr;
      rr.type = At16(p, i);
      rr.ttl = static_cast<uint32_t>(At16(p, i + 4)) << 16 | At16(p, i + 6);
      uint16_t len = At16(p, i + 8);
      i += 10;
      if (i + len > p.size()) return std::nullopt;
      rr.rdata.assign(p.begin() + i, p.begin() + i + len);
      i += len;
      a.answers.push_back(std::move(rr));
    }
    return a;
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}

/// The IPv4/IPv6 address of an A/AAAA rdata.
inline std::string RdataAddress(const AnswerRr& rr) {
  IpAddr a;
  if (rr.rdata.size() != 4 && rr.rdata.size() != 16)
    return "(rdata of " + std::to_string(rr.rdata.size()) + " bytes)";
  if (rr.rdata.size() == 16) a.family = IpAddr::Family::kV6;
  std::copy(rr.rdata.begin(), rr.rdata.end(), a.bytes.begin());
  return a.ToString();
}

}  // namespace berth::net::dns::testing
