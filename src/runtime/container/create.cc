#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "runtime/cgroups/favordynmods.h"
#include "runtime/console/console.h"
#include "runtime/container/runtime.h"
#include "runtime/container/runtime_internal.h"
#include "runtime/hooks/hooks.h"
#include "runtime/namespaces/namespaces.h"
#include "runtime/process/clone.h"
#include "runtime/process/init.h"
#include "runtime/process/sync.h"
#include "util/file.h"
#include "util/log.h"
#include "util/scope_exit.h"
#include "util/time.h"

namespace berth::runtime {
namespace {

const auto& logger = log::Get("runtime");

Result<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return Error::FromErrno(errno, "resolve " + path);
  return std::string(buf);
}

// The devices every container may use, whatever its rules say (after them, as runc adds its
// allowed devices): null, zero, full, random, urandom, tty, console, ptmx and the pty slaves,
// mknod of any device, and the config's own linux.devices.
oci::Resources WithDefaultDevices(oci::Resources res, const std::vector<oci::Device>& devices) {
  if (res.devices.empty()) return res;
  const size_t own = res.devices.size();
  auto rule = [](std::string type, std::optional<int64_t> major, std::optional<int64_t> minor,
                 std::string access) {
    oci::DeviceRule r;
    r.allow = true;
    r.type = std::move(type);
    r.major = major;
    r.minor = minor;
    r.access = std::move(access);
    return r;
  };
  res.devices.push_back(rule("c", std::nullopt, std::nullopt, "m"));
  res.devices.push_back(rule("b", std::nullopt, std::nullopt, "m"));
  for (auto [maj, min] : std::initializer_list<std::pair<int, int>>{
           {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}})
    res.devices.push_back(rule("c", maj, min, "rwm"));
  res.devices.push_back(rule("c", 136, std::nullopt, "rwm"));
  for (const auto& d : devices) {
    if (d.type == "p") continue;
    std::string type = d.type == "b" ? "b" : "c";
    // A rule of the config's own for this very node sets its access (docker run
    // --device /dev/x:/dev/x:r): an rwm added after it would widen it.
    bool ruled = std::any_of(res.devices.begin(), res.devices.begin() + own, [&](const auto& r) {
      return r.type == type && r.major == d.major && r.minor == d.minor;
    });
    if (!ruled) res.devices.push_back(rule(type, d.major, d.minor, "rwm"));
  }
  return res;
}

std::string MapText(const std::vector<oci::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps)
    out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
           std::to_string(m.size) + "\n";
  return out;
}

}  // namespace

Result<void> CheckSecurityModules(const oci::Process& p) {
  if (!p.apparmor_profile.empty()) {
    auto enabled = ReadFile("/sys/module/apparmor/parameters/enabled", 64);
    if (!enabled || Trim(*enabled) != "Y")
      return Error::NotImplemented("apparmor profile \"" + p.apparmor_profile +
                                   "\" requested, but AppArmor is not enabled on this host");
    return Error::NotImplemented("apparmor profile \"" + p.apparmor_profile +
                                 "\": AppArmor profiles are not supported by berth-runtime yet");
  }
  if (!p.selinux_label.empty()) {
    if (!PathExists("/sys/fs/selinux/enforce"))
      return Error::NotImplemented("selinux label \"" + p.selinux_label +
                                   "\" requested, but SELinux is not enabled on this host");
    return Error::NotImplemented("selinux label \"" + p.selinux_label +
                                 "\": SELinux labels are not supported by berth-runtime yet");
  }
  return {};
}

Result<void> WriteIdMaps(pid_t pid, const oci::Linux& linux) {
  std::string base = "/proc/" + std::to_string(pid);
  if (linux.uid_mappings.empty() || linux.gid_mappings.empty())
    return Error::InvalidArgument("user namespace requires linux.uidMappings and gidMappings");
  BERTH_TRY_CTX(WriteFile(base + "/uid_map", MapText(linux.uid_mappings)), "write uid_map");
  BERTH_TRY_CTX(WriteFile(base + "/gid_map", MapText(linux.gid_mappings)), "write gid_map");
  return {};
}

Result<NamespacePlan> PlanNamespaces(const oci::Linux& linux) {
  NamespacePlan plan;
  uint64_t fresh = 0;
  // The user namespace is joined first: it owns the others.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& ns : linux.namespaces) {
      bool is_user = ns.type == "user";
      if ((pass == 0) != is_user) continue;
      int flag = namespaces::CloneFlag(ns.type);
      if (flag == CLONE_NEWUTS) plan.private_uts = true;
      if (ns.path.empty()) {
        if (flag == CLONE_NEWTIME)
          plan.new_time = true;
        else
          fresh |= static_cast<uint64_t>(flag);
        continue;
      }
      Fd fd = BERTH_TRY_CTX(Fd::Open(ns.path, O_RDONLY), "open " + ns.type + " namespace");
      if (flag == CLONE_NEWPID) plan.joins_pid = true;
      plan.joins.emplace_back(std::move(fd), flag);
    }
  }
  plan.new_user = fresh & CLONE_NEWUSER;
  plan.new_mount = fresh & CLONE_NEWNS;
  plan.new_net = fresh & CLONE_NEWNET;
  plan.new_uts = fresh & CLONE_NEWUTS;
  plan.new_cgroup = fresh & CLONE_NEWCGROUP;
  plan.new_pid = fresh & CLONE_NEWPID;
  if (plan.joins.empty()) {
    plan.clone_flags = fresh;
  } else {
    plan.unshare_flags = static_cast<int>(fresh);
    plan.fork_after = plan.new_pid || plan.joins_pid;
  }
  return plan;
}

Result<Created> Runtime::Create(const CreateOptions& o) {
  BERTH_TRY(container::ValidateId(o.id));
  if (options_.systemd_cgroup) return cgroups::SystemdUnavailable();
  std::string bundle = BERTH_TRY_CTX(RealPath(o.bundle.empty() ? "." : o.bundle), "bundle");
  std::string config_text =
      BERTH_TRY(ReadFile(JoinPath(bundle, "config.json"), oci::kMaxConfigBytes + 1));
  oci::Spec spec = BERTH_TRY_CTX(oci::ParseSpec(config_text), "config.json");
  if (!spec.process) return Error::InvalidArgument("config.json: process must be set");
  if (!spec.root || spec.root->path.empty())
    return Error::InvalidArgument("config.json: root.path must be set");
  if (!spec.linux) spec.linux.emplace();
  const oci::Linux& linux = *spec.linux;
  BERTH_TRY(CheckSecurityModules(*spec.process));
  if (linux.has_intel_rdt && !PathExists("/sys/fs/resctrl/schemata"))
    return Error::NotImplemented("linux.intelRdt: resctrl is not mounted on this host");
  std::string root_path =
      spec.root->path[0] == '/' ? spec.root->path : JoinPath(bundle, spec.root->path);
  std::string rootfs = BERTH_TRY_CTX(RealPath(root_path), "rootfs");
  struct stat st;
  if (::stat(rootfs.c_str(), &st) < 0 || !S_ISDIR(st.st_mode))
    return Error::InvalidArgument("rootfs " + rootfs + ": not a directory");

  NamespacePlan ns = BERTH_TRY(PlanNamespaces(linux));
  if (!ns.new_mount && !linux.FindNamespace("mount"))
    return Error::InvalidArgument("config.json: a mount namespace is required");
  if (ns.new_user)
    BERTH_TRY(
        linux.uid_mappings.empty() || linux.gid_mappings.empty()
            ? Result<void>(Error::InvalidArgument("user namespace requires linux.uidMappings and "
                                                  "gidMappings"))
            : Result<void>());

  // Everything the container init needs is computed here, before clone3.
  process::InitConfig init;
  init.spec = &spec;
  init.process = &*spec.process;
  if (spec.process->capabilities) init.caps = BERTH_TRY(caps::Parse(*spec.process->capabilities));
  if (linux.seccomp)
    init.seccomp =
        BERTH_TRY_CTX(seccomp::CompileCached(*linux.seccomp, SeccompCacheDir()), "seccomp");

  BERTH_TRY(MkdirAll(options_.root, 0700));
  std::string dir = container::StateDir(options_.root, o.id);
  if (::mkdir(dir.c_str(), 0700) < 0) {
    if (errno == EEXIST) return Error::AlreadyExists("container with id exists: " + o.id);
    return Error::FromErrno(errno, "create state directory " + dir);
  }
  std::unique_ptr<cgroups::CgroupManager> cgroup;
  pid_t child_pid = 0;
  auto undo = ScopeExit([&] {
    if (child_pid > 0) {
      ::kill(child_pid, SIGKILL);
      ::waitpid(child_pid, nullptr, 0);
    }
    if (cgroup) (void)cgroup->Destroy();
    (void)RemoveAll(dir);
  });
  BERTH_TRY(WriteFile(JoinPath(dir, "config.json"), config_text, 0600));

  container::ContainerRecord rec;
  rec.id = o.id;
  rec.bundle = bundle;
  rec.rootfs = rootfs;
  rec.created = NowRfc3339();
  rec.owner = "";
  rec.annotations = spec.annotations;
  rec.cgroup_path = linux.cgroups_path.empty() ? DefaultCgroupPath(o.id) : linux.cgroups_path;

  const cgroups::Layout* layout = BERTH_TRY(Layout());
  if (options_.favor_dynmods) {
    auto changed = cgroups::EnableFavorDynmods(*layout);
    if (!changed)
      logger.Debug("favordynmods left off: {}", changed.error().message());
    else if (*changed)
      logger.Info("enabled the favordynmods cgroup option: faster cgroup moves host-wide");
  }
  cgroup = BERTH_TRY(cgroups::NewManager(*layout, rec.cgroup_path));
  BERTH_TRY_CTX(cgroup->Create(), "create cgroup " + rec.cgroup_path);
  if (linux.resources)
    BERTH_TRY_CTX(cgroup->Apply(WithDefaultDevices(*linux.resources, linux.devices)),
                  "apply cgroup " + rec.cgroup_path);

  std::string fifo = JoinPath(dir, "exec.fifo");
  if (::mkfifo(fifo.c_str(), 0622) < 0) return Error::FromErrno(errno, "mkfifo " + fifo);
  Fd fifo_fd = BERTH_TRY(Fd::Open(fifo, O_RDWR));

  ConsoleEnds console =
      BERTH_TRY(OpenConsole(spec.process->terminal, o.console_socket, o.own_console));
  Fd& console_socket = console.socket;
  Fd& console_peer = console.peer;
  process::SyncPair sync = BERTH_TRY(process::SyncPair::Make());

  init.rootfs.rootfs = rootfs;
  init.rootfs.bundle = bundle;
  init.rootfs.no_pivot = o.no_pivot;
  init.rootfs.in_user_ns = ns.new_user || linux.FindNamespace("user");
  init.rootfs.new_net_ns = ns.new_net;
  init.rootfs.new_cgroup_ns = ns.new_cgroup;
  init.rootfs.cgroup_paths = cgroup->Paths();
  init.sync_fd = sync.child.get();
  init.fifo_fd = fifo_fd.get();
  init.console_fd = console_socket.get();
  init.preserve_fds = o.preserve_fds;
  init.new_user_ns = ns.new_user;
  init.new_time_ns = ns.new_time;
  init.private_uts_ns = ns.private_uts;
  init.no_new_keyring = o.no_new_keyring;
  for (const auto& [fd, type] : ns.joins) init.join.emplace_back(fd.get(), type);
  init.unshare_flags = ns.unshare_flags;
  init.fork_after_unshare = ns.fork_after;

  process::Cloned child = BERTH_TRY(process::Clone3(ns.clone_flags, true));
  if (child.pid == 0) {
    sync.parent.Reset();
    console_peer.Reset();
    process::RunInit(init);
  }
  child_pid = child.pid;
  sync.child.Reset();
  console_socket.Reset();
  Fd pidfd = std::move(child.pidfd);
  int sfd = sync.parent.get();

  if (ns.new_user && ns.clone_flags) BERTH_TRY(WriteIdMaps(child_pid, linux));
  BERTH_TRY_CTX(cgroup->AddProcess(child_pid), "join cgroup " + rec.cgroup_path);
  BERTH_TRY(process::SyncSend(sfd, process::SyncType::kContinue));
  pid_t init_pid = child_pid;
  for (bool ready = false; !ready;) {
    process::SyncMessage m = BERTH_TRY(process::SyncRecvChecked(sfd));
    switch (m.type) {
      case process::SyncType::kMaps:
        BERTH_TRY(WriteIdMaps(child_pid, linux));
        BERTH_TRY(process::SyncSend(sfd, process::SyncType::kContinue));
        break;
      case process::SyncType::kPid: {
        // The two-stage path: the intermediate forked the real init and exits.
        init_pid = static_cast<pid_t>(std::strtol(m.payload.c_str(), nullptr, 10));
        ::waitpid(child_pid, nullptr, 0);
        child_pid = init_pid;
        int fd = static_cast<int>(::syscall(SYS_pidfd_open, init_pid, 0));
        if (fd < 0) return Error::FromErrno(errno, "pidfd_open");
        pidfd = Fd(fd);
        BERTH_TRY(process::SyncSend(sfd, process::SyncType::kContinue));
        break;
      }
      case process::SyncType::kRunHooks: {
        rec.pid = init_pid;
        std::string state = container::StateJson(rec, container::Status::kCreating, false);
        if (spec.hooks) {
          BERTH_TRY(hooks::Run("prestart", spec.hooks->prestart, state));
          BERTH_TRY(hooks::Run("createRuntime", spec.hooks->create_runtime, state));
        }
        BERTH_TRY(process::SyncSend(sfd, process::SyncType::kContinue, state));
        break;
      }
      case process::SyncType::kReady:
        ready = true;
        break;
      default:
        return Error::Internal("container init sent an unexpected message");
    }
  }

  rec.pid = init_pid;
  rec.start_time = container::ProcessStartTime(init_pid);
  BERTH_TRY(container::SaveRecord(dir, rec));
  if (!o.pid_file.empty())
    BERTH_TRY_CTX(WriteFileAtomic(o.pid_file, std::to_string(init_pid)), "write pid file");
  Created created;
  created.pid = init_pid;
  created.pidfd = std::move(pidfd);
  if (console_peer) created.console = BERTH_TRY(console::RecvFd(console_peer.get()));
  undo.Cancel();
  logger.Debug({{"id", o.id}}, "created, init pid {}", init_pid);
  return created;
}

}  // namespace berth::runtime
