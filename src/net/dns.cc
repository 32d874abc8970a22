// The pure part of the DNS server: parse a query, build its answer.

#include "net/dns.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace berth::net::dns {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxName = 255;
constexpr uint16_t kClassIn = 1;
// A name of at most 127 labels needs no more pointers than that.
constexpr int kMaxJumps = 127;

uint16_t Get16(std::span<const uint8_t> p, size_t at) {
  return static_cast<uint16_t>(p[at] << 8 | p[at + 1]);
}
void Put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(v >> 8);
  out.push_back(v & 0xff);
}
void Put32(std::vector<uint8_t>& out, uint32_t v) {
  Put16(out, v >> 16);
  Put16(out, v & 0xffff);
}

// Reads a (possibly compressed) name at *pos; *pos moves past it in the packet. A pointer
// must point strictly before itself and a name may follow at most kMaxJumps of them, so a
// pointer loop ends in an error; the name is bounded to 255 bytes.
// plain: every label is [a-z0-9_-] (after lowercasing), so the name can be shown as text.
Result<std::string> ReadName(std::span<const uint8_t> p, size_t* pos, bool* plain) {
  std::string name;
  size_t at = *pos;
  bool jumped = false;
  int jumps = 0;
  size_t wire = 1;  // the final zero-length label
  *plain = true;
  for (;;) {
    if (at >= p.size()) return Error::InvalidArgument("dns: name runs past the packet");
    uint8_t len = p[at];
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= p.size()) return Error::InvalidArgument("dns: truncated pointer");
      size_t target = (static_cast<size_t>(len & 0x3f) << 8) | p[at + 1];
      if (target >= at) return Error::InvalidArgument("dns: forward compression pointer");
      if (++jumps > kMaxJumps) return Error::InvalidArgument("dns: too many compression pointers");
      if (!jumped) *pos = at + 2;
      jumped = true;
      at = target;
      continue;
    }
    if (len & 0xc0) return Error::InvalidArgument("dns: unknown label type");
    if (len == 0) {
      if (!jumped) *pos = at + 1;
      return name;
    }
    wire += len + 1;
    if (wire > kMaxName) return Error::InvalidArgument("dns: name over 255 bytes");
    if (at + 1 + len > p.size()) return Error::InvalidArgument("dns: label runs past the packet");
    if (!name.empty()) name += '.';
    for (size_t i = 0; i < len; ++i) {
      char c = static_cast<char>(p[at + 1 + i]);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      if (!ok) *plain = false;
      name += c;
    }
    at += 1 + len;
  }
}

// Skips a resource record at *pos; returns its type and class, and rdata's bounds.
struct Rr {
  uint16_t type, klass;
};
Result<Rr> SkipRr(std::span<const uint8_t> p, size_t* pos) {
  bool plain;
  BERTH_TRY(ReadName(p, pos, &plain));
  if (*pos + 10 > p.size()) return Error::InvalidArgument("dns: truncated record");
  Rr rr{Get16(p, *pos), Get16(p, *pos + 2)};
  uint16_t rdlen = Get16(p, *pos + 8);
  *pos += 10;
  if (*pos + rdlen > p.size()) return Error::InvalidArgument("dns: truncated rdata");
  *pos += rdlen;
  return rr;
}

struct Parsed {
  Question q;
  bool plain = false;
  size_t question_end = 0;  // the question section is packet[12, question_end)
};

Result<Parsed> Parse(std::span<const uint8_t> p) {
  if (p.size() < kHeaderSize) return Error::InvalidArgument("dns: shorter than a header");
  Parsed out;
  out.q.id = Get16(p, 0);
  uint16_t flags = Get16(p, 2);
  if (flags & 0x8000) return Error::InvalidArgument("dns: a response, not a query");
  if ((flags >> 11) & 0xf) return Error::NotImplemented("dns: opcode is not QUERY");
  out.q.recursion_desired = flags & 0x0100;
  if (Get16(p, 4) != 1) return Error::InvalidArgument("dns: not exactly one question");
  size_t pos = kHeaderSize;
  out.q.name = BERTH_TRY(ReadName(p, &pos, &out.plain));
  if (pos + 4 > p.size()) return Error::InvalidArgument("dns: truncated question");
  out.q.qtype = Get16(p, pos);
  out.q.qclass = Get16(p, pos + 2);
  pos += 4;
  out.question_end = pos;
  // Answer and authority sections (empty in a query, but skipped if there), then the OPT.
  size_t records = static_cast<size_t>(Get16(p, 6)) + Get16(p, 8) + Get16(p, 10);
  size_t additional_from = static_cast<size_t>(Get16(p, 6)) + Get16(p, 8);
  for (size_t i = 0; i < records; ++i) {
    Rr rr = BERTH_TRY(SkipRr(p, &pos));
    if (i >= additional_from && rr.type == kTypeOpt) {
      out.q.edns_udp_size = std::max<uint16_t>(rr.klass, kClassicUdpSize);
    }
  }
  return out;
}

// The reverse name's address: "4.3.2.1.in-addr.arpa" -> 1.2.3.4; nibbles for ip6.arpa.
std::optional<IpAddr> ReverseName(std::string_view name) {
  constexpr std::string_view k4 = ".in-addr.arpa", k6 = ".ip6.arpa";
  IpAddr a;
  if (name.ends_with(k4)) {
    std::string_view rest = name.substr(0, name.size() - k4.size());
    for (int i = 3; i >= 0; --i) {
      size_t dot = rest.find('.');
      std::string_view label = rest.substr(0, dot);
      unsigned v = 256;
      auto [ptr, ec] = std::from_chars(label.data(), label.data() + label.size(), v);
      if (label.empty() || label.size() > 3 || ec != std::errc() ||
          ptr != label.data() + label.size() || v > 255) {
        return std::nullopt;
      }
      a.bytes[i] = static_cast<uint8_t>(v);
      if (i > 0 && dot == std::string_view::npos) return std::nullopt;
      rest = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
    }
    if (!rest.empty()) return std::nullopt;
    return a;
  }
  if (name.ends_with(k6)) {
    std::string_view rest = name.substr(0, name.size() - k6.size());
    if (rest.size() != 63) return std::nullopt;
    a.family = IpAddr::Family::kV6;
    for (int i = 0; i < 32; ++i) {
      char c = rest[i * 2];
      if (i < 31 && rest[i * 2 + 1] != '.') return std::nullopt;
      int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0) return std::nullopt;
      int nibble = 31 - i;  // the first label is the last nibble
      a.bytes[nibble / 2] |= static_cast<uint8_t>(nibble % 2 ? v : v << 4);
    }
    return a;
  }
  return std::nullopt;
}

// Encodes a dotted name; false if a label is empty or too long.
bool PutName(std::vector<uint8_t>& out, std::string_view name) {
  size_t start = out.size();
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    name = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  }
  out.push_back(0);
  return out.size() - start <= kMaxName;
}

std::vector<uint8_t> Header(uint16_t id, bool rd, uint8_t rcode, uint16_t qd, uint16_t an,
                            uint16_t ar, bool tc) {
  std::vector<uint8_t> out;
  Put16(out, id);
  // QR, AA (ours), TC, RD echoed, RA.
  uint16_t flags = 0x8000 | 0x0400 | (tc ? 0x0200 : 0) | (rd ? 0x0100 : 0) | 0x0080 | rcode;
  Put16(out, flags);
  Put16(out, qd);
  Put16(out, an);
  Put16(out, 0);
  Put16(out, ar);
  return out;
}

}  // namespace

Result<Question> ParseQuery(std::span<const uint8_t> packet) {
  Parsed p = BERTH_TRY(Parse(packet));
  return p.q;
}

std::vector<uint8_t> ErrorReply(std::span<const uint8_t> query, uint8_t rcode) {
  if (query.size() < kHeaderSize) return {};
  bool rd = query[2] & 0x01;
  std::vector<uint8_t> out = Header(Get16(query, 0), rd, rcode, 0, 0, 0, false);
  out[2] &= ~0x04;            // not authoritative for what we did not answer
  out[2] |= query[2] & 0x78;  // the opcode
  return out;
}

Reply BuildReply(std::span<const uint8_t> query, const Resolver& resolver, bool can_forward,
                 bool over_tcp) {
  Reply reply;
  Result<Parsed> parsed = Parse(query);
  if (!parsed) {
    if (query.size() >= kHeaderSize && !(query[2] & 0x80)) {
      reply.packet =
          ErrorReply(query, parsed.error().IsNotImplemented() ? kRcodeNotImp : kRcodeFormErr);
    }
    return reply;
  }
  const Question& q = parsed->q;
  // The records of the answer, each complete (name pointer to the question, type, class...).
  std::vector<std::vector<uint8_t>> records;
  bool ours = false;
  if (q.qclass == kClassIn && parsed->plain && resolver.lookup && !q.name.empty()) {
    std::optional<std::vector<IpAddr>> addrs = resolver.lookup(q.name);
    if (addrs) {
      ours = true;
      for (const IpAddr& a : *addrs) {
        uint16_t type = a.is_v4() ? kTypeA : kTypeAaaa;
        if (type != q.qtype) continue;
        std::vector<uint8_t> rr = {0xc0, 0x0c};
        Put16(rr, type);
        Put16(rr, kClassIn);
        Put32(rr, kTtl);
        Put16(rr, static_cast<uint16_t>(a.size()));
        rr.insert(rr.end(), a.bytes.begin(), a.bytes.begin() + a.size());
        records.push_back(std::move(rr));
      }
    }
  }
  if (!ours && q.qclass == kClassIn && q.qtype == kTypePtr && resolver.reverse) {
    if (std::optional<IpAddr> a = ReverseName(q.name)) {
      if (std::optional<std::string> name = resolver.reverse(*a)) {
        std::vector<uint8_t> rr = {0xc0, 0x0c};
        Put16(rr, kTypePtr);
        Put16(rr, kClassIn);
        Put32(rr, kTtl);
        std::vector<uint8_t> rdata;
        if (PutName(rdata, *name)) {
          ours = true;
          Put16(rr, static_cast<uint16_t>(rdata.size()));
          rr.insert(rr.end(), rdata.begin(), rdata.end());
          records.push_back(std::move(rr));
        }
      }
    }
  }
  if (!ours && can_forward) {
    reply.forward = true;
    return reply;
  }
  size_t limit = over_tcp          ? 65535
                 : q.edns_udp_size ? std::min<size_t>(q.edns_udp_size, 4096)
                                   : kClassicUdpSize;
  std::vector<uint8_t> opt;
  if (q.edns_udp_size) {
    opt = {0};  // root name
    Put16(opt, kTypeOpt);
    Put16(opt, 4096);
    Put32(opt, 0);
    Put16(opt, 0);
  }
  std::span<const uint8_t> question =
      query.subspan(kHeaderSize, parsed->question_end - kHeaderSize);
  size_t size = kHeaderSize + question.size() + opt.size();
  size_t fit = 0;
  for (const auto& rr : records) {
    if (size + rr.size() > limit) break;
    size += rr.size();
    ++fit;
  }
  bool tc = fit < records.size();
  reply.packet = Header(q.id, q.recursion_desired, ours ? kRcodeNoError : kRcodeNxDomain, 1,
                        static_cast<uint16_t>(fit), opt.empty() ? 0 : 1, tc);
  reply.packet.insert(reply.packet.end(), question.begin(), question.end());
  for (size_t i = 0; i < fit; ++i) {
    reply.packet.insert(reply.packet.end(), records[i].begin(), records[i].end());
  }
  reply.packet.insert(reply.packet.end(), opt.begin(), opt.end());
  return reply;
}

std::vector<std::string> UpstreamsFromResolvConf(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? "" : text.substr(nl + 1);
    auto skip_space = [](std::string_view& s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    };
    skip_space(line);
    if (!line.starts_with("nameserver")) continue;
    line.remove_prefix(10);
    if (line.empty() || (line.front() != ' ' && line.front() != '\t')) continue;
    skip_space(line);
    std::string_view addr = line.substr(0, line.find_first_of(" \t\r#;"));
    Result<IpAddr> a = IpAddr::Parse(addr);
    if (!a || a->IsLoopback()) continue;
    out.push_back(a->ToString());
  }
  return out;
}

std::string EmbeddedResolvConf(std::string_view host) {
  std::string out = "nameserver 127.0.0.11\n";
  std::string options;
  bool ndots = false;
  while (!host.empty()) {
    size_t nl = host.find('\n');
    std::string_view line = host.substr(0, nl);
    host = nl == std::string_view::npos ? "" : host.substr(nl + 1);
    if (line.starts_with("search ") || line.starts_with("domain ")) {
      out += std::string(line) + "\n";
    } else if (line.starts_with("options ")) {
      options += std::string(line) + "\n";
      if (line.find("ndots:") != std::string_view::npos) ndots = true;
    }
  }
  // Docker adds ndots:0 unless the host chose its own.
  return out + options + (ndots ? "" : "options ndots:0\n");
}

}  // namespace berth::net::dns
