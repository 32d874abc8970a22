#include "net/netns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>

#include "net/link.h"
#include "net/test_util_internal.h"

namespace berth::net {
namespace {

using testing::NetnsDir;
using testing::NetnsGuard;

// The inode of the netns the calling thread is in.
ino_t CurrentNetnsInode() {
  struct stat st {};
  stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

TEST(Netns, CreateKeepsANewNamespaceWithLoopbackUp) {
  BERTH_NET_REQUIRE_ROOT();
  NetnsDir dir;
  NetnsGuard ns(dir.Path("a"));
  ASSERT_OK(CreateNetns(ns.path()));

  struct stat st {};
  ASSERT_EQ(stat(ns.path().c_str(), &st), 0);
  ino_t here = CurrentNetnsInode();
  EXPECT_NE(st.st_ino, here) << "the file is the new namespace, not ours";

  // fn runs inside it; the caller's thread stays where it was.
  Result<ino_t> inside = InNetns(ns.path(), []() -> Result<ino_t> { return CurrentNetnsInode(); });
  ASSERT_OK(inside);
  EXPECT_EQ(*inside, st.st_ino);
  EXPECT_EQ(CurrentNetnsInode(), here);

  Result<std::vector<InterfaceInfo>> ifs = ListInterfaces(ns.path());
  ASSERT_OK(ifs);
  ASSERT_EQ(ifs->size(), 1u);
  EXPECT_EQ((*ifs)[0].name, "lo");
  EXPECT_TRUE((*ifs)[0].up);
  EXPECT_EQ((*ifs)[0].addresses.at(0), "127.0.0.1/8");

  // A socket made inside stays there: bind 127.0.0.11 (only reachable on that lo).
  Result<int> bound = InNetns(ns.path(), []() -> Result<int> {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = 0;
    inet_pton(AF_INET, "127.0.0.11", &a.sin_addr);
    if (bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) < 0) {
      close(s);
      return Error::FromErrno(errno, "bind");
    }
    return s;
  });
  ASSERT_OK(bound);
  close(*bound);
}

TEST(Netns, CreateTwiceIsAlreadyExistsAndDeleteIsIdempotent) {
  BERTH_NET_REQUIRE_ROOT();
  NetnsDir dir;
  NetnsGuard ns(dir.Path("b"));
  ASSERT_OK(CreateNetns(ns.path()));
  Result<void> again = CreateNetns(ns.path());
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().IsAlreadyExists()) << again.error().message();
  ASSERT_OK(DeleteNetns(ns.path()));
  EXPECT_FALSE(std::filesystem::exists(ns.path()));
  ASSERT_OK(DeleteNetns(ns.path()));
  Result<void> in = RunInNetns(ns.path(), [] { return Result<void>(); });
  ASSERT_FALSE(in);
  EXPECT_TRUE(in.error().IsNotFound());
}

TEST(Netns, InNetnsPassesErrorsBack) {
  BERTH_NET_REQUIRE_ROOT();
  NetnsDir dir;
  NetnsGuard ns(dir.Path("c"));
  ASSERT_OK(CreateNetns(ns.path()));
  Result<int> r = InNetns(ns.path(), []() -> Result<int> { return Error::Conflict("boom"); });
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsConflict());
  EXPECT_EQ(r.error().message(), "boom");
}

}  // namespace
}  // namespace berth::net
