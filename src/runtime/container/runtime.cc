#include "runtime/container/runtime.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "runtime/console/console.h"
#include "runtime/container/runtime_internal.h"
#include "util/file.h"

namespace berth::runtime {

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)) {}
Runtime::~Runtime() = default;

std::string DefaultCgroupPath(const std::string& id) { return "/berth/" + id; }

std::string SeccompCacheDir() { return "/run/berth-runtime-cache/seccomp"; }

bool WaitPidfd(int pidfd, int timeout_ms) {
  struct pollfd p = {pidfd, POLLIN, 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

Result<ConsoleEnds> OpenConsole(bool terminal, const std::string& socket_path, bool own_console) {
  ConsoleEnds ends;
  if (!terminal) return ends;
  if (!socket_path.empty()) {
    ends.socket = BERTH_TRY(console::ConnectSocket(socket_path));
  } else if (own_console) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
      return Error::FromErrno(errno, "socketpair");
    ends.socket = Fd(sv[0]);
    ends.peer = Fd(sv[1]);
  } else {
    return Error::InvalidArgument(
        "cannot allocate tty if berth-runtime will detach without setting console socket");
  }
  return ends;
}

int ParseSignal(std::string_view name) {
  static const struct {
    const char* name;
    int sig;
  } kSignals[] = {
      {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
      {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
      {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
      {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
      {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
      {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
      {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
      {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
      {"SYS", SIGSYS},
  };
  if (name.empty()) return 0;
  if (name[0] >= '0' && name[0] <= '9') {
    char* end = nullptr;
    std::string s(name);
    long v = std::strtol(s.c_str(), &end, 10);
    return (*end == 0 && v > 0 && v < 65) ? static_cast<int>(v) : 0;
  }
  std::string upper(name);
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string_view n = upper;
  if (n.substr(0, 3) == "SIG") n.remove_prefix(3);
  for (const auto& s : kSignals)
    if (n == s.name) return s.sig;
  return 0;
}

Result<const cgroups::Layout*> Runtime::Layout() {
  if (!layout_) layout_ = BERTH_TRY(cgroups::Detect());
  return &*layout_;
}

Result<std::unique_ptr<cgroups::CgroupManager>> Runtime::Cgroup(
    const container::ContainerRecord& rec) {
  const cgroups::Layout* layout = BERTH_TRY(Layout());
  return cgroups::NewManager(*layout, rec.cgroup_path);
}

Result<ContainerInfo> Runtime::Load(const std::string& id) {
  ContainerInfo info;
  info.record = BERTH_TRY(container::LoadRecord(options_.root, id));
  bool frozen = false;
  if (container::ProcessStartTime(info.record.pid) == info.record.start_time) {
    if (auto cg = Cgroup(info.record); cg) {
      auto fs = (*cg)->GetFreezerState();
      frozen = fs && *fs != cgroups::FreezerState::kThawed;
    }
  }
  info.status = container::ComputeStatus(options_.root, info.record, frozen);
  return info;
}

Result<ContainerInfo> Runtime::Info(const std::string& id) { return Load(id); }

Result<std::vector<ContainerInfo>> Runtime::List() {
  std::vector<ContainerInfo> out;
  if (!PathExists(options_.root)) return out;
  auto names = BERTH_TRY(ListDir(options_.root));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    if (!container::ValidateId(name)) continue;
    auto info = Load(name);
    if (info) out.push_back(std::move(info).value());
  }
  return out;
}

Result<oci::Spec> Runtime::SavedSpec(const std::string& id) {
  BERTH_TRY(container::ValidateId(id));
  std::string text = BERTH_TRY(ReadFile(
      JoinPath(container::StateDir(options_.root, id), "config.json"), oci::kMaxConfigBytes + 1));
  return oci::ParseSpec(text);
}

}  // namespace berth::runtime
