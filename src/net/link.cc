#include "net/link.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/route/link/veth.h>
#include <unistd.h>

#include <cerrno>

#include "net/link_internal.h"
#include "net/netns.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::net {
namespace internal {

Error NlError(int err, std::string_view context) {
  if (err < 0) err = -err;
  ErrorCode code = ErrorCode::kInternal;
  switch (err) {
    case NLE_EXIST:
      code = ErrorCode::kAlreadyExists;
      break;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      code = ErrorCode::kNotFound;
      break;
    case NLE_INVAL:
    case NLE_RANGE:
      code = ErrorCode::kInvalidArgument;
      break;
    case NLE_PERM:
    case NLE_NOACCESS:
      code = ErrorCode::kPermissionDenied;
      break;
    case NLE_BUSY:
      code = ErrorCode::kConflict;
      break;
    case NLE_OPNOTSUPP:
    case NLE_AF_NOSUPPORT:
      code = ErrorCode::kNotImplemented;
      break;
    default:
      break;
  }
  return Error(code, std::string(context) + ": " + nl_geterror(err));
}

Result<NlSock> Connect() {
  NlSock sk(nl_socket_alloc());
  if (!sk) return Error::Internal("allocate netlink socket");
  int err = nl_connect(sk.get(), NETLINK_ROUTE);
  if (err < 0) return NlError(err, "connect rtnetlink");
  return sk;
}

Result<Link> GetLink(nl_sock* sk, const std::string& name) {
  rtnl_link* l = nullptr;
  int err = rtnl_link_get_kernel(sk, 0, name.c_str(), &l);
  if (err < 0) return NlError(err, "get link " + name);
  return Link(l);
}

NlAddr ToNl(const IpAddr& a, int len) {
  NlAddr n(nl_addr_build(a.is_v4() ? AF_INET : AF_INET6, a.bytes.data(), a.size()));
  if (n) nl_addr_set_prefixlen(n.get(), len);
  return n;
}

Result<IpPrefix> FromNl(const nl_addr* a) {
  int family = nl_addr_get_family(a);
  unsigned size = nl_addr_get_len(a);
  IpPrefix p;
  if (family == AF_INET && size == 4) {
    p.addr.family = IpAddr::Family::kV4;
  } else if (family == AF_INET6 && size == 16) {
    p.addr.family = IpAddr::Family::kV6;
  } else {
    return Error::InvalidArgument("not an IP address");
  }
  memcpy(p.addr.bytes.data(), nl_addr_get_binary_addr(a), size);
  p.len = static_cast<int>(nl_addr_get_prefixlen(a));
  return p;
}

Result<void> CheckIfName(std::string_view name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") {
    return Error::InvalidArgument("invalid interface name \"" + std::string(name) + "\"");
  }
  for (char c : name) {
    if (c == '/' || c == ':' || c <= ' ' || c > '~') {
      return Error::InvalidArgument("invalid interface name \"" + std::string(name) + "\"");
    }
  }
  return {};
}

}  // namespace internal

using namespace internal;

namespace {

// Adds a CIDR to the link with index ifindex; an address already there is fine.
Result<void> AddAddress(nl_sock* sk, int ifindex, const std::string& cidr) {
  IpPrefix p = BERTH_TRY(IpPrefix::Parse(cidr));
  Addr a(rtnl_addr_alloc());
  NlAddr local = ToNl(p.addr, p.len);
  if (!a || !local) return Error::Internal("allocate address");
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_family(a.get(), p.addr.is_v4() ? AF_INET : AF_INET6);
  rtnl_addr_set_local(a.get(), local.get());
  if (p.addr.is_v4()) {
    // The broadcast address, as `ip addr add ... brd +` sets it.
    NlAddr brd = ToNl(p.Last(), p.len);
    if (p.len < 31) rtnl_addr_set_broadcast(a.get(), brd.get());
  } else {
    // Duplicate address detection would keep the address "tentative" (unusable) for a second;
    // the address was allocated by our IPAM, so it is unique on the bridge.
    rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
  }
  int err = rtnl_addr_add(sk, a.get(), 0);
  if (err < 0 && -err != NLE_EXIST) return NlError(err, "add address " + cidr);
  return {};
}

Result<void> AddDefaultRoute(nl_sock* sk, int ifindex, const std::string& gateway) {
  IpAddr gw = BERTH_TRY(IpAddr::Parse(gateway));
  int family = gw.is_v4() ? AF_INET : AF_INET6;
  Route r(rtnl_route_alloc());
  IpAddr any;
  any.family = gw.family;
  NlAddr dst = ToNl(any, 0);
  NlAddr via = ToNl(gw, gw.bits());
  if (!r || !dst || !via) return Error::Internal("allocate route");
  rtnl_route_set_family(r.get(), family);
  rtnl_route_set_dst(r.get(), dst.get());
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
  rtnl_route_set_scope(r.get(), RT_SCOPE_UNIVERSE);
  rtnl_route_set_type(r.get(), RTN_UNICAST);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!nh) return Error::Internal("allocate next hop");
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_nh_set_gateway(nh, via.get());
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns nh from here
  int err = rtnl_route_add(sk, r.get(), NLM_F_CREATE | NLM_F_REPLACE);
  if (err < 0) return NlError(err, "add default route via " + gateway);
  return {};
}

// Sets the flags/MTU of an existing link through a change request.
Result<void> ChangeLink(nl_sock* sk, rtnl_link* orig, int mtu, bool up) {
  Link change(rtnl_link_alloc());
  if (!change) return Error::Internal("allocate link");
  if (mtu > 0) rtnl_link_set_mtu(change.get(), static_cast<unsigned>(mtu));
  if (up) rtnl_link_set_flags(change.get(), IFF_UP);
  int err = rtnl_link_change(sk, orig, change.get(), 0);
  if (err < 0) return NlError(err, std::string("change link ") + rtnl_link_get_name(orig));
  return {};
}

Result<void> DeleteByName(const std::string& name) {
  BERTH_TRY(CheckIfName(name));
  NlSock sk = BERTH_TRY(Connect());
  Link l(rtnl_link_alloc());
  if (!l) return Error::Internal("allocate link");
  rtnl_link_set_name(l.get(), name.c_str());
  int err = rtnl_link_delete(sk.get(), l.get());
  if (err < 0 && -err != NLE_OBJ_NOTFOUND && -err != NLE_NODEV) {
    return NlError(err, "delete link " + name);
  }
  return {};
}

// Inside the container's netns: addresses and default routes of the new peer.
Result<void> ConfigurePeer(const VethConfig& c) {
  NlSock sk = BERTH_TRY(Connect());
  Link peer = BERTH_TRY(GetLink(sk.get(), c.peer_name));
  int ifindex = rtnl_link_get_ifindex(peer.get());
  BERTH_TRY(ChangeLink(sk.get(), peer.get(), 0, true));
  for (const std::string& cidr : c.addresses) BERTH_TRY(AddAddress(sk.get(), ifindex, cidr));
  if (!c.gateway4.empty()) BERTH_TRY(AddDefaultRoute(sk.get(), ifindex, c.gateway4));
  if (!c.gateway6.empty()) BERTH_TRY(AddDefaultRoute(sk.get(), ifindex, c.gateway6));
  return {};
}

}  // namespace

Result<void> EnsureBridge(const BridgeConfig& config) {
  BERTH_TRY(CheckIfName(config.name));
  for (const std::string& cidr : config.addresses) BERTH_TRY(IpPrefix::Parse(cidr));
  NlSock sk = BERTH_TRY(Connect());
  Result<Link> existing = GetLink(sk.get(), config.name);
  if (!existing && !existing.error().IsNotFound()) return std::move(existing).error();
  if (!existing) {
    Link l(rtnl_link_alloc());
    if (!l) return Error::Internal("allocate link");
    rtnl_link_set_name(l.get(), config.name.c_str());
    int err = rtnl_link_set_type(l.get(), "bridge");
    if (err < 0) return NlError(err, "bridge link type");
    if (config.mtu > 0) rtnl_link_set_mtu(l.get(), static_cast<unsigned>(config.mtu));
    err = rtnl_link_add(sk.get(), l.get(), NLM_F_CREATE | NLM_F_EXCL);
    // EEXIST: made by someone else meanwhile; checked as an existing link below.
    if (err < 0 && -err != NLE_EXIST) return NlError(err, "create bridge " + config.name);
    existing = GetLink(sk.get(), config.name);
    if (!existing) return std::move(existing).error();
  }
  rtnl_link* link = existing->get();
  const char* type = rtnl_link_get_type(link);
  if (!type || std::string_view(type) != "bridge") {
    return Error::AlreadyExists("link " + config.name + " exists and is not a bridge");
  }
  int ifindex = rtnl_link_get_ifindex(link);
  for (const std::string& cidr : config.addresses) {
    BERTH_TRY_CTX(AddAddress(sk.get(), ifindex, cidr), "bridge " + config.name);
  }
  int mtu = config.mtu > 0 && rtnl_link_get_mtu(link) != static_cast<unsigned>(config.mtu)
                ? config.mtu
                : 0;
  if (mtu > 0 || !(rtnl_link_get_flags(link) & IFF_UP)) {
    BERTH_TRY(ChangeLink(sk.get(), link, mtu, true));
  }
  return {};
}

Result<void> DeleteLink(const std::string& name) { return DeleteByName(name); }

Result<void> DeleteLinkInNetns(const std::string& netns_path, const std::string& name) {
  return InNetns(netns_path, [&] { return DeleteByName(name); });
}

Result<bool> LinkExists(const std::string& name, const std::string& netns_path) {
  auto check = [&]() -> Result<bool> {
    BERTH_TRY(CheckIfName(name));
    NlSock sk = BERTH_TRY(Connect());
    Result<Link> l = GetLink(sk.get(), name);
    if (l) return true;
    if (l.error().IsNotFound()) return false;
    return std::move(l).error();
  };
  if (netns_path.empty()) return check();
  return InNetns(netns_path, check);
}

Result<void> CreateVeth(const VethConfig& c) {
  BERTH_TRY(CheckIfName(c.host_name));
  BERTH_TRY(CheckIfName(c.peer_name));
  for (const std::string& cidr : c.addresses) BERTH_TRY(IpPrefix::Parse(cidr));
  std::array<uint8_t, 6> mac{};
  if (!c.mac.empty()) mac = BERTH_TRY(ParseMac(c.mac));
  Fd ns = BERTH_TRY(OpenNetns(c.netns_path));
  NlSock sk = BERTH_TRY(Connect());

  int master = 0;
  unsigned mtu = c.mtu > 0 ? static_cast<unsigned>(c.mtu) : 0;
  if (!c.bridge.empty()) {
    Link br = BERTH_TRY_CTX(GetLink(sk.get(), c.bridge), "veth " + c.host_name);
    master = rtnl_link_get_ifindex(br.get());
    if (mtu == 0) mtu = rtnl_link_get_mtu(br.get());
  }

  struct VethDeleter {
    void operator()(rtnl_link* l) const { rtnl_link_veth_release(l); }  // frees the peer too
  };
  std::unique_ptr<rtnl_link, VethDeleter> host(rtnl_link_veth_alloc());
  if (!host) return Error::Internal("allocate veth");
  rtnl_link* peer = rtnl_link_veth_get_peer(host.get());
  rtnl_link_set_name(host.get(), c.host_name.c_str());
  if (master) rtnl_link_set_master(host.get(), master);
  rtnl_link_set_flags(host.get(), IFF_UP);
  // The peer is made directly inside the netns under its final name (IFLA_NET_NS_FD in the
  // peer's info): no rename, and no moment where "eth0" exists in berthd's netns. It is
  // brought up from inside (IFF_UP in the peer's own ifinfomsg fails with ENOTCONN).
  rtnl_link_set_name(peer, c.peer_name.c_str());
  rtnl_link_set_ns_fd(peer, ns.get());
  NlAddr hw;
  if (!c.mac.empty()) {
    hw.reset(nl_addr_build(AF_LLC, mac.data(), mac.size()));
    rtnl_link_set_addr(peer, hw.get());
  }
  if (mtu) {
    rtnl_link_set_mtu(host.get(), mtu);
    rtnl_link_set_mtu(peer, mtu);
  }
  int err = rtnl_link_add(sk.get(), host.get(), NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(peer);  // rtnl_link_veth_get_peer took a reference
  if (err < 0) {
    return NlError(
        err, "create veth " + c.host_name + " (peer " + c.peer_name + " in " + c.netns_path + ")");
  }
  Result<void> configured = InNetns(c.netns_path, [&] { return ConfigurePeer(c); });
  if (!configured) {
    (void)DeleteByName(c.host_name);
    return std::move(configured).error().Wrap("configure " + c.peer_name + " in " + c.netns_path);
  }
  return {};
}

Result<void> SetSysctl(const std::string& key, const std::string& value) {
  if (key.empty() || key.find("..") != std::string::npos || key.front() == '/') {
    return Error::InvalidArgument("invalid sysctl key \"" + key + "\"");
  }
  std::string path = "/proc/sys/" + key;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno(errno, "open " + path);
  Fd f(fd);
  std::string v = value + "\n";
  if (write(fd, v.data(), v.size()) != static_cast<ssize_t>(v.size())) {
    return Error::FromErrno(errno, "write " + path);
  }
  return {};
}

Result<std::string> GetSysctl(const std::string& key) {
  if (key.empty() || key.find("..") != std::string::npos || key.front() == '/') {
    return Error::InvalidArgument("invalid sysctl key \"" + key + "\"");
  }
  std::string path = "/proc/sys/" + key;
  Fd f = BERTH_TRY(Fd::Open(path, O_RDONLY));
  std::string v = BERTH_TRY(ReadAll(f.get(), 1 << 16));
  while (!v.empty() && v.back() == '\n') v.pop_back();
  return v;
}

Result<void> ConfigureBridgeSysctls(const std::string& bridge, bool ipv6) {
  BERTH_TRY(CheckIfName(bridge));
  BERTH_TRY(SetSysctl("net/ipv4/ip_forward", "1"));
  BERTH_TRY(SetSysctl("net/ipv4/conf/" + bridge + "/route_localnet", "1"));
  if (ipv6) {
    BERTH_TRY(SetSysctl("net/ipv6/conf/all/forwarding", "1"));
    BERTH_TRY(SetSysctl("net/ipv6/conf/" + bridge + "/accept_dad", "0"));
  }
  return {};
}

}  // namespace berth::net
