#include "engine/fs/export.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <map>

#include "engine/fs/fs_test_util.h"
#include "engine/fs/overlay_mount.h"

namespace berth::engine::fs {
namespace {

using testing::TempDir;
using testing::Write;

// name → data ("<dir>", "-> target" for symlinks).
std::map<std::string, std::string> Entries(const std::string& tar) {
  std::map<std::string, std::string> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, tar.data(), tar.size());
  struct archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string v;
    if (archive_entry_filetype(e) == AE_IFDIR) {
      v = "<dir>";
    } else if (archive_entry_symlink(e)) {
      v = std::string("-> ") + archive_entry_symlink(e);
    } else {
      char buf[4096];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0) v.append(buf, n);
    }
    out[archive_entry_pathname(e)] = v;
  }
  archive_read_free(a);
  return out;
}

TEST(ExportTest, TarsTheMergedView) {
  TempDir t;
  Write(t.Sub("l1/etc/passwd"), "base");
  Write(t.Sub("l1/bin/sh"), "sh");
  Write(t.Sub("l1/bin/rm-me"), "x");
  std::string upper = t.Dir("upper"), work = t.Dir("work"), merged = t.Dir("merged");
  t.WillMount(merged);
  auto m = OverlayMount::Mount({t.Sub("l1")}, upper, work, merged);
  ASSERT_TRUE(m) << m.error().message();
  Write(merged + "/etc/passwd", "changed");
  Write(merged + "/home/u/f", "new");
  ASSERT_EQ(::unlink((merged + "/bin/rm-me").c_str()), 0);
  ASSERT_EQ(::symlink("/bin/sh", (merged + "/bin/ash").c_str()), 0);

  int fd = ::memfd_create("export", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  Fd out(fd);
  auto r = ExportRootfs(merged, out.get());
  ASSERT_TRUE(r) << r.error().message();
  auto entries = Entries(testing::ReadBack(out.get()));
  EXPECT_EQ(entries, (std::map<std::string, std::string>{
                         {"bin/", "<dir>"},
                         {"bin/ash", "-> /bin/sh"},
                         {"bin/sh", "sh"},
                         {"etc/", "<dir>"},
                         {"etc/passwd", "changed"},
                         {"home/", "<dir>"},
                         {"home/u/", "<dir>"},
                         {"home/u/f", "new"},
                     }));
}

TEST(ExportTest, MissingRootfsIsAnError) {
  auto r = ExportRootfs("/nonexistent/merged", 1);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound()) << r.error().message();
}

}  // namespace
}  // namespace berth::engine::fs
