// Capability names, the kernel's highest capability and Parse().

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "runtime/caps/caps.h"
#include "util/log.h"

namespace berth::runtime::caps {
namespace {

// linux/capability.h, in number order.
constexpr std::string_view kNames[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr int kTableLast = static_cast<int>(std::size(kNames)) - 1;

std::atomic<int> g_last_cap{-1};

// /proc/sys/kernel/cap_last_cap, read without allocating so it is safe after clone.
int ReadLastCap() {
  int fd = ::open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[16];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    ::close(fd);
    int v = 0;
    bool digits = false;
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
      v = v * 10 + (buf[i] - '0');
      digits = true;
    }
    if (digits && v < 64) return v;
  }
  // No /proc: probe the bounding set as libcap does; EINVAL marks the first unknown number.
  int cap = 0;
  while (cap < 63 && ::prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0) ++cap;
  return cap;
}

bool WellFormed(std::string_view name) {
  if (name.size() <= 4 || name.substr(0, 4) != "CAP_") return false;
  for (char c : name.substr(4))
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

Result<uint64_t> ParseSet(const std::vector<std::string>& names, std::string_view set) {
  uint64_t bits = 0;
  int last = LastCap();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (!WellFormed(name))
      return Error::InvalidArgument("process.capabilities." + std::string(set) + "[" +
                                    std::to_string(i) + "]: malformed capability name \"" + name +
                                    "\"");
    int cap = FromName(name);
    if (cap < 0 || cap > last) {
      log::Get("runtime").Warn({{"capability", name}, {"set", set}}, "unknown capability skipped");
      continue;
    }
    bits |= uint64_t{1} << cap;
  }
  return bits;
}

}  // namespace

int FromName(std::string_view name) {
  for (int i = 0; i <= kTableLast; ++i)
    if (kNames[i] == name) return i;
  return -1;
}

std::string_view Name(int cap) { return cap >= 0 && cap <= kTableLast ? kNames[cap] : ""; }

int LastCap() {
  int v = g_last_cap.load(std::memory_order_relaxed);
  if (v < 0) {
    v = ReadLastCap();
    g_last_cap.store(v, std::memory_order_relaxed);
  }
  return v;
}

std::vector<std::string> KnownNames() {
  std::vector<std::string> out;
  int last = std::min(LastCap(), kTableLast);
  out.reserve(last + 1);
  for (int i = 0; i <= last; ++i) out.emplace_back(kNames[i]);
  return out;
}

Result<CapSets> Parse(const oci::Capabilities& caps) {
  CapSets s;
  s.bounding = BERTH_TRY(ParseSet(caps.bounding, "bounding"));
  s.effective = BERTH_TRY(ParseSet(caps.effective, "effective"));
  s.inheritable = BERTH_TRY(ParseSet(caps.inheritable, "inheritable"));
  s.permitted = BERTH_TRY(ParseSet(caps.permitted, "permitted"));
  s.ambient = BERTH_TRY(ParseSet(caps.ambient, "ambient"));
  // The kernel refuses to raise an ambient capability that is not both permitted and
  // inheritable (prctl(2) PR_CAP_AMBIENT_RAISE); runc warns and goes on, and so do we.
  if (uint64_t lost = s.ambient & ~(s.permitted & s.inheritable)) {
    for (int cap = 0; cap < 64; ++cap)
      if (lost & (uint64_t{1} << cap))
        log::Get("runtime").Debug({{"capability", Name(cap)}},
                                  "ambient capability not permitted and inheritable: skipped");
    s.ambient &= ~lost;
  }
  return s;
}

}  // namespace berth::runtime::caps
