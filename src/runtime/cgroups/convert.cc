#include <string>

#include "runtime/cgroups/cgroups_internal.h"

namespace berth::runtime::cgroups::internal {

uint64_t SharesToWeight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t BlkioWeightToIoWeight(uint64_t weight) {
  if (weight == 0) return 0;
  if (weight < 10) weight = 10;
  if (weight > 1000) weight = 1000;
  return 1 + (weight - 10) * 9999 / 990;
}

Result<std::optional<std::string>> SwapToV2(std::optional<int64_t> swap,
                                            std::optional<int64_t> limit) {
  int64_t s = swap.value_or(0), m = limit.value_or(0);
  // As on v1: an unlimited memory limit with swap unset makes swap unlimited too.
  if (m == -1 && s == 0) return std::optional<std::string>("max");
  if (s == -1) return std::optional<std::string>("max");
  if (s == 0) return std::optional<std::string>();
  if (m == 0 || m == -1)
    return Error::InvalidArgument("memory.swap: a swap limit needs a memory limit");
  if (m < 0) return Error::InvalidArgument("memory.limit: invalid value " + std::to_string(m));
  if (s < m)
    return Error::InvalidArgument("memory.swap: memory+swap limit " + std::to_string(s) +
                                  " is below the memory limit " + std::to_string(m));
  return std::optional<std::string>(std::to_string(s - m));
}

std::string PageSizeName(uint64_t kib) {
  static constexpr const char* kUnits[] = {"KB", "MB", "GB", "TB", "PB"};
  size_t unit = 0;
  while (kib >= 1024 && kib % 1024 == 0 && unit + 1 < std::size(kUnits)) {
    kib /= 1024;
    ++unit;
  }
  return std::to_string(kib) + kUnits[unit];
}

}  // namespace berth::runtime::cgroups::internal
