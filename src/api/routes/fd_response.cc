#include "api/routes/fd_response.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <thread>

#include "util/fd.h"

namespace berth::api::routes {
namespace {

constexpr size_t kChunk = 256 * 1024;

// The pipe's read end and the producer thread. Closing the read end makes a producer still
// writing fail with EPIPE (berthd ignores SIGPIPE), so the join below never hangs.
struct Pipe {
  Fd read_end;
  std::thread producer;
  Result<void> result;
  ~Pipe() {
    read_end.Reset();
    if (producer.joinable()) producer.join();
  }
  Result<size_t> Read(char* buf, size_t n) {
    for (;;) {
      ssize_t r = ::read(read_end.get(), buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return Error::FromErrno(errno, "read the archive pipe");
    }
  }
  // After EOF: the producer's result.
  Result<void> Finish() {
    if (producer.joinable()) producer.join();
    return result;
  }
};

}  // namespace

Response FdStreamResponse(std::function<Result<void>(int fd)> produce, std::string content_type) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return ErrorResponse(Error::FromErrno(errno, "pipe"));
  auto pipe = std::make_shared<Pipe>();
  pipe->read_end = Fd(p[0]);
  auto* raw = pipe.get();
  pipe->producer = std::thread([raw, w = p[1], produce = std::move(produce)] {
    raw->result = produce(w);
    ::close(w);
  });
  auto first = std::make_shared<std::string>(kChunk, '\0');
  auto n = pipe->Read(first->data(), first->size());
  if (!n) return ErrorResponse(n.error());
  if (*n == 0) {
    if (auto r = pipe->Finish(); !r) return ErrorResponse(r.error());
    Response empty;
    empty.Header("Content-Type", content_type);
    return empty;
  }
  first->resize(*n);
  Response res;
  res.Header("Content-Type", std::move(content_type));
  res.stream = [pipe, first](BodyWriter& out) -> Result<void> {
    BERTH_TRY(out.Write(*first));
    std::string buf(kChunk, '\0');
    for (;;) {
      size_t k = BERTH_TRY(pipe->Read(buf.data(), buf.size()));
      if (k == 0) break;
      BERTH_TRY(out.Write(std::string_view(buf.data(), k)));  // on error ~Pipe stops the producer
    }
    return pipe->Finish();
  };
  return res;
}

}  // namespace berth::api::routes
