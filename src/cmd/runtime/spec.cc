// spec and features.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cmd/runtime/commands.h"
#include "runtime/caps/caps.h"
#include "runtime/seccomp/seccomp.h"
#include "util/file.h"

namespace berth::cmd {
namespace {

using nlohmann::ordered_json;

// A default config like runc's: busybox-friendly, a terminal, and limits that work on a host
// whose hard RLIMIT_NOFILE is low and where root lacks CAP_SYS_RESOURCE.
ordered_json DefaultSpec(bool rootless) {
  ordered_json caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  ordered_json spec = {
      {"ociVersion", std::string(oci::kOciVersion)},
      {"process",
       {{"terminal", true},
        {"user", {{"uid", 0}, {"gid", 0}}},
        {"args", {"sh"}},
        {"env",
         {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}},
        {"cwd", "/"},
        {"capabilities",
         {{"bounding", caps}, {"effective", caps}, {"permitted", caps}, {"ambient", caps}}},
        {"rlimits", {{{"type", "RLIMIT_NOFILE"}, {"hard", 1024}, {"soft", 1024}}}},
        {"noNewPrivileges", true}}},
      {"root", {{"path", "rootfs"}, {"readonly", true}}},
      {"hostname", "berth"},
      {"mounts",
       {{{"destination", "/proc"}, {"type", "proc"}, {"source", "proc"}},
        {{"destination", "/dev"},
         {"type", "tmpfs"},
         {"source", "tmpfs"},
         {"options", {"nosuid", "strictatime", "mode=755", "size=65536k"}}},
        {{"destination", "/dev/pts"},
         {"type", "devpts"},
         {"source", "devpts"},
         {"options", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}}},
        {{"destination", "/dev/shm"},
         {"type", "tmpfs"},
         {"source", "shm"},
         {"options", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}}},
        {{"destination", "/dev/mqueue"},
         {"type", "mqueue"},
         {"source", "mqueue"},
         {"options", {"nosuid", "noexec", "nodev"}}},
        {{"destination", "/sys"},
         {"type", "sysfs"},
         {"source", "sysfs"},
         {"options", {"nosuid", "noexec", "nodev", "ro"}}},
        {{"destination", "/sys/fs/cgroup"},
         {"type", "cgroup"},
         {"source", "cgroup"},
         {"options", {"nosuid", "noexec", "nodev", "relatime", "ro"}}}}},
      {"linux",
       {{"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"namespaces",
         {{{"type", "pid"}},
          {{"type", "network"}},
          {{"type", "ipc"}},
          {{"type", "uts"}},
          {{"type", "mount"}},
          {{"type", "cgroup"}}}},
        {"maskedPaths",
         {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
          "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
          "/proc/scsi"}},
        {"readonlyPaths",
         {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}}}}};
  if (rootless) {
    auto& linux = spec["linux"];
    linux.erase("resources");
    auto& ns = linux["namespaces"];
    ordered_json kept = ordered_json::array();
    for (auto& n : ns)
      if (n["type"] != "network" && n["type"] != "cgroup") kept.push_back(n);
    kept.push_back({{"type", "user"}});
    linux["namespaces"] = kept;
    linux["uidMappings"] = {{{"containerID", 0}, {"hostID", ::getuid()}, {"size", 1}}};
    linux["gidMappings"] = {{{"containerID", 0}, {"hostID", ::getgid()}, {"size", 1}}};
    auto& mounts = spec["mounts"];
    for (auto it = mounts.begin(); it != mounts.end();) {
      if ((*it)["destination"] == "/sys/fs/cgroup") {
        it = mounts.erase(it);
        continue;
      }
      if ((*it)["destination"] == "/sys") {
        *it = {{"destination", "/sys"},
               {"type", "none"},
               {"source", "/sys"},
               {"options", {"rbind", "nosuid", "noexec", "nodev", "ro"}}};
      }
      if ((*it)["destination"] == "/dev/pts") {
        (*it)["options"] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
      }
      ++it;
    }
  }
  return spec;
}

}  // namespace

Result<int> CmdSpec(const Context& c) {
  Flags f =
      BERTH_TRY(ParseFlags(*c.argv, c.start, {{"bundle", "b", true}, {"rootless", "", false}}));
  BERTH_TRY(NeedArgs(f, 0, "spec", "[command options]"));
  std::string path = JoinPath(f.Get("bundle", "."), "config.json");
  if (PathExists(path)) return Error::AlreadyExists("File " + path + " exists. Remove it first");
  BERTH_TRY(WriteFile(path, DefaultSpec(f.Bool("rootless")).dump(1, '\t') + "\n", 0666));
  return 0;
}

Result<int> CmdFeatures(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {}));
  BERTH_TRY(NeedArgs(f, 0, "features", ""));
  ordered_json j = {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.3.0"},
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions",
       {"async",
        "atime",
        "bind",
        "defaults",
        "dev",
        "diratime",
        "dirsync",
        "exec",
        "idmap",
        "mand",
        "noatime",
        "nodev",
        "nodiratime",
        "noexec",
        "nomand",
        "norelatime",
        "nostrictatime",
        "nosuid",
        "nosymfollow",
        "private",
        "ratime",
        "rbind",
        "rdev",
        "rdiratime",
        "relatime",
        "remount",
        "rexec",
        "rnoatime",
        "rnodev",
        "rnodiratime",
        "rnoexec",
        "rnorelatime",
        "rnostrictatime",
        "rnosuid",
        "rnosymfollow",
        "ro",
        "rprivate",
        "rrelatime",
        "rro",
        "rrw",
        "rshared",
        "rslave",
        "rstrictatime",
        "rsuid",
        "rsymfollow",
        "runbindable",
        "rw",
        "shared",
        "silent",
        "slave",
        "strictatime",
        "suid",
        "symfollow",
        "sync",
        "unbindable"}},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
        {"capabilities", runtime::caps::KnownNames()},
        {"cgroup",
         {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions", runtime::seccomp::SupportedActions()},
          {"operators", runtime::seccomp::SupportedOperators()},
          {"archs", runtime::seccomp::SupportedArchitectures()},
          {"knownFlags", runtime::seccomp::SupportedFlags()},
          {"supportedFlags", runtime::seccomp::SupportedFlags()}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}},
        {"intelRdt", {{"enabled", false}}},
        {"mountExtensions", {{"idmap", {{"enabled", true}}}}}}},
      {"annotations", {{"org.opencontainers.runtime-spec.features", "berth-runtime"}}}};
  std::string out = j.dump(4) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace berth::cmd
