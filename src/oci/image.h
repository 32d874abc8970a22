#pragma once

// The image side of the OCI image spec 1.1 and of Docker's image manifest v2 schema 2:
// manifest, index (manifest list) and config, with strict parsers and stable serialisers.
//
// A document read from a registry, an archive or the content store is identified by the digest
// of its bytes as stored: keep those bytes (ConfigBlob, or the blob itself) and never
// re-serialise a loaded document to compute an id. Serialize* is for documents Berth makes
// (import, commit, build): fixed field order, no whitespace, maps sorted by key, so the same
// value always gives the same bytes and the same id.
//
// Parsers refuse documents larger than kMaxDocumentBytes or nested deeper than kMaxJsonDepth,
// duplicate keys, wrong types (naming the property path: "layers[1].size: expected integer"),
// malformed digests and negative sizes. Unknown fields are ignored, except at the top level of
// a config, where they are kept (ImageConfig::unknown) so that a config derived from another
// (commit, import --change) carries them on.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/digest.h"
#include "util/result.h"

namespace berth::oci {

inline constexpr size_t kMaxDocumentBytes = 4 << 20;
inline constexpr size_t kMaxJsonDepth = 128;

struct ImageManifest {
  int schema_version = 2;
  std::string media_type;  // kOciManifest or kDockerManifest; may be empty in an OCI manifest
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
};

/// An OCI image index or a Docker manifest list.
struct ImageIndex {
  int schema_version = 2;
  std::string media_type;  // kOciIndex or kDockerManifestList; may be empty in an OCI index
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
};

/// Healthcheck of an image config; durations in nanoseconds, as Docker writes them.
struct HealthConfig {
  std::vector<std::string> test;  // [] inherit, ["NONE"], ["CMD", ...], ["CMD-SHELL", cmd]
  int64_t interval = 0;
  int64_t timeout = 0;
  int64_t start_period = 0;
  int64_t start_interval = 0;
  int64_t retries = 0;
};

/// The "config" object of an image config: the defaults of a container run from it. The OCI
/// fields, and Docker's (hostname .. stop_timeout) that docker build and commit write.
struct ContainerConfig {
  std::string user;
  std::vector<std::string> exposed_ports;              // "80/tcp", sorted, unique
  std::vector<std::string> env;                        // "KEY=value", in order
  std::optional<std::vector<std::string>> entrypoint;  // null and [] differ to docker
  std::optional<std::vector<std::string>> cmd;
  std::vector<std::string> volumes;  // sorted, unique
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  bool args_escaped = false;
  std::optional<HealthConfig> healthcheck;
  std::vector<std::string> on_build;
  std::vector<std::string> shell;
  // Docker's.
  std::string hostname;
  std::string domainname;
  bool attach_stdin = false;
  bool attach_stdout = false;
  bool attach_stderr = false;
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  std::string image;
  bool network_disabled = false;
  std::string mac_address;
  std::optional<int64_t> stop_timeout;
};

struct History {
  std::string created;  // RFC 3339, as written
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
};

struct ImageConfig {
  std::string created;  // RFC 3339, as written
  std::string author;
  std::string architecture;
  std::string os;
  std::string os_version;
  std::vector<std::string> os_features;
  std::string variant;
  std::optional<ContainerConfig> config;
  std::string rootfs_type = "layers";
  std::vector<Digest> diff_ids;
  std::vector<History> history;
  /// Top-level fields this struct does not model (Docker's "container", "container_config",
  /// "docker_version", ...): name → their JSON text, minified. Serialize writes them last.
  std::map<std::string, std::string> unknown;
};

/// A config with the exact bytes it came from; the image id is the digest of those bytes.
struct ConfigBlob {
  ImageConfig config;
  std::string bytes;
  Digest id;  // sha256 of bytes
};

Result<ImageManifest> ParseManifest(std::string_view json);
Result<ImageIndex> ParseIndex(std::string_view json);
Result<ImageConfig> ParseConfig(std::string_view json);
/// Parses a single descriptor (an OCI layout's index entry, a descriptor JSON in an API body).
Result<Descriptor> ParseDescriptor(std::string_view json);

/// Which of manifest or index a document is, from its mediaType, else from its fields
/// ("manifests" → index, "config"/"layers" → manifest); InvalidArgument if neither.
Result<std::string> DetectManifestMediaType(std::string_view json);

/// Parses and keeps the bytes; the id is their sha256.
Result<ConfigBlob> LoadConfig(std::string bytes);
/// Serialises a new config once and computes its id.
Result<ConfigBlob> MakeConfig(ImageConfig config);

std::string Serialize(const ImageManifest& manifest);
std::string Serialize(const ImageIndex& index);
std::string Serialize(const ImageConfig& config);
std::string Serialize(const Descriptor& descriptor);

/// The platform of an index entry matches want: same os and architecture, and same variant when
/// want has one (an arm64 entry without variant matches "v8").
bool PlatformMatches(const Platform& have, const Platform& want);

}  // namespace berth::oci
