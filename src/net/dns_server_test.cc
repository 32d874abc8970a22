// DnsServer against the kernel: namespaces of the test's own stand for berthd's netns ("host")
// and for containers; the upstream resolvers are fakes on the host namespace's loopback.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "net/dns.h"
#include "net/dns_test_util_internal.h"
#include "net/netns.h"
#include "net/test_util_internal.h"

namespace berth::net::dns {
namespace {

using net::testing::BoundSocketIn;
using net::testing::NetnsDir;
using net::testing::NetnsGuard;
using net::testing::ToSockaddr;
using testing::MakeQuery;
using testing::ReadAnswer;

// A resolver upstream: answers every query with one A record (answer_ip), or never answers
// when silent. Bound to 127.0.0.1:port inside ns.
class FakeUpstream {
 public:
  FakeUpstream(const std::string& ns, uint16_t port, bool silent) {
    Result<Fd> s = BoundSocketIn(ns, "127.0.0.1", port, SOCK_DGRAM);
    if (!s) {
      error_ = s.error().message();
      return;
    }
    sock_ = std::move(*s);
    if (silent) return;
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{sock_.get(), POLLIN, 0};
        if (poll(&p, 1, 50) != 1) continue;
        uint8_t buf[512];
        sockaddr_storage from{};
        socklen_t len = sizeof(from);
        ssize_t n =
            recvfrom(sock_.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 12) continue;
        std::vector<uint8_t> q(buf, buf + n);
        Result<Question> parsed = ParseQuery(q);
        {
          std::lock_guard lock(mu_);
          asked_.push_back(parsed ? parsed->name : "?");
        }
        // The query back with QR and one answer: 192.0.2.77 (a documentation address that
        // is never sent a packet).
        std::vector<uint8_t> a = q;
        a[2] |= 0x80;
        a[7] = 1;
        a.insert(a.end(), {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 192, 0, 2, 77});
        sendto(sock_.get(), a.data(), a.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    });
  }
  ~FakeUpstream() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::string& error() const { return error_; }
  std::vector<std::string> asked() {
    std::lock_guard lock(mu_);
    return asked_;
  }

 private:
  Fd sock_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> asked_;
  std::string error_;
};

// Sends query from inside ns to 127.0.0.11:53 over UDP; the answer, or Unavailable.
Result<std::vector<uint8_t>> AskUdp(const std::string& ns, const std::vector<uint8_t>& query) {
  return InNetns(ns, [&]() -> Result<std::vector<uint8_t>> {
    Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(*IpAddr::Parse("127.0.0.11"), 53, &ss);
    if (connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      return Error::FromErrno(errno, "connect");
    }
    if (send(s.get(), query.data(), query.size(), 0) < 0) return Error::FromErrno(errno, "send");
    pollfd p{s.get(), POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return Error::Unavailable("no answer");
    std::vector<uint8_t> buf(65535);
    ssize_t n = recv(s.get(), buf.data(), buf.size(), 0);
    if (n < 0) return Error::FromErrno(errno, "recv");
    buf.resize(n);
    return buf;
  });
}

// The same over TCP (two-byte length prefix).
Result<std::vector<uint8_t>> AskTcp(const std::string& ns, const std::vector<uint8_t>& query,
                                    int timeout_ms = 5000) {
  return InNetns(ns, [&]() -> Result<std::vector<uint8_t>> {
    Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(*IpAddr::Parse("127.0.0.11"), 53, &ss);
    if (connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      return Error::FromErrno(errno, "connect");
    }
    std::vector<uint8_t> framed = {static_cast<uint8_t>(query.size() >> 8),
                                   static_cast<uint8_t>(query.size() & 0xff)};
    framed.insert(framed.end(), query.begin(), query.end());
    // Sent in two writes, so the server has to reassemble.
    if (write(s.get(), framed.data(), 3) != 3) return Error::FromErrno(errno, "write");
    if (write(s.get(), framed.data() + 3, framed.size() - 3) !=
        static_cast<ssize_t>(framed.size() - 3)) {
      return Error::FromErrno(errno, "write");
    }
    std::vector<uint8_t> buf;
    for (;;) {
      pollfd p{s.get(), POLLIN, 0};
      if (poll(&p, 1, timeout_ms) != 1) return Error::Unavailable("no answer");
      uint8_t chunk[4096];
      ssize_t n = read(s.get(), chunk, sizeof(chunk));
      if (n <= 0) return Error::Unavailable("closed before the answer");
      buf.insert(buf.end(), chunk, chunk + n);
      if (buf.size() >= 2 && buf.size() >= 2u + (buf[0] << 8 | buf[1])) break;
    }
    return std::vector<uint8_t>(buf.begin() + 2, buf.end());
  });
}

Resolver OneName(std::string name, const char* ip) {
  IpAddr a = *IpAddr::Parse(ip);
  return Resolver{.lookup = [name, a](std::string_view n) -> std::optional<std::vector<IpAddr>> {
    if (n != name) return std::nullopt;
    return std::vector<IpAddr>{a};
  }};
}

std::string FirstAddress(const Result<std::vector<uint8_t>>& packet) {
  if (!packet) return "error: " + packet.error().message();
  auto a = ReadAnswer(*packet);
  if (!a) return "unreadable answer";
  if (a->answers.empty()) return "rcode " + std::to_string(a->rcode());
  return testing::RdataAddress(a->answers[0]);
}

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (netns)";
    for (NetnsGuard* g : {&host_, &c1_, &c2_}) ASSERT_OK(CreateNetns(g->path()));
  }
  // Starts the server with its thread in the host namespace.
  void Start(std::vector<std::string> upstreams) {
    DnsServer::Options o{.upstreams = std::move(upstreams), .upstream_timeout_ms = 300};
    Result<std::unique_ptr<DnsServer>> s =
        InNetns(host_.path(), [&] { return DnsServer::Start(o); });
    ASSERT_OK(s);
    server_ = std::move(*s);
  }
  void TearDown() override { server_.reset(); }

  NetnsDir dir_;
  NetnsGuard host_{dir_.Path("host")};
  NetnsGuard c1_{dir_.Path("c1")};
  NetnsGuard c2_{dir_.Path("c2")};
  std::unique_ptr<DnsServer> server_;
};

TEST_F(DnsServerTest, EachNamespaceIsAnsweredByItsOwnResolverOverUdpAndTcp) {
  Start({});
  ASSERT_OK(server_->AddNamespace("c1", c1_.path(), OneName("web", "10.1.0.2")));
  ASSERT_OK(server_->AddNamespace("c2", c2_.path(), OneName("web", "10.2.0.2")));
  EXPECT_EQ(FirstAddress(AskUdp(c1_.path(), MakeQuery(1, "web", kTypeA))), "10.1.0.2");
  EXPECT_EQ(FirstAddress(AskUdp(c2_.path(), MakeQuery(2, "WEB", kTypeA))), "10.2.0.2");
  EXPECT_EQ(FirstAddress(AskTcp(c1_.path(), MakeQuery(3, "web", kTypeA))), "10.1.0.2");
  EXPECT_EQ(FirstAddress(AskTcp(c2_.path(), MakeQuery(4, "web", kTypeA))), "10.2.0.2");
  // No upstream: an unknown name is NXDOMAIN.
  EXPECT_EQ(FirstAddress(AskUdp(c1_.path(), MakeQuery(5, "other", kTypeA))), "rcode 3");
  // The host namespace itself has nothing on 127.0.0.11:53.
  EXPECT_FALSE(AskUdp(host_.path(), MakeQuery(6, "web", kTypeA)));
}

TEST_F(DnsServerTest, UnknownNamesAreForwardedFromTheServersNamespaceToTheNextUpstream) {
  // Both upstreams are on the host namespace's loopback, which a container cannot reach: an
  // answer proves the forwarding socket is the server's. The first never answers.
  FakeUpstream silent(host_.path(), 5301, true);
  FakeUpstream upstream(host_.path(), 5300, false);
  ASSERT_EQ(silent.error(), "");
  ASSERT_EQ(upstream.error(), "");
  Start({"127.0.0.1:5301", "127.0.0.1:5300"});
  ASSERT_OK(server_->AddNamespace("c1", c1_.path(), OneName("web", "10.1.0.2")));

  Result<std::vector<uint8_t>> r = AskUdp(c1_.path(), MakeQuery(0x7777, "example.org", kTypeA));
  EXPECT_EQ(FirstAddress(r), "192.0.2.77");
  ASSERT_TRUE(r);
  EXPECT_EQ(ReadAnswer(*r)->id, 0x7777);
  EXPECT_EQ(FirstAddress(AskTcp(c1_.path(), MakeQuery(8, "Example.NET", kTypeA))), "192.0.2.77");
  EXPECT_EQ(upstream.asked(), (std::vector<std::string>{"example.org", "example.net"}));
  // Names of ours never go upstream.
  EXPECT_EQ(FirstAddress(AskUdp(c1_.path(), MakeQuery(9, "web", kTypeA))), "10.1.0.2");
  EXPECT_EQ(upstream.asked().size(), 2u);

  // SetUpstreams: only the silent one left, so SERVFAIL after its timeout.
  server_->SetUpstreams({"127.0.0.1:5301", "not an address"});
  EXPECT_EQ(FirstAddress(AskUdp(c1_.path(), MakeQuery(10, "example.org", kTypeA))), "rcode 2");
  EXPECT_EQ(FirstAddress(AskTcp(c1_.path(), MakeQuery(11, "example.org", kTypeA))), "rcode 2");
  EXPECT_EQ(upstream.asked().size(), 2u);
}

TEST_F(DnsServerTest, HostilePacketsGetNoCrashAndTheServerKeepsAnswering) {
  Start({});
  ASSERT_OK(server_->AddNamespace("c1", c1_.path(), OneName("web", "10.1.0.2")));
  std::vector<std::vector<uint8_t>> bad = {
      {},
      {1, 2, 3},
      {0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1},  // self pointer
      std::vector<uint8_t>(4000, 0xc0),
  };
  for (const auto& p : bad) {
    (void)AskTcp(c1_.path(), p, 100);  // answered or not, must not matter
    ASSERT_OK(InNetns(c1_.path(), [&]() -> Result<void> {
      Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      sockaddr_storage ss;
      socklen_t len = ToSockaddr(*IpAddr::Parse("127.0.0.11"), 53, &ss);
      sendto(s.get(), p.data(), p.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
      return {};
    }));
  }
  // The self pointer gets FORMERR with its id.
  Result<std::vector<uint8_t>> r = AskUdp(c1_.path(), bad[2]);
  ASSERT_OK(r);
  EXPECT_EQ(ReadAnswer(*r)->rcode(), kRcodeFormErr);
  // A TCP client that announces 65535 bytes and hangs up halfway.
  ASSERT_OK(InNetns(c1_.path(), [&]() -> Result<void> {
    Fd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(*IpAddr::Parse("127.0.0.11"), 53, &ss);
    if (connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      return Error::FromErrno(errno, "connect");
    }
    std::vector<uint8_t> half(30000, 0xff);
    (void)!write(s.get(), half.data(), half.size());
    return {};
  }));
  EXPECT_EQ(FirstAddress(AskUdp(c1_.path(), MakeQuery(1, "web", kTypeA))), "10.1.0.2");
  EXPECT_EQ(FirstAddress(AskTcp(c1_.path(), MakeQuery(2, "web", kTypeA))), "10.1.0.2");
}

TEST_F(DnsServerTest, RemoveNamespaceClosesItsSocketsAndAddChecksConflicts) {
  Start({});
  ASSERT_OK(server_->AddNamespace("c1", c1_.path(), OneName("web", "10.1.0.2")));
  Result<void> again = server_->AddNamespace("c1", c2_.path(), OneName("web", "10.1.0.2"));
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().IsAlreadyExists()) << again.error().message();
  // Another key on a namespace whose 127.0.0.11:53 is taken: Conflict.
  Result<void> taken = server_->AddNamespace("c1b", c1_.path(), OneName("web", "10.1.0.2"));
  ASSERT_FALSE(taken);
  EXPECT_TRUE(taken.error().IsConflict()) << taken.error().message();

  server_->RemoveNamespace("c1");
  server_->RemoveNamespace("c1");  // unknown now: not an error
  // The address is free again inside c1: both sockets are closed.
  EXPECT_TRUE(BoundSocketIn(c1_.path(), "127.0.0.11", 53, SOCK_DGRAM));
  EXPECT_TRUE(BoundSocketIn(c1_.path(), "127.0.0.11", 53, SOCK_STREAM));
  ASSERT_OK(server_->AddNamespace("c1", c1_.path(), OneName("db", "10.1.0.3")));
  EXPECT_EQ(FirstAddress(AskUdp(c1_.path(), MakeQuery(1, "db", kTypeA))), "10.1.0.3");
}

}  // namespace
}  // namespace berth::net::dns
