#pragma once

// Include only from .cc files that already include Boost.Beast/Asio (server.cc, client.cc).

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>

namespace berth::api::internal {

namespace net = boost::asio;
using boost::system::error_code;

// A blocking SyncReadStream/SyncWriteStream over a socket fd, so Beast needs no io_context.
class FdStream {
 public:
  explicit FdStream(int fd) : fd_(fd) {}
  int fd() const { return fd_; }

  template <typename MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, error_code& ec) {
    struct iovec iov[kMaxIov];
    int n = ToIovec(buffers, iov);
    if (n == 0) return 0;
    for (;;) {
      ssize_t r = ::readv(fd_, iov, n);
      if (r > 0) {
        ec = {};
        return static_cast<size_t>(r);
      }
      if (r == 0) {
        ec = net::error::eof;
        return 0;
      }
      if (errno == EINTR) continue;
      ec = error_code(errno, boost::system::system_category());
      return 0;
    }
  }
  template <typename MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <typename ConstBuffers>
  size_t write_some(const ConstBuffers& buffers, error_code& ec) {
    struct iovec iov[kMaxIov];
    int n = ToIovec(buffers, iov);
    if (n == 0) return 0;
    struct msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(n);
    for (;;) {
      ssize_t r = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (r >= 0) {
        ec = {};
        return static_cast<size_t>(r);
      }
      if (errno == EINTR) continue;
      ec = error_code(errno, boost::system::system_category());
      return 0;
    }
  }
  template <typename ConstBuffers>
  size_t write_some(const ConstBuffers& buffers) {
    error_code ec;
    size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  static constexpr int kMaxIov = 16;

  // The non-empty buffers of a sequence (at most kMaxIov) as iovecs; returns how many.
  template <typename Buffers>
  static int ToIovec(const Buffers& buffers, struct iovec* iov) {
    int n = 0;
    for (auto it = net::buffer_sequence_begin(buffers);
         it != net::buffer_sequence_end(buffers) && n < kMaxIov; ++it) {
      net::const_buffer b(*it);
      if (b.size() == 0) continue;
      iov[n++] = {const_cast<void*>(b.data()), b.size()};
    }
    return n;
  }

  int fd_;
};

}  // namespace berth::api::internal
