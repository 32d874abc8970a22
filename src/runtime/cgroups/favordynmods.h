#pragma once

// favordynmods: a kernel option (Linux 6.0+, cgroup mount option) that trades slightly slower
// fork and exit for fast cgroup migrations. Without it, the first write to cgroup.procs after
// an idle spell waits for an RCU grace period on the global cgroup_threadgroup_rwsem: 5-17 ms on
// this machine kind, more than the rest of a container start (START-COST.md). The rwsem is
// global, so the option on any one hierarchy speeds up every migration on the host.

#include "runtime/cgroups/manager.h"
#include "util/result.h"

namespace berth::runtime::cgroups {

/// Remounts the host's cgroup2 hierarchy (or, on a v1-only host, its first v1 hierarchy) with
/// favordynmods, keeping its other mount flags and options. Returns true if it changed the
/// mount, false if the option was already on. REQUIRES: CAP_SYS_ADMIN in the initial user
/// namespace (else PermissionDenied, which callers treat as "leave the host as it is").
Result<bool> EnableFavorDynmods(const Layout& layout);

/// Whether the hierarchy EnableFavorDynmods would change already has the option.
Result<bool> FavorDynmodsEnabled(const Layout& layout);

}  // namespace berth::runtime::cgroups
