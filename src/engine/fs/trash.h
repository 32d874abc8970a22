#pragma once

// Removal of directory trees off the caller's path. Discard renames a tree into the trash
// directory (one rename: the tree is gone from its place at once) and a background thread
// removes it; what a crash or a shutdown leaves in the trash is removed by the next Trash on
// the same directory. `docker run --rm` waits for its container's removal: on this ext4 host
// each unlink of the container's dozen entries costs 30 µs when the disk is quiet and 2–5 ms
// while other work writes, so the removal itself must not be on that path.
//
//   fs::Trash trash(root + "/trash");
//   BERTH_TRY(trash.Discard(container_dir));  // gone from container_dir now, freed later

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "util/result.h"

namespace berth::engine::fs {

class Trash {
 public:
  /// dir must be on the same filesystem as the trees discarded into it (it is made if
  /// missing). Leftovers from an earlier run are queued for removal.
  explicit Trash(std::string dir);
  /// Stops the remover; what it has not removed yet stays for the next Trash on dir.
  ~Trash();
  Trash(const Trash&) = delete;
  Trash& operator=(const Trash&) = delete;

  /// Moves path into the trash and queues its removal. A missing path is not an error. When
  /// it cannot be renamed there (another filesystem), it is removed here and now.
  Result<void> Discard(const std::string& path);

  /// Blocks until everything queued so far is removed (tests).
  void Drain();

 private:
  void Run();

  std::string dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // names inside dir_
  bool busy_ = false;
  bool stopping_ = false;
  uint64_t next_ = 0;
  std::thread thread_;
};

}  // namespace berth::engine::fs
