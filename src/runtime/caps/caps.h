#pragma once

// Capabilities: the five sets of process.capabilities, parsed once in the parent and applied in
// the container's init in two steps around the uid change.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "oci/runtime_spec.h"
#include "util/result.h"

namespace berth::runtime::caps {

/// Bit sets (bit N = capability N).
struct CapSets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

/// Parses names ("CAP_NET_ADMIN"). A name this kernel does not know (above cap_last_cap) or that
/// no kernel has is skipped with a warning, as runc does; a string not of the form CAP_NAME is an
/// InvalidArgument error.
Result<CapSets> Parse(const oci::Capabilities& caps);

/// The capability number of a name, or -1.
int FromName(std::string_view name);
/// "CAP_CHOWN" for 0; "" for an unknown number.
std::string_view Name(int cap);
/// The highest capability number this kernel has (/proc/sys/kernel/cap_last_cap).
int LastCap();
/// Every capability name this kernel has, in number order.
std::vector<std::string> KnownNames();

/// Step 1, while still uid 0 of the container's user namespace: drop every capability outside
/// `bounding` from the bounding set and set PR_SET_KEEPCAPS so the uid change keeps permitted.
/// No allocation: safe between clone and exec.
Result<void> DropBounding(const CapSets& sets);
/// Step 2, after setresuid/setresgid: capset(effective, permitted, inheritable), then raise the
/// ambient set, and clear PR_SET_KEEPCAPS. No allocation.
Result<void> Apply(const CapSets& sets);

}  // namespace berth::runtime::caps
