#pragma once

// Media types of the OCI image spec 1.1 (media-types.md) and of Docker's image manifest v2
// schema 2, with the few questions callers ask of them.

#include <cstdint>
#include <string_view>

namespace berth::oci {

// OCI image spec 1.1.
inline constexpr std::string_view kOciDescriptor = "application/vnd.oci.descriptor.v1+json";
inline constexpr std::string_view kOciLayoutHeader = "application/vnd.oci.layout.header.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerTarZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
// Deprecated by image spec 1.1, still found in registries.
inline constexpr std::string_view kOciLayerNondistributableTar =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view kOciLayerNondistributableTarGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kOciLayerNondistributableTarZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
/// The empty JSON object "{}" (2 bytes): the config of an artifact with none.
inline constexpr std::string_view kOciEmptyJson = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kOciEmptyJsonDigest =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
inline constexpr int64_t kOciEmptyJsonSize = 2;
/// An artifact manifest (image spec 1.0.x's proposal; 1.1 uses artifactType on a manifest).
inline constexpr std::string_view kOciArtifactManifest =
    "application/vnd.oci.artifact.manifest.v1+json";

// Docker image manifest v2, schema 2.
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerTarGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerTarZstd =
    "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr std::string_view kDockerForeignLayerTarGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view kDockerPluginConfig = "application/vnd.docker.plugin.v1+json";
// Schema 1 (refused when pulling, named in errors).
inline constexpr std::string_view kDockerManifestSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerManifestSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

enum class Compression { kNone, kGzip, kZstd, kUnknown };

/// An image manifest (OCI or Docker schema 2).
constexpr bool IsManifest(std::string_view media_type) {
  return media_type == kOciManifest || media_type == kDockerManifest;
}

/// An index of manifests (OCI index or Docker manifest list).
constexpr bool IsIndex(std::string_view media_type) {
  return media_type == kOciIndex || media_type == kDockerManifestList;
}

/// An image config (OCI or Docker).
constexpr bool IsConfig(std::string_view media_type) {
  return media_type == kOciConfig || media_type == kDockerConfig;
}

/// A filesystem layer, of any compression, distributable or not.
constexpr bool IsLayer(std::string_view media_type) {
  return media_type == kOciLayerTar || media_type == kOciLayerTarGzip ||
         media_type == kOciLayerTarZstd || media_type == kOciLayerNondistributableTar ||
         media_type == kOciLayerNondistributableTarGzip ||
         media_type == kOciLayerNondistributableTarZstd || media_type == kDockerLayerTar ||
         media_type == kDockerLayerTarGzip || media_type == kDockerLayerTarZstd ||
         media_type == kDockerForeignLayerTarGzip;
}

/// A layer a registry may refuse to serve (foreign or nondistributable): pushing skips it.
constexpr bool IsNondistributableLayer(std::string_view media_type) {
  return media_type == kOciLayerNondistributableTar ||
         media_type == kOciLayerNondistributableTarGzip ||
         media_type == kOciLayerNondistributableTarZstd || media_type == kDockerForeignLayerTarGzip;
}

/// How a layer's bytes are compressed; kUnknown for anything that is not a layer.
constexpr Compression LayerCompression(std::string_view media_type) {
  if (media_type == kOciLayerTar || media_type == kOciLayerNondistributableTar ||
      media_type == kDockerLayerTar)
    return Compression::kNone;
  if (media_type == kOciLayerTarGzip || media_type == kOciLayerNondistributableTarGzip ||
      media_type == kDockerLayerTarGzip || media_type == kDockerForeignLayerTarGzip)
    return Compression::kGzip;
  if (media_type == kOciLayerTarZstd || media_type == kOciLayerNondistributableTarZstd ||
      media_type == kDockerLayerTarZstd)
    return Compression::kZstd;
  return Compression::kUnknown;
}

}  // namespace berth::oci
