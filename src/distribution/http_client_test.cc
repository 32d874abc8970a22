#include "distribution/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include "distribution/url.h"

namespace berth::distribution {
namespace {

// A server on 127.0.0.1 that answers one request with `answer` (by default headers promising
// 100 bytes and 10 of them) and then stops sending, keeping the connection open until told to
// close it.
class StallingServer {
 public:
  explicit StallingServer(
      std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
      : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 1), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[1024];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      if (!answer_.empty()) (void)!::write(c, answer_.data(), answer_.size());
      release_.get_future().wait();
      ::close(c);
    });
  }
  ~StallingServer() {
    release_.set_value();
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  std::string answer_;
  int fd_ = -1;
  int port_ = 0;
  std::promise<void> release_;
  std::thread thread_;
};

TEST(HttpClient, BodyReadOfAStalledServerFailsAfterTheTimeout) {
  StallingServer server;
  auto url = ParseUrl("http://127.0.0.1:" + std::to_string(server.port()) + "/v2/x/blobs/y");
  ASSERT_TRUE(url) << url.error().message();
  HttpRequest req{.method = "GET", .url = *url};
  req.timeout = std::chrono::seconds(1);
  auto res = HttpSend(req);
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ((*res)->status(), 200);
  EXPECT_EQ((*res)->ContentLength(), 100);
  char buf[256];
  auto first = (*res)->Read(buf, sizeof buf);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(std::string(buf, *first), "0123456789");
  // Before the fix this read waited for ever (asio polls with no timeout on EAGAIN).
  auto second = (*res)->Read(buf, sizeof buf);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message().find("no data for 1 s"), std::string::npos)
      << second.error().message();
}

TEST(HttpClient, AServerThatNeverAnswersFailsAfterTheTimeout) {
  StallingServer server("HTTP/1.1 200 OK\r\nContent-");
  auto url = ParseUrl("http://127.0.0.1:" + std::to_string(server.port()) + "/v2/");
  ASSERT_TRUE(url) << url.error().message();
  HttpRequest req{.method = "GET", .url = *url};
  req.timeout = std::chrono::seconds(1);
  auto res = HttpSend(req);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(res.error().message().find("read response: no data for 1 s"), std::string::npos)
      << res.error().message();
}

}  // namespace
}  // namespace berth::distribution
