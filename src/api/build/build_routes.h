#pragma once

// The build routes of the Engine API, over the builder (build/builder.h):
//   POST /build          the classic builder's build (version=1): the body is
//   the context tar
//                        (plain, gzip, bzip2, xz, zstd), unpacked under tmp_dir
//                        as it streams; the answer is Docker's JSON message
//                        stream ({"stream"}, {"aux":{"ID"}},
//                        {"errorDetail"}), written and flushed as the build
//                        goes
//   POST /build/prune    `docker builder prune`:
//   {"CachesDeleted":[…],"SpaceReclaimed":n} GET  /build/prune    the same
//   (older clients)
// A Dockerfile that does not parse, a missing Dockerfile or a bad parameter is
// an HTTP error before anything streams, as dockerd answers (the docker CLI
// prints "Error response from daemon: …"); once the build runs, its error comes
// in the stream with the failed RUN's exit code as errorDetail.code (the CLI
// exits with it). The context directory is removed when the request ends, also
// when the client went away.

#include <functional>
#include <string>
#include <vector>

#include "api/http/router.h"
#include "build/builder.h"

namespace berth::api::build {

struct BuildRouteOptions {
  /// Where contexts are unpacked (<root>/tmp: the same filesystem as the
  /// layers).
  std::string tmp_dir;
  /// Pulls an image a FROM names that the store lacks, writing Docker's pull
  /// progress messages (JSON lines) through emit. registry_config: the
  /// X-Registry-Config header as sent (base64 JSON of credentials per
  /// registry). Unset: no pulls.
  std::function<Result<void>(const std::string& reference, const std::string& registry_config,
                             const std::function<void(const std::string& json_line)>& emit)>
      pull;
};

void AddBuildRoutes(Router* router, berth::build::Builder* builder,
                    const BuildRouteOptions& options);

/// GET /system/df's "BuildCache": Docker's BuildCache records as a JSON array.
std::string BuildCacheJson(const std::vector<berth::build::CacheRecord>& records);

/// The exit code Docker's errorDetail carries for a failed RUN ("The command
/// '…' returned a non-zero code: N" → N), 0 for any other error.
int ErrorExitCode(std::string_view message);

}  // namespace berth::api::build
