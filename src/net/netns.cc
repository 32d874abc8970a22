#include "net/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

#include "util/log.h"

namespace berth::net {
namespace {

// Serializes EnsureNetnsDir inside the process, so two first creates do not stack two bind
// mounts on the directory.
std::mutex& DirMutex() {
  static std::mutex m;
  return m;
}

// Runs body on a new thread and waits: the namespace changes it makes die with it.
Result<void> OnFreshThread(const std::function<Result<void>()>& body) {
  Result<void> out = Error::Internal("netns thread did not run");
  std::thread t([&] {
    try {
      out = body();
    } catch (const std::exception& e) {
      out = Error::Internal(std::string("netns thread: ") + e.what());
    } catch (...) {
      out = Error::Internal("netns thread: unknown exception");
    }
  });
  t.join();
  return out;
}

Result<void> BringLoopbackUp() {
  Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::FromErrno(errno, "socket");
  struct ifreq ifr {};
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0) return Error::FromErrno(errno, "get flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0) return Error::FromErrno(errno, "bring lo up");
  return {};
}

}  // namespace

Result<void> EnsureNetnsDir(const std::string& dir) {
  std::lock_guard lock(DirMutex());
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error::FromErrno(ec.value(), "create netns dir " + dir);
  // As iproute2's netns_add: make the dir shared; if it is not a mount point yet (EINVAL),
  // bind it onto itself first.
  if (mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) == 0) return {};
  if (errno != EINVAL) return Error::FromErrno(errno, "make " + dir + " shared");
  if (mount(dir.c_str(), dir.c_str(), "none", MS_BIND | MS_REC, nullptr) < 0) {
    return Error::FromErrno(errno, "bind mount " + dir + " onto itself");
  }
  if (mount("", dir.c_str(), "none", MS_SHARED | MS_REC, nullptr) < 0) {
    return Error::FromErrno(errno, "make " + dir + " shared");
  }
  return {};
}

Result<void> CreateNetns(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) return Error::InvalidArgument("netns path " + path + " has no directory");
  BERTH_TRY(EnsureNetnsDir(dir));
  {
    int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) return Error::FromErrno(errno, "create netns file " + path);
    close(fd);
  }
  Result<void> made = OnFreshThread([&]() -> Result<void> {
    if (unshare(CLONE_NEWNET) < 0) return Error::FromErrno(errno, "unshare(CLONE_NEWNET)");
    if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) < 0) {
      return Error::FromErrno(errno, "bind mount the new netns onto " + path);
    }
    Result<void> lo = BringLoopbackUp();
    if (!lo) {
      umount2(path.c_str(), MNT_DETACH);
      return std::move(lo).error();
    }
    return {};
  });
  if (!made) {
    unlink(path.c_str());
    return std::move(made).error().Wrap("create netns " + path);
  }
  return {};
}

Result<void> DeleteNetns(const std::string& path) {
  if (umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
    return Error::FromErrno(errno, "unmount netns " + path);
  }
  if (unlink(path.c_str()) < 0 && errno != ENOENT) {
    return Error::FromErrno(errno, "remove netns file " + path);
  }
  return {};
}

Result<Fd> OpenNetns(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::FromErrno(errno, "open netns " + path);
  return Fd(fd);
}

Result<void> RunInNetns(const std::string& path, const std::function<Result<void>()>& fn) {
  Fd ns = BERTH_TRY(OpenNetns(path));
  return OnFreshThread([&]() -> Result<void> {
    if (setns(ns.get(), CLONE_NEWNET) < 0) {
      return Error::FromErrno(errno, "setns into " + path);
    }
    return fn();
  });
}

}  // namespace berth::net
