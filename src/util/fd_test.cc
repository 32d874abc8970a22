#include "util/fd.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

namespace berth {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) >= 0; }

TEST(FdTest, ClosesAndReleases) {
  int raw;
  {
    auto p = *Pipe::Make();
    raw = p.read.get();
    EXPECT_TRUE(IsOpen(raw));
    EXPECT_TRUE(p.read);
  }
  EXPECT_FALSE(IsOpen(raw));

  auto p = *Pipe::Make();
  int r = p.read.Release();
  EXPECT_FALSE(p.read.valid());
  EXPECT_EQ(p.read.get(), -1);
  EXPECT_TRUE(IsOpen(r));
  ::close(r);

  Fd a = std::move(p.write);
  EXPECT_FALSE(p.write.valid());
  int w = a.get();
  Fd b;
  b = std::move(a);
  EXPECT_EQ(b.get(), w);
  Fd& same = b;
  b = std::move(same);  // self-move keeps it
  EXPECT_TRUE(IsOpen(w));
  b.Reset();
  EXPECT_FALSE(IsOpen(w));
}

TEST(FdTest, OpenAddsCloexecAndNamesPath) {
  auto fd = Fd::Open("/dev/null", O_RDONLY);
  ASSERT_TRUE(fd);
  EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
  auto missing = Fd::Open("/nonexistent/x", O_RDONLY);
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().IsNotFound());
  EXPECT_EQ(missing.error().sys_errno(), ENOENT);
  EXPECT_EQ(missing.error().message().find("open /nonexistent/x"), 0u);
  Fd dir = *Fd::Open("/", O_RDONLY | O_DIRECTORY);
  auto at = Fd::OpenAt(dir.get(), "dev/null", O_RDONLY);
  ASSERT_TRUE(at);
  EXPECT_TRUE(::fcntl(at->get(), F_GETFD) & FD_CLOEXEC);
}

TEST(FdTest, PipeIsCloexecAndHonoursExtraFlags) {
  auto p = *Pipe::Make();
  EXPECT_TRUE(::fcntl(p.read.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(::fcntl(p.write.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_FALSE(::fcntl(p.read.get(), F_GETFL) & O_NONBLOCK);
  auto nb = *Pipe::Make(O_NONBLOCK);
  EXPECT_TRUE(::fcntl(nb.read.get(), F_GETFL) & O_NONBLOCK);
  char c;
  EXPECT_EQ(::read(nb.read.get(), &c, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST(FdTest, WriteAllAndReadAllRoundTrip) {
  auto p = *Pipe::Make();
  // More than a pipe buffer (64 KiB): the writer must loop while the reader drains.
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  std::thread writer([&] {
    EXPECT_TRUE(WriteAll(p.write.get(), data));
    p.write.Reset();
  });
  auto got = ReadAll(p.read.get());
  writer.join();
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, data);
}

TEST(FdTest, ReadAllLimit) {
  {
    auto p = *Pipe::Make();
    ASSERT_TRUE(WriteAll(p.write.get(), "12345"));
    p.write.Reset();
    auto r = ReadAll(p.read.get(), 5);  // exactly the limit
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "12345");
  }
  {
    auto p = *Pipe::Make();
    ASSERT_TRUE(WriteAll(p.write.get(), "123456"));
    p.write.Reset();
    auto r = ReadAll(p.read.get(), 5);
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().IsInvalidArgument());
    EXPECT_EQ(r.error().message(), "input larger than 5 bytes");
  }
  {
    auto p = *Pipe::Make();
    p.write.Reset();
    auto r = ReadAll(p.read.get(), 0);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, "");
  }
  auto bad = ReadAll(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().sys_errno(), EBADF);
}

TEST(FdTest, WriteAllToClosedPipe) {
  auto p = *Pipe::Make();
  p.read.Reset();
  signal(SIGPIPE, SIG_IGN);
  auto r = WriteAll(p.write.get(), "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno(), EPIPE);
}

}  // namespace
}  // namespace berth
