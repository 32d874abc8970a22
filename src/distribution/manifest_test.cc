#include "distribution/manifest.h"

#include <gtest/gtest.h>

#include "distribution/registry_client.h"
#include "oci/media_types.h"

namespace berth::distribution {
namespace {

const char kIndex[] = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
     "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
     "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
     "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
     "platform": {"architecture": "unknown", "os": "unknown"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
     "digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
     "digest": "sha256:4444444444444444444444444444444444444444444444444444444444444444",
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
     "digest": "sha256:5555555555555555555555555555555555555555555555555555555555555555",
     "platform": {"architecture": "arm", "os": "linux", "variant": "v6"}}
  ]
})";

std::string Pick(const char* platform) {
  auto index = oci::ParseIndex(kIndex);
  EXPECT_TRUE(index) << index.error().message();
  auto p = ParsePlatform(platform);
  EXPECT_TRUE(p) << p.error().message();
  auto d = SelectManifest(*index, *p);
  if (!d) return d.error().message();
  return std::string(d->digest.hex().substr(0, 1));
}

TEST(SelectManifest, ByPlatform) {
  EXPECT_EQ(Pick("linux/amd64"), "3");
  EXPECT_EQ(Pick("linux/arm64"), "4");
  EXPECT_EQ(Pick("linux/arm64/v8"), "4");
  EXPECT_EQ(Pick("linux/arm/v7"), "1");
  EXPECT_EQ(Pick("linux/arm/v6"), "5");
  EXPECT_EQ(Pick("linux/s390x"),
            "no matching manifest for linux/s390x in the manifest list entries");
  EXPECT_EQ(Pick("windows/amd64"),
            "no matching manifest for windows/amd64 in the manifest list entries");
}

TEST(SelectManifest, DockerManifestListAndSkipsNonImages) {
  const char list[] = R"({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests": [
      {"mediaType": "application/vnd.in-toto+json", "size": 1,
       "digest": "sha256:9999999999999999999999999999999999999999999999999999999999999999",
       "platform": {"architecture": "amd64", "os": "linux"}},
      {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 1,
       "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "platform": {"architecture": "amd64", "os": "linux"}}
    ]})";
  auto index = oci::ParseIndex(list);
  ASSERT_TRUE(index) << index.error().message();
  auto d = SelectManifest(*index, {.architecture = "amd64", .os = "linux"});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->digest.hex()[0], 'a');
  EXPECT_EQ(d->media_type, oci::kDockerManifest);
}

TEST(Platform, ParseAndFormat) {
  EXPECT_EQ(FormatPlatform(*ParsePlatform("Linux/x86_64")), "linux/amd64");
  EXPECT_EQ(FormatPlatform(*ParsePlatform("linux/arm/v7")), "linux/arm/v7");
  EXPECT_FALSE(ParsePlatform("linux//v7"));
  EXPECT_FALSE(ParsePlatform("a/b/c/d"));
  EXPECT_FALSE(ParsePlatform(""));
  EXPECT_EQ(HostPlatform().os, "linux");
}

TEST(CheckPullable, RefusesWhatTheStoreCannotTake) {
  oci::ImageManifest m;
  m.config = {std::string(oci::kOciConfig), *oci::Digest::Parse("sha256:" + std::string(64, 'b')),
              2};
  m.layers = {{std::string(oci::kOciLayerTarGzip),
               *oci::Digest::Parse("sha256:" + std::string(64, 'c')), 10}};
  EXPECT_TRUE(CheckPullable(m));
  auto bad_config = m;
  bad_config.config.media_type = "application/vnd.cncf.helm.config.v1+json";
  EXPECT_TRUE(CheckPullable(bad_config).error().IsInvalidArgument());
  auto bad_layer = m;
  bad_layer.layers[0].media_type = "application/octet-stream";
  EXPECT_EQ(CheckPullable(bad_layer).error().message(),
            "manifest: layer 0: unsupported media type application/octet-stream");
  auto foreign = m;
  foreign.layers[0].media_type = std::string(oci::kDockerForeignLayerTarGzip);
  foreign.layers[0].urls = {"https://example/x"};
  EXPECT_TRUE(CheckPullable(foreign).error().IsNotImplemented());
}

TEST(RegistryErrorText, AsDockerPrintsIt) {
  EXPECT_EQ(
      RegistryErrorText(
          404,
          R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]})"),
      "manifest unknown: manifest unknown");
  EXPECT_EQ(RegistryErrorText(
                401, R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"),
            "unauthorized: authentication required");
  EXPECT_EQ(RegistryErrorText(502, "<html>"), "unexpected status: 502 Bad Gateway");
}

}  // namespace
}  // namespace berth::distribution
