#pragma once

// ContainerService: the containers of one daemon — their records, their writable layers, and
// their lifecycle through one monitor process each (engine/monitor). What the container
// routes of the Engine API ask for, with Docker's rules and messages.
//
//   <root>/containers/<id>/container.json   the record (Docker's Config, HostConfig, State…),
//                                           replaced atomically on every change
//   <root>/containers/<id>/{upper,work,merged}   the overlay: writable layer, work, rootfs
//   <root>/containers/<id>/config.json      the OCI spec of the current run (the bundle)
//   <root>/containers/<id>/<id>-json.log    the json-file log (and .1, .2 … when rotated)
//   <root>/containers/<id>/{hostname,hosts,resolv.conf}
//   <exec_root>/containers/<id>/            the monitor's socket, pid and exit files
//   <exec_root>/runtime/                    the runtime library's state root
//
// Thread safety: every method may be called from many threads.

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/container/config.h"
#include "engine/fs/trash.h"
#include "engine/monitor/monitor.h"
#include "engine/monitor/spawner.h"
#include "image/image_service.h"
#include "runtime/cgroups/manager.h"
#include "runtime/container/runtime.h"
#include "store/snapshot/overlay.h"
#include "util/fd.h"
#include "util/result.h"

namespace berth::engine {

class VolumeService;

/// Docker's MountPoint (inspect's "Mounts").
struct MountPoint {
  std::string type;  // bind, volume, tmpfs
  std::string name;  // volume name
  std::string source;
  std::string destination;
  std::string driver;  // "local" for volumes
  std::string mode;
  bool rw = true;
  std::string propagation;
  bool copy_up = false;  // a new volume that gets the image's files at the first start
  bool anonymous = false;
};

struct ContainerState {
  std::string status = "created";  // created running paused restarting removing exited dead
  bool running = false;
  bool paused = false;
  bool restarting = false;
  bool oom_killed = false;
  bool dead = false;
  int pid = 0;
  int exit_code = 0;
  std::string error;
  std::string started_at = "0001-01-01T00:00:00Z";
  std::string finished_at = "0001-01-01T00:00:00Z";
};

struct Container {
  std::string id;
  std::string name;  // without the leading '/'
  std::string created;
  std::string image_id;  // "sha256:…"
  CreateRequest request;
  ContainerState state;
  int restart_count = 0;
  bool manually_stopped = false;
  bool has_been_started = false;
  std::vector<MountPoint> mounts;
  std::vector<std::string> lower_dirs;  // the image's layers, top first
  std::string path;                     // the process, as inspect shows it
  std::vector<std::string> args;
  std::string log_path;
  std::string rootfs;  // <root>/containers/<id>/merged
  std::string upper_dir, work_dir;
  std::string hostname_path, hosts_path, resolv_conf_path;
  pid_t monitor_pid = 0;
};

struct ExecConfig {
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string user;
  std::string working_dir;
  bool tty = false;
  bool privileged = false;
  bool attach_stdin = false, attach_stdout = true, attach_stderr = true;
  std::string detach_keys;
  std::vector<int> console_size;  // [height, width]
};

struct ExecInfo {
  std::string id;
  std::string container_id;
  ExecConfig config;
  bool running = false;
  bool started = false;
  std::optional<int> exit_code;
  pid_t pid = 0;
};

/// What a container event carries ("create", "start", "die", ...).
using ContainerEventSink = std::function<void(std::string_view action, const Container& c,
                                              const std::map<std::string, std::string>& extra)>;

struct ContainerServiceOptions {
  std::string root;       // the daemon root (containers/ below it)
  std::string exec_root;  // /run/berth
  monitor::Spawner* spawner = nullptr;
  image::ImageService* images = nullptr;
  store::snapshot::OverlaySnapshotter* snapshots = nullptr;
  VolumeService* volumes = nullptr;
  std::string init_path;  // berth-init, for --init
};

struct PruneResult {
  std::vector<std::string> deleted;
  int64_t space_reclaimed = 0;
};

class ContainerService {
 public:
  explicit ContainerService(ContainerServiceOptions options);
  ~ContainerService();
  /// Wakes every waiter (they answer "the daemon is shutting down") and stops the exit
  /// watcher. The containers and their monitors keep running. Idempotent.
  void Shutdown();

  /// Loads the records, finds the monitors of running containers again (exits that happened
  /// while berthd was down are recorded), applies restart policies. Once, before serving.
  Result<void> Restore();

  void SetEventSink(ContainerEventSink sink) { events_ = std::move(sink); }

  /// NotFound "No such image: NAME" when the image is missing (the CLI then offers a pull).
  Result<std::string> Create(CreateRequest request, std::vector<std::string>* warnings);
  Result<void> Start(std::string_view name);
  /// False if it was not running (the API's 304).
  Result<bool> Stop(std::string_view name, std::optional<int> timeout, std::string signal = "");
  Result<void> Kill(std::string_view name, std::string signal);
  Result<void> Restart(std::string_view name, std::optional<int> timeout, std::string signal = "");
  Result<void> Pause(std::string_view name);
  Result<void> Unpause(std::string_view name);
  Result<void> Remove(std::string_view name, bool force, bool remove_volumes);
  /// condition: "not-running" (default), "next-exit", "removed". Blocks; the exit code.
  /// on_ready is called once waiting has begun (the route flushes its headers then).
  Result<int> Wait(std::string_view name, std::string_view condition,
                   const std::function<void()>& on_ready = {});
  Result<void> Rename(std::string_view name, std::string_view new_name);
  Result<void> Update(std::string_view name, const HostConfig& update, bool restart_policy_set,
                      std::vector<std::string>* warnings);
  Result<PruneResult> Prune(const std::map<std::string, std::vector<std::string>>& filters);

  Result<Container> Get(std::string_view name);
  std::vector<Container> List();
  /// The container ids that use an image (image delete checks) or a volume.
  std::vector<std::string> UsersOfImage(const std::string& image_id);
  std::vector<std::string> UsersOfVolume(const std::string& volume);

  /// Hands a hijacked client to the container: to its monitor if it runs, else kept until
  /// the next start (docker run attaches before it starts).
  Result<void> Attach(std::string_view name, const monitor::AttachRequest& request, Fd client);
  /// Called before the attach's response goes out: the client may send start as soon as it
  /// reads it, and a start waits (up to 5 s) until every attach announced so is handed over
  /// by Attach, so that no output is lost. The attach counts as handed over when the guard
  /// is destroyed.
  Result<std::shared_ptr<void>> BeginAttach(std::string_view name);
  Result<void> Resize(std::string_view name, uint32_t height, uint32_t width);

  Result<std::string> ExecCreate(std::string_view name, ExecConfig config);
  /// client: the hijacked connection, or none when detached.
  Result<void> ExecStart(const std::string& exec_id, bool detach, std::optional<bool> tty,
                         Fd client, std::string initial);
  Result<void> ExecResize(const std::string& exec_id, uint32_t height, uint32_t width);
  Result<ExecInfo> ExecInspect(const std::string& exec_id);
  /// The container's execs that are created or running, as inspect's ExecIDs (an exec that
  /// has exited is no longer the container's, as in Docker).
  std::vector<std::string> ExecIds(const std::string& container_id);

  Result<std::vector<pid_t>> Pids(std::string_view name);
  Result<runtime::cgroups::Stats> Stats(std::string_view name);
  /// The container's overlay mounted (it is while it runs; mounted on demand otherwise) for fn.
  Result<void> WithRootfs(std::string_view name,
                          const std::function<Result<void>(const Container&)>& fn);

 private:
  struct Entry {
    Container c;
    Fd report;  // the monitor's event socket while it runs
    uint64_t exits = 0;
    bool removed = false;
    bool busy = false;  // a start, stop or remove in progress
    std::vector<std::pair<monitor::AttachRequest, Fd>> pending_attaches;
    int attaching = 0;  // attaches answered (BeginAttach) but not yet handed to Attach
  };

  Result<std::string> ResolveLocked(std::string_view name);
  Result<void> Save(const Container& c);
  Result<void> StartLocked(std::unique_lock<std::mutex>& lock, Entry* e);
  Result<void> MountRootfs(const Container& c);
  Result<void> PrepareStart(Container& c);
  /// The namespaces a container:NAME mode joins (ipc, pid, network), as /proc/PID/ns paths.
  Result<std::map<std::string, std::string>> JoinedNamespaces(const Container& c);
  void Watch(const std::string& id, Fd report);
  void WatchLoop();
  void OnEvent(const std::string& id, const nlohmann::json& event);
  void OnExit(const std::string& id, int code, const std::string& finished_at, bool oom);
  void MaybeRestart(const std::string& id);
  Result<void> RemoveLocked(std::unique_lock<std::mutex>& lock, Entry* e, bool remove_volumes);
  std::string RunDir(const std::string& id) const;
  std::string ContainerDir(const std::string& id) const;
  Result<Fd> ConnectMonitor(const std::string& id);
  void Emit(std::string_view action, const Container& c,
            const std::map<std::string, std::string>& extra = {});
  std::string GenerateName();

  ContainerServiceOptions o_;
  runtime::Runtime rt_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Entry>> containers_;  // by id
  std::map<std::string, std::string> names_;                  // name → id
  std::map<std::string, ExecInfo> execs_;
  ContainerEventSink events_;
  Fd epoll_;
  Fd wake_;                             // eventfd: stops the watcher
  std::map<int, std::string> watched_;  // report fd → container id; GUARDED_BY(mu_)
  std::thread watcher_;
  bool stopping_ = false;
  // Removed containers' trees go here and are freed in the background: <root>/trash for
  // their records and layers, <exec_root>/trash for their run dirs (another filesystem).
  std::unique_ptr<fs::Trash> trash_;
  std::unique_ptr<fs::Trash> run_trash_;
};

}  // namespace berth::engine
