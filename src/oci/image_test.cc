#include "oci/image.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "oci/media_types.h"
#include "util/sha256.h"

namespace berth::oci {
namespace {

std::string H(char c) { return std::string(64, c); }
std::string D(char c) { return "sha256:" + H(c); }

// A Docker manifest list as Docker Hub serves busybox: amd64 and arm64/v8.
const std::string kManifestList =
    R"({
  "manifests": [
    {"digest": ")" +
    D('1') + R"(", "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
     "platform": {"architecture": "amd64", "os": "linux"}, "size": 528},
    {"digest": ")" +
    D('2') + R"(", "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}, "size": 528}
  ],
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "schemaVersion": 2
})";

// An OCI index as buildx pushes it: one image and its attestation manifest.
const std::string kOciIndexDoc = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ")" +
                                 D('a') + R"(",
     "size": 1234, "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ")" +
                                 D('b') + R"(",
     "size": 566, "annotations": {"vnd.docker.reference.digest": ")" +
                                 D('a') + R"(",
     "vnd.docker.reference.type": "attestation-manifest"},
     "platform": {"architecture": "unknown", "os": "unknown"}}
  ],
  "annotations": {"org.opencontainers.image.created": "2024-05-01T00:00:00Z"}
})";

const std::string kDockerManifestDoc = R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1457,
              "digest": ")" + D('c') + R"("},
   "layers": [
      {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 2152262,
       "digest": ")" + D('d') + R"("},
      {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "size": 10,
       "digest": ")" + D('e') + R"(", "urls": ["https://example.com/layer"]}
   ]
})";

// An OCI 1.1 artifact: empty config, a subject, an artifactType.
const std::string kArtifactDoc = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/vnd.example.sbom",
  "config": {"mediaType": "application/vnd.oci.empty.v1+json",
             "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
             "size": 2},
  "layers": [{"mediaType": "application/spdx+json", "digest": ")" +
                                 D('f') + R"(", "size": 99}],
  "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": ")" + D('a') +
                                 R"(", "size": 1234},
  "annotations": {"org.opencontainers.image.created": "2024-05-01T00:00:00Z"}
})";

// A config as docker build writes it: history with empty layers, Docker's legacy fields.
const std::string kDockerConfigDoc = R"({
  "architecture": "amd64",
  "config": {
    "Hostname": "", "Domainname": "", "User": "app", "AttachStdin": false, "Tty": false,
    "ExposedPorts": {"8080/tcp": {}, "53/udp": {}},
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=b"],
    "Cmd": ["sh"], "Entrypoint": null, "Image": ")" +
                                     D('9') + R"(",
    "Volumes": {"/data": {}}, "WorkingDir": "/srv", "OnBuild": null,
    "Labels": {"maintainer": "me"}, "StopSignal": "SIGQUIT", "ArgsEscaped": true,
    "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 30000000000, "Retries": 3},
    "Shell": ["/bin/sh", "-c"], "StopTimeout": 10
  },
  "container": "3c7e1b9e",
  "container_config": {"Cmd": ["/bin/sh", "-c", "#(nop) CMD [\"sh\"]"]},
  "created": "2024-01-02T03:04:05.123456789Z",
  "docker_version": "20.10.23",
  "history": [
    {"created": "2024-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
    {"created": "2024-01-01T00:00:01Z", "created_by": "/bin/sh -c #(nop)  CMD [\"sh\"]",
     "empty_layer": true},
    {"created": "2024-01-02T03:04:05Z", "created_by": "RUN /bin/sh -c echo > /x", "author": "me",
     "comment": "buildkit.dockerfile.v0"}
  ],
  "os": "linux",
  "rootfs": {"type": "layers", "diff_ids": [")" +
                                     D('3') + R"(", ")" + D('4') + R"("]}
})";

TEST(ImageTest, ParsesADockerManifestList) {
  auto x = ParseIndex(kManifestList);
  ASSERT_TRUE(x) << x.error().message();
  EXPECT_EQ(x->media_type, kDockerManifestList);
  ASSERT_EQ(x->manifests.size(), 2u);
  EXPECT_EQ(x->manifests[0].digest.str(), D('1'));
  EXPECT_EQ(x->manifests[0].size, 528);
  ASSERT_TRUE(x->manifests[1].platform);
  EXPECT_EQ(x->manifests[1].platform->architecture, "arm64");
  EXPECT_EQ(x->manifests[1].platform->variant, "v8");
  EXPECT_EQ(*DetectManifestMediaType(kManifestList), kDockerManifestList);
}

TEST(ImageTest, ParsesAnOciIndexWithAttestations) {
  auto x = ParseIndex(kOciIndexDoc);
  ASSERT_TRUE(x) << x.error().message();
  ASSERT_EQ(x->manifests.size(), 2u);
  EXPECT_EQ(x->manifests[1].annotations.at("vnd.docker.reference.type"), "attestation-manifest");
  EXPECT_EQ(x->manifests[1].platform->os, "unknown");
  EXPECT_EQ(x->annotations.size(), 1u);
}

TEST(ImageTest, ParsesManifests) {
  auto m = ParseManifest(kDockerManifestDoc);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->config.media_type, kDockerConfig);
  EXPECT_EQ(m->config.size, 1457);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(LayerCompression(m->layers[0].media_type), Compression::kGzip);
  EXPECT_TRUE(IsNondistributableLayer(m->layers[1].media_type));
  EXPECT_EQ(m->layers[1].urls, std::vector<std::string>{"https://example.com/layer"});
  EXPECT_FALSE(m->subject);

  auto a = ParseManifest(kArtifactDoc);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->artifact_type, "application/vnd.example.sbom");
  EXPECT_EQ(a->config.digest.str(), kOciEmptyJsonDigest);
  ASSERT_TRUE(a->subject);
  EXPECT_EQ(a->subject->digest.str(), D('a'));
  EXPECT_EQ(*Sha256Hex("{}"), Digest::Parse(kOciEmptyJsonDigest)->hex());
}

TEST(ImageTest, ParsesADockerConfig) {
  auto c = ParseConfig(kDockerConfigDoc);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->created, "2024-01-02T03:04:05.123456789Z");
  ASSERT_TRUE(c->config);
  const ContainerConfig& cc = *c->config;
  EXPECT_EQ(cc.user, "app");
  EXPECT_EQ(cc.exposed_ports, (std::vector<std::string>{"53/udp", "8080/tcp"}));
  EXPECT_EQ(cc.env.size(), 2u);
  EXPECT_EQ(cc.cmd, std::vector<std::string>{"sh"});
  EXPECT_FALSE(cc.entrypoint);
  EXPECT_EQ(cc.volumes, std::vector<std::string>{"/data"});
  EXPECT_EQ(cc.working_dir, "/srv");
  EXPECT_EQ(cc.labels.at("maintainer"), "me");
  EXPECT_EQ(cc.stop_signal, "SIGQUIT");
  EXPECT_TRUE(cc.args_escaped);
  ASSERT_TRUE(cc.healthcheck);
  EXPECT_EQ(cc.healthcheck->interval, 30000000000);
  EXPECT_EQ(cc.healthcheck->retries, 3);
  EXPECT_EQ(cc.shell.size(), 2u);
  EXPECT_EQ(cc.stop_timeout, 10);
  EXPECT_EQ(cc.image, D('9'));
  ASSERT_EQ(c->diff_ids.size(), 2u);
  EXPECT_EQ(c->diff_ids[1].str(), D('4'));
  ASSERT_EQ(c->history.size(), 3u);
  EXPECT_TRUE(c->history[1].empty_layer);
  EXPECT_EQ(c->history[2].comment, "buildkit.dockerfile.v0");
  EXPECT_EQ(c->unknown.size(), 3u);
  EXPECT_EQ(c->unknown.at("docker_version"), "\"20.10.23\"");
  EXPECT_EQ(c->unknown.at("container_config"), R"({"Cmd":["/bin/sh","-c","#(nop) CMD [\"sh\"]"]})");
}

TEST(ImageTest, EntrypointAndCmdAcceptOneString) {
  auto c = ParseConfig(R"({"rootfs":{"type":"layers"},"config":{"Entrypoint":"/run","Cmd":[]}})");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->config->entrypoint, std::vector<std::string>{"/run"});
  ASSERT_TRUE(c->config->cmd);
  EXPECT_TRUE(c->config->cmd->empty());
}

TEST(ImageTest, RoundTrips) {
  for (const std::string* doc : {&kDockerManifestDoc, &kArtifactDoc}) {
    auto m = ParseManifest(*doc);
    ASSERT_TRUE(m);
    std::string once = Serialize(*m);
    auto again = ParseManifest(once);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(Serialize(*again), once);
  }
  for (const std::string* doc : {&kManifestList, &kOciIndexDoc}) {
    auto x = ParseIndex(*doc);
    ASSERT_TRUE(x);
    std::string once = Serialize(*x);
    auto again = ParseIndex(once);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(Serialize(*again), once);
  }
  auto c = ParseConfig(kDockerConfigDoc);
  ASSERT_TRUE(c);
  std::string once = Serialize(*c);
  auto again = ParseConfig(once);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(Serialize(*again), once);
  EXPECT_EQ(again->unknown, c->unknown);
  EXPECT_EQ(again->config->cmd, c->config->cmd);
  EXPECT_EQ(again->history.size(), 3u);
}

TEST(ImageTest, SerializesInAStableOrder) {
  ImageConfig c;
  c.created = "2024-01-01T00:00:00Z";
  c.architecture = "arm64";
  c.os = "linux";
  c.variant = "v8";
  ContainerConfig cc;
  cc.env = {"PATH=/bin"};
  cc.cmd = std::vector<std::string>{"sh"};
  cc.labels = {{"z", "1"}, {"a", "2"}};
  cc.exposed_ports = {"80/tcp", "443/tcp"};
  c.config = cc;
  c.diff_ids = {Digest::Sha256Hex(H('1'))};
  c.history = {{"2024-01-01T00:00:00Z", "import", "", "", false}};
  const std::string want =
      R"({"created":"2024-01-01T00:00:00Z","architecture":"arm64","os":"linux","variant":"v8",)"
      R"("config":{"ExposedPorts":{"443/tcp":{},"80/tcp":{}},"Env":["PATH=/bin"],"Cmd":["sh"],)"
      R"("Labels":{"a":"2","z":"1"}},"rootfs":{"type":"layers","diff_ids":[")" +
      D('1') + R"("]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"import"}]})";
  EXPECT_EQ(Serialize(c), want);

  auto blob = MakeConfig(c);
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->bytes, want);
  EXPECT_EQ(blob->id.str(), "sha256:" + *Sha256Hex(want));
  EXPECT_EQ(MakeConfig(c)->id, blob->id);  // same value, same id

  Descriptor d{
      .media_type = std::string(kOciLayerTarZstd), .digest = Digest::Sha256Hex(H('2')), .size = 7};
  EXPECT_EQ(Serialize(d), R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd",)"
                          R"("digest":")" +
                              D('2') + R"(","size":7})");
}

TEST(ImageTest, LoadedConfigKeepsItsBytes) {
  auto blob = LoadConfig(kDockerConfigDoc);
  ASSERT_TRUE(blob) << blob.error().message();
  EXPECT_EQ(blob->bytes, kDockerConfigDoc);
  EXPECT_EQ(blob->id.hex(), *Sha256Hex(kDockerConfigDoc));
  // Re-serialising gives other bytes, and so another id: never do it for a loaded config.
  EXPECT_NE(Serialize(blob->config), kDockerConfigDoc);
}

TEST(ImageTest, MediaTypes) {
  EXPECT_TRUE(IsManifest(kOciManifest));
  EXPECT_TRUE(IsManifest(kDockerManifest));
  EXPECT_FALSE(IsManifest(kOciIndex));
  EXPECT_TRUE(IsIndex(kDockerManifestList));
  EXPECT_TRUE(IsIndex(kOciIndex));
  EXPECT_TRUE(IsConfig(kDockerConfig));
  EXPECT_TRUE(IsLayer(kOciLayerNondistributableTarGzip));
  EXPECT_FALSE(IsLayer(kOciConfig));
  EXPECT_EQ(LayerCompression(kOciLayerTar), Compression::kNone);
  EXPECT_EQ(LayerCompression(kDockerLayerTar), Compression::kNone);
  EXPECT_EQ(LayerCompression(kOciLayerTarZstd), Compression::kZstd);
  EXPECT_EQ(LayerCompression(kDockerForeignLayerTarGzip), Compression::kGzip);
  EXPECT_EQ(LayerCompression("text/plain"), Compression::kUnknown);
}

TEST(ImageTest, PlatformMatching) {
  Platform amd64{.architecture = "amd64", .os = "linux"};
  Platform arm64{.architecture = "arm64", .os = "linux"};
  Platform arm64v8{.architecture = "arm64", .os = "linux", .variant = "v8"};
  Platform armv7{.architecture = "arm", .os = "linux", .variant = "v7"};
  EXPECT_TRUE(PlatformMatches(amd64, amd64));
  EXPECT_FALSE(PlatformMatches(amd64, arm64));
  EXPECT_TRUE(PlatformMatches(arm64, arm64v8));
  EXPECT_TRUE(PlatformMatches(arm64v8, arm64));
  EXPECT_FALSE(
      PlatformMatches(armv7, Platform{.architecture = "arm", .os = "linux", .variant = "v6"}));
}

struct Bad {
  std::string json;
  std::string error;
};

std::string Layer(std::string_view size, std::string_view digest) {
  return R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
         std::string(digest) + R"(","size":)" + std::string(size) + "}";
}

std::string Manifest(std::string_view layers) {
  return R"({"schemaVersion":2,"config":)" + Layer("1", D('1')) + R"(,"layers":[)" +
         std::string(layers) + "]}";
}

TEST(ImageTest, ManifestErrorsNameThePath) {
  const std::vector<Bad> cases = {
      {Manifest(Layer("1", D('2')) + "," + Layer("\"1\"", D('3'))),
       "layers[1].size: expected integer"},
      {Manifest(Layer("1.5", D('2'))), "layers[0].size: expected integer"},
      {Manifest(Layer("-1", D('2'))), "layers[0].size: must not be negative"},
      {Manifest(Layer("18446744073709551615", D('2'))), "layers[0].size: value out of range"},
      {Manifest(Layer("1", "sha256:abc")), "layers[0].digest: invalid digest \"sha256:abc\""},
      {Manifest(Layer("1", "SHA256:" + H('a'))),
       "layers[0].digest: unsupported digest algorithm \"SHA256\""},
      {Manifest("1"), "layers[0]: expected object"},
      {R"({"schemaVersion":2,"layers":[]})", "config: must be set"},
      {R"({"schemaVersion":2,"config":[],"layers":[]})", "config: expected object"},
      {R"({"schemaVersion":2,"config":{"digest":")" + D('1') + R"(","size":1}})",
       "config.mediaType: must be set"},
      {R"({"schemaVersion":2,"config":{"mediaType":"x","size":1}})", "config.digest: must be set"},
      {R"({"schemaVersion":2,"config":{"mediaType":"x","digest":")" + D('1') + R"("}})",
       "config.size: must be set"},
      {R"({"config":{}})", "schemaVersion: must be set"},
      {R"({"schemaVersion":"2"})", "schemaVersion: expected integer"},
      {R"({"schemaVersion":1,"fsLayers":[]})",
       "schemaVersion: docker image manifest schema 1 is not supported"},
      {R"({"schemaVersion":3})", "schemaVersion: unsupported version 3"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"})",
       "mediaType: \"application/vnd.oci.image.index.v1+json\" is not an image manifest"},
      {R"({"schemaVersion":2,"manifests":[],"config":{}})",
       "manifests: not allowed in an image manifest"},
      {R"({"schemaVersion":2,"mediaType":7})", "mediaType: expected string"},
      {Manifest("") + " x", "manifest: invalid JSON"},
      {"[]", "manifest: expected an object"},
      {"", "manifest: invalid JSON"},
      {R"({"schemaVersion":2,"schemaVersion":2})", "manifest: duplicate key \"schemaVersion\""},
      {R"({"schemaVersion":2,"config":{"size":1,"size":2}})", "manifest: duplicate key \"size\""},
      {R"({"schemaVersion":2,"config":)" + Layer("1", D('1')) + R"(,"annotations":{"a":1}})",
       "annotations.a: expected string"},
  };
  for (const auto& c : cases) {
    auto m = ParseManifest(c.json);
    ASSERT_FALSE(m) << c.json;
    EXPECT_TRUE(m.error().IsInvalidArgument());
    EXPECT_EQ(m.error().message(), c.error) << c.json;
  }
}

TEST(ImageTest, IndexAndConfigErrors) {
  const std::vector<Bad> index_cases = {
      {R"({"schemaVersion":2})", "manifests: must be set"},
      {R"({"schemaVersion":2,"manifests":{}})", "manifests: expected array"},
      {R"({"schemaVersion":2,"manifests":[],"layers":[]})",
       "layers: not allowed in an image index"},
      {R"({"schemaVersion":2,"manifests":[],"config":{}})",
       "config: not allowed in an image index"},
      {R"({"schemaVersion":2,"manifests":[{"mediaType":"m","digest":")" + D('1') +
           R"(","size":1,"platform":{"architecture":"amd64"}}]})",
       "manifests[0].platform.os: must be set"},
      {R"({"schemaVersion":2,"manifests":[{"mediaType":"m","digest":")" + D('1') +
           R"(","size":1,"platform":{"architecture":"amd64","os":"linux","os.features":"x"}}]})",
       "manifests[0].platform.os.features: expected array of strings"},
  };
  for (const auto& c : index_cases) {
    auto x = ParseIndex(c.json);
    ASSERT_FALSE(x) << c.json;
    EXPECT_EQ(x.error().message(), c.error) << c.json;
  }
  const std::vector<Bad> config_cases = {
      {R"({"os":"linux"})", "rootfs: must be set"},
      {R"({"rootfs":{"type":"layers","diff_ids":["sha256:x"]}})",
       "rootfs.diff_ids[0]: invalid digest \"sha256:x\""},
      {R"({"rootfs":{"type":"tarballs"}})", "rootfs.type: unsupported rootfs type \"tarballs\""},
      {R"({"rootfs":{"diff_ids":[]}})", "rootfs.type: must be set"},
      {R"({"rootfs":{"type":"layers"},"config":{"Env":"A=b"}})",
       "config.Env: expected array of strings"},
      {R"({"rootfs":{"type":"layers"},"config":{"ExposedPorts":{"80/tcp":1}}})",
       "config.ExposedPorts.80/tcp: expected object"},
      {R"({"rootfs":{"type":"layers"},"config":{"Healthcheck":{"Interval":"30s"}}})",
       "config.Healthcheck.Interval: expected integer"},
      {R"({"rootfs":{"type":"layers"},"config":{"ArgsEscaped":"yes"}})",
       "config.ArgsEscaped: expected boolean"},
      {R"({"rootfs":{"type":"layers"},"history":[{"empty_layer":1}]})",
       "history[0].empty_layer: expected boolean"},
      {R"({"rootfs":{"type":"layers"},"created":5})", "created: expected string"},
  };
  for (const auto& c : config_cases) {
    auto x = ParseConfig(c.json);
    ASSERT_FALSE(x) << c.json;
    EXPECT_EQ(x.error().message(), c.error) << c.json;
  }
}

TEST(ImageTest, RefusesHugeAndDeepDocuments) {
  std::string big = Manifest("");
  big.insert(big.size() - 1,
             R"(,"annotations":{"a":")" + std::string(kMaxDocumentBytes, 'x') + "\"}");
  auto m = ParseManifest(big);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message(), "manifest: larger than 4194304 bytes");

  std::string deep = R"({"schemaVersion":2,"x":)" + std::string(kMaxJsonDepth, '[') +
                     std::string(kMaxJsonDepth, ']') + "}";
  auto d = ParseManifest(deep);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message(), "manifest: nested deeper than 128 levels");
  auto cfg = ParseConfig(std::string(1 << 20, '{'));
  ASSERT_FALSE(cfg);
  EXPECT_EQ(cfg.error().message(), "image config: nested deeper than 128 levels");

  // Brackets inside strings do not count.
  std::string quoted = Manifest("");
  quoted.insert(quoted.size() - 1, R"(,"annotations":{"a":")" + std::string(1000, '[') + "\"}");
  EXPECT_TRUE(ParseManifest(quoted));
}

TEST(ImageTest, DetectsManifestKinds) {
  EXPECT_EQ(*DetectManifestMediaType(kDockerManifestDoc), kDockerManifest);
  EXPECT_EQ(*DetectManifestMediaType(R"({"schemaVersion":2,"manifests":[]})"), kOciIndex);
  EXPECT_EQ(*DetectManifestMediaType(R"({"schemaVersion":2,"config":{}})"), kOciManifest);
  EXPECT_FALSE(DetectManifestMediaType(R"({"schemaVersion":2})"));
  EXPECT_FALSE(DetectManifestMediaType(R"({"mediaType":"text/plain"})"));
  EXPECT_FALSE(DetectManifestMediaType(R"({"schemaVersion":1})"));
}

TEST(ImageTest, ParsesADescriptor) {
  auto d = ParseDescriptor(Layer("5", D('5')));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size, 5);
  EXPECT_EQ(Serialize(*d), Layer("5", D('5')));
  EXPECT_FALSE(ParseDescriptor("{}"));
}

}  // namespace
}  // namespace berth::oci
