#pragma once

// Sizes of a container's layers, as `docker ps -s`, `docker inspect -s` and `docker system df`
// report them (moby's directory.Size): the bytes of every entry that is not a directory, a
// hard-linked file counted once; nothing is followed, nothing outside the tree is read.
//
//   int64_t rw = BERTH_TRY(TreeSize(c.upper_dir));               // SizeRw
//   int64_t root = rw + BERTH_TRY(TreeSize(lower)) + ...;        // SizeRootFs

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.h"

namespace berth::engine::fs {

/// The size of the tree at dir. A missing dir is 0 (a container never started has no upper).
Result<int64_t> TreeSize(const std::string& dir);

struct ContainerSizes {
  int64_t rw = 0;      // the writable layer
  int64_t rootfs = 0;  // the writable layer and the image's layers below it
};

/// rw from upper_dir, rootfs adding every lower (hard links counted once within each tree).
Result<ContainerSizes> SizesOf(const std::string& upper_dir,
                               const std::vector<std::string>& lowers);

}  // namespace berth::engine::fs
