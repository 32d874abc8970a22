#pragma once

// ImageService::Commit (`docker commit`, POST /commit): a container's writable layer becomes
// a new layer over its image, and a new image is made of them.
//
//   CommitOptions o;
//   o.parent = container.image_id;
//   o.upper_dir = layout.ContainerDir(id) + "/upper";
//   o.container_config = ToImageConfig(container.config);  // the container's Config
//   o.reference = "web:v2";
//   o.comment = "-m text";
//   o.changes = {"CMD [\"sh\"]"};
//   oci::Digest image_id = BERTH_TRY(images.Commit(o));
//
// As Docker's daemon does it:
//  - the layer is the upper directory as a layer tar (store/archive WriteLayerTar: overlay
//    whiteouts become ".wh.NAME", opaque directories ".wh..wh..opq"), stored uncompressed
//    (application/vnd.docker.image.rootfs.diff.tar, blob digest = diff id) and unpacked once
//    per chain id as Import and Load store layers, so that it is shared with any image that has
//    it. An empty upper directory (the empty tar) adds no layer: the history entry is then
//    marked empty_layer, as Docker's commit does;
//  - the config is the request's config (or, without one, the container's), with the changes
//    applied (CMD, ENV, … as `docker commit -c`), then completed from the container's config
//    for what it leaves unset (Docker's merge: User, ExposedPorts, Env by key, Labels,
//    Cmd/Entrypoint, Healthcheck, WorkingDir, Volumes, StopSignal);
//  - architecture, os, variant, os version and features, diff ids and history come from the
//    parent, with one history entry more: created_by = the container's Cmd joined by spaces,
//    author (-a) and comment (-m).
// The caller pauses the container (or not) around the call; the upper directory is only read.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "oci/digest.h"
#include "oci/image.h"
#include "util/result.h"

namespace berth::image {

struct CommitOptions {
  oci::Digest parent;  // the container's image id; empty for a container of no image
  /// The layer: the container's overlay upper directory, or (if set) a plain layer tar read
  /// until it returns 0.
  std::string upper_dir;
  std::function<Result<size_t>(char*, size_t)> layer_tar;
  std::string reference;  // "repo[:tag]" (tag defaults to latest), or empty for no tag
  std::string author;
  std::string comment;
  std::vector<std::string> changes;
  /// The container's Config, with its image's defaults as the container has them.
  oci::ContainerConfig container_config;
  /// The config of the request body, if it has one: the base the changes apply to.
  std::optional<oci::ContainerConfig> config;
  /// For builds: config is the image's config as given (no changes, no merge with
  /// container_config); created_by, if set, replaces the Cmd in the history entry; no_layer
  /// makes an image of the parent's layers with an empty_layer entry (nothing is read).
  bool exact_config = false;
  std::optional<std::string> created_by;
  bool no_layer = false;
};

/// Docker's merge of a commit's config with the container's: fills what user leaves unset.
void MergeCommitConfig(oci::ContainerConfig* user, const oci::ContainerConfig& container);

}  // namespace berth::image
