#pragma once

#include <string>

namespace berth {

/// Now as RFC 3339 in UTC with nanoseconds ("2026-12-01T19:45:41.331535382Z"), the form Go's
/// time.RFC3339Nano gives and Docker's and runc's JSON use.
std::string NowRfc3339();

}  // namespace berth
