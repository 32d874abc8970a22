#pragma once

// The two halves of LoadArchive: reading the tar stream into the content store and a map of
// its entries (load_stream.cc), then resolving manifest.json (load_docker.cc) and index.json
// (load_oci.cc) against that map.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "image/archive_formats.h"
#include "oci/digest.h"
#include "oci/media_types.h"

namespace berth::image::formats {

/// One entry of the archive: a blob now in the content store, or a link to another entry.
struct ArchiveEntry {
  bool is_link = false;
  std::string link_target;  // a cleaned archive path, for links
  oci::Digest digest;       // of the file's bytes
  int64_t size = 0;
  oci::Digest diff_id;  // of the file uncompressed (== digest when not compressed)
  oci::Compression compression = oci::Compression::kNone;
  std::string unpacked;  // LayerUnpacker key, when unpacked while streaming
};

struct ArchiveContents {
  std::map<std::string, ArchiveEntry> entries;  // by cleaned path
  std::optional<std::string> manifest_json;
  std::optional<std::string> index_json;
  std::optional<std::string> oci_layout;
};

/// Reads the whole stream; ingests blobs into content.
Result<ArchiveContents> ReadArchiveStream(int input_fd, store::content::ContentStore& content,
                                          const LoadOptions& options);
Result<ArchiveContents> ReadArchiveStream(const ReadFn& read, store::content::ContentStore& content,
                                          const LoadOptions& options);

/// The blob entry at path, following links within the archive (at most 16). NotFound if path
/// (or a link's target) is not in the archive.
Result<const ArchiveEntry*> Lookup(const ArchiveContents& archive, const std::string& path);

/// Reads a small blob (a config, a manifest) at most kMaxArchiveDocumentBytes.
Result<std::string> ReadDocument(const store::content::ContentProvider& content,
                                 const oci::Digest& digest);

/// Checks that the config's rootfs.diff_ids are the layers' diff ids, in order. `what` names the
/// layers in errors (their files).
Result<void> CheckDiffIds(const oci::Digest& config_digest, const std::vector<oci::Digest>& want,
                          const std::vector<LoadedLayer>& layers,
                          const std::vector<std::string>& files);

Result<std::vector<LoadedImage>> ResolveDockerManifest(
    const ArchiveContents& archive, const store::content::ContentProvider& content);
Result<std::vector<LoadedImage>> ResolveOciIndex(const ArchiveContents& archive,
                                                 const store::content::ContentProvider& content,
                                                 const LoadOptions& options);

}  // namespace berth::image::formats
