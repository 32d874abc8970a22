#pragma once

// Image archives: `docker save` tarballs (docker-archive) and OCI image layouts in a tar, read
// and written as one stream, never held in memory and never unpacked to a temporary directory.
//
// docker-archive, as Docker 20.10 writes it (and skopeo's docker-archive: transport; skopeo
// names layers <diff id hex>.tar and links <v1 id>/layer.tar to them):
//
//   <diff id hex>/layer.tar     an uncompressed layer tar (a symlink in old Docker versions
//                               when two images share the layer)
//   <config hex>.json           the image config; its sha256 is the image id
//   manifest.json               [{"Config":"<config hex>.json","RepoTags":["busybox:latest"],
//                                 "Layers":["<diff id hex>/layer.tar", ...]}, ...]
//   repositories                {"busybox":{"latest":"<top layer dir>"}} (legacy, ignored)
//
// OCI image layout (image-spec image-layout.md), skopeo's oci-archive: and umoci's layouts:
//
//   oci-layout                  {"imageLayoutVersion":"1.0.0"}
//   index.json                  an image index: manifests (or nested indexes), annotated with
//                               org.opencontainers.image.ref.name and io.containerd.image.name
//   blobs/sha256/<hex>          manifests, configs and layers (compressed or not), by digest
//
// Docker 25+ writes both at once: the OCI layout, plus a manifest.json whose Config and Layers
// name files under blobs/sha256/.
//
// Loading reads the tar (plain, gzip or zstd) once. Every regular file except the metadata
// documents (manifest.json, index.json, repositories, oci-layout) and legacy v1 files
// (<id>/json, <id>/VERSION) is written into the content store as it streams, hashed on the
// way, and decompressed through a second hash when it is gzip or zstd (its diff id); the
// documents are kept (each at most 4 MiB) and resolved at the end, because manifest.json and
// index.json may come after the blobs. Symlinks and hard links in the archive are followed
// only within the archive's own entries. Nothing is committed as an image here: the caller
// (image service) records the returned images; on error it gets no image, and the blobs
// already ingested stay until garbage collection removes them as unreferenced.
//
// Saving writes the docker-archive format above, deterministically (entries sorted, mtime 0,
// uid/gid 0, mode 0644/0755), each layer once however many images share it; optionally the
// combined format of Docker 25+ (SaveOptions::oci_layout).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "oci/digest.h"
#include "store/content/content_store.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::image {

inline constexpr size_t kMaxArchiveDocumentBytes = 4u << 20;

/// Where LoadArchive unpacks, while they stream, the entries that look like layers (a tar, or
/// a gzip or zstd stream), so that a layer is read, hashed and unpacked in the one pass that
/// ingests it. A speculative unpack that fails (not a layer after all, or a hostile one) is
/// discarded and the entry is only ingested; unpacking it again from the blob gives the error
/// if an image uses it. Thread safety: called from the loading thread only.
class LayerUnpacker {
 public:
  virtual ~LayerUnpacker() = default;
  /// A new, empty directory (opened O_DIRECTORY) for one entry, and the key that names it.
  virtual Result<std::pair<std::string, Fd>> Begin() = 0;
  /// Removes what Begin made under key.
  virtual void Discard(const std::string& key) = 0;
};

/// Progress of a load, for Docker's JSON messages: called for each layer-like entry as its
/// bytes stream in (current, total in bytes; total 0 when unknown).
using LoadProgress = std::function<void(const std::string& id, int64_t current, int64_t total)>;

struct LoadOptions {
  /// The largest size one tar entry may claim (a layer); larger is InvalidArgument, refused
  /// before any of its bytes are read.
  uint64_t max_entry_bytes = uint64_t{16} << 30;
  /// Only for an OCI layout whose index holds several platforms: keep only the manifests for
  /// this platform (os/architecture[/variant]). Empty: every manifest whose blobs are present.
  std::optional<oci::Platform> platform;
  /// Unpack layers as they stream (see LayerUnpacker); null: only ingest them.
  LayerUnpacker* unpacker = nullptr;
  LoadProgress progress;
};

struct LoadedLayer {
  oci::Digest digest;      // of the blob as stored in the content store
  std::string media_type;  // from the OCI manifest; for docker-archive by the blob's magic
  int64_t size = 0;        // of the blob
  oci::Digest diff_id;     // of the uncompressed tar; equals the config's rootfs.diff_ids[i]
  std::string unpacked;    // the LayerUnpacker key holding it unpacked, or empty
};

struct LoadedImage {
  oci::Digest config_digest;  // the image id
  std::string config_bytes;   // exactly as in the archive
  std::vector<LoadedLayer> layers;
  /// Normalised references ("docker.io/library/busybox:latest"): manifest.json RepoTags, or
  /// the io.containerd.image.name annotation of an OCI index entry, or its
  /// org.opencontainers.image.ref.name when that is a full reference (has a '/' or ':').
  std::vector<std::string> repo_tags;
  /// OCI layouts (and the combined format): the manifest's digest, media type and the
  /// org.opencontainers.image.ref.name annotation as written ("latest", "v1", ...). The
  /// manifest blob is in the content store. Empty for a plain docker-archive.
  oci::Digest manifest_digest;
  std::string manifest_media_type;
  std::string ref_name;
};

/// Reads an archive from input_fd to its end and returns its images in archive order
/// (manifest.json order; for OCI, index.json order). Blobs are ingested into content.
/// Errors name the file: InvalidArgument for malformed or hostile archives ("manifest.json:
/// layer 0: path ../x escapes the archive", "manifest.json: 5000000 bytes, more than 4194304"),
/// NotFound for a file a document names and the archive lacks ("manifest.json: layer
/// sha256:… (file x/layer.tar) not found in archive"), DataLoss for a truncated or corrupt
/// stream or a digest mismatch (blobs/sha256/<hex> whose bytes hash otherwise, a config whose
/// rootfs.diff_ids differ from its layers').
Result<std::vector<LoadedImage>> LoadArchive(int input_fd, store::content::ContentStore& content,
                                             const LoadOptions& options = {});
/// The same, reading the archive with read until it returns 0 (its error is returned as is).
using ReadFn = std::function<Result<size_t>(char* buf, size_t n)>;
Result<std::vector<LoadedImage>> LoadArchive(const ReadFn& read,
                                             store::content::ContentStore& content,
                                             const LoadOptions& options = {});

struct SaveLayer {
  oci::Digest digest;      // blob in the content store (tar, tar+gzip or tar+zstd)
  std::string media_type;  // tells its compression; empty: detected from the blob's magic
  oci::Digest diff_id;
};

struct SaveImage {
  oci::Digest config_digest;  // blob in the content store
  std::vector<SaveLayer> layers;
  std::vector<std::string> repo_tags;  // written as given ("busybox:latest")
};

struct SaveOptions {
  /// Also write the OCI layout (oci-layout, index.json, blobs/sha256/: a manifest per image,
  /// its config and layers as stored) with manifest.json naming files under blobs/sha256/, as
  /// Docker 25+ does; layers are then written once, as stored. Off: Docker 20.10's format,
  /// each layer as an uncompressed <diff id hex>/layer.tar.
  bool oci_layout = false;
};

/// Writes images as one tar stream to output_fd (a pipe is fine: nothing is sought back).
/// Compressed layers are decompressed twice: first to learn their size for the tar header and
/// check their diff id, then to write them, so a mismatch (DataLoss) is found before the
/// layer's bytes are written. NotFound if a blob is missing. On error the output is a partial
/// tar the caller discards (an HTTP response is cut).
Result<void> SaveArchive(const std::vector<SaveImage>& images,
                         const store::content::ContentProvider& content, int output_fd,
                         const SaveOptions& options = {});

}  // namespace berth::image
