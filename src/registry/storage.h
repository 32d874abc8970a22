#pragma once

// The registry's storage on the filesystem. One copy of each blob however many repositories
// hold it; repositories hold links (empty files named by digest), so that a blob or manifest
// is visible in a repository only once it was pushed or mounted there.
//
//   ROOT/blobs/<alg>/<hex>                          the bytes: layers, configs, manifests
//   ROOT/uploads/<uuid>/{repository,data}           an upload in progress
//   ROOT/repositories/<name>/_blobs/<alg>/<hex>     link: the blob is in the repository
//   ROOT/repositories/<name>/_manifests/<alg>/<hex> link: a manifest; holds its media type
//   ROOT/repositories/<name>/_tags/<tag>            the digest the tag points at
//   ROOT/repositories/<name>/_referrers/<alg>/<subject hex>/<alg>-<hex>
//                                                   the descriptor of a manifest with that
//                                                   subject (the referrers API)
//
// Repository names never have a component that starts with '_' (ValidRepositoryName), so the
// storage's directories cannot collide with a nested repository ("a/_tags" is not a name).
// A blob reaches blobs/ only by rename(2) of a file whose digest was checked; files that
// readers see are never rewritten in place (tags are replaced by rename).
// A blob's mtime is refreshed whenever something comes to rely on it (commit, mount, a
// manifest naming it): garbage collection (gc.h) spares blobs refreshed after it started.
//
// Errors, by the spec's codes the HTTP layer maps them to:
//   NotFound            BLOB_UNKNOWN, MANIFEST_UNKNOWN, BLOB_UPLOAD_UNKNOWN, NAME_UNKNOWN
//   InvalidArgument     DIGEST_INVALID (a digest mismatch or a bad digest), MANIFEST_INVALID
//   FailedPrecondition  MANIFEST_BLOB_UNKNOWN (a manifest names a blob the repository lacks)
//   Conflict            an out-of-order chunk (416 Requested Range Not Satisfiable); from
//                       PutManifest, a body whose digest is not the digest reference
//                       (DIGEST_INVALID)
//   Unavailable         an upload that another request is writing
//
// Thread safety: all methods may be called from many threads; an upload is written by one
// request at a time (a second one gets Unavailable).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/digest.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::registry {

/// Reads up to n bytes of a request body into buf; 0 at its end.
using Source = std::function<Result<size_t>(char* buf, size_t n)>;

struct Manifest {
  oci::Digest digest;
  std::string media_type;
  std::string body;
};

struct PutManifestResult {
  oci::Digest digest;
  oci::Digest subject;  // valid if the manifest names a subject
};

class Storage {
 public:
  /// Opens (creating its directories) the storage under root.
  static Result<std::unique_ptr<Storage>> Open(const std::string& root);

  const std::string& root() const { return root_; }

  // Blobs.
  /// The size of a blob in repo: NotFound if absent or not linked there.
  Result<int64_t> BlobSize(std::string_view repo, const oci::Digest& digest) const;
  /// An open blob in repo, read-only.
  Result<Fd> OpenBlob(std::string_view repo, const oci::Digest& digest) const;
  /// Unlinks a blob from repo (its bytes stay until garbage collection). NotFound if absent.
  Result<void> DeleteBlob(std::string_view repo, const oci::Digest& digest);
  /// Links into repo a blob that repository from holds. NotFound if from has no such blob.
  Result<void> MountBlob(std::string_view repo, std::string_view from, const oci::Digest& digest);

  // Uploads.
  /// A new upload for repo; returns its id.
  Result<std::string> StartUpload(std::string_view repo);
  /// The bytes received so far. NotFound if there is no such upload for repo.
  Result<int64_t> UploadSize(std::string_view repo, std::string_view id) const;
  /// Appends what source yields. start, if given, must equal the upload's current size
  /// (Conflict otherwise, with nothing written). Returns the new size. Bytes received before a
  /// failed read stay: the client resumes from UploadSize.
  Result<int64_t> AppendUpload(std::string_view repo, std::string_view id,
                               std::optional<int64_t> start, const Source& source);
  /// Checks the upload against digest and makes it a blob of repo; the upload is gone after
  /// (also after a digest mismatch, InvalidArgument).
  Result<void> CommitUpload(std::string_view repo, std::string_view id, const oci::Digest& digest);
  /// Removes an upload. NotFound if there is none.
  Result<void> CancelUpload(std::string_view repo, std::string_view id);

  // Manifests.
  /// Stores a manifest under reference (a tag or a digest). media_type is the request's
  /// Content-Type (without parameters); when empty the manifest's own mediaType is used.
  /// Checks: JSON with schemaVersion 2, a known media type agreeing with the body's, every
  /// config and layer blob (every child manifest of an index) present in repo; a digest
  /// reference must be the digest of body.
  Result<PutManifestResult> PutManifest(std::string_view repo, std::string_view reference,
                                        std::string_view media_type, std::string_view body);
  /// A manifest by tag or digest.
  Result<Manifest> GetManifest(std::string_view repo, std::string_view reference) const;
  /// By digest: the manifest, the tags that point at it and its referrer entry. By tag: the
  /// tag only.
  Result<void> DeleteManifest(std::string_view repo, std::string_view reference);

  // Listing.
  /// Whether repo has anything stored.
  bool RepositoryExists(std::string_view repo) const;
  /// The tags of repo, sorted. NotFound if the repository does not exist.
  Result<std::vector<std::string>> Tags(std::string_view repo) const;
  /// Every repository, sorted.
  Result<std::vector<std::string>> Repositories() const;
  /// The descriptors (JSON objects, serialised) of the manifests of repo whose subject is
  /// digest, with artifact_type as a filter when not empty; sorted by digest.
  Result<std::vector<std::string>> Referrers(std::string_view repo, const oci::Digest& digest,
                                             std::string_view artifact_type) const;

 private:
  explicit Storage(std::string root) : root_(std::move(root)) {}
  std::string BlobPath(const oci::Digest& d) const;
  std::string RepoPath(std::string_view repo) const;
  std::string UploadDir(std::string_view id) const;
  Result<void> Link(const std::string& path, std::string_view content);
  /// Stores bytes as a blob (the digest is computed here) and links it into repo.
  Result<void> PutBlobBytes(std::string_view repo, const oci::Digest& digest,
                            std::string_view bytes, bool link_blob);
  Result<Fd> OpenUpload(std::string_view repo, std::string_view id, int flags) const;

  std::string root_;
};

/// The manifest media types the registry accepts.
bool KnownManifestType(std::string_view media_type);

}  // namespace berth::registry
