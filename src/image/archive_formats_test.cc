#include "image/archive_formats.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "image/archive_test_util.h"
#include "store/archive/test_tar.h"

namespace berth::image {
namespace {

using store::archive::testing::Gzip;
using store::archive::testing::MakeTar;
using store::archive::testing::MemFd;
using store::archive::testing::RawUstarHeader;
using store::archive::testing::TarEntry;
using testing::ArchiveTest;
using testing::DigestOf;
using testing::ReadFd;

// A docker-archive built by hand: layer files, a config naming their diff ids, manifest.json.
struct HandArchive {
  std::string layer1 = MakeTar({{.name = "a.txt", .data = "aaa"}});
  std::string layer2 = MakeTar({{.name = "b.txt", .data = "bbb"}});
  std::string Config(const std::vector<std::string>& layers) const {
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& l : layers) ids.push_back(DigestOf(l).str());
    return nlohmann::json{{"architecture", "amd64"},
                          {"os", "linux"},
                          {"rootfs", {{"type", "layers"}, {"diff_ids", ids}}}}
        .dump();
  }
};

std::string Manifest(const std::string& config, const std::vector<std::string>& layers) {
  return nlohmann::json::array({{{"Config", config}, {"RepoTags", {"x:1"}}, {"Layers", layers}}})
      .dump();
}

TEST_F(ArchiveTest, RoundTripDockerArchive) {
  HandArchive h;
  std::string config = h.Config({h.layer1, h.layer2});
  SaveImage img = BERTH_TEST_TRY(PutImage(config, {h.layer1, Gzip(h.layer2)}, {"busybox:1"}));
  SaveImage img2 = BERTH_TEST_TRY(PutImage(h.Config({h.layer1}), {h.layer1}, {"other:latest"}));

  std::string tar = BERTH_TEST_TRY(Save({img, img2}));
  EXPECT_EQ(tar, BERTH_TEST_TRY(Save({img, img2}))) << "save is not deterministic";
  auto names = testing::TarNames(tar);
  EXPECT_EQ(
      std::count(names.begin(), names.end(), std::string(DigestOf(h.layer1).hex()) + "/layer.tar"),
      1);
  EXPECT_NE(std::find(names.begin(), names.end(), "repositories"), names.end());

  auto loaded = BERTH_TEST_TRY(LoadInto(*other_, tar));
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded[0].config_digest, img.config_digest);
  EXPECT_EQ(loaded[0].config_bytes, config);
  ASSERT_EQ(loaded[0].layers.size(), 2u);
  EXPECT_EQ(loaded[0].layers[0].diff_id, DigestOf(h.layer1));
  EXPECT_EQ(loaded[0].layers[1].diff_id, DigestOf(h.layer2));
  // The gzip layer is saved uncompressed: its blob is now the diff id.
  EXPECT_EQ(loaded[0].layers[1].digest, DigestOf(h.layer2));
  EXPECT_EQ(loaded[0].layers[1].media_type, oci::kDockerLayerTar);
  EXPECT_EQ(loaded[0].repo_tags, std::vector<std::string>{"docker.io/library/busybox:1"});
  EXPECT_TRUE(loaded[0].manifest_digest.str().empty());
  EXPECT_EQ(loaded[1].config_digest, img2.config_digest);
  EXPECT_TRUE(other_->Info(DigestOf(h.layer2)));
}

TEST_F(ArchiveTest, RoundTripCombinedOciLayout) {
  HandArchive h;
  std::string config = h.Config({h.layer1, h.layer2});
  std::string gz = Gzip(h.layer2);
  SaveImage img = BERTH_TEST_TRY(PutImage(config, {h.layer1, gz}, {"busybox:1", "busybox:2"}));
  std::string tar = BERTH_TEST_TRY(Save({img}, {.oci_layout = true}));
  EXPECT_EQ(tar, BERTH_TEST_TRY(Save({img}, {.oci_layout = true})));
  auto names = testing::TarNames(tar);
  EXPECT_NE(std::find(names.begin(), names.end(), "oci-layout"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "index.json"), names.end());

  auto loaded = BERTH_TEST_TRY(LoadInto(*other_, tar));
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].config_digest, img.config_digest);
  ASSERT_EQ(loaded[0].layers.size(), 2u);
  EXPECT_EQ(loaded[0].layers[1].digest, DigestOf(gz));  // kept compressed, as stored
  EXPECT_EQ(loaded[0].layers[1].diff_id, DigestOf(h.layer2));
  EXPECT_EQ(loaded[0].layers[1].media_type, oci::kOciLayerTarGzip);
  EXPECT_TRUE(loaded[0].manifest_digest.valid());
  EXPECT_EQ(loaded[0].repo_tags.size(), 2u);

  // The OCI half alone (no manifest.json) loads as well.
  std::string oci_only = testing::FilterTar(
      tar, [](const std::string& n) { return n != "manifest.json" && n != "repositories"; });
  auto oci = BERTH_TEST_TRY(LoadInto(*other_, oci_only));
  ASSERT_EQ(oci.size(), 1u);
  EXPECT_EQ(oci[0].manifest_digest, loaded[0].manifest_digest);
  EXPECT_EQ(oci[0].repo_tags, (std::vector<std::string>{"docker.io/library/busybox:1",
                                                        "docker.io/library/busybox:2"}));
  EXPECT_EQ(oci[0].ref_name, "1");
}

TEST_F(ArchiveTest, LoadsGzipArchiveAndSymlinkedLayers) {
  HandArchive h;
  std::string config = h.Config({h.layer1, h.layer1});
  std::string hex = std::string(DigestOf(config).hex());
  std::string tar = MakeTar({
      {.name = "l1/layer.tar", .data = h.layer1},
      {.name = "l2/layer.tar", .type = AE_IFLNK, .symlink = "../l1/layer.tar"},
      {.name = hex + ".json", .data = config},
      {.name = "manifest.json",
       .data = Manifest(hex + ".json", {"l1/layer.tar", "./l2/layer.tar"})},
  });
  auto loaded = BERTH_TEST_TRY(LoadInto(*store_, Gzip(tar)));
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].layers.size(), 2u);
  EXPECT_EQ(loaded[0].layers[1].digest, DigestOf(h.layer1));
}

TEST_F(ArchiveTest, LoadsZstdArchiveWithHardLinkedLayer) {
  HandArchive h;
  std::string config = h.Config({h.layer1, h.layer1});
  std::string tar = MakeTar({
      {.name = "l1/layer.tar", .data = h.layer1},
      {.name = "l2/layer.tar", .hardlink = "l1/layer.tar"},
      {.name = "c.json", .data = config},
      {.name = "manifest.json", .data = Manifest("c.json", {"l1/layer.tar", "l2/layer.tar"})},
  });
  auto loaded = BERTH_TEST_TRY(LoadInto(*store_, store::archive::testing::Zstd(tar)));
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].layers[1].diff_id, DigestOf(h.layer1));
}

// ---- hostile archives -------------------------------------------------------------------

TEST_F(ArchiveTest, RefusesManifestNamingMissingLayer) {
  HandArchive h;
  std::string config = h.Config({h.layer1});
  auto r = LoadInto(
      *store_, MakeTar({{.name = "c.json", .data = config},
                        {.name = "manifest.json", .data = Manifest("c.json", {"x/layer.tar"})}}));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound());
  EXPECT_EQ(r.error().message(), "manifest.json: layer " + DigestOf(h.layer1).str() +
                                     " (file x/layer.tar) not found in archive");
}

TEST_F(ArchiveTest, RefusesPathsEscapingTheArchive) {
  HandArchive h;
  std::string config = h.Config({h.layer1});
  for (std::string bad : {"../l/layer.tar", "/l/layer.tar", "l/../../layer.tar"}) {
    auto r =
        LoadInto(*store_, MakeTar({{.name = "l/layer.tar", .data = h.layer1},
                                   {.name = "c.json", .data = config},
                                   {.name = "manifest.json", .data = Manifest("c.json", {bad})}}));
    ASSERT_FALSE(r) << bad;
    EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().message();
    EXPECT_NE(r.error().message().find("manifest.json"), std::string::npos) << r.error().message();
  }
  // A symlink out of the archive is not followed.
  auto r = LoadInto(
      *store_, MakeTar({{.name = "l/layer.tar", .type = AE_IFLNK, .symlink = "../../etc/passwd"},
                        {.name = "c.json", .data = config},
                        {.name = "manifest.json", .data = Manifest("c.json", {"l/layer.tar"})}}));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("escapes the archive"), std::string::npos)
      << r.error().message();
}

TEST_F(ArchiveTest, RefusesDiffIdMismatch) {
  HandArchive h;
  std::string config = h.Config({h.layer2});
  auto r = LoadInto(
      *store_, MakeTar({{.name = "l/layer.tar", .data = h.layer1},
                        {.name = "c.json", .data = config},
                        {.name = "manifest.json", .data = Manifest("c.json", {"l/layer.tar"})}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.error().message().find("rootfs.diff_ids[0]"), std::string::npos);
  EXPECT_NE(r.error().message().find("l/layer.tar"), std::string::npos);
}

TEST_F(ArchiveTest, RefusesTruncatedTar) {
  HandArchive h;
  std::string config = h.Config({h.layer1});
  std::string tar =
      MakeTar({{.name = "l/layer.tar", .data = std::string(100000, 'x')},
               {.name = "c.json", .data = config},
               {.name = "manifest.json", .data = Manifest("c.json", {"l/layer.tar"})}});
  auto r = LoadInto(*store_, tar.substr(0, 50000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << r.error().message();
  EXPECT_NE(r.error().message().find("l/layer.tar"), std::string::npos) << r.error().message();
}

TEST_F(ArchiveTest, RefusesTruncatedGzipArchive) {
  HandArchive h;
  std::string config = h.Config({h.layer1});
  std::string tar =
      MakeTar({{.name = "l/layer.tar", .data = h.layer1},
               {.name = "c.json", .data = config},
               {.name = "manifest.json", .data = Manifest("c.json", {"l/layer.tar"})}});
  std::string gz = Gzip(tar);
  auto r = LoadInto(*store_, gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << r.error().message();
}

TEST_F(ArchiveTest, RefusesHugeManifestJson) {
  std::string huge = "[" + std::string(5 << 20, ' ') + "]";
  auto r = LoadInto(*store_, MakeTar({{.name = "manifest.json", .data = huge}}));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument());
  EXPECT_EQ(r.error().message(), "manifest.json: 5242882 bytes, more than 4194304");
}

TEST_F(ArchiveTest, RefusesDeeplyNestedManifestJson) {
  std::string deep = std::string(1 << 20, '[') + std::string(1 << 20, ']');
  auto r = LoadInto(*store_, MakeTar({{.name = "manifest.json", .data = deep}}));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().message();
}

TEST_F(ArchiveTest, RefusesHugeEntryClaimBeforeReading) {
  // A header claiming 10 GB and no data: refused from the header alone.
  std::string tar = RawUstarHeader("l/layer.tar", uint64_t{10} << 30) + std::string(1024, '\0');
  LoadOptions options{.max_entry_bytes = uint64_t{1} << 30};
  auto r = LoadInto(*store_, tar, options);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().message();
  EXPECT_NE(r.error().message().find("l/layer.tar: entry claims"), std::string::npos);
}

TEST_F(ArchiveTest, RefusesBlobWhoseBytesDoNotMatchItsName) {
  std::string name = "blobs/sha256/" + std::string(DigestOf("other").hex());
  auto r = LoadInto(
      *store_, MakeTar({{.name = "oci-layout", .data = "{}"}, {.name = name, .data = "data"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.error().message().find(name + ": digest mismatch"), std::string::npos);
  EXPECT_FALSE(store_->Info(DigestOf("data")));
}

TEST_F(ArchiveTest, RefusesArchiveWithoutManifest) {
  auto r = LoadInto(*store_, MakeTar({{.name = "a", .data = "b"}}));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument());
}

TEST_F(ArchiveTest, SaveRefusesMissingBlob) {
  SaveImage img{.config_digest = DigestOf("nope")};
  auto r = Save({img});
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound()) << r.error().message();
}

}  // namespace
}  // namespace berth::image
