#pragma once

// Every on-disk path under the daemon root, computed in one place (leveldb's filename.h,
// distribution's paths.go). Nothing else in Berth joins path pieces under the root.
//
//   <root>/                              berthd --root (default /var/lib/berth)
//     blobs/
//       sha256/<hex>                     content store: complete, verified, read-only blobs
//     ingest/
//       <ref-key>/                       one upload in progress; ref-key = sha256 hex of the ref
//         data                           the bytes written so far
//         ref                            the ingest ref itself (for listing and resume)
//         started                        when the ingest began, unix nanoseconds
//     layers/
//       <chain-id-hex>/                  one unpacked layer; its insides belong to store/snapshot
//     containers/
//       <id>/                            one container's writable layer, config and logs
//     volumes/
//       <name>/
//         _data                          the volume's contents, as Docker lays them out
//     tmp/                               scratch space on the same filesystem (renames are atomic)
//     berth.db                           metadata database (SQLite, WAL: also berth.db-wal, -shm)
//
// Every directory above is on one filesystem so that rename(2) moves things between them
// atomically. Layout only computes names; Create() makes the top-level directories.

#include <string>
#include <string_view>

#include "oci/digest.h"
#include "util/result.h"

namespace berth::store {

class Layout {
 public:
  /// REQUIRES: root is an absolute path without a trailing slash (except "/").
  explicit Layout(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }

  /// Creates root and its top-level directories (blobs/sha256, ingest, layers, containers,
  /// volumes, tmp); existing ones are fine.
  Result<void> Create() const;

  /// <root>/blobs
  std::string BlobsRoot() const;
  /// <root>/blobs/<algorithm>
  std::string BlobsDir(std::string_view algorithm = "sha256") const;
  /// <root>/blobs/<algorithm>/<hex>. REQUIRES: digest.valid().
  std::string BlobPath(const oci::Digest& digest) const;

  /// <root>/ingest
  std::string IngestRoot() const;
  /// The directory name of an ingest ref: the sha256 hex of the ref, so that any ref (which
  /// may hold slashes, colons, ...) maps to one safe name.
  static Result<std::string> IngestKey(std::string_view ref);
  /// <root>/ingest/<key>, and the three files inside it.
  std::string IngestDir(std::string_view key) const;
  std::string IngestDataPath(std::string_view key) const;
  std::string IngestRefPath(std::string_view key) const;
  std::string IngestStartedPath(std::string_view key) const;

  /// <root>/layers, and <root>/layers/<chain-id-hex>. REQUIRES: chain_id.valid().
  std::string LayersRoot() const;
  std::string LayerDir(const oci::Digest& chain_id) const;

  /// <root>/containers, <root>/containers/<id>. REQUIRES: id is a validated container id
  /// (no '/', not "." or "..").
  std::string ContainersRoot() const;
  std::string ContainerDir(std::string_view id) const;

  /// <root>/volumes, <root>/volumes/<name>, <root>/volumes/<name>/_data. REQUIRES: name is a
  /// validated volume name.
  std::string VolumesRoot() const;
  std::string VolumeDir(std::string_view name) const;
  std::string VolumeDataDir(std::string_view name) const;

  /// <root>/tmp
  std::string TmpDir() const;
  /// <root>/berth.db
  std::string DbPath() const;

 private:
  std::string root_;
};

}  // namespace berth::store
