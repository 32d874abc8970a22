#pragma once

// The schema of berth.db, drawn once (containerd's core/metadata/buckets.go). Migration i
// takes a database from version i to i+1; version 0 is an empty file. The current version is
// the number of migrations. Never edit a migration that has shipped: append one.
//
//   schema_version (version)                 one row: the version of everything below
//
//   images                                   one row per image, named by its config digest
//     id               TEXT PK               config digest ("sha256:…"): the image id
//     manifest_digest  TEXT NULL             manifest it was pulled or loaded by (NULL: built)
//     media_type       TEXT                  that manifest's media type
//     os, architecture, variant  TEXT        platform
//     size             INTEGER               sum of the layers' unpacked sizes
//     created          TEXT                  config "created", RFC 3339
//     labels           TEXT                  JSON object of strings
//     state            TEXT                  'pending' until its blobs and layers are in place
//   image_layers                             the ordered layers of an image
//     image_id → images(id) ON DELETE CASCADE, idx (0 = base), PK (image_id, idx)
//     chain_id → layers(chain_id), diff_id, blob_digest (the blob this image names: the same
//                chain id may come from a gzip and a zstd blob)
//   image_blobs                              other blobs an image keeps alive (index, …)
//     image_id → images(id) ON DELETE CASCADE, digest; PK (image_id, digest)
//   tags                                     full reference name → image
//     name  TEXT PK ("docker.io/library/busybox:latest"), image_id → images(id) CASCADE
//   layers                                   one unpacked layer, shared by every image having it
//     chain_id         TEXT PK               <root>/layers/<chain-id-hex>
//     diff_id          TEXT                  digest of the uncompressed tar
//     parent_chain_id  TEXT NULL → layers(chain_id)   (no delete while a child exists)
//     blob_digest      TEXT NULL             the blob it was unpacked from
//     media_type, size (blob), unpacked_size, created, state
//   blobs                                    blobs the engine has recorded (for GC)
//     digest TEXT PK, size, media_type, created
//
// Reference counts are derived by query (image_layers and child layers), never stored.

#include <sqlite3.h>

#include "util/result.h"

namespace berth::store::meta {

/// The version this build writes and reads.
int LatestSchemaVersion();

/// Reads the version (0 for a new file), refuses a newer one (FailedPrecondition), applies the
/// missing migrations in one transaction. Returns the version now in the file.
Result<int> MigrateSchema(sqlite3* db);

}  // namespace berth::store::meta
