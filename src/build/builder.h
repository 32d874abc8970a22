#pragma once

// Builder: `docker build` with Docker's classic builder's semantics and output. One Build runs
// a Dockerfile over an extracted context: the stages the target needs (independent ones in
// parallel), each instruction either changing only the config (an image with an empty_layer
// history entry), adding a layer directly (COPY, ADD: a tar of the sources, no container) or
// running a command through the StepRunner (RUN: a container on the previous image whose
// writable layer becomes the next one). Each step's result is cached (build/cache.h): a step
// whose parent image, instruction, args and sources are unchanged is not run again.
//
//   engine::build::ContainerStepRunner runner(containers, images);   // engine/build/
//   build::Builder builder(images, runner, layout.Root() + "/builder");
//   MyJsonStream out(response);                 // {"stream":…}, {"aux":{"ID":…}}
//   oci::Digest id = BERTH_TRY(builder.Build({.context_dir = dir, .tags = {"web:1"}}, out));
//
// Output (BuildOutput::Stream) is the classic builder's text, line by line:
//   "Step 1/5 : FROM busybox\n", " ---> 1a2b3c4d5e6f\n", " ---> Running in 0123456789ab\n",
//   " ---> Using cache\n", "Removing intermediate container 0123456789ab\n",
//   "Successfully built 1a2b3c4d5e6f\n", "Successfully tagged web:1\n"
// then Aux({"ID": "sha256:…"}) once the image exists. With quiet only the Aux is sent.
// A failed build returns the error (Docker's message, e.g. "The command '/bin/sh -c false'
// returned a non-zero code: 1"); the caller sends it as errorDetail.
//
// Thread safety: Build may run concurrently for different builds. BuildOutput's methods are
// called from the build's threads but never concurrently (the Builder serializes them).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/image_service.h"
#include "oci/digest.h"
#include "oci/image.h"
#include "util/result.h"

namespace berth::build {

class BuildCache;
class FileHashCache;

struct BuildOptions {
  std::string context_dir;                // the build context, already extracted
  std::string dockerfile = "Dockerfile";  // path inside the context
  std::vector<std::string> tags;          // "name[:tag]"
  std::map<std::string, std::string> build_args;
  std::string target;  // "" = the last stage
  bool no_cache = false;
  std::map<std::string, std::string> labels;  // added to the final image (LABEL at the end)
  bool remove_intermediate = true;            // rm: remove a RUN's container once committed
  bool force_remove = false;                  // forcerm: remove it even when the step failed
  bool quiet = false;                         // q: no Stream output, only the Aux
  std::string network_mode;                   // RUN containers' network ("" = default)
  /// Pulls an image FROM names that the store lacks (with the caller's credentials); unset:
  /// a missing image fails with Docker's "pull access denied … repository does not exist".
  std::function<Result<void>(const std::string& reference, class BuildOutput& out)> pull;
};

/// Where the build's output goes (the API turns it into Docker's JSON stream).
class BuildOutput {
 public:
  virtual ~BuildOutput() = default;
  /// Text for the client, usually whole lines ending in '\n'.
  virtual void Stream(std::string_view text) = 0;
  /// {"ID":"sha256:…"} at the end of a successful build.
  virtual void Aux(const nlohmann::json& aux) = 0;
};

/// Runs RUN steps: implemented by the engine (engine/build/) over its containers.
class StepRunner {
 public:
  virtual ~StepRunner() = default;
  struct Run {
    std::string image_id;           // "sha256:…" ("" = scratch: refused, nothing to run)
    std::vector<std::string> args;  // the process: SHELL + command, or the exec form
    std::vector<std::string> env;   // "K=V": the config's Env, then the build args in scope
    std::string user, working_dir;
    std::string network_mode;   // "" = default
    bool remove = true;         // remove the container after a successful commit
    bool force_remove = false;  // remove it after a failure too
    /// The container's output (stdout and stderr, as they come). Called from one thread.
    std::function<void(std::string_view)> output;
    /// Called once the container exists, with its short id (" ---> Running in ID").
    std::function<void(std::string_view container_id)> started;
  };
  /// Runs r in a container of r.image_id and commits its writable layer as a new image over
  /// it, with new_config as its config and one history entry (created_by; empty_layer when the
  /// command changed no file). Returns the new image id and, through removed_container, the
  /// id of the container it removed (for "Removing intermediate container ID"; empty if kept).
  /// A command that exits non-zero: Error::Internal "The command '…' returned a non-zero
  /// code: N" (args joined by spaces, as Docker writes it).
  virtual Result<oci::Digest> RunAndCommit(const Run& r, const oci::ContainerConfig& new_config,
                                           const std::string& created_by,
                                           std::string* removed_container) = 0;
};

/// One entry of the build cache as `docker system df -v` shows it (BuildCache).
struct CacheRecord {
  std::string id;           // the cache key (hex)
  std::string parent;       // the parent's image id
  std::string description;  // the instruction ("COPY . /app")
  std::string image_id;     // the image the step made
  int64_t size = 0;         // bytes the step's layer added (0 for a metadata step)
  int64_t created_at = 0;   // unix seconds
  int64_t last_used_at = 0;
  int64_t usage_count = 0;
  bool in_use = false;  // the image is used by a container
  bool shared = false;  // the image is tagged (it stays when the cache is pruned)
};

struct CachePruneOptions {
  bool all = false;          // also entries whose image is tagged (only the records go)
  int64_t until = 0;         // only entries last used before this unix time (0 = any)
  int64_t keep_storage = 0;  // stop once the rest is at most this many bytes (0 = no limit)
};

struct CachePruneReport {
  std::vector<std::string> deleted;  // cache record ids
  int64_t space_reclaimed = 0;
};

class Builder {
 public:
  /// cache_dir: where the cache index lives (made if missing); it survives restarts.
  /// REQUIRES: images and runner outlive the Builder.
  Builder(image::ImageService& images, StepRunner& runner, std::string cache_dir);
  ~Builder();

  /// Builds and tags; returns the image id. Errors: InvalidArgument for a bad Dockerfile or
  /// option (Docker's messages, with file and line), NotFound for a missing base image,
  /// FailedPrecondition for a COPY source outside the context, the RUN's error.
  Result<oci::Digest> Build(const BuildOptions& options, BuildOutput& out);

  /// The cache's entries (system df); a record whose image is gone is dropped.
  Result<std::vector<CacheRecord>> CacheUsage();
  /// `docker builder prune`: removes cache records and the untagged, unused images they hold.
  Result<CachePruneReport> PruneCache(const CachePruneOptions& options);

 private:
  image::ImageService& images_;
  StepRunner& runner_;
  std::unique_ptr<BuildCache> cache_;
  std::unique_ptr<FileHashCache> hashes_;  // COPY sources' digests by stat
};

}  // namespace berth::build
