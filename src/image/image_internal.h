#pragma once

// Helpers shared by the image service's translation units (not part of its interface).

#include <cstdio>
#include <random>
#include <string>
#include <string_view>

namespace berth::image::internal {

/// Snapshots being unpacked are named extract-<random>; Recover removes those a crash left.
inline constexpr std::string_view kExtractPrefix = "extract-";

inline std::string RandomHex() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

}  // namespace berth::image::internal
