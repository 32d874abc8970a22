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
/// InvalidArgument error naming the entry ("process.capabilities.effective[1]: ..."). An ambient
/// capability that is not both permitted and inheritable is dropped with a warning (the kernel
/// would refuse to raise it; runc warns too). Caches LastCap() for the child.
Result<CapSets> Parse(const oci::Capabilities& caps);

/// The capability number of a name, or -1.
int FromName(std::string_view name);
/// "CAP_CHOWN" for 0; "" for an unknown number.
std::string_view Name(int cap);
/// The highest capability number this kernel has (/proc/sys/kernel/cap_last_cap, else probed
/// with PR_CAPBSET_READ), cached after the first call. Allocation-free. Thread-safe.
int LastCap();
/// Every capability name this kernel has, in number order.
std::vector<std::string> KnownNames();

/// Step 1, while still uid 0 of the container's user namespace: drop every capability outside
/// `bounding` from the bounding set and set PR_SET_KEEPCAPS so the uid change keeps permitted.
/// REQUIRES: CAP_SETPCAP. No allocation, no logging: safe between clone and exec. Errors carry a
/// short fixed message ("capbset drop", "set keepcaps") and the errno in sys_errno().
Result<void> DropBounding(const CapSets& sets);
/// Step 2, after setresuid/setresgid: capset(effective, permitted, inheritable) (which also
/// re-raises effective, cleared by the uid change), clear and raise the ambient set, and clear
/// PR_SET_KEEPCAPS. No allocation, no logging. Errors: "capset" (EPERM if permitted is not a
/// subset of what is held), "ambient clear", "ambient raise", "clear keepcaps", with sys_errno().
Result<void> Apply(const CapSets& sets);

}  // namespace berth::runtime::caps
