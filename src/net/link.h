#pragma once

// Links, addresses and routes over rtnetlink (libnl-route-3; nothing shells out to `ip`).
//
//   BERTH_TRY(EnsureBridge({.name = "berth0", .addresses = {gw_cidr}}));
//   BERTH_TRY(CreateVeth({.host_name = "veth3f2a1b0", .bridge = "berth0",
//                         .netns_path = ns, .peer_name = "eth0", .mac = mac,
//                         .addresses = {"172.18.0.2/16"}, .gateway4 = "172.18.0.1"}));
//   ...
//   BERTH_TRY(DeleteLink("veth3f2a1b0"));   // both ends of the pair go
//
// Every function opens its own netlink socket: they may be called from any thread at once.
// Functions taking a netns_path work inside that namespace (an empty path: the caller's).
// Names are kernel interface names: at most 15 bytes (IFNAMSIZ - 1).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace berth::net {

struct BridgeConfig {
  std::string name;
  /// 0: leave the kernel's (1500 for a new bridge).
  int mtu = 0;
  /// CIDRs put on the bridge ("172.18.0.1/16", "fd00:1::1/64"); addresses already there are
  /// kept, these are added if missing.
  std::vector<std::string> addresses;
};

/// Creates the bridge if absent (AlreadyExists if the name is another kind of link), sets its
/// MTU, adds the missing addresses and brings it up. Idempotent. An IPv6 address gets
/// IFA_F_NODAD, so it is usable at once.
Result<void> EnsureBridge(const BridgeConfig& config);

/// Deletes a link by name in the caller's namespace (a veth: both ends). A missing link is
/// not an error. Errors: errno-based.
Result<void> DeleteLink(const std::string& name);

/// Deletes a link by name inside the namespace at netns_path (for a container interface
/// whose host end is not known). A missing link is not an error.
Result<void> DeleteLinkInNetns(const std::string& netns_path, const std::string& name);

/// Whether a link of that name exists (empty netns_path: the caller's namespace).
Result<bool> LinkExists(const std::string& name, const std::string& netns_path = "");

struct VethConfig {
  /// The end that stays in the caller's namespace, attached to bridge ("veth" + 7 hex, as
  /// Docker names them).
  std::string host_name;
  /// The bridge the host end joins; empty: none (left unattached, still brought up).
  std::string bridge;
  /// The namespace the peer moves to (a CreateNetns path).
  std::string netns_path;
  /// The peer's name inside the namespace ("eth0", "eth1", ...).
  std::string peer_name = "eth0";
  /// The peer's MAC ("02:42:ac:12:00:02"); empty: the kernel's random one.
  std::string mac;
  /// 0: the bridge's MTU if bridge is set, else the kernel's.
  int mtu = 0;
  /// CIDRs of the peer ("172.18.0.2/16", "fd00:1::2/64"); IPv6 ones without DAD.
  std::vector<std::string> addresses;
  /// Default routes via these gateways; empty: no default route of that family.
  std::string gateway4;
  std::string gateway6;
};

/// Creates the pair, attaches and raises the host end, moves the peer into the namespace,
/// renames it, sets its MAC, MTU and addresses, raises it and adds the default routes.
/// On any failure the pair is deleted again. Errors: AlreadyExists (host_name or peer_name
/// taken), NotFound (bridge, netns), InvalidArgument (a bad CIDR/MAC), errno-based.
Result<void> CreateVeth(const VethConfig& config);

struct InterfaceInfo {
  std::string name;
  int index = 0;
  /// "veth", "bridge", "loopback", ... (the rtnl kind; "" for a plain device).
  std::string kind;
  std::string mac;
  int mtu = 0;
  bool up = false;
  /// The master's name (a bridge port), else empty.
  std::string master;
  /// CIDRs ("172.18.0.2/16"), IPv4 first, in the kernel's order.
  std::vector<std::string> addresses;
};

/// The interfaces of a namespace with their addresses (empty netns_path: the caller's).
Result<std::vector<InterfaceInfo>> ListInterfaces(const std::string& netns_path = "");

struct RouteInfo {
  /// "default" or a CIDR.
  std::string destination;
  /// The next hop, empty for a link route.
  std::string gateway;
  std::string device;
};

/// The main routing table of a namespace, IPv4 and IPv6 (empty netns_path: the caller's).
Result<std::vector<RouteInfo>> ListRoutes(const std::string& netns_path = "");

/// Writes value to /proc/sys/KEY ("net/ipv4/ip_forward", "net/ipv4/conf/berth0/route_localnet")
/// in the caller's namespace. Errors: NotFound (no such key), errno-based.
Result<void> SetSysctl(const std::string& key, const std::string& value);
/// Reads /proc/sys/KEY without its final newline.
Result<std::string> GetSysctl(const std::string& key);

/// What a bridge used by containers needs from the host: ip_forward=1 (and IPv6 forwarding
/// when ipv6), route_localnet=1 on the bridge (published ports reached at 127.0.0.1 are
/// DNATed to it), and, with ipv6, accept_dad=0 on the bridge.
Result<void> ConfigureBridgeSysctls(const std::string& bridge, bool ipv6);

}  // namespace berth::net
