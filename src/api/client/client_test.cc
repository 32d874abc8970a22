#include "api/client/client.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace berth::api {
namespace {

// A one-connection fake daemon on a unix socket: reads one request head, writes `reply`, then
// runs `after` on the connection.
class FakeDaemon {
 public:
  FakeDaemon() {
    char tmpl[] = "/tmp/berth-client-test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/d.sock";
    listener_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size());
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(listener_.get(), 4), 0);
  }
  ~FakeDaemon() {
    if (thread_.joinable()) thread_.join();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string host() const { return "unix://" + path_; }

  // Serves one connection in a thread; the request head read is stored in request().
  template <typename F>
  void Serve(std::string reply, F after) {
    thread_ = std::thread([this, reply = std::move(reply), after] {
      Fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      char buf[4096];
      while (request_.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(conn.get(), buf, sizeof buf);
        if (n <= 0) return;
        request_.append(buf, static_cast<size_t>(n));
      }
      (void)WriteAll(conn.get(), reply);
      after(conn.get());
    });
  }
  void Join() { thread_.join(); }
  const std::string& request() const { return request_; }

 private:
  std::string dir_, path_, request_;
  Fd listener_;
  std::thread thread_;
};

TEST(ClientHijack, SendsUpgradeAndHandsOverTheStreamWithBytesReadAhead) {
  FakeDaemon d;
  // The first bytes of the stream arrive in the same write as the headers.
  d.Serve(
      "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
      "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello ",
      [](int fd) {
        char buf[64];
        ssize_t n = ::read(fd, buf, sizeof buf);  // what the client sends on the stream
        std::string got(buf, n > 0 ? static_cast<size_t>(n) : 0);
        (void)WriteAll(fd, "world:" + got);
      });
  Client c(d.host());
  auto r = c.Hijack("POST", "/v1.41/containers/x/attach?stream=1&stdout=1");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)->status(), 101);
  EXPECT_EQ((*r)->headers().at("upgrade"), "tcp");
  auto raw = (*r)->TakeConnection();
  EXPECT_EQ(raw.buffered, "hello ");
  ASSERT_TRUE(WriteAll(raw.fd.get(), "ping"));
  auto rest = ReadAll(raw.fd.get());
  ASSERT_TRUE(rest);
  EXPECT_EQ(*rest, "world:ping");
  d.Join();
  EXPECT_NE(d.request().find("Connection: Upgrade\r\n"), std::string::npos) << d.request();
  EXPECT_NE(d.request().find("Upgrade: tcp\r\n"), std::string::npos) << d.request();
  EXPECT_EQ(d.request().rfind("POST /v1.41/containers/x/attach?stream=1&stdout=1 HTTP/1.1", 0), 0u);
}

TEST(ClientSend, ReturnsAtTheHeadersAndReadsAChunkedBodyLater) {
  FakeDaemon d;
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  Fd go_read(pipe_fds[0]), go_write(pipe_fds[1]);
  d.Serve("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
          [&](int fd) {
            char c;
            (void)::read(go_read.get(), &c, 1);  // the body only once the test says so
            (void)WriteAll(fd, "1a\r\n{\"StatusCode\":3,\"Error\":nu\r\n3\r\nll}\r\n0\r\n\r\n");
          });
  Client c(d.host());
  auto r = c.Send("POST", "/v1.41/containers/x/wait?condition=next-exit");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ((*r)->status(), 200);
  struct pollfd p = {(*r)->fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);  // nothing more has come yet
  ASSERT_EQ(::write(go_write.get(), "g", 1), 1);
  auto body = (*r)->ReadBody();
  ASSERT_TRUE(body) << body.error().message();
  EXPECT_EQ(*body, "{\"StatusCode\":3,\"Error\":null}");
}

TEST(ClientHijack, AnErrorStatusCarriesTheDaemonsMessage) {
  FakeDaemon d;
  d.Serve(
      "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 39\r\n\r\n"
      "{\"message\":\"No such container: nosuch\"}",
      [](int) {});
  Client c(d.host());
  auto r = c.Hijack("POST", "/v1.41/containers/nosuch/attach");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->status(), 404);
  auto body = (*r)->ReadBody();
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, "{\"message\":\"No such container: nosuch\"}");
}

TEST(ClientSend, NoDaemonIsUnavailable) {
  Client c("unix:///nonexistent/berth-test.sock");
  auto r = c.Send("POST", "/v1.41/containers/x/wait");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace berth::api
