#pragma once

// Choosing what to pull from what a registry answers: an index (OCI image index, Docker
// manifest list) gives the entry for the platform wanted, as dockerd does; an image manifest
// is checked for what the image store can take.

#include <string>
#include <string_view>

#include "oci/digest.h"
#include "oci/image.h"
#include "util/result.h"

namespace berth::distribution {

/// The platform of this machine: linux and the architecture Go names (amd64, arm64, ...).
oci::Platform HostPlatform();
/// "os[/arch[/variant]]" as docker's --platform takes it; InvalidArgument if malformed.
Result<oci::Platform> ParsePlatform(std::string_view text);
/// "linux/amd64", "linux/arm64/v8".
std::string FormatPlatform(const oci::Platform& platform);

/// The entry of an index for platform: the first whose os and architecture match and whose
/// variant matches when both say one; entries that are not image manifests or indexes
/// (attestations, artifacts) are skipped. NotFound with Docker's message "no matching
/// manifest for linux/amd64 in the manifest list entries".
Result<oci::Descriptor> SelectManifest(const oci::ImageIndex& index, const oci::Platform& platform);

/// An image manifest's config and layers, as a pull takes them: a config of image type and
/// layers of known media types (foreign layers are refused: nothing here fetches from their
/// urls). InvalidArgument naming the field otherwise.
Result<void> CheckPullable(const oci::ImageManifest& manifest);

}  // namespace berth::distribution
