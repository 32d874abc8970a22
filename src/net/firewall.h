#pragma once

// NAT, isolation and published ports in one nftables table of Berth's own (family inet, so
// one table serves IPv4 and IPv6), through libnftables in-process: a change is one atomic
// transaction (no exec per rule, no window where half the rules are in).
//
// Layout of table inet TABLE (the default TABLE is "berth"; each daemon or test its own):
//
//   set bridges           names of every bridge of Berth's networks
//   chain raw-pre         prerouting, priority raw: packets to 127.0.0.0/8 coming in from a
//                         Berth bridge are dropped (route_localnet=1 on the bridge must not
//                         expose the host's loopback services to containers)
//   chain nat_pre         prerouting, priority dstnat: local destinations but loopback ones
//                         jump to published (a port published on 127.0.0.1 is not reachable
//                         from outside, even with a forged destination: CVE-2020-8558)
//   chain nat_out         output, priority dstnat: local destinations jump to published
//   chain published       one "jump ctr-ID" per container with published ports
//   chain ctr-ID          the container's DNAT rules (host_ip:host_port -> ip:port)
//   chain nat_post        postrouting, priority srcnat: one "jump net-BRIDGE-nat" per network
//   chain net-BRIDGE-nat  masquerade of the network's subnets going out other interfaces; of
//                         127.0.0.0/8 going to the bridge (host -> 127.0.0.1:port); of DNATed
//                         traffic from the subnets going back out the bridge (hairpin: a
//                         container reaching a published port of its own bridge)
//   chain filter_fwd      forward, priority filter, policy accept: one "jump net-BRIDGE-fwd"
//   chain net-BRIDGE-fwd  drops only: an --internal network's traffic in or out of its bridge;
//                         traffic from the bridge to another Berth bridge that was not DNATed
//                         to a published port (Docker's network isolation)
//
// The chains in the kernel are the source of truth: each change lists them and rewrites the
// jump chains (published, nat_post, filter_fwd) and the bridges set from them, so two
// Firewall objects on one table, or one made after a restart, agree.
//
// The host's own firewall: Berth only ever adds drops and NAT in its own table, never an
// accept anywhere. A packet passes every table's base chain at a hook, so a host forward
// policy of drop (iptables-nft, iptables-legacy or nft) still applies to published ports and
// outbound traffic of containers. See docs/networks.md ("The host's firewall").
//
//   auto fw = BERTH_TRY(Firewall::Open("berth"));
//   BERTH_TRY(fw->Reconcile(state_from_the_store));          // at daemon start
//   BERTH_TRY(fw->SetNetwork({.bridge = "berth0", .subnets = {"172.17.0.0/16"}}));
//   BERTH_TRY(fw->SetContainer({.id = id, .ports = {{.protocol = "tcp", .host_port = 8080,
//                               .container_ip = "172.17.0.2", .container_port = 80}}}));
//   BERTH_TRY(fw->RemoveContainer(id));
//
// Rules are kernel state: they outlive berthd (kill -9 included) and are fixed up by the next
// Reconcile. Thread safety: all methods may be called from any thread (one mutex inside).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/result.h"

namespace berth::net {

struct PortMapping {
  /// "tcp" or "udp".
  std::string protocol = "tcp";
  /// The host address the port is published on; empty, "0.0.0.0" or "::": every local
  /// address of that family. A loopback host_ip is only reachable from the host itself.
  std::string host_ip;
  uint16_t host_port = 0;
  std::string container_ip;
  uint16_t container_port = 0;

  bool operator==(const PortMapping&) const = default;
};

struct NetworkRules {
  /// The network's bridge (its key in the table): [A-Za-z0-9_.-], at most 15 bytes.
  std::string bridge;
  /// The network's subnets (CIDRs, IPv4 and/or IPv6).
  std::vector<std::string> subnets;
  /// --internal: no forwarding in or out of the bridge, no masquerade.
  bool internal = false;
  /// Masquerade of the subnets going out other interfaces (Docker's
  /// com.docker.network.bridge.enable_ip_masquerade, on by default).
  bool masquerade = true;

  bool operator==(const NetworkRules&) const = default;
};

struct ContainerRules {
  /// The container id: [A-Za-z0-9_.-], at most 64 bytes (it names the chain).
  std::string id;
  std::vector<PortMapping> ports;

  bool operator==(const ContainerRules&) const = default;
};

/// Everything Berth wants in its table.
struct FirewallState {
  std::vector<NetworkRules> networks;
  std::vector<ContainerRules> containers;
};

class Firewall {
 public:
  /// Opens a libnftables context and creates the table and its base chains if missing
  /// (existing rules are kept until Reconcile or a Set/Remove touches them).
  /// table: [A-Za-z0-9_-], at most 32 bytes. Errors: InvalidArgument (name), Unavailable
  /// (nftables refused: not root, no nf_tables), with nft's message.
  /// netns_path: work in that netns instead of the caller's (tests: a netns playing the host).
  static Result<std::unique_ptr<Firewall>> Open(const std::string& table = "berth",
                                                const std::string& netns_path = "");
  virtual ~Firewall() = default;

  /// Adds or replaces a network's masquerade and isolation rules.
  /// Errors: InvalidArgument (bridge name, a CIDR), Unavailable (nft's message).
  virtual Result<void> SetNetwork(const NetworkRules& rules) = 0;
  /// Removes them; an unknown bridge is not an error.
  virtual Result<void> RemoveNetwork(const std::string& bridge) = 0;

  /// Adds or replaces a container's published ports (an empty list removes its chain).
  /// Errors: InvalidArgument (id, protocol, an address, port 0, a v4/v6 mix in a mapping).
  virtual Result<void> SetContainer(const ContainerRules& rules) = 0;
  /// Removes the container's chain; an unknown id is not an error.
  virtual Result<void> RemoveContainer(const std::string& id) = 0;

  /// Makes the table hold exactly state, in one transaction: chains of containers not in
  /// state are dropped, the others (re)written, network rules rewritten. Call at start.
  virtual Result<void> Reconcile(const FirewallState& state) = 0;

  /// The container ids that have a chain in the kernel's table now.
  virtual Result<std::vector<std::string>> InstalledContainers() = 0;
  /// `nft list table inet TABLE` as text (for logs, tests and debugging).
  virtual Result<std::string> ListTable() = 0;
  /// Deletes the whole table (tests; `berthd --cleanup`). Missing is not an error.
  virtual Result<void> DeleteTable() = 0;

  const std::string& table() const { return table_; }

 protected:
  explicit Firewall(std::string table) : table_(std::move(table)) {}
  std::string table_;
};

}  // namespace berth::net
