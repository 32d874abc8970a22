#pragma once

// libnl-route helpers shared by link.cc and link_list.cc. Included only by src/net/*.cc, so
// libnl's headers never reach the engine.

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <memory>
#include <string>
#include <string_view>

#include "net/addr.h"
#include "util/result.h"

namespace berth::net::internal {

struct NlSockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDeleter {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct NlAddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct RouteDeleter {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct CacheDeleter {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
using NlSock = std::unique_ptr<nl_sock, NlSockDeleter>;
using Link = std::unique_ptr<rtnl_link, LinkDeleter>;
using Addr = std::unique_ptr<rtnl_addr, AddrDeleter>;
using NlAddr = std::unique_ptr<nl_addr, NlAddrDeleter>;
using Route = std::unique_ptr<rtnl_route, RouteDeleter>;
using Cache = std::unique_ptr<nl_cache, CacheDeleter>;

/// An error from a libnl return code (negative NLE_*), with the class it falls in.
Error NlError(int err, std::string_view context);

/// A connected NETLINK_ROUTE socket in the calling thread's netns.
Result<NlSock> Connect();

/// The link named name, NotFound if absent.
Result<Link> GetLink(nl_sock* sk, const std::string& name);

/// An nl_addr of an address (with prefix length len).
NlAddr ToNl(const IpAddr& a, int len);
/// An IpPrefix of an nl_addr of family AF_INET/AF_INET6; nullopt-like failure as an error.
Result<IpPrefix> FromNl(const nl_addr* a);

/// Checks a kernel interface name: 1..15 bytes, no '/', ':', whitespace.
Result<void> CheckIfName(std::string_view name);

}  // namespace berth::net::internal
