#include "engine/build/container_step_runner.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "image/image_commit.h"
#include "util/log.h"

namespace berth::engine::build {
namespace {

std::string Joined(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

/// Removes the container unless Release()d.
struct RemoveGuard {
  ContainerService* containers;
  std::string id;
  bool armed = true;
  ~RemoveGuard() {
    if (!armed) return;
    if (auto r = containers->Remove(id, true, true); !r)
      log::Get("build").Warn("remove build container {}: {}", id, r.error().message());
  }
};

}  // namespace

Result<void> CopyMultiplexed(int fd, const std::function<void(std::string_view)>& output) {
  std::string buf;
  char chunk[32 * 1024];
  bool raw = false;
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "read the build container's output");
    if (n == 0) break;
    if (raw) {
      if (output) output(std::string_view(chunk, static_cast<size_t>(n)));
      continue;
    }
    buf.append(chunk, static_cast<size_t>(n));
    size_t pos = 0;
    while (buf.size() - pos >= 8) {
      auto b = reinterpret_cast<const unsigned char*>(buf.data() + pos);
      if (b[0] > 2 || b[1] != 0 || b[2] != 0 || b[3] != 0) {
        raw = true;
        break;
      }
      size_t len = (size_t{b[4]} << 24) | (size_t{b[5]} << 16) | (size_t{b[6]} << 8) | b[7];
      if (buf.size() - pos - 8 < len) break;
      if (output && len > 0) output(std::string_view(buf.data() + pos + 8, len));
      pos += 8 + len;
    }
    if (raw) {
      if (output) output(std::string_view(buf).substr(pos));
      buf.clear();
      continue;
    }
    buf.erase(0, pos);
  }
  if (!buf.empty() && output) output(buf);
  return {};
}

Result<oci::Digest> ContainerStepRunner::RunAndCommit(const Run& r,
                                                      const oci::ContainerConfig& new_config,
                                                      const std::string& created_by,
                                                      std::string* removed_container) {
  if (removed_container) removed_container->clear();
  if (r.image_id.empty())
    return Error::InvalidArgument("The command '" + Joined(r.args) +
                                  "' cannot run on an empty image (FROM scratch)");
  CreateRequest req;
  req.config.image = r.image_id;
  req.config.cmd = r.args;
  req.config.cmd_set = true;
  req.config.entrypoint = {""};  // the image's entrypoint does not wrap a RUN
  req.config.entrypoint_set = true;
  req.config.env = r.env;
  req.config.user = r.user;
  req.config.working_dir = r.working_dir;
  req.config.attach_stdout = req.config.attach_stderr = true;
  req.config.labels = new_config.labels;
  req.host_config.network_mode = r.network_mode;
  std::vector<std::string> warnings;
  std::string id = BERTH_TRY(containers_->Create(std::move(req), &warnings));
  RemoveGuard guard{containers_, id};
  if (r.started) r.started(std::string_view(id).substr(0, 12));

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return Error::FromErrno(errno, "socketpair for the build container's output");
  Fd ours(sv[0]), theirs(sv[1]);
  {
    auto handing = BERTH_TRY(containers_->BeginAttach(id));
    monitor::AttachRequest attach;
    attach.stdin = false;
    BERTH_TRY(containers_->Attach(id, attach, std::move(theirs)));
  }
  BERTH_TRY(containers_->Start(id));
  BERTH_TRY(CopyMultiplexed(ours.get(), r.output));
  int code = BERTH_TRY(containers_->Wait(id, "not-running"));
  if (code != 0) {
    guard.armed = r.force_remove;  // Docker keeps a failed step's container without --force-rm
    if (guard.armed && removed_container) *removed_container = id.substr(0, 12);
    return Error::Internal("The command '" + Joined(r.args) +
                           "' returned a non-zero code: " + std::to_string(code));
  }
  Container c = BERTH_TRY(containers_->Get(id));
  image::CommitOptions o;
  o.parent = BERTH_TRY(oci::Digest::Parse(r.image_id));
  o.upper_dir = c.upper_dir;
  o.config = new_config;
  o.container_config = new_config;
  o.exact_config = true;
  o.created_by = created_by;
  oci::Digest image = BERTH_TRY(images_->Commit(o));
  guard.armed = r.remove;
  if (guard.armed && removed_container) *removed_container = id.substr(0, 12);
  return image;
}

}  // namespace berth::engine::build
