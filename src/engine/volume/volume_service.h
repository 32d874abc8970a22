#pragma once

// Volumes: Docker's "local" volume driver. On disk, under the volumes root
// (store::Layout::VolumesRoot(), /var/lib/berth/volumes):
//
//   <root>/
//     <name>/
//       _data/            the volume's contents: the mount source of every container using it
//       volume.json       {"Name","Driver","Labels","Options","CreatedAt","Anonymous"},
//                         replaced atomically (temp file, fsync, rename)
//     .removing-<name>-<n>/   a volume being deleted (renamed first, so a crash never leaves
//                             half a volume); Load() finishes the job
//
// Lifecycle: Create → (Mount/Unmount by containers, CopyUp at first mount) → Remove or Prune.
//
//   VolumeService volumes(layout.VolumesRoot());
//   BERTH_TRY(volumes.Load());
//   volumes.SetUsers([&](const std::string& v) { return containers.UsersOfVolume(v); });
//   auto v = BERTH_TRY(volumes.Create("data", {}, {}));   // exists already: that one
//   std::string src = BERTH_TRY(volumes.Mount("data", container_id));   // bind source
//
// Errors carry Docker's messages and codes (the API maps them to statuses): NotFound
// "get NAME: no such volume", Conflict "remove NAME: volume is in use - [ID, ...]",
// InvalidArgument for names and driver options. Thread-safe: one mutex guards the table;
// the users and event callbacks are called without it held, so they may call back in.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::engine {

/// The label Docker (23+) puts on a container's anonymous volumes; `docker volume prune`
/// without --all removes only volumes that have it.
inline constexpr std::string_view kAnonymousVolumeLabel = "com.docker.volume.anonymous";

/// Docker's volume (api/types/volume.Volume), without UsageData.
struct Volume {
  std::string name;
  std::string driver = "local";
  std::string mountpoint;  // <root>/<name>/_data
  std::string created_at;  // RFC 3339, UTC, seconds ("2026-12-01T10:00:00Z")
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;  // the driver options it was created with
  std::string scope = "local";
  bool anonymous = false;  // created for a container's anonymous volume (labels say so too)
};

/// GET /volumes filters. Each list, when not empty, must match.
struct VolumeFilters {
  std::vector<std::string> names;    // a substring of the name; any one matches
  std::vector<std::string> labels;   // "key" or "key=value"; all must match
  std::optional<bool> dangling;      // true: used by no container; false: used by one
  std::vector<std::string> drivers;  // any one matches
};

struct PruneReport {
  std::vector<std::string> deleted;  // names, in the order removed
  int64_t space_reclaimed = 0;       // bytes, as Size() counted them
};

class VolumeService {
 public:
  /// Container ids that use a volume (from the container service).
  using UsersFn = std::function<std::vector<std::string>(const std::string& volume)>;
  /// Called after a volume is created ("create") or removed ("destroy").
  using EventSink = std::function<void(std::string_view action, const std::string& name)>;

  explicit VolumeService(std::string volumes_root);

  /// Creates the root (mode 0701) and reads every volume in it; finishes removals a crash
  /// interrupted. A volume directory without a readable volume.json is kept as a plain
  /// local volume (its data is never dropped).
  Result<void> Load();

  void SetUsers(UsersFn users);
  void SetEventSink(EventSink sink);

  /// Creates a volume, or returns the one of that name (Docker's behaviour; labels and
  /// options of the call are then ignored). name "": a random 64-hex name. anonymous: a
  /// container's anonymous volume (labelled kAnonymousVolumeLabel). driver: only "local"
  /// (else NotFound "error looking up volume plugin D: plugin \"D\" not found").
  /// driver_opts (Docker's local driver): type, device, o; "type" needs "device" and the
  /// reverse, "o" needs both ("missing required option: \"device\""). Supported mounts:
  /// type=tmpfs (o: size=..., mode=..., uid=..., nosuid, ...) and a bind (o=bind or rbind,
  /// device an absolute directory); other types are NotImplemented; "size" (quota) is
  /// InvalidArgument "quota size requested but no quota support"; other keys
  /// "invalid option key: \"K\"".
  Result<Volume> Create(std::string name, std::map<std::string, std::string> labels,
                        std::map<std::string, std::string> driver_opts, bool anonymous = false,
                        const std::string& driver = "local");
  Result<Volume> Get(const std::string& name) const;
  /// Sorted by name.
  Result<std::vector<Volume>> List(const VolumeFilters& filters = {}) const;
  /// Fails with Conflict while a container uses it (force does not change that, as Docker);
  /// force: a missing volume is no error.
  Result<void> Remove(const std::string& name, bool force = false);
  /// Removes the volumes no container uses that match labels ("key", "key=value": all must
  /// match) and match none of not_labels. all false: only anonymous volumes (API 1.42+;
  /// older clients mean all = true).
  Result<PruneReport> Prune(const std::vector<std::string>& labels, bool all,
                            const std::vector<std::string>& not_labels = {});
  /// Bytes in _data: the sizes of its files, directories not counted, a hard-linked file
  /// once (Docker's directory.Size).
  Result<int64_t> Size(const std::string& name) const;

  /// The directory to bind into a container for volume name, mounting the driver options'
  /// tmpfs or bind on _data when the first user (ref, a container id) comes. Plain volumes
  /// need no mount: their _data is returned. Unmount when the container stops; the last
  /// user's Unmount unmounts. Mounts found already there (a restarted berthd) are reused.
  Result<std::string> Mount(const std::string& name, const std::string& ref);
  Result<void> Unmount(const std::string& name, const std::string& ref);

  /// Docker's copy-up: when a container first mounts an empty volume on a directory of its
  /// image, the image's files there are copied in (modes, owners, times, symlinks, hard
  /// links, devices, xattrs), and _data takes the directory's owner and mode. A volume that
  /// is not empty is left as it is. Nothing outside src_dir is read: symlinks are copied as
  /// links, never followed. REQUIRES: src_dir resolved inside the container's rootfs by the
  /// caller (openat2 RESOLVE_IN_ROOT): use the fd form for that.
  Result<void> CopyUp(const std::string& name, const std::string& src_dir);
  Result<void> CopyUp(const std::string& name, int src_dir_fd);

  /// Docker's rule for local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (two characters at
  /// least). InvalidArgument "create NAME: \"NAME\" includes invalid characters for a local
  /// volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a
  /// host directory, use absolute path".
  static Result<void> ValidateName(const std::string& name);

  const std::string& root() const { return root_; }

 private:
  struct Entry {
    Volume volume;
    std::set<std::string> mount_refs;
    bool mounted_by_us = false;
  };
  std::string DataDir(const std::string& name) const;
  Result<void> RemoveLocked(const std::string& name);  // REQUIRES: mu_ held
  void Emit(std::string_view action, const std::string& name) const;
  std::vector<std::string> UsersOf(const std::string& name) const;

  const std::string root_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> volumes_;  // guarded by mu_
  UsersFn users_;                         // set before use; read without mu_
  EventSink sink_;
};

}  // namespace berth::engine
