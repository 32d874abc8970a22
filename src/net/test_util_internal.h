#pragma once

// Helpers of the net tests: unique names and guards that undo what a test made even when it
// fails. Header-only, included by *_test.cc only.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "net/link.h"
#include "net/netns.h"

namespace berth::net::testing {

inline bool IsRoot() { return geteuid() == 0; }

#define BERTH_NET_REQUIRE_ROOT() \
  if (!::berth::net::testing::IsRoot()) GTEST_SKIP() << "needs root (netns, netlink, nftables)"

/// A name unique to this process and call: PREFIX + pid (base 36) + a counter, at most 15
/// bytes when prefix is at most 5.
inline std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  auto b36 = [](unsigned long v) {
    std::string s;
    do {
      s.insert(s.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
      v /= 36;
    } while (v);
    return s;
  };
  return prefix + b36(getpid()) + "x" + b36(counter++);
}

/// A private netns dir for the test (/run/berth-test-PID/netns), unmounted and removed at
/// the end; namespaces made in it are deleted by NetnsGuard.
class NetnsDir {
 public:
  NetnsDir() : root_("/run/berth-test-" + std::to_string(getpid())), dir_(root_ + "/netns") {}
  ~NetnsDir() {
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(dir_, ec)) {
      (void)DeleteNetns(e.path().string());
    }
    umount2(dir_.c_str(), MNT_DETACH);
    std::filesystem::remove_all(root_, ec);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  std::string root_;
  std::string dir_;
};

/// Deletes the netns at path when it goes.
class NetnsGuard {
 public:
  explicit NetnsGuard(std::string path) : path_(std::move(path)) {}
  ~NetnsGuard() { (void)DeleteNetns(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Deletes a link of berthd's (the test's) netns when it goes.
class LinkGuard {
 public:
  explicit LinkGuard(std::string name) : name_(std::move(name)) {}
  ~LinkGuard() { (void)DeleteLink(name_); }

 private:
  std::string name_;
};

#define ASSERT_OK(expr)                                                               \
  do {                                                                                \
    auto&& berth_r_ = (expr);                                                         \
    ASSERT_TRUE(berth_r_.has_value()) << #expr << ": " << berth_r_.error().message(); \
  } while (0)

}  // namespace berth::net::testing
