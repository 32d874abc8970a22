#include "engine/fs/trash.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/file.h"
#include "util/log.h"

namespace berth::engine::fs {
namespace {

const auto& logger = log::Get("engine");

}  // namespace

Trash::Trash(std::string dir) : dir_(std::move(dir)) {
  if (auto made = MkdirAll(dir_, 0700); !made)
    logger.Warn("trash {}: {}", dir_, made.error().message());
  if (auto left = ListDir(dir_); left)
    for (auto& name : *left) queue_.push_back(std::move(name));
  thread_ = std::thread([this] { Run(); });
}

Trash::~Trash() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<void> Trash::Discard(const std::string& path) {
  std::string name;
  {
    std::lock_guard lock(mu_);
    // Unique within this process; the pid keeps names from an earlier run apart.
    name = std::to_string(::getpid()) + "-" + std::to_string(next_++);
  }
  std::string target = JoinPath(dir_, name);
  if (::rename(path.c_str(), target.c_str()) < 0) {
    if (errno == ENOENT) return {};
    logger.Debug("trash: rename {}: {}; removing in place", path, std::strerror(errno));
    return RemoveAll(path);
  }
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(name));
  }
  cv_.notify_all();
  return {};
}

void Trash::Drain() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || stopping_; });
}

void Trash::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::string name = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    if (auto r = RemoveAll(JoinPath(dir_, name)); !r)
      logger.Warn("trash: remove {}: {}", name, r.error().message());
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace berth::engine::fs
