// The systemd cgroup driver (runc --systemd-cgroup: a "slice:prefix:name" cgroupsPath, units
// made over D-Bus) is not built: Berth's hosts run without systemd. What it would need is
// a D-Bus client for StartTransientUnit with Delegate=yes; then the cgroupfs managers above
// work on the unit's cgroup.

#include <unistd.h>

#include "runtime/cgroups/manager.h"
#include "util/file.h"

namespace berth::runtime::cgroups {

Error SystemdUnavailable() {
  if (!PathExists("/run/systemd/system"))
    return Error::Unavailable(
        "systemd cgroup driver: systemd is not running on this host (no /run/systemd/system); "
        "use the cgroupfs driver (no --systemd-cgroup)");
  return Error::NotImplemented(
      "systemd cgroup driver: not supported by berth yet; use the cgroupfs driver (no "
      "--systemd-cgroup)");
}

}  // namespace berth::runtime::cgroups
