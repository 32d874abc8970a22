#include "net/firewall.h"

#include <nftables/libnftables.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "net/addr.h"
#include "net/netns.h"
#include "util/log.h"

namespace berth::net {
namespace {

constexpr std::string_view kCtrPrefix = "ctr-";
constexpr std::string_view kNetPrefix = "net-";

bool NameChars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

Result<void> CheckTable(const std::string& t) {
  bool letter = !t.empty() && ((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z'));
  if (!letter || t.size() > 32 || !NameChars(t) || t.find('.') != std::string::npos) {
    return Error::InvalidArgument("invalid nftables table name \"" + t + "\"");
  }
  return {};
}

Result<void> CheckBridge(const std::string& b) {
  if (b.empty() || b.size() > 15 || !NameChars(b)) {
    return Error::InvalidArgument("invalid bridge name \"" + b + "\"");
  }
  return {};
}

Result<void> CheckId(const std::string& id) {
  if (id.empty() || id.size() > 64 || !NameChars(id)) {
    return Error::InvalidArgument("invalid container id \"" + id + "\" for the firewall");
  }
  return {};
}

// The rules of one network, in its two chains (flushed first by the caller).
Result<std::string> NetworkRulesText(const std::string& t, const NetworkRules& n) {
  BERTH_TRY(CheckBridge(n.bridge));
  std::string br = "\"" + n.bridge + "\"";
  std::string nat = "add rule inet " + t + " net-" + n.bridge + "-nat ";
  std::string fwd = "add rule inet " + t + " net-" + n.bridge + "-fwd ";
  std::string out;
  if (n.internal) {
    out += fwd + "iifname " + br + " oifname != " + br + " drop\n";
    out += fwd + "oifname " + br + " iifname != " + br + " drop\n";
  } else {
    out += fwd + "iifname " + br + " oifname @bridges oifname != " + br +
           " ct status & dnat == 0 drop\n";
  }
  for (const std::string& cidr : n.subnets) {
    IpPrefix p = BERTH_TRY(IpPrefix::Parse(cidr));
    std::string saddr =
        std::string(p.addr.is_v4() ? "ip" : "ip6") + " saddr " + p.Network().ToString();
    if (n.masquerade && !n.internal) {
      out += nat + saddr + " oifname != " + br + " masquerade\n";
    }
    // Hairpin: from the bridge's subnet, DNATed back out the bridge (postrouting has no
    // iifname: the source address says where it came from).
    out += nat + saddr + " oifname " + br + " ct status dnat masquerade\n";
  }
  out += nat + "oifname " + br + " ip saddr 127.0.0.0/8 masquerade\n";
  return out;
}

// The DNAT rules of one container, in its chain (flushed first by the caller).
Result<std::string> ContainerRulesText(const std::string& t, const ContainerRules& c) {
  BERTH_TRY(CheckId(c.id));
  std::string head = "add rule inet " + t + " ctr-" + c.id + " ";
  std::string out;
  for (const PortMapping& m : c.ports) {
    std::string ctx = "container " + c.id + " port " + std::to_string(m.host_port);
    if (m.protocol != "tcp" && m.protocol != "udp") {
      return Error::InvalidArgument(ctx + ": protocol \"" + m.protocol + "\" is not tcp or udp");
    }
    if (m.host_port == 0 || m.container_port == 0) {
      return Error::InvalidArgument(ctx + ": port 0");
    }
    IpAddr to = BERTH_TRY_CTX(IpAddr::Parse(m.container_ip), ctx);
    std::string match;
    bool any = m.host_ip.empty() || m.host_ip == "0.0.0.0" || m.host_ip == "::";
    if (any) {
      if (m.host_ip == "::" && to.is_v4()) {
        return Error::InvalidArgument(ctx + ": host " + m.host_ip + " to " + m.container_ip);
      }
      match = to.is_v4() ? "meta nfproto ipv4 " : "meta nfproto ipv6 ";
    } else {
      IpAddr host = BERTH_TRY_CTX(IpAddr::Parse(m.host_ip), ctx);
      if (host.family != to.family) {
        return Error::InvalidArgument(ctx + ": host " + m.host_ip + " and container " +
                                      m.container_ip + " are not of one family");
      }
      match = (host.is_v4() ? "ip daddr " : "ip6 daddr ") + host.ToString() + " ";
    }
    std::string target = to.is_v4() ? to.ToString() : "[" + to.ToString() + "]";
    out += head + match + m.protocol + " dport " + std::to_string(m.host_port) + " dnat " +
           (to.is_v4() ? "ip" : "ip6") + " to " + target + ":" + std::to_string(m.container_port) +
           "\n";
  }
  return out;
}

class NftFirewall final : public Firewall {
 public:
  NftFirewall(std::string table, std::string netns_path, nft_ctx* ctx)
      : Firewall(std::move(table)), netns_path_(std::move(netns_path)), ctx_(ctx) {}
  ~NftFirewall() override { nft_ctx_free(ctx_); }

  Result<void> Init() {
    std::lock_guard lock(mu_);
    return Run(BaseText());
  }

  Result<void> SetNetwork(const NetworkRules& rules) override {
    std::string text = BERTH_TRY(NetworkRulesText(table_, rules));
    std::lock_guard lock(mu_);
    Chains chains = BERTH_TRY(ListChains());
    chains.networks.insert(rules.bridge);
    std::string base = "inet " + table_ + " net-" + rules.bridge;
    return Run(BaseText() + "add chain " + base + "-nat\nflush chain " + base + "-nat\n" +
               "add chain " + base + "-fwd\nflush chain " + base + "-fwd\n" + text +
               JumpsText(chains));
  }

  Result<void> RemoveNetwork(const std::string& bridge) override {
    BERTH_TRY(CheckBridge(bridge));
    std::lock_guard lock(mu_);
    Chains chains = BERTH_TRY(ListChains());
    if (!chains.networks.erase(bridge)) return {};
    std::string base = "inet " + table_ + " net-" + bridge;
    // The jumps go first, in the same transaction: a chain in use cannot be deleted.
    return Run(JumpsText(chains) + "flush chain " + base + "-nat\ndelete chain " + base +
               "-nat\nflush chain " + base + "-fwd\ndelete chain " + base + "-fwd\n");
  }

  Result<void> SetContainer(const ContainerRules& rules) override {
    if (rules.ports.empty()) return RemoveContainer(rules.id);
    std::string text = BERTH_TRY(ContainerRulesText(table_, rules));
    std::lock_guard lock(mu_);
    Chains chains = BERTH_TRY(ListChains());
    chains.containers.insert(rules.id);
    std::string chain = "inet " + table_ + " ctr-" + rules.id;
    return Run(BaseText() + "add chain " + chain + "\nflush chain " + chain + "\n" + text +
               JumpsText(chains));
  }

  Result<void> RemoveContainer(const std::string& id) override {
    BERTH_TRY(CheckId(id));
    std::lock_guard lock(mu_);
    Chains chains = BERTH_TRY(ListChains());
    if (!chains.containers.erase(id)) return {};
    std::string chain = "inet " + table_ + " ctr-" + id;
    return Run(JumpsText(chains) + "flush chain " + chain + "\ndelete chain " + chain + "\n");
  }

  Result<void> Reconcile(const FirewallState& state) override {
    std::string text;
    Chains want;
    for (const NetworkRules& n : state.networks) {
      text += BERTH_TRY(NetworkRulesText(table_, n));
      want.networks.insert(n.bridge);
    }
    for (const ContainerRules& c : state.containers) {
      if (c.ports.empty()) continue;
      text += BERTH_TRY(ContainerRulesText(table_, c));
      want.containers.insert(c.id);
    }
    std::lock_guard lock(mu_);
    Chains have = BERTH_TRY(ListChains());
    std::string t = "inet " + table_;
    std::string script = BaseText();
    for (const std::string& b : want.networks) {
      for (const char* kind : {"-nat", "-fwd"}) {
        script += "add chain " + t + " net-" + b + kind + "\nflush chain " + t + " net-" + b +
                  kind + "\n";
      }
    }
    for (const std::string& id : want.containers) {
      script += "add chain " + t + " ctr-" + id + "\nflush chain " + t + " ctr-" + id + "\n";
    }
    script += text + JumpsText(want);
    for (const std::string& b : have.networks) {
      if (want.networks.count(b)) continue;
      for (const char* kind : {"-nat", "-fwd"}) {
        script += "flush chain " + t + " net-" + b + kind + "\ndelete chain " + t + " net-" + b +
                  kind + "\n";
      }
    }
    for (const std::string& id : have.containers) {
      if (want.containers.count(id)) continue;
      script += "flush chain " + t + " ctr-" + id + "\ndelete chain " + t + " ctr-" + id + "\n";
    }
    return Run(script);
  }

  Result<std::vector<std::string>> InstalledContainers() override {
    std::lock_guard lock(mu_);
    Chains chains = BERTH_TRY(ListChains());
    return std::vector<std::string>(chains.containers.begin(), chains.containers.end());
  }

  Result<std::string> ListTable() override {
    std::lock_guard lock(mu_);
    return Run("list table inet " + table_ + "\n", false);
  }

  Result<void> DeleteTable() override {
    std::lock_guard lock(mu_);
    Result<std::string> r = Run("delete table inet " + table_ + "\n", false);
    if (!r && !r.error().IsNotFound()) return std::move(r).error();
    return {};
  }

 private:
  struct Chains {
    std::set<std::string> networks;    // bridges with net-BRIDGE-nat chains
    std::set<std::string> containers;  // ids with ctr-ID chains
  };

  // The table, its set and base chains (idempotent "add"s) and the fixed rules of the base
  // chains that have some (flushed and rewritten: a transaction, so no gap).
  std::string BaseText() const {
    std::string t = "inet " + table_;
    std::string s;
    s += "add table " + t + "\n";
    s += "add set " + t + " bridges { type ifname; }\n";
    s += "add chain " + t +
         " raw_pre { type filter hook prerouting priority -300; policy accept; }\n";
    s += "add chain " + t + " nat_pre { type nat hook prerouting priority -100; policy accept; }\n";
    s += "add chain " + t + " nat_out { type nat hook output priority -100; policy accept; }\n";
    s +=
        "add chain " + t + " nat_post { type nat hook postrouting priority 100; policy accept; }\n";
    s += "add chain " + t + " filter_fwd { type filter hook forward priority 0; policy accept; }\n";
    s += "add chain " + t + " published\n";
    s += "flush chain " + t + " raw_pre\n";
    s += "flush chain " + t + " nat_pre\n";
    s += "flush chain " + t + " nat_out\n";
    s += "add rule " + t + " raw_pre iifname @bridges ip daddr 127.0.0.0/8 drop\n";
    s += "add rule " + t +
         " nat_pre meta nfproto ipv4 fib daddr type local ip daddr != 127.0.0.0/8 jump "
         "published\n";
    s += "add rule " + t +
         " nat_pre meta nfproto ipv6 fib daddr type local ip6 daddr != ::1 jump published\n";
    s += "add rule " + t + " nat_out fib daddr type local jump published\n";
    return s;
  }

  // The jump chains and the bridges set, rewritten for chains.
  std::string JumpsText(const Chains& chains) const {
    std::string t = "inet " + table_;
    std::string s;
    s += "flush chain " + t + " published\nflush chain " + t + " nat_post\nflush chain " + t +
         " filter_fwd\nflush set " + t + " bridges\n";
    for (const std::string& id : chains.containers) {
      s += "add rule " + t + " published jump ctr-" + id + "\n";
    }
    for (const std::string& b : chains.networks) {
      s += "add rule " + t + " nat_post jump net-" + b + "-nat\n";
      s += "add rule " + t + " filter_fwd jump net-" + b + "-fwd\n";
      s += "add element " + t + " bridges { \"" + b + "\" }\n";
    }
    return s;
  }

  // The chains of the table now, from its JSON listing.
  Result<Chains> ListChains() {
    std::string json = BERTH_TRY(Run("list table inet " + table_ + "\n", true));
    Chains c;
    nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
    if (doc.is_discarded() || !doc.contains("nftables") || !doc["nftables"].is_array()) {
      return Error::Internal("nft: unreadable JSON listing of table " + table_);
    }
    for (const auto& item : doc["nftables"]) {
      if (!item.is_object() || !item.contains("chain")) continue;
      const auto& ch = item["chain"];
      if (!ch.contains("name") || !ch["name"].is_string()) continue;
      std::string name = ch["name"].get<std::string>();
      if (name.starts_with(kCtrPrefix)) {
        c.containers.insert(name.substr(kCtrPrefix.size()));
      } else if (name.starts_with(kNetPrefix) && name.ends_with("-nat")) {
        c.networks.insert(name.substr(kNetPrefix.size(), name.size() - kNetPrefix.size() - 4));
      }
    }
    return c;
  }

  Result<void> Run(const std::string& script) {
    BERTH_TRY(Run(script, false));
    return {};
  }

  // Runs a script in one transaction and returns its output. REQUIRES: mu_ held.
  Result<std::string> Run(const std::string& script, bool json) {
    auto run = [&]() -> Result<std::string> {
      unsigned flags = nft_ctx_output_get_flags(ctx_);
      flags = json ? (flags | NFT_CTX_OUTPUT_JSON) : (flags & ~NFT_CTX_OUTPUT_JSON);
      nft_ctx_output_set_flags(ctx_, flags);
      int rc = nft_run_cmd_from_buffer(ctx_, script.c_str());
      std::string out = nft_ctx_get_output_buffer(ctx_);
      std::string err = nft_ctx_get_error_buffer(ctx_);
      if (rc != 0) {
        while (!err.empty() && err.back() == '\n') err.pop_back();
        ErrorCode code = err.find("No such file or directory") != std::string::npos
                             ? ErrorCode::kNotFound
                             : ErrorCode::kUnavailable;
        return Error(code, "nft table " + table_ + ": " + err);
      }
      return out;
    };
    if (netns_path_.empty()) return run();
    return InNetns(netns_path_, run);
  }

  std::string netns_path_;
  std::mutex mu_;
  nft_ctx* ctx_;
};

}  // namespace

Result<std::unique_ptr<Firewall>> Firewall::Open(const std::string& table,
                                                 const std::string& netns_path) {
  BERTH_TRY(CheckTable(table));
  auto make = [&]() -> Result<nft_ctx*> {
    nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) return Error::Unavailable("nft: cannot make a libnftables context");
    nft_ctx_buffer_output(ctx);
    nft_ctx_buffer_error(ctx);
    return ctx;
  };
  nft_ctx* ctx = netns_path.empty() ? BERTH_TRY(make()) : BERTH_TRY(InNetns(netns_path, make));
  auto fw = std::make_unique<NftFirewall>(table, netns_path, ctx);
  BERTH_TRY(fw->Init());
  return std::unique_ptr<Firewall>(std::move(fw));
}

}  // namespace berth::net
