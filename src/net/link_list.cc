// Listing interfaces, addresses and routes of a netns (inspect, tests).

#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <map>

#include "net/link.h"
#include "net/link_internal.h"
#include "net/netns.h"

namespace berth::net {

using namespace internal;

namespace {

Result<std::vector<InterfaceInfo>> ListHere() {
  NlSock sk = BERTH_TRY(Connect());
  nl_cache* raw = nullptr;
  int err = rtnl_link_alloc_cache(sk.get(), AF_UNSPEC, &raw);
  if (err < 0) return NlError(err, "list links");
  Cache links(raw);
  err = rtnl_addr_alloc_cache(sk.get(), &raw);
  if (err < 0) return NlError(err, "list addresses");
  Cache addrs(raw);

  std::vector<InterfaceInfo> out;
  std::map<int, size_t> by_index;
  for (nl_object* o = nl_cache_get_first(links.get()); o; o = nl_cache_get_next(o)) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    InterfaceInfo info;
    info.name = rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "";
    info.index = rtnl_link_get_ifindex(l);
    const char* type = rtnl_link_get_type(l);
    info.kind = type ? type : "";
    if (info.kind.empty() && (rtnl_link_get_flags(l) & IFF_LOOPBACK)) info.kind = "loopback";
    if (nl_addr* hw = rtnl_link_get_addr(l); hw && nl_addr_get_len(hw) == 6) {
      std::array<uint8_t, 6> mac{};
      memcpy(mac.data(), nl_addr_get_binary_addr(hw), 6);
      info.mac = MacToString(mac);
    }
    info.mtu = static_cast<int>(rtnl_link_get_mtu(l));
    info.up = rtnl_link_get_flags(l) & IFF_UP;
    if (int m = rtnl_link_get_master(l); m > 0) {
      char name[IFNAMSIZ] = {};
      if (rtnl_link_i2name(links.get(), m, name, sizeof(name))) info.master = name;
    }
    by_index[info.index] = out.size();
    out.push_back(std::move(info));
  }
  // Two passes so IPv4 addresses come first.
  for (int family : {AF_INET, AF_INET6}) {
    for (nl_object* o = nl_cache_get_first(addrs.get()); o; o = nl_cache_get_next(o)) {
      auto* a = reinterpret_cast<rtnl_addr*>(o);
      if (rtnl_addr_get_family(a) != family) continue;
      auto it = by_index.find(rtnl_addr_get_ifindex(a));
      nl_addr* local = rtnl_addr_get_local(a);
      if (it == by_index.end() || !local) continue;
      Result<IpPrefix> p = FromNl(local);
      if (!p) continue;
      p->len = rtnl_addr_get_prefixlen(a);
      out[it->second].addresses.push_back(p->ToString());
    }
  }
  std::sort(out.begin(), out.end(),
            [](const InterfaceInfo& x, const InterfaceInfo& y) { return x.index < y.index; });
  return out;
}

Result<std::vector<RouteInfo>> RoutesHere() {
  NlSock sk = BERTH_TRY(Connect());
  nl_cache* raw = nullptr;
  int err = rtnl_link_alloc_cache(sk.get(), AF_UNSPEC, &raw);
  if (err < 0) return NlError(err, "list links");
  Cache links(raw);
  err = rtnl_route_alloc_cache(sk.get(), AF_UNSPEC, 0, &raw);
  if (err < 0) return NlError(err, "list routes");
  Cache routes(raw);
  std::vector<RouteInfo> out;
  for (nl_object* o = nl_cache_get_first(routes.get()); o; o = nl_cache_get_next(o)) {
    auto* r = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(r) != RT_TABLE_MAIN || rtnl_route_get_type(r) != RTN_UNICAST) {
      continue;
    }
    RouteInfo info;
    nl_addr* dst = rtnl_route_get_dst(r);
    Result<IpPrefix> d = dst ? FromNl(dst) : Result<IpPrefix>(Error::NotFound("no dst"));
    if (!d || d->len == 0) {
      info.destination = "default";
    } else {
      info.destination = d->ToString();
    }
    if (rtnl_route_get_nnexthops(r) > 0) {
      rtnl_nexthop* nh = rtnl_route_nexthop_n(r, 0);
      if (nl_addr* gw = rtnl_route_nh_get_gateway(nh)) {
        if (Result<IpPrefix> g = FromNl(gw)) info.gateway = g->addr.ToString();
      }
      char name[IFNAMSIZ] = {};
      if (rtnl_link_i2name(links.get(), rtnl_route_nh_get_ifindex(nh), name, sizeof(name))) {
        info.device = name;
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace

Result<std::vector<InterfaceInfo>> ListInterfaces(const std::string& netns_path) {
  if (netns_path.empty()) return ListHere();
  return InNetns(netns_path, ListHere);
}

Result<std::vector<RouteInfo>> ListRoutes(const std::string& netns_path) {
  if (netns_path.empty()) return RoutesHere();
  return InNetns(netns_path, RoutesHere);
}

}  // namespace berth::net
