#pragma once

// OCI hooks: each hook is a program run with the container's state JSON on its standard
// input; a non-zero exit or a timeout fails the phase (except poststart and poststop, whose
// failures the runtime only logs, as the spec says).

#include <string_view>
#include <vector>

#include "oci/runtime_spec.h"
#include "util/result.h"

namespace berth::runtime::hooks {

/// Runs hooks in order; stops at the first failure, whose error names the phase and the hook
/// ("prestart hook /usr/bin/x: exit status 1"). phase is the spec's name ("createRuntime").
Result<void> Run(std::string_view phase, const std::vector<oci::Hook>& hooks,
                 std::string_view state_json);

/// Runs every hook even when some fail (poststart, poststop: the spec says a failure is logged
/// as a warning and the remaining hooks still run); returns the failures.
std::vector<Error> RunAll(std::string_view phase, const std::vector<oci::Hook>& hooks,
                          std::string_view state_json);

}  // namespace berth::runtime::hooks
