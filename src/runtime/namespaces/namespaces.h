#pragma once

// Namespace types of the OCI spec and the clone flags they map to.

#include <sched.h>

#include <string_view>

namespace berth::runtime::namespaces {

/// CLONE_NEWPID for "pid", ...; 0 for an unknown type.
int CloneFlag(std::string_view type);
/// The /proc/PID/ns/ file name of a type ("network" → "net", "mount" → "mnt").
std::string_view ProcName(std::string_view type);

}  // namespace berth::runtime::namespaces
