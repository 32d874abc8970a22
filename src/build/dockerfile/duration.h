#pragma once

// Go's time.ParseDuration (HEALTHCHECK's --interval=30s, 1m30s, 1.5h, 500ms) and go-units'
// RAMInBytes (RUN --mount=type=tmpfs,size=64m), with their error texts (internal).

#include <cstdint>
#include <string_view>

#include "util/result.h"

namespace berth::build {

/// Nanoseconds. Errors: `time: invalid duration "x"`, `time: missing unit in duration "1"`,
/// `time: unknown unit "x" in duration "1x"`.
Result<int64_t> ParseGoDuration(std::string_view s);

/// Bytes, binary multiples: "64m" = 64 MiB; "1.5g", "512k", "1024", "10MB", "2GiB".
Result<int64_t> ParseRamInBytes(std::string_view s);

}  // namespace berth::build
