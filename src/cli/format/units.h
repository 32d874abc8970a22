#pragma once

// Docker's output helpers: go-units' HumanSizeWithPrecision and HumanDuration, and the docker
// CLI's tabwriter layout (minwidth 10, padding 3, spaces).

#include <cstdint>
#include <string>
#include <vector>

namespace berth::cli {

/// Decimal units with 3 significant digits (go-units' HumanSizeWithPrecision): "2.07MB", "0B",
/// "1.23kB"; docker system df uses 4 (go-units' HumanSize).
std::string HumanSize(double bytes, int precision = 3);
/// "Less than a second", "2 minutes", "About an hour", "3 days", … (add " ago" yourself).
std::string HumanDuration(int64_t seconds);
/// Aligns tab-separated cells as Go's tabwriter.NewWriter(w, 10, 1, 3, ' ', 0): every cell but
/// the last of a line is padded to its column's widest cell plus 3, at least 10.
std::string TabAlign(const std::vector<std::string>& lines);

}  // namespace berth::cli
