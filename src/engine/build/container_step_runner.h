#pragma once

// ContainerStepRunner: the builder's RUN steps as containers of this engine, in process (no
// HTTP): create a container of the step's image with the step's process, attach to its output
// through a socketpair, start, wait, commit its writable layer as an image over the step's
// image (ImageService::Commit with the build's exact config and created_by), then remove it.
//
//   engine::build::ContainerStepRunner runner(&containers, &images);
//   build::Builder builder(images, runner, cache_dir);
//
// Thread safety: RunAndCommit may be called from many threads (parallel stages).

#include <string>

#include "build/builder.h"
#include "engine/container_service.h"
#include "image/image_service.h"

namespace berth::engine::build {

class ContainerStepRunner : public berth::build::StepRunner {
 public:
  /// REQUIRES: both outlive the runner.
  ContainerStepRunner(ContainerService* containers, image::ImageService* images)
      : containers_(containers), images_(images) {}

  Result<oci::Digest> RunAndCommit(const Run& r, const oci::ContainerConfig& new_config,
                                   const std::string& created_by,
                                   std::string* removed_container) override;

 private:
  ContainerService* containers_;
  image::ImageService* images_;
};

/// Reads Docker's multiplexed attach stream (8-byte headers: stream, 0, 0, 0, big-endian
/// length) from fd until EOF and hands each payload to output. Bytes of an unknown shape are
/// passed through as they are.
Result<void> CopyMultiplexed(int fd, const std::function<void(std::string_view)>& output);

}  // namespace berth::engine::build
