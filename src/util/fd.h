#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "util/result.h"

namespace berth {

/// An owned file descriptor: move-only, closed by its destructor. Fds are opened O_CLOEXEC.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  /// Gives up ownership; the caller closes the returned fd.
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

  /// open(2) with O_CLOEXEC added.
  static Result<Fd> Open(const std::string& path, int flags, mode_t mode = 0);
  /// openat(2) relative to dir, with O_CLOEXEC added.
  static Result<Fd> OpenAt(int dir, const std::string& path, int flags, mode_t mode = 0);

 private:
  int fd_ = -1;
};

/// Writes all of data, retrying on EINTR and short writes.
Result<void> WriteAll(int fd, std::string_view data);
/// Reads until EOF, at most max_bytes (a larger input is an InvalidArgument error).
Result<std::string> ReadAll(int fd, size_t max_bytes = 64u << 20);

/// A pipe(2) pair, both ends O_CLOEXEC.
struct Pipe {
  Fd read;
  Fd write;
  static Result<Pipe> Make(int extra_flags = 0);
};

}  // namespace berth
