// Bridges and veth pairs, made inside a netns of the test's own that plays the host, so the
// test touches nothing of the real host's network.

#include "net/link.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>

#include "net/addr.h"
#include "net/netns.h"
#include "net/test_util_internal.h"
#include "util/fd.h"

namespace berth::net {
namespace {

using testing::NetnsDir;
using testing::NetnsGuard;

const InterfaceInfo* Find(const std::vector<InterfaceInfo>& ifs, const std::string& name) {
  for (const auto& i : ifs) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Binds a UDP socket to addr:port inside ns.
Result<Fd> UdpSocketIn(const std::string& ns, const std::string& addr, uint16_t port) {
  return InNetns(ns, [&]() -> Result<Fd> {
    IpAddr a = BERTH_TRY(IpAddr::Parse(addr));
    int family = a.is_v4() ? AF_INET : AF_INET6;
    Fd s(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) return Error::FromErrno(errno, "socket");
    sockaddr_storage ss{};
    socklen_t len;
    if (a.is_v4()) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      memcpy(&sin->sin_addr, a.bytes.data(), 4);
      len = sizeof(*sin);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(port);
      memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
      len = sizeof(*sin6);
    }
    if (bind(s.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      return Error::FromErrno(errno, "bind " + addr);
    }
    return s;
  });
}

// Sends "ping" from one bound socket to addr:port and reads it on the other.
void ExpectDatagram(const Fd& from, const Fd& to, const std::string& addr, uint16_t port) {
  IpAddr a = IpAddr::Parse(addr).value();
  sockaddr_storage ss{};
  socklen_t len;
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    memcpy(&sin->sin_addr, a.bytes.data(), 4);
    len = sizeof(*sin);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
    len = sizeof(*sin6);
  }
  // The first datagram may be lost to neighbour discovery; send a few.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(sendto(from.get(), "ping", 4, 0, reinterpret_cast<sockaddr*>(&ss), len), 4)
        << strerror(errno);
    pollfd p{to.get(), POLLIN, 0};
    if (poll(&p, 1, 250) == 1) {
      char buf[16];
      ASSERT_EQ(recv(to.get(), buf, sizeof(buf), 0), 4);
      EXPECT_EQ(std::string(buf, 4), "ping");
      return;
    }
  }
  ADD_FAILURE() << "no datagram reached " << addr;
}

TEST(Link, BridgeAndVethsConnectTwoNamespaces) {
  BERTH_NET_REQUIRE_ROOT();
  NetnsDir dir;
  NetnsGuard host(dir.Path("host"));
  NetnsGuard c1(dir.Path("c1"));
  NetnsGuard c2(dir.Path("c2"));
  ASSERT_OK(CreateNetns(host.path()));
  ASSERT_OK(CreateNetns(c1.path()));
  ASSERT_OK(CreateNetns(c2.path()));

  ASSERT_OK(RunInNetns(host.path(), [&]() -> Result<void> {
    BERTH_TRY(EnsureBridge(
        {.name = "br0", .mtu = 1400, .addresses = {"10.200.0.1/24", "fd00:200::1/64"}}));
    // Idempotent, and another address is added.
    BERTH_TRY(EnsureBridge({.name = "br0", .mtu = 1400, .addresses = {"10.200.0.1/24"}}));
    BERTH_TRY(ConfigureBridgeSysctls("br0", true));
    BERTH_TRY(CreateVeth({.host_name = "vethc1",
                          .bridge = "br0",
                          .netns_path = c1.path(),
                          .peer_name = "eth0",
                          .mac = "02:42:0a:c8:00:02",
                          .addresses = {"10.200.0.2/24", "fd00:200::2/64"},
                          .gateway4 = "10.200.0.1",
                          .gateway6 = "fd00:200::1"}));
    BERTH_TRY(CreateVeth({.host_name = "vethc2",
                          .bridge = "br0",
                          .netns_path = c2.path(),
                          .peer_name = "eth0",
                          .addresses = {"10.200.0.3/24"},
                          .gateway4 = "10.200.0.1"}));
    return {};
  }));

  auto host_ifs = ListInterfaces(host.path());
  ASSERT_OK(host_ifs);
  const InterfaceInfo* br = Find(*host_ifs, "br0");
  ASSERT_NE(br, nullptr);
  EXPECT_EQ(br->kind, "bridge");
  EXPECT_EQ(br->mtu, 1400);
  EXPECT_TRUE(br->up);
  EXPECT_TRUE(Has(br->addresses, "10.200.0.1/24"));
  EXPECT_TRUE(Has(br->addresses, "fd00:200::1/64"));
  const InterfaceInfo* v1 = Find(*host_ifs, "vethc1");
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->kind, "veth");
  EXPECT_EQ(v1->master, "br0");
  EXPECT_EQ(v1->mtu, 1400) << "the bridge's MTU by default";
  EXPECT_TRUE(v1->up);
  EXPECT_EQ(Find(*host_ifs, "eth0"), nullptr);

  auto c1_ifs = ListInterfaces(c1.path());
  ASSERT_OK(c1_ifs);
  const InterfaceInfo* eth0 = Find(*c1_ifs, "eth0");
  ASSERT_NE(eth0, nullptr);
  EXPECT_EQ(eth0->mac, "02:42:0a:c8:00:02");
  EXPECT_TRUE(eth0->up);
  EXPECT_EQ(eth0->mtu, 1400);
  EXPECT_TRUE(Has(eth0->addresses, "10.200.0.2/24"));
  EXPECT_TRUE(Has(eth0->addresses, "fd00:200::2/64"));

  auto routes = ListRoutes(c1.path());
  ASSERT_OK(routes);
  int defaults = 0;
  for (const RouteInfo& r : *routes) {
    if (r.destination != "default") continue;
    ++defaults;
    EXPECT_EQ(r.device, "eth0");
    EXPECT_TRUE(r.gateway == "10.200.0.1" || r.gateway == "fd00:200::1") << r.gateway;
  }
  EXPECT_EQ(defaults, 2);

  // Traffic from c1 to c2 across the bridge, and to the gateway (the "host").
  Result<Fd> s1 = UdpSocketIn(c1.path(), "10.200.0.2", 0);
  Result<Fd> s2 = UdpSocketIn(c2.path(), "10.200.0.3", 5353);
  Result<Fd> sh = UdpSocketIn(host.path(), "fd00:200::1", 5354);
  Result<Fd> s16 = UdpSocketIn(c1.path(), "fd00:200::2", 0);
  ASSERT_OK(s1);
  ASSERT_OK(s2);
  ASSERT_OK(sh);
  ASSERT_OK(s16);
  ExpectDatagram(*s1, *s2, "10.200.0.3", 5353);
  ExpectDatagram(*s16, *sh, "fd00:200::1", 5354);

  // Deleting the host end removes the container's end too.
  ASSERT_OK(RunInNetns(host.path(), [] { return DeleteLink("vethc1"); }));
  auto gone = LinkExists("eth0", c1.path());
  ASSERT_OK(gone);
  EXPECT_FALSE(*gone);
  ASSERT_OK(RunInNetns(host.path(), [] { return DeleteLink("vethc1"); }));  // idempotent

  // Removing from the inside works too.
  ASSERT_OK(DeleteLinkInNetns(c2.path(), "eth0"));
  auto host_after = ListInterfaces(host.path());
  ASSERT_OK(host_after);
  EXPECT_EQ(Find(*host_after, "vethc2"), nullptr);
}

TEST(Link, ErrorsNameTheProblem) {
  BERTH_NET_REQUIRE_ROOT();
  NetnsDir dir;
  NetnsGuard host(dir.Path("host"));
  NetnsGuard c1(dir.Path("c1"));
  ASSERT_OK(CreateNetns(host.path()));
  ASSERT_OK(CreateNetns(c1.path()));
  ASSERT_OK(RunInNetns(host.path(), [&]() -> Result<void> {
    Result<void> r = EnsureBridge({.name = "lo"});
    EXPECT_TRUE(!r && r.error().IsAlreadyExists());
    r = EnsureBridge({.name = "a/b"});
    EXPECT_TRUE(!r && r.error().IsInvalidArgument());
    r = EnsureBridge({.name = "br0", .addresses = {"10.0.0.1/33"}});
    EXPECT_TRUE(!r && r.error().IsInvalidArgument());
    r = CreateVeth({.host_name = "v0", .bridge = "nosuchbr", .netns_path = c1.path()});
    EXPECT_TRUE(!r && r.error().IsNotFound()) << (r ? "" : r.error().message());
    r = CreateVeth({.host_name = "v0", .netns_path = c1.path(), .mac = "zz"});
    EXPECT_TRUE(!r && r.error().IsInvalidArgument());
    // A bad gateway fails after the pair was made: the pair is removed again.
    r = CreateVeth({.host_name = "v0",
                    .netns_path = c1.path(),
                    .addresses = {"10.1.0.2/24"},
                    .gateway4 = "10.9.9.9"});
    EXPECT_FALSE(r);
    Result<bool> left = LinkExists("v0");
    EXPECT_TRUE(left && !*left);
    return {};
  }));
  auto c1_ifs = ListInterfaces(c1.path());
  ASSERT_OK(c1_ifs);
  EXPECT_EQ(c1_ifs->size(), 1u) << "only lo";
}

TEST(Link, SysctlRoundTripsInsideANamespace) {
  BERTH_NET_REQUIRE_ROOT();
  NetnsDir dir;
  NetnsGuard host(dir.Path("host"));
  ASSERT_OK(CreateNetns(host.path()));
  ASSERT_OK(RunInNetns(host.path(), [&]() -> Result<void> {
    // /proc/sys/net is the opening thread's netns: a new one starts with forwarding off.
    EXPECT_EQ(BERTH_TRY(GetSysctl("net/ipv4/ip_forward")), "0");
    BERTH_TRY(SetSysctl("net/ipv4/ip_forward", "1"));
    std::string v = BERTH_TRY(GetSysctl("net/ipv4/ip_forward"));
    EXPECT_EQ(v, "1");
    Result<void> bad = SetSysctl("../etc/passwd", "x");
    EXPECT_TRUE(!bad && bad.error().IsInvalidArgument());
    return {};
  }));
}

}  // namespace
}  // namespace berth::net
