#pragma once

// Device rules on cgroup v2: v2 has no devices.allow; the kernel asks a
// BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup (bpf(2), BPF_CGROUP_DEVICE) about
// every device open and mknod. The program is built here instruction by instruction.

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "oci/runtime_spec.h"
#include "util/result.h"

namespace berth::runtime::cgroups::v2 {

/// The program for rules in OCI order: rules are tried last to first and the first match
/// decides (so the last matching rule wins, as when v1 writes them in order after "deny a");
/// no match denies. An allow rule matches an access that is a subset of its own; a deny rule
/// one that shares any bit with its own. InvalidArgument for a bad type or access.
Result<std::vector<struct bpf_insn>> BuildDeviceProgram(const std::vector<oci::DeviceRule>& rules);

/// Loads the program for rules and attaches it to the cgroup directory (BPF_F_ALLOW_MULTI),
/// then detaches the programs attached there before (an update replaces the rules).
Result<void> ApplyDeviceRules(const std::string& cgroup_dir,
                              const std::vector<oci::DeviceRule>& rules);

}  // namespace berth::runtime::cgroups::v2
