#pragma once

// The filesystem routes of the Engine API (moby's router/container copy and commit routes),
// over engine/fs and ImageService::Commit:
//   GET  /containers/{name}/changes    docker diff: [{"Path":…,"Kind":0|1|2}], null for none
//   GET  /containers/{name}/export     docker export: the merged view as a tar, streamed
//   HEAD /containers/{name}/archive?path=P   X-Docker-Container-Path-Stat (404 if missing)
//   GET  /containers/{name}/archive?path=P   the same header and P as a tar (docker cp out)
//   PUT  /containers/{name}/archive?path=P&noOverwriteDirNonDir=&copyUIDGID=   the request
//                                      body (a tar) extracted into P (docker cp in)
//   POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=   docker commit,
//                                      201 {"Id":"sha256:…"}
// A stopped container's overlay is mounted for the duration of a request
// (ContainerService::WithRootfs); tars are streamed through a pipe, never held whole.

#include <functional>
#include <string>

#include "api/http/router.h"
#include "engine/container_service.h"
#include "engine/fs/changes.h"
#include "image/image_service.h"
#include "oci/image.h"

namespace berth::api::containers {

/// Called after a successful commit (the container "commit" event): the container, the new
/// image id and the reference it was tagged with ("" for none).
using CommitHook = std::function<void(const engine::Container& c, const std::string& image_id,
                                      const std::string& reference)>;

void AddContainerFsRoutes(Router* router, engine::ContainerService* service,
                          image::ImageService* images, CommitHook on_commit = {});

/// The container's effective Config as an image config's: what it was created with, the image's
/// defaults filling what it leaves unset (Docker's create-time merge). image may be null.
oci::ContainerConfig EffectiveConfig(const engine::ContainerConfig& config,
                                     const oci::ContainerConfig* image);

/// The changes less the placeholders the engine makes in the upper directory for its own
/// mounts (/etc/hosts, /etc/hostname, /etc/resolv.conf, ...: Docker keeps them in an init
/// layer, so docker diff never shows them), and a parent modified only by them.
std::vector<engine::fs::Change> WithoutInitPaths(std::vector<engine::fs::Change> changes);

/// GET /containers/{name}/changes's body for these changes ("null" for none).
std::string ChangesJson(const std::vector<engine::fs::Change>& changes);

}  // namespace berth::api::containers
