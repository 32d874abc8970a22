#pragma once

// The Dockerfile instructions `docker import --change` and `docker commit --change` accept:
// CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR, applied to a
// container config as the docker daemon's dockerfile.BuildFromConfig does. CMD and ENTRYPOINT
// take the JSON form (["a","b"]) or the shell form (wrapped in /bin/sh -c).

#include <string>
#include <string_view>
#include <vector>

#include "oci/image.h"
#include "util/result.h"

namespace berth::image {

/// Applies each change in order to config. InvalidArgument for an unknown or malformed
/// instruction, with docker's wording ("dockerfile parse error on line 1: unknown instruction:
/// RUN" is "RUN is not a valid change command").
Result<void> ApplyChanges(const std::vector<std::string>& changes, oci::ContainerConfig* config);

}  // namespace berth::image
