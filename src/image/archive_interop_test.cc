// Interop with skopeo and umoci: archives they write load, archives Berth writes they read.
// Skipped when skopeo, umoci or a static busybox is missing.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "image/archive_formats.h"
#include "image/archive_test_util.h"
#include "util/file.h"

namespace berth::image {
namespace {

using testing::ArchiveTest;

bool HaveTool(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command; on failure the test fails with its output.
::testing::AssertionResult Shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return ::testing::AssertionFailure() << "popen " << cmd;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (rc != 0) return ::testing::AssertionFailure() << cmd << " failed (" << rc << "):\n" << out;
  return ::testing::AssertionSuccess();
}

std::string SourceRoot() { return BERTH_SOURCE_DIR; }  // set by CMake

SaveImage ToSave(const LoadedImage& l) {
  SaveImage s{.config_digest = l.config_digest, .repo_tags = l.repo_tags};
  for (const auto& layer : l.layers)
    s.layers.push_back(
        {.digest = layer.digest, .media_type = layer.media_type, .diff_id = layer.diff_id});
  return s;
}

class InteropTest : public ArchiveTest {
 protected:
  void SetUp() override {
    if (!HaveTool("skopeo") || !HaveTool("umoci") || !PathExists("/bin/busybox"))
      GTEST_SKIP() << "skopeo, umoci or busybox missing (scripts/bootstrap installs them)";
    ArchiveTest::SetUp();
    t_ = root_ + "/interop";
    ASSERT_TRUE(MkdirAll(t_));
    rootless_ = ::geteuid() != 0 ? " --rootless" : "";
    // A one-layer busybox image made by umoci, then copied by skopeo to both archive kinds.
    ASSERT_TRUE(Shell("cd " + t_ +
                      " && umoci init --layout X && umoci new --image X:tag && umoci unpack" +
                      rootless_ + " --image X:tag b && " + SourceRoot() +
                      "/scripts/make-rootfs-busybox b/rootfs && umoci repack --image X:tag b"));
    ASSERT_TRUE(Shell("cd " + t_ + " && skopeo copy -q oci:X:tag docker-archive:Y.tar:name:tag"));
    ASSERT_TRUE(Shell("cd " + t_ + " && skopeo copy -q oci:X:tag oci-archive:Z.tar:tag"));
  }

  Result<std::vector<LoadedImage>> LoadFile(const std::string& path) {
    Fd fd = BERTH_TRY(Fd::Open(path, O_RDONLY));
    return LoadArchive(fd.get(), *store_, {});
  }

  Result<void> SaveFile(const std::vector<SaveImage>& images, const std::string& path,
                        const SaveOptions& options) {
    Fd fd = BERTH_TRY(Fd::Open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    return SaveArchive(images, *store_, fd.get(), options);
  }

  void TearDown() override {
    // BERTH_KEEP_INTEROP=DIR keeps the archives and layouts for a look.
    if (const char* keep = std::getenv("BERTH_KEEP_INTEROP"); keep && !t_.empty())
      (void)Shell("rm -rf " + std::string(keep) + " && cp -a " + t_ + " " + keep);
    ArchiveTest::TearDown();
  }

  std::string t_;
  std::string rootless_;
};

TEST_F(InteropTest, LoadsSkopeoArchivesAndSkopeoReadsOurs) {
  auto docker = BERTH_TEST_TRY(LoadFile(t_ + "/Y.tar"));
  ASSERT_EQ(docker.size(), 1u);
  EXPECT_EQ(docker[0].repo_tags, std::vector<std::string>{"docker.io/library/name:tag"});
  ASSERT_EQ(docker[0].layers.size(), 1u);
  EXPECT_EQ(docker[0].layers[0].digest, docker[0].layers[0].diff_id);  // skopeo decompresses

  auto oci = BERTH_TEST_TRY(LoadFile(t_ + "/Z.tar"));
  ASSERT_EQ(oci.size(), 1u);
  EXPECT_EQ(oci[0].config_digest.str(), docker[0].config_digest.str());
  EXPECT_EQ(oci[0].ref_name, "tag");
  EXPECT_TRUE(oci[0].manifest_digest.valid());
  ASSERT_EQ(oci[0].layers.size(), 1u);
  EXPECT_EQ(oci[0].layers[0].diff_id, docker[0].layers[0].diff_id);
  EXPECT_EQ(oci[0].layers[0].media_type, oci::kOciLayerTarGzip);

  // Ours, from the OCI load (a gzip layer decompressed on the way out), in both formats.
  SaveImage img = ToSave(oci[0]);
  img.repo_tags = {"berth/test:v1"};
  BERTH_TEST_TRY(SaveFile({img}, t_ + "/ours.tar", {}));
  BERTH_TEST_TRY(SaveFile({img}, t_ + "/ours-oci.tar", {.oci_layout = true}));
  EXPECT_TRUE(Shell("skopeo inspect docker-archive:" + t_ + "/ours.tar"));
  EXPECT_TRUE(Shell("skopeo inspect docker-archive:" + t_ + "/ours-oci.tar"));
  EXPECT_TRUE(Shell("skopeo inspect oci-archive:" + t_ + "/ours-oci.tar:v1"));

  ASSERT_TRUE(Shell("cd " + t_ + " && skopeo copy -q docker-archive:ours.tar oci:W:tag"));
  ASSERT_TRUE(Shell("cd " + t_ + " && umoci unpack" + rootless_ + " --image W:tag bundle"));
  EXPECT_TRUE(PathExists(t_ + "/bundle/rootfs/bin/busybox"));

  // The layout skopeo made from ours loads back with the same layers. (Not the same image id:
  // converting a Docker manifest to OCI, skopeo re-marshals the config, which drops the
  // trailing newline umoci wrote.)
  ASSERT_TRUE(Shell("cd " + t_ + "/W && tar -cf ../W.tar ."));
  auto again = BERTH_TEST_TRY(LoadFile(t_ + "/W.tar"));
  ASSERT_EQ(again.size(), 1u);
  ASSERT_EQ(again[0].layers.size(), 1u);
  EXPECT_EQ(again[0].layers[0].diff_id.str(), img.layers[0].diff_id.str());
}

}  // namespace
}  // namespace berth::image
