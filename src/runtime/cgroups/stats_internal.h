#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::runtime::cgroups::internal {

/// The hugepage sizes a cgroup directory has files for: "hugetlb.2MB<suffix>" → "2MB".
Result<std::vector<std::string>> HugetlbSizes(const std::string& dir, std::string_view suffix);

}  // namespace berth::runtime::cgroups::internal
