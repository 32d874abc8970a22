#pragma once

// ImageService: the images of one daemon root, over the content store (config, manifest and
// layer blobs), the snapshotter (unpacked layers, one per chain id) and the metadata database
// (images, tags, layers). It implements what the Engine API's image routes ask: import, list,
// inspect, history, tag, delete, prune and disk usage, with Docker's rules and messages.
//
//   ImageService images(layout, content.get(), db.get(), snapshots.get());
//   BERTH_TRY(images.Recover());                          // once, before serving
//   oci::Digest id = BERTH_TRY(images.Import(fd, {.reference = "busybox:latest"}));
//   auto deleted = BERTH_TRY(images.Delete("busybox", {}));
//
// Writes follow the metadata database's pending protocol: rows are recorded 'pending' before
// the files they name are made (snapshot, blobs) and marked complete after, in one transaction
// with the tags; Recover() removes what a crash left half-done.
//
// Errors: NotFound "No such image: NAME"; Conflict with docker's "conflict: unable to …"
// messages; InvalidArgument "invalid reference format" and friends for a bad name.
// Thread safety: every method may be called from many threads; changes are serialized.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/digest.h"
#include "oci/image.h"
#include "store/content/content_store.h"
#include "store/layout.h"
#include "store/meta/metadata_db.h"
#include "store/snapshot/overlay.h"
#include "util/result.h"

namespace berth::image {

struct LoadedImage;    // archive_formats.h
struct CommitOptions;  // image_commit.h
class PulledLayer;     // image_pull.h
struct PulledImage;    // image_pull.h
struct PushableImage;  // image_push.h

/// One image as the API shows it.
struct Image {
  store::meta::ImageRecord record;
  oci::ConfigBlob config;
  std::vector<std::string> tags;  // full names ("docker.io/library/busybox:latest"), sorted
  std::vector<std::string> repo_digests;
  std::string last_tag_time;  // RFC 3339, empty if never tagged
  /// Docker's GraphDriver.Data for overlay2: UpperDir (the top layer's files), LowerDir (the
  /// layers below, nearest first, ':'-separated; absent for one layer), MergedDir, WorkDir.
  std::map<std::string, std::string> graph_driver;
};

struct ImportOptions {
  std::string reference;             // "repo[:tag]", or empty for an untagged image
  std::vector<std::string> changes;  // Dockerfile instructions (CMD, ENV, …)
  std::string message;               // the commit message; default "Imported from -"
  std::string source = "-";
  std::string os = "linux";
  std::string architecture;  // default: the host's
};

/// `docker images` filters, as the API's `filters` parameter gives them.
struct ListOptions {
  bool all = false;
  std::optional<bool> dangling;
  std::vector<std::string> references;  // glob patterns on the familiar name[:tag]
  std::vector<std::string> labels;      // "key" or "key=value"
};

struct HistoryEntry {
  std::string id;  // the image id for the top entry, "<missing>" below it
  int64_t created = 0;
  std::string created_by;
  std::vector<std::string> tags;  // familiar
  int64_t size = 0;
  std::string comment;
};

/// One line of DELETE /images/{name} and of prune: exactly one field is set.
struct DeleteItem {
  std::string untagged;  // familiar reference
  std::string deleted;   // image id or layer chain id
};

struct DeleteOptions {
  bool force = false;
  bool noprune = false;
};

struct PruneReport {
  std::vector<DeleteItem> deleted;
  int64_t space_reclaimed = 0;
};

struct DiskUsageReport {
  int64_t layers_size = 0;  // every layer once, however many images share it
  struct Entry {
    Image image;
    int64_t shared_size = 0;  // bytes of its layers that another image has too
  };
  std::vector<Entry> images;
};

/// What the routes publish as events (type "image").
using EventSink =
    std::function<void(std::string_view action, std::string_view id, std::string_view name)>;

class ImageService {
 public:
  /// REQUIRES: the stores outlive the service; snapshots is rooted at layout.LayersRoot().
  ImageService(store::Layout layout, store::content::ContentStore* content,
               store::meta::MetadataDb* db, store::snapshot::OverlaySnapshotter* snapshots);

  /// Removes what a crash left: pending image and layer rows with their snapshots and blobs,
  /// snapshots and blobs that no row names, unfinished extractions and stale ingests.
  Result<void> Recover();

  /// Called for import, tag, untag and delete (from the calling thread).
  void SetEventSink(EventSink sink) { events_ = std::move(sink); }
  /// The ids of the containers that use an image: Delete refuses to remove what they use
  /// (force untags but keeps the image), Prune skips it.
  void SetContainerUsers(std::function<std::vector<std::string>(const oci::Digest&)> users) {
    container_users_ = std::move(users);
  }
  /// The containers that use image id (through SetContainerUsers' function; none without).
  std::vector<std::string> ContainersUsing(const oci::Digest& id) const {
    return container_users_ ? container_users_(id) : std::vector<std::string>{};
  }

  /// Reads a rootfs tar (plain, gzip or zstd) from read until it returns 0, stores it as one
  /// layer (reused if its chain id exists) and makes an image of it; returns the image id.
  Result<oci::Digest> Import(const std::function<Result<size_t>(char*, size_t)>& read,
                             const ImportOptions& options);

  /// `docker load`: reads an image archive (docker-archive, OCI layout or both in one tar;
  /// plain, gzip or zstd) from read until it returns 0, unpacks the layers it lacks and records
  /// the images with their tags (a tag on another image moves). Returns Docker's lines, one
  /// per tag ("Loaded image: busybox:latest") or per untagged image ("Loaded image ID: sha256:…").
  /// On error no image of the archive that was not yet recorded is left.
  /// progress, if set, is called from the loading thread as each layer's bytes arrive.
  Result<std::vector<std::string>> LoadImages(
      const std::function<Result<size_t>(char*, size_t)>& read,
      const std::function<void(const std::string& id, int64_t current, int64_t total)>& progress =
          {});
  Result<std::vector<std::string>> LoadImages(
      int input_fd,
      const std::function<void(const std::string& id, int64_t current, int64_t total)>& progress =
          {});
  /// `docker save`: writes the named images as one archive to output_fd, an OCI layout with a
  /// docker-archive manifest.json (Docker 25+'s format). A name given by tag keeps that tag in
  /// the archive; a repository without a tag gives every tag of it; an id gives an untagged
  /// entry. NotFound for a name that resolves to nothing (before anything is written).
  Result<void> SaveImages(const std::vector<std::string>& names, int output_fd);

  /// `docker commit`: a container's writable layer as a new image (image_commit.h); returns
  /// its id. NotFound for a parent that is not an image; InvalidArgument for a bad reference or
  /// change.
  Result<oci::Digest> Commit(const CommitOptions& options);

  /// Registry pulls (image_pull.h): whether the layer chain_id is unpacked and recorded (the
  /// pull skips it: "Already exists"); one layer unpacked as its blob streams from read (or
  /// from the store, read unused, if the store has the blob); the image recorded with its tag
  /// once every layer is in. progress, if set, is called as the blob's bytes arrive.
  bool HasLayer(const oci::Digest& chain_id);
  Result<PulledLayer> UnpackPulledLayer(const oci::Descriptor& blob,
                                        const std::function<Result<size_t>(char*, size_t)>& read,
                                        const std::function<void(int64_t, int64_t)>& progress);
  Result<oci::Digest> RecordPulled(PulledImage image);
  /// Registry pushes (image_push.h): the manifest of record of the image name names and the
  /// blobs it lists. NotFound for an image or a blob that is not there.
  Result<PushableImage> ImageForPush(std::string_view name);

  Result<std::vector<Image>> List(const ListOptions& options);
  /// By full or familiar reference, full id, "sha256:"-prefixed id or an unambiguous id
  /// prefix. NotFound "No such image: NAME".
  Result<Image> Get(std::string_view name);
  Result<std::vector<HistoryEntry>> History(std::string_view name);
  /// Tags the image source names as target ("repo[:tag]", tag defaults to latest); a tag on
  /// another image moves. InvalidArgument for a malformed target.
  Result<void> Tag(std::string_view source, std::string_view target);
  /// Records "NAME@DIGEST" for image id: the manifest it was pulled as or pushed as in a
  /// repository (docker's RepoDigests; `docker pull/run NAME@DIGEST` find it). Kept with the
  /// tags (a name with "@"); one naming another image moves. InvalidArgument for a reference
  /// without a digest, NotFound for an image that is not there.
  Result<void> AddRepoDigest(const oci::Digest& id, std::string_view reference);
  Result<std::vector<DeleteItem>> Delete(std::string_view name, const DeleteOptions& options);
  /// Removes dangling images (all unused ones with all = true) whose labels match.
  Result<PruneReport> Prune(bool all, const std::vector<std::string>& labels = {});
  Result<DiskUsageReport> DiskUsage();
  int64_t Count();

 private:
  Result<Image> Load(store::meta::Tx& tx, const oci::Digest& id);
  Result<oci::Digest> Resolve(store::meta::Tx& tx, std::string_view name);
  Result<std::string> StoreLayer(const std::function<Result<size_t>(char*, size_t)>& read,
                                 store::meta::LayerRecord* layer);
  Result<oci::Digest> PutBlob(std::string_view data, std::string_view media_type);
  /// GarbageCollect in a transaction, then removes the files; returns the layers removed.
  /// REQUIRES: mu_ held.
  Result<std::vector<oci::Digest>> CollectGarbage(const std::vector<oci::Digest>& blobs_on_disk,
                                                  const std::vector<oci::Digest>& layers_on_disk);
  /// Removes the tags, then the image, then collects garbage. REQUIRES: mu_ held.
  Result<std::vector<DeleteItem>> RemoveImage(const oci::Digest& id,
                                              const std::vector<std::string>& untag,
                                              bool delete_image);
  void Emit(std::string_view action, const oci::Digest& id, std::string_view name);
  /// Unpacks the layer into a snapshot named by its chain id and records its row, unless it
  /// has one already. REQUIRES: mu_ held.
  Result<store::meta::LayerRecord> EnsureLayer(const oci::Digest& chain_id,
                                               const oci::Digest& parent, const oci::Digest& blob,
                                               const std::string& media_type, int64_t blob_size,
                                               const oci::Digest& diff_id,
                                               const std::string& unpacked = "");
  /// Records one image of a loaded archive, its layers and tags. REQUIRES: mu_ held.
  Result<oci::Digest> RecordLoaded(const LoadedImage& loaded, std::vector<std::string>* lines,
                                   std::string_view action = "load");

  store::Layout layout_;
  store::content::ContentStore* content_;
  store::meta::MetadataDb* db_;
  store::snapshot::OverlaySnapshotter* snapshots_;
  std::mutex mu_;  // serializes changes (import, tag, delete, prune, GC)
  EventSink events_;
  std::function<std::vector<std::string>(const oci::Digest&)> container_users_;
};

/// "docker.io/library/busybox:latest" → "busybox:latest".
std::string FamiliarTag(const std::string& full);
/// Whether a name of the tags table is a repository digest ("name@sha256:…"), not a tag.
inline bool IsRepoDigest(std::string_view name) { return name.find('@') != name.npos; }
/// Seconds since the epoch of an RFC 3339 time ("2026-12-01T19:45:41.331Z"); 0 if malformed.
int64_t UnixSeconds(std::string_view rfc3339);

}  // namespace berth::image
