#include "net/dns.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "net/dns_test_util_internal.h"

namespace berth::net::dns {
namespace {

using testing::MakeQuery;
using testing::Put16;
using testing::ReadAnswer;
using testing::WireName;

IpAddr Ip(const char* text) { return *IpAddr::Parse(text); }

// A resolver over a fixed table, recording the names it was asked.
struct Table {
  std::map<std::string, std::vector<IpAddr>> names;
  std::map<IpAddr, std::string> reverse;
  std::vector<std::string> asked;
  Resolver Get() {
    return Resolver{.lookup = [this](std::string_view n) -> std::optional<std::vector<IpAddr>> {
                      asked.emplace_back(n);
                      auto it = names.find(std::string(n));
                      if (it == names.end()) return std::nullopt;
                      return it->second;
                    },
                    .reverse = [this](const IpAddr& a) -> std::optional<std::string> {
                      auto it = reverse.find(a);
                      if (it == reverse.end()) return std::nullopt;
                      return it->second;
                    }};
  }
};

Table WebTable() {
  Table t;
  t.names["web"] = {Ip("172.18.0.2"), Ip("fd00::2")};
  t.names["web.mynet"] = {Ip("172.18.0.2")};
  t.names["db"] = {Ip("172.18.0.3")};
  t.reverse[Ip("172.18.0.2")] = "web.mynet";
  t.reverse[Ip("fd00::2")] = "web.mynet";
  return t;
}

TEST(DnsReply, AnswersAWithTtl600EchoingIdAndRecursionDesired) {
  Table t = WebTable();
  Reply r = BuildReply(MakeQuery(0x1234, "web", kTypeA), t.Get(), true, false);
  ASSERT_FALSE(r.forward);
  auto a = ReadAnswer(r.packet);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->id, 0x1234);
  EXPECT_TRUE(a->qr());
  EXPECT_TRUE(a->flags & 0x0100) << "RD echoed";
  EXPECT_TRUE(a->flags & 0x0080) << "RA set";
  EXPECT_EQ(a->rcode(), kRcodeNoError);
  EXPECT_EQ(a->qdcount, 1);
  ASSERT_EQ(a->answers.size(), 1u);
  EXPECT_EQ(a->answers[0].type, kTypeA);
  EXPECT_EQ(a->answers[0].ttl, kTtl);
  EXPECT_EQ(testing::RdataAddress(a->answers[0]), "172.18.0.2");
  EXPECT_EQ(t.asked, std::vector<std::string>{"web"});
}

TEST(DnsReply, NamesAreCaseInsensitiveAndTheFinalDotIsNotPartOfThem) {
  Table t = WebTable();
  Reply r = BuildReply(MakeQuery(1, "WeB.MyNet", kTypeA), t.Get(), true, false);
  auto a = ReadAnswer(r.packet);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->answers.size(), 1u);
  EXPECT_EQ(testing::RdataAddress(a->answers[0]), "172.18.0.2");
  EXPECT_EQ(t.asked, std::vector<std::string>{"web.mynet"});
  // The question is copied as asked (resolvers compare it case-insensitively).
  std::vector<uint8_t> qname = WireName("WeB.MyNet");
  EXPECT_TRUE(std::search(r.packet.begin(), r.packet.end(), qname.begin(), qname.end()) !=
              r.packet.end());
}

TEST(DnsReply, AaaaAnswersOnlyV6AndAKnownNameWithoutOneIsNoErrorEmpty) {
  Table t = WebTable();
  auto a = ReadAnswer(BuildReply(MakeQuery(2, "web", kTypeAaaa), t.Get(), true, false).packet);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->answers.size(), 1u);
  EXPECT_EQ(a->answers[0].type, kTypeAaaa);
  EXPECT_EQ(testing::RdataAddress(a->answers[0]), "fd00::2");

  Reply r = BuildReply(MakeQuery(3, "db", kTypeAaaa), t.Get(), true, false);
  EXPECT_FALSE(r.forward) << "a name of ours is never forwarded";
  a = ReadAnswer(r.packet);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->rcode(), kRcodeNoError);
  EXPECT_TRUE(a->answers.empty());

  t.names["empty"] = {};
  a = ReadAnswer(BuildReply(MakeQuery(4, "empty", kTypeA), t.Get(), true, false).packet);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->rcode(), kRcodeNoError);
  EXPECT_TRUE(a->answers.empty());
}

TEST(DnsReply, UnknownNamesAreForwardedOrNxDomainWithoutUpstream) {
  Table t = WebTable();
  Reply r = BuildReply(MakeQuery(5, "example.org", kTypeA), t.Get(), true, false);
  EXPECT_TRUE(r.forward);
  EXPECT_TRUE(r.packet.empty());

  r = BuildReply(MakeQuery(6, "example.org", kTypeA), t.Get(), false, false);
  EXPECT_FALSE(r.forward);
  auto a = ReadAnswer(r.packet);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->id, 6);
  EXPECT_EQ(a->rcode(), kRcodeNxDomain);
  EXPECT_TRUE(a->answers.empty());

  // A name with bytes that are not a host name's is never looked up: forwarded as is.
  t.asked.clear();
  r = BuildReply(MakeQuery(7, "we b", kTypeA), t.Get(), true, false);
  EXPECT_TRUE(r.forward);
  EXPECT_TRUE(t.asked.empty());
  // Not class IN: not ours either.
  std::vector<uint8_t> chaos = MakeQuery(8, "web", kTypeA);
  chaos[chaos.size() - 1] = 3;
  EXPECT_TRUE(BuildReply(chaos, t.Get(), true, false).forward);
}

TEST(DnsReply, PtrForV4AndV6ReverseNames) {
  Table t = WebTable();
  auto a = ReadAnswer(
      BuildReply(MakeQuery(9, "2.0.18.172.in-addr.arpa", kTypePtr), t.Get(), true, false).packet);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->answers.size(), 1u);
  EXPECT_EQ(a->answers[0].type, kTypePtr);
  EXPECT_EQ(a->answers[0].rdata, WireName("web.mynet"));

  std::string v6;  // fd00::2 nibble by nibble, last first
  for (int i = 0; i < 32; ++i) v6 += (i == 0 ? "2." : "0.");
  v6.replace(v6.size() - 4, 4, "d.f.");
  v6 += "ip6.arpa";
  a = ReadAnswer(BuildReply(MakeQuery(10, v6, kTypePtr), t.Get(), true, false).packet);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->answers.size(), 1u) << v6;
  EXPECT_EQ(a->answers[0].rdata, WireName("web.mynet"));

  // Other addresses, and names that only look reverse, go upstream.
  for (const char* n :
       {"3.0.18.172.in-addr.arpa", "256.0.18.172.in-addr.arpa", "0.18.172.in-addr.arpa",
        "1.2.0.18.172.in-addr.arpa", "x.in-addr.arpa", "2.ip6.arpa"}) {
    EXPECT_TRUE(BuildReply(MakeQuery(11, n, kTypePtr), t.Get(), true, false).forward) << n;
  }
}

TEST(DnsReply, UdpAnswersFitTheClientsSizeWithTcSetAndTcpCarriesAll) {
  Table t;
  for (int i = 0; i < 100; ++i) t.names["many"].push_back(IpAddr::V4(10, 0, 0, i));
  auto a = ReadAnswer(BuildReply(MakeQuery(12, "many", kTypeA), t.Get(), true, false).packet);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->tc());
  EXPECT_EQ(a->answers.size(), (512u - 12 - 10) / 16);
  Reply r = BuildReply(MakeQuery(12, "many", kTypeA), t.Get(), true, false);
  EXPECT_LE(r.packet.size(), kClassicUdpSize);

  // EDNS: the client's size, and an OPT in the answer.
  r = BuildReply(MakeQuery(13, "many", kTypeA, 4096), t.Get(), true, false);
  a = ReadAnswer(r.packet);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->tc());
  EXPECT_EQ(a->answers.size(), 100u);
  EXPECT_EQ(a->arcount, 1);

  // A size under 512 counts as 512.
  r = BuildReply(MakeQuery(14, "many", kTypeA, 100), t.Get(), true, false);
  EXPECT_GT(r.packet.size(), 400u);
  EXPECT_LE(r.packet.size(), kClassicUdpSize);

  a = ReadAnswer(BuildReply(MakeQuery(15, "many", kTypeA), t.Get(), true, true).packet);
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->tc());
  EXPECT_EQ(a->answers.size(), 100u);
}

// The parts of a packet: header (12 bytes) then whatever follows.
std::vector<uint8_t> Packet(uint16_t flags, uint16_t qd, uint16_t an, uint16_t ar,
                            std::vector<uint8_t> rest) {
  std::vector<uint8_t> p;
  Put16(p, 0xbeef);
  Put16(p, flags);
  Put16(p, qd);
  Put16(p, an);
  Put16(p, 0);
  Put16(p, ar);
  p.insert(p.end(), rest.begin(), rest.end());
  return p;
}

// A query for "web" A with two additional records: the first's rdata is n pointers, each to
// the one before (the first to the question's name), the second is named by the last one.
std::vector<uint8_t> PointerChain(int n) {
  std::vector<uint8_t> rest = WireName("web");
  rest.insert(rest.end(), {0, 1, 0, 1});
  rest.insert(rest.end(), {0, 0, 1, 0, 1, 0, 0, 0, 0});
  Put16(rest, static_cast<uint16_t>(2 * n));
  size_t rdata_at = 12 + rest.size();
  for (int i = 0; i < n; ++i) Put16(rest, 0xc000 | (i == 0 ? 12 : rdata_at + 2 * (i - 1)));
  Put16(rest, 0xc000 | (rdata_at + 2 * (n - 1)));
  rest.insert(rest.end(), {0, 1, 0, 1, 0, 0, 0, 0, 0, 0});
  return Packet(0x100, 1, 0, 2, rest);
}

void ExpectRcode(const std::vector<uint8_t>& query, uint8_t rcode, const char* what) {
  Table t = WebTable();
  Reply r = BuildReply(query, t.Get(), true, false);
  EXPECT_FALSE(r.forward) << what;
  auto a = ReadAnswer(r.packet);
  ASSERT_TRUE(a) << what;
  EXPECT_EQ(a->id, 0xbeef) << what;
  EXPECT_TRUE(a->qr()) << what;
  EXPECT_EQ(a->rcode(), rcode) << what;
  EXPECT_EQ(a->ancount, 0) << what;
  EXPECT_TRUE(t.asked.empty()) << what;
}

TEST(DnsHostile, MalformedQueriesGetFormErrAndNeverLoop) {
  // A pointer to itself, to a later byte, and a two-step loop through a label.
  ExpectRcode(Packet(0x100, 1, 0, 0, {0xc0, 12, 0, 1, 0, 1}), kRcodeFormErr, "self pointer");
  ExpectRcode(Packet(0x100, 1, 0, 0, {0xc0, 14, 0, 0, 1, 0, 1}), kRcodeFormErr, "forward");
  ExpectRcode(Packet(0x100, 1, 0, 0, {1, 'a', 0xc0, 12, 0, 1, 0, 1}), kRcodeFormErr,
              "label then pointer back to it");
  // A chain of pointers in a record's rdata, each to the one before (all backwards), and a
  // record named by the last: 300 jumps are too many, 100 are a legal name.
  Table t = WebTable();
  ExpectRcode(PointerChain(300), kRcodeFormErr, "300 pointers");
  auto a = ReadAnswer(BuildReply(PointerChain(100), t.Get(), true, false).packet);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->rcode(), kRcodeNoError);
  EXPECT_EQ(a->answers.size(), 1u);
  // Truncations at every length of a valid query.
  std::vector<uint8_t> good = MakeQuery(0xbeef, "web.mynet", kTypeA);
  for (size_t n = 12; n < good.size(); ++n) {
    ExpectRcode(std::vector<uint8_t>(good.begin(), good.begin() + n), kRcodeFormErr, "truncated");
  }
  ExpectRcode(Packet(0x100, 0, 0, 0, {}), kRcodeFormErr, "no question");
  std::vector<uint8_t> two = WireName("web");
  two.insert(two.end(), {0, 1, 0, 1});
  two.insert(two.end(), two.begin(), two.end());
  ExpectRcode(Packet(0x100, 2, 0, 0, two), kRcodeFormErr, "two questions");
  ExpectRcode(Packet(0x100, 1, 0, 0, {0x40, 'a', 0, 0, 1, 0, 1}), kRcodeFormErr, "label type");
  ExpectRcode(Packet(0x100, 1, 0, 0, {5, 'a', 0, 0, 1, 0, 1}), kRcodeFormErr, "label past end");
  // A name over 255 bytes (five labels of 63).
  std::vector<uint8_t> longname;
  for (int i = 0; i < 5; ++i) {
    longname.push_back(63);
    longname.insert(longname.end(), 63, 'a');
  }
  longname.insert(longname.end(), {0, 0, 1, 0, 1});
  ExpectRcode(Packet(0x100, 1, 0, 0, longname), kRcodeFormErr, "long name");
  // Records announced and missing; an additional record with a truncated rdata.
  std::vector<uint8_t> q(good.begin() + 12, good.end());
  ExpectRcode(Packet(0x100, 1, 0, 0xffff, q), kRcodeFormErr, "missing records");
  std::vector<uint8_t> bad_opt = q;
  bad_opt.insert(bad_opt.end(), {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 9, 1});
  ExpectRcode(Packet(0x100, 1, 0, 1, bad_opt), kRcodeFormErr, "rdata past end");
  // Another opcode (IQUERY, STATUS, NOTIFY): NOTIMP, opcode echoed.
  Reply r = BuildReply(Packet(0x2100, 1, 0, 0, q), t.Get(), true, false);
  a = ReadAnswer(r.packet);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->rcode(), kRcodeNotImp);
  EXPECT_EQ((a->flags >> 11) & 0xf, 4);
}

TEST(DnsHostile, NoReplyToResponsesOrPacketsWithoutHeader) {
  Table t = WebTable();
  for (size_t n = 0; n < 12; ++n) {
    Reply r = BuildReply(std::vector<uint8_t>(n, 0), t.Get(), true, false);
    EXPECT_FALSE(r.forward);
    EXPECT_TRUE(r.packet.empty()) << n;
  }
  // A response (QR=1) is never answered, or two servers could loop on each other.
  std::vector<uint8_t> resp = MakeQuery(1, "web", kTypeA);
  resp[2] |= 0x80;
  Reply r = BuildReply(resp, t.Get(), true, false);
  EXPECT_FALSE(r.forward);
  EXPECT_TRUE(r.packet.empty());
  EXPECT_FALSE(ParseQuery(resp));
}

TEST(DnsHostile, CompressedQuestionNameIsFollowedBackwards) {
  // Only the header is before a question's name; a pointer there is legal: byte 8 (nscount's
  // high byte, 0) reads as the root name.
  auto p = Packet(0x100, 1, 0, 0, {0xc0, 8, 0, 1, 0, 1});
  Result<Question> q = ParseQuery(p);
  ASSERT_TRUE(q) << q.error().message();
  EXPECT_EQ(q->name, "");
  EXPECT_EQ(q->qtype, kTypeA);
  Table t = WebTable();
  EXPECT_TRUE(BuildReply(p, t.Get(), true, false).forward) << "the root is not ours";
  EXPECT_TRUE(t.asked.empty());
}

TEST(DnsHostile, RandomAndMutatedPacketsNeverCrashAndRepliesAreAnswers) {
  std::mt19937 rng(7);
  Table t = WebTable();
  std::vector<std::vector<uint8_t>> seeds = {
      MakeQuery(1, "web", kTypeA), MakeQuery(2, "web.mynet", kTypeAaaa, 1232),
      MakeQuery(3, "2.0.18.172.in-addr.arpa", kTypePtr), MakeQuery(4, "example.org", 15)};
  for (int i = 0; i < 200000; ++i) {
    std::vector<uint8_t> p = seeds[i % seeds.size()];
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0:
          p[rng() % p.size()] = static_cast<uint8_t>(rng());
          break;
        case 1:
          p.resize(rng() % (p.size() + 1));
          break;
        case 2:
          p.insert(p.begin() + rng() % (p.size() + 1), 0xc0);
          break;
        default:
          p.push_back(static_cast<uint8_t>(rng()));
      }
      if (p.empty()) break;
    }
    Reply r = BuildReply(p, t.Get(), true, i % 2);
    if (r.forward) {
      ASSERT_TRUE(ParseQuery(p)) << "only a parsed query is forwarded";
      continue;
    }
    if (r.packet.empty()) continue;
    ASSERT_GE(r.packet.size(), 12u);
    ASSERT_EQ(r.packet[0], p[0]);
    ASSERT_EQ(r.packet[1], p[1]);
    ASSERT_TRUE(r.packet[2] & 0x80);
    if (!(i % 2)) ASSERT_LE(r.packet.size(), 4096u);
  }
}

TEST(DnsReply, ErrorReplyKeepsIdAndOpcode) {
  std::vector<uint8_t> q = MakeQuery(0x4242, "example.org", kTypeA);
  auto a = ReadAnswer(ErrorReply(q, kRcodeServFail));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->id, 0x4242);
  EXPECT_TRUE(a->qr());
  EXPECT_FALSE(a->flags & 0x0400) << "not authoritative";
  EXPECT_TRUE(a->flags & 0x0100);
  EXPECT_EQ(a->rcode(), kRcodeServFail);
  EXPECT_TRUE(ErrorReply(std::vector<uint8_t>(11, 0), kRcodeServFail).empty());
}

TEST(DnsResolvConf, UpstreamsSkipLoopbackCommentsAndGarbage) {
  std::string text =
      "# generated\n"
      "nameserver 127.0.0.53\n"
      "nameserver 192.0.2.1 # office\n"
      "  nameserver\t2001:db8::1\n"
      "nameserver ::1\n"
      "nameservers 192.0.2.9\n"
      "nameserver not-an-ip\n"
      "nameserver 192.0.2.2;x\n"
      "search example.org\n"
      "nameserver 192.0.2.3";
  EXPECT_EQ(UpstreamsFromResolvConf(text),
            (std::vector<std::string>{"192.0.2.1", "2001:db8::1", "192.0.2.2", "192.0.2.3"}));
  EXPECT_TRUE(UpstreamsFromResolvConf("").empty());
}

TEST(DnsResolvConf, EmbeddedPointsAt127_0_0_11AndKeepsSearchAndOptions) {
  EXPECT_EQ(EmbeddedResolvConf("nameserver 192.0.2.1\nsearch a.example b.example\n"
                               "options edns0\n"),
            "nameserver 127.0.0.11\nsearch a.example b.example\noptions edns0\n"
            "options ndots:0\n");
  EXPECT_EQ(EmbeddedResolvConf("options ndots:2\n"), "nameserver 127.0.0.11\noptions ndots:2\n");
}

}  // namespace
}  // namespace berth::net::dns
