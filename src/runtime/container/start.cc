#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/container/runtime.h"
#include "runtime/hooks/hooks.h"
#include "util/file.h"
#include "util/log.h"

namespace berth::runtime {

Result<void> Runtime::Start(const std::string& id) {
  ContainerInfo info = BERTH_TRY(Load(id));
  switch (info.status) {
    case container::Status::kCreated:
      break;
    case container::Status::kStopped:
      return Error::FailedPrecondition("cannot start a container that has stopped");
    default:
      return Error::FailedPrecondition("cannot start an already running container");
  }
  std::string fifo = JoinPath(container::StateDir(options_.root, id), "exec.fifo");
  // The init holds the fifo open for reading, so this open never blocks; ENXIO means it died.
  int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO || errno == ENOENT)
      return Error::FailedPrecondition("cannot start a container that has stopped");
    return Error::FromErrno(errno, "open " + fifo);
  }
  Fd guard(fd);
  char b = '0';
  if (::write(fd, &b, 1) != 1) return Error::FromErrno(errno, "start container " + id);
  ::unlink(fifo.c_str());

  auto spec = SavedSpec(id);
  if (spec && spec->hooks && !spec->hooks->poststart.empty()) {
    info.status = container::Status::kRunning;
    std::string state = container::StateJson(info.record, info.status, false);
    for (const auto& e : hooks::RunAll("poststart", spec->hooks->poststart, state))
      log::Get("runtime").Warn({{"id", id}}, "{}", e.message());
  }
  return {};
}

}  // namespace berth::runtime
