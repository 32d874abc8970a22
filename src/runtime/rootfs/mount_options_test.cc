#include <sys/mount.h>

#include <gtest/gtest.h>

#include "runtime/rootfs/rootfs.h"
#include "runtime/rootfs/rootfs_internal.h"

namespace berth::runtime::rootfs {
namespace {

TEST(ParseMountOptions, Empty) {
  MountOptions mo = ParseMountOptions({});
  EXPECT_EQ(mo.flags, 0u);
  EXPECT_EQ(mo.propagation, 0u);
  EXPECT_EQ(mo.attr_set, 0u);
  EXPECT_EQ(mo.attr_clr, 0u);
  EXPECT_EQ(mo.data, "");
  EXPECT_FALSE(mo.bind);
  EXPECT_FALSE(mo.recursive);
  EXPECT_FALSE(mo.idmap);
}

TEST(ParseMountOptions, DockerProc) {
  MountOptions mo = ParseMountOptions({"nosuid", "noexec", "nodev"});
  EXPECT_EQ(mo.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV));
  EXPECT_EQ(mo.data, "");
}

TEST(ParseMountOptions, DockerDevTmpfsKeepsData) {
  MountOptions mo = ParseMountOptions({"nosuid", "strictatime", "mode=755", "size=65536k"});
  EXPECT_EQ(mo.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(mo.data, "mode=755,size=65536k");
}

TEST(ParseMountOptions, DevptsData) {
  MountOptions mo =
      ParseMountOptions({"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"});
  EXPECT_EQ(mo.flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC));
  EXPECT_EQ(mo.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
}

TEST(ParseMountOptions, ClearingOptionsUndoEarlierOnes) {
  EXPECT_EQ(ParseMountOptions({"ro", "rw"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"rw", "ro"}).flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(ParseMountOptions({"nosuid", "suid"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"nodev", "dev"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"noexec", "exec"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"sync", "async"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"mand", "nomand"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"noatime", "atime"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"nodiratime", "diratime"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"relatime", "norelatime"}).flags, 0u);
  EXPECT_EQ(ParseMountOptions({"strictatime", "nostrictatime"}).flags, 0u);
}

TEST(ParseMountOptions, EveryFlagName) {
  struct Case {
    const char* name;
    unsigned long flag;
  } cases[] = {
      {"ro", MS_RDONLY},
      {"nosuid", MS_NOSUID},
      {"nodev", MS_NODEV},
      {"noexec", MS_NOEXEC},
      {"sync", MS_SYNCHRONOUS},
      {"dirsync", MS_DIRSYNC},
      {"remount", MS_REMOUNT},
      {"mand", MS_MANDLOCK},
      {"noatime", MS_NOATIME},
      {"nodiratime", MS_NODIRATIME},
      {"relatime", MS_RELATIME},
      {"strictatime", MS_STRICTATIME},
      {"nosymfollow", MS_NOSYMFOLLOW},
      {"lazytime", MS_LAZYTIME},
  };
  for (const auto& c : cases) {
    MountOptions mo = ParseMountOptions({c.name});
    EXPECT_EQ(mo.flags, c.flag) << c.name;
    EXPECT_EQ(mo.data, "") << c.name;
  }
  for (const char* n : {"rw", "suid", "dev", "exec", "async", "nomand", "atime", "diratime",
                        "norelatime", "nostrictatime", "defaults"}) {
    MountOptions mo = ParseMountOptions({n});
    EXPECT_EQ(mo.flags, 0u) << n;
    EXPECT_EQ(mo.data, "") << n;
  }
}

TEST(ParseMountOptions, BindAndRbind) {
  MountOptions b = ParseMountOptions({"bind", "ro"});
  EXPECT_TRUE(b.bind);
  EXPECT_FALSE(b.recursive);
  EXPECT_EQ(b.flags, static_cast<unsigned long>(MS_BIND | MS_RDONLY));

  MountOptions r = ParseMountOptions({"rbind", "nosuid"});
  EXPECT_TRUE(r.bind);
  EXPECT_TRUE(r.recursive);
  EXPECT_EQ(r.flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_NOSUID));
}

TEST(ParseMountOptions, PropagationIsSeparateAndLastWins) {
  struct Case {
    const char* name;
    unsigned long flags;
  } cases[] = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  for (const auto& c : cases) {
    MountOptions mo = ParseMountOptions({"rbind", c.name});
    EXPECT_EQ(mo.propagation, c.flags) << c.name;
    EXPECT_EQ(mo.flags, static_cast<unsigned long>(MS_BIND | MS_REC)) << c.name;
  }
  EXPECT_EQ(ParseMountOptions({"rshared", "rslave"}).propagation,
            static_cast<unsigned long>(MS_SLAVE | MS_REC));
}

TEST(ParseMountOptions, RecursiveAttributes) {
  MountOptions mo = ParseMountOptions({"rbind", "rro", "rnosuid", "rnodev", "rnoexec"});
  EXPECT_EQ(mo.flags, static_cast<unsigned long>(MS_BIND | MS_REC));
  EXPECT_EQ(mo.attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                               MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  EXPECT_EQ(mo.attr_clr, 0u);

  MountOptions rw = ParseMountOptions({"rro", "rrw", "rsuid", "rdev", "rexec"});
  EXPECT_EQ(rw.attr_set, 0u);
  EXPECT_EQ(rw.attr_clr, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                               MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  EXPECT_EQ(ParseMountOptions({"rrw", "rro"}).attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
  EXPECT_EQ(ParseMountOptions({"rrw", "rro"}).attr_clr, 0u);
  EXPECT_EQ(ParseMountOptions({"rnodiratime"}).attr_set,
            static_cast<uint64_t>(MOUNT_ATTR_NODIRATIME));
  EXPECT_EQ(ParseMountOptions({"rnosymfollow"}).attr_set,
            static_cast<uint64_t>(MOUNT_ATTR_NOSYMFOLLOW));
}

TEST(ParseMountOptions, RecursiveAtimeReplacesTheWholeField) {
  MountOptions mo = ParseMountOptions({"rnoatime"});
  EXPECT_EQ(mo.attr_set, static_cast<uint64_t>(MOUNT_ATTR_NOATIME));
  EXPECT_EQ(mo.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  mo = ParseMountOptions({"rnoatime", "rstrictatime"});
  EXPECT_EQ(mo.attr_set, static_cast<uint64_t>(MOUNT_ATTR_STRICTATIME));
  EXPECT_EQ(mo.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  mo = ParseMountOptions({"rnoatime", "rrelatime"});
  EXPECT_EQ(mo.attr_set, static_cast<uint64_t>(MOUNT_ATTR_RELATIME));
  EXPECT_EQ(mo.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
  mo = ParseMountOptions({"rro", "ratime"});
  EXPECT_EQ(mo.attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY));
  EXPECT_EQ(mo.attr_clr, static_cast<uint64_t>(MOUNT_ATTR__ATIME));
}

TEST(ParseMountOptions, IdmapAndIgnored) {
  EXPECT_TRUE(ParseMountOptions({"idmap"}).idmap);
  EXPECT_TRUE(ParseMountOptions({"ridmap"}).idmap);
  MountOptions mo = ParseMountOptions({"tmpcopyup", "", "nosuid"});
  EXPECT_EQ(mo.data, "");
  EXPECT_EQ(mo.flags, static_cast<unsigned long>(MS_NOSUID));
}

TEST(ParseMountOptions, UnknownToDataInOrder) {
  MountOptions mo = ParseMountOptions(
      {"lowerdir=/a:/b", "ro", "upperdir=/u", "workdir=/w", "userxattr", "index=off"});
  EXPECT_EQ(mo.flags, static_cast<unsigned long>(MS_RDONLY));
  EXPECT_EQ(mo.data, "lowerdir=/a:/b,upperdir=/u,workdir=/w,userxattr,index=off");
  EXPECT_EQ(ParseMountOptions({"size=1m"}).data, "size=1m");
  // Options are matched whole: a prefix of a known name is data.
  EXPECT_EQ(ParseMountOptions({"rox"}).data, "rox");
  EXPECT_EQ(ParseMountOptions({"RO"}).data, "RO");
}

TEST(CleanPath, Lexical) {
  using internal::CleanPath;
  EXPECT_EQ(CleanPath(""), "/");
  EXPECT_EQ(CleanPath("/"), "/");
  EXPECT_EQ(CleanPath("proc"), "/proc");
  EXPECT_EQ(CleanPath("//a//b/./c/"), "/a/b/c");
  EXPECT_EQ(CleanPath("/a/../../b"), "/b");
  EXPECT_EQ(CleanPath("/proc/../proc/sys"), "/proc/sys");
}

}  // namespace
}  // namespace berth::runtime::rootfs
