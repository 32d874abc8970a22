#include "store/layout.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "util/file.h"

namespace berth::store {
namespace {

TEST(LayoutTest, Paths) {
  Layout l("/var/lib/berth");
  auto d = oci::Digest::Sha256Hex(std::string(64, 'a'));
  EXPECT_EQ(l.BlobPath(d), "/var/lib/berth/blobs/sha256/" + std::string(64, 'a'));
  EXPECT_EQ(l.LayerDir(d), "/var/lib/berth/layers/" + std::string(64, 'a'));
  EXPECT_EQ(l.ContainerDir("abc"), "/var/lib/berth/containers/abc");
  EXPECT_EQ(l.VolumeDataDir("v"), "/var/lib/berth/volumes/v/_data");
  EXPECT_EQ(l.TmpDir(), "/var/lib/berth/tmp");
  EXPECT_EQ(l.DbPath(), "/var/lib/berth/berth.db");
  auto key = Layout::IngestKey("pull/some:ref");
  ASSERT_TRUE(key);
  EXPECT_EQ(key->size(), 64u);
  EXPECT_EQ(l.IngestDataPath(*key), "/var/lib/berth/ingest/" + *key + "/data");
  EXPECT_EQ(l.IngestRefPath(*key), "/var/lib/berth/ingest/" + *key + "/ref");
  EXPECT_EQ(l.IngestStartedPath(*key), "/var/lib/berth/ingest/" + *key + "/started");
}

TEST(LayoutTest, CreateMakesTopLevelDirectories) {
  char tmpl[] = "/tmp/berth-layout-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  Layout l(tmpl);
  ASSERT_TRUE(l.Create());
  for (const auto& dir : {l.BlobsDir(), l.IngestRoot(), l.LayersRoot(), l.ContainersRoot(),
                          l.VolumesRoot(), l.TmpDir()})
    EXPECT_TRUE(PathExists(dir)) << dir;
  EXPECT_TRUE(l.Create());  // twice is fine
  ASSERT_TRUE(RemoveAll(tmpl));
}

}  // namespace
}  // namespace berth::store
