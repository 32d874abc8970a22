#include "image/image_service.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "store/archive/test_tar.h"
#include "store/content/local_content_store.h"
#include "util/fd.h"
#include "util/file.h"
#include "util/sha256.h"

namespace berth::image {
namespace {

using store::archive::testing::Gzip;
using store::archive::testing::MakeTar;

class ImageServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-image-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    Open();
  }
  void TearDown() override {
    service_.reset();
    (void)RemoveAll(root_);
  }
  void Open() {
    service_.reset();
    snapshots_.reset();
    db_.reset();
    content_.reset();
    store::Layout layout(root_);
    ASSERT_TRUE(layout.Create());
    content_ = std::move(*store::content::LocalContentStore::Open(layout));
    db_ = std::move(*store::meta::MetadataDb::Open(layout.DbPath()));
    snapshots_ = std::move(*store::snapshot::OverlaySnapshotter::Open(layout.LayersRoot()));
    service_ = std::make_unique<ImageService>(layout, content_.get(), db_.get(), snapshots_.get());
    ASSERT_TRUE(service_->Recover());
  }
  Result<oci::Digest> Import(const std::string& data, ImportOptions options) {
    size_t off = 0;
    return service_->Import(
        [&](char* buf, size_t n) -> Result<size_t> {
          size_t k = std::min(n, data.size() - off);
          std::memcpy(buf, data.data() + off, k);
          off += k;
          return k;
        },
        options);
  }
  std::string Tar(const std::string& content) {
    return MakeTar({{.name = "bin", .type = AE_IFDIR, .perm = 0755},
                    {.name = "bin/hello", .perm = 0755, .data = content}});
  }
  size_t LayerCount() {
    size_t n = 0;
    (void)db_->Read([&](store::meta::Tx& tx) -> Result<void> {
      n = BERTH_TRY(tx.ListLayers()).size();
      return {};
    });
    return n;
  }

  std::string root_;
  std::unique_ptr<store::content::LocalContentStore> content_;
  std::unique_ptr<store::meta::MetadataDb> db_;
  std::unique_ptr<store::snapshot::OverlaySnapshotter> snapshots_;
  std::unique_ptr<ImageService> service_;
};

TEST_F(ImageServiceTest, ImportMakesATaggedImageWithChanges) {
  auto id = Import(Gzip(Tar("hi")),
                   {.reference = "busybox", .changes = {"CMD [\"sh\"]", "ENV A=1", "WORKDIR /w"}});
  ASSERT_TRUE(id) << id.error().message();
  auto img = service_->Get("busybox");
  ASSERT_TRUE(img) << img.error().message();
  EXPECT_EQ(img->record.id, *id);
  EXPECT_EQ(img->tags, std::vector<std::string>{"docker.io/library/busybox:latest"});
  ASSERT_TRUE(img->config.config.config);
  EXPECT_EQ(*img->config.config.config->cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(img->config.config.config->env, std::vector<std::string>{"A=1"});
  EXPECT_EQ(img->config.config.config->working_dir, "/w");
  ASSERT_EQ(img->config.config.history.size(), 1u);
  EXPECT_EQ(img->config.config.history[0].comment, "Imported from -");
  EXPECT_GT(img->record.size, 0);
  // Every way of naming it.
  for (const std::string& name : std::vector<std::string>{
           "docker.io/library/busybox:latest", "busybox:latest", id->str(), std::string(id->hex()),
           std::string(id->hex().substr(0, 1)), "sha256:" + std::string(id->hex().substr(0, 5))}) {
    auto got = service_->Get(name);
    ASSERT_TRUE(got) << name << ": " << got.error().message();
    EXPECT_EQ(got->record.id, *id);
  }
  auto missing = service_->Get("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "No such image: nope:latest");
  EXPECT_TRUE(missing.error().IsNotFound());
  EXPECT_FALSE(service_->Get("UPPER"));
}

TEST_F(ImageServiceTest, ASharedLayerIsStoredOnce) {
  std::string tar = Tar("same");
  auto a = Import(tar, {.reference = "a"});
  auto b = Import(tar, {.reference = "b", .changes = {"CMD [\"x\"]"}});
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(LayerCount(), 1u);
  auto df = service_->DiskUsage();
  ASSERT_TRUE(df);
  ASSERT_EQ(df->images.size(), 2u);
  EXPECT_EQ(df->images[0].shared_size, df->images[0].image.record.size);
  EXPECT_EQ(df->layers_size, df->images[0].image.record.size);
  // Deleting one keeps the layer; deleting the other removes it.
  auto d = service_->Delete("a", {});
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[0].untagged, "a:latest");
  EXPECT_EQ((*d)[1].deleted, a->str());
  EXPECT_EQ(LayerCount(), 1u);
  d = service_->Delete("b", {});
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 3u);  // untagged, the image, its layer
  EXPECT_EQ(LayerCount(), 0u);
  auto left = ListDir(root_ + "/blobs/sha256");
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
}

TEST_F(ImageServiceTest, TagDeleteRules) {
  auto id = Import(Tar("x"), {.reference = "one:v1"});
  ASSERT_TRUE(id);
  ASSERT_TRUE(service_->Tag("one:v1", "two"));
  EXPECT_EQ(service_->Get("two")->record.id, *id);
  EXPECT_FALSE(service_->Tag("one:v1", "Bad Name"));
  // By id with two tags: must force.
  auto c = service_->Delete(std::string(id->short_hex()), {});
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().IsConflict());
  EXPECT_EQ(c.error().message(), "conflict: unable to delete " + std::string(id->short_hex()) +
                                     " (must be forced) - image is referenced in multiple "
                                     "repositories");
  // By name with two tags: untag only.
  auto d = service_->Delete("two", {});
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].untagged, "two:latest");
  EXPECT_TRUE(service_->Get(id->str()));
  // A tag moved to a new image leaves the old one dangling, with its id.
  auto id2 = Import(Tar("y"), {.reference = "one:v1"});
  ASSERT_TRUE(id2);
  auto old = service_->Get(id->str());
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->tags.empty());
  auto dangling = service_->List({.dangling = true});
  ASSERT_TRUE(dangling);
  ASSERT_EQ(dangling->size(), 1u);
  EXPECT_EQ((*dangling)[0].record.id, *id);
  auto refs = service_->List({.references = {"one*"}});
  ASSERT_EQ(refs->size(), 1u);
  EXPECT_EQ((*refs)[0].record.id, *id2);
  // Prune removes the dangling one only.
  auto p = service_->Prune(false);
  ASSERT_TRUE(p);
  EXPECT_GT(p->space_reclaimed, 0);
  EXPECT_FALSE(service_->Get(id->str()));
  EXPECT_TRUE(service_->Get("one:v1"));
  EXPECT_FALSE(service_->Delete("nope", {}));
  auto h = service_->History("one:v1");
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].id, id2->str());
  EXPECT_EQ((*h)[0].tags, std::vector<std::string>{"one:v1"});
}

TEST_F(ImageServiceTest, RecoverRemovesWhatACrashLeft) {
  auto id = Import(Tar("z"), {.reference = "keep"});
  ASSERT_TRUE(id);
  // A half-made import: a snapshot being extracted, a blob without a row.
  ASSERT_TRUE(snapshots_->Prepare("extract-crashed", ""));
  auto w = *content_->Writer("stray", std::nullopt);
  ASSERT_TRUE(w->Write(std::string_view("stray bytes")));
  ASSERT_TRUE(w->Commit(std::nullopt, {}));
  Open();
  EXPECT_FALSE(snapshots_->Stat("extract-crashed"));
  EXPECT_TRUE(service_->Get("keep"));
  auto blobs = ListDir(root_ + "/blobs/sha256");
  EXPECT_EQ(blobs->size(), 3u);  // the layer, the config, the manifest
  EXPECT_EQ(service_->Count(), 1);
}

TEST_F(ImageServiceTest, AHostileTarLeavesNothing) {
  auto bad = Import(MakeTar({{.name = "../escape", .data = "x"}}), {.reference = "bad"});
  EXPECT_FALSE(bad);
  EXPECT_EQ(LayerCount(), 0u);
  EXPECT_EQ(service_->Count(), 0);
  size_t snaps = 0;
  ASSERT_TRUE(snapshots_->Walk([&](const store::snapshot::Info&) -> Result<void> {
    ++snaps;
    return {};
  }));
  EXPECT_EQ(snaps, 0u);
}

TEST_F(ImageServiceTest, SaveDeleteLoadKeepsTheIdAndTheTag) {
  auto id = Import(Gzip(Tar("hi")), {.reference = "busybox"});
  ASSERT_TRUE(id) << id.error().message();
  std::string path = root_ + "/x.tar";
  {
    auto fd = Fd::Open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(fd);
    auto saved = service_->SaveImages({"busybox", id->str()}, fd->get());
    ASSERT_TRUE(saved) << saved.error().message();
  }
  ASSERT_TRUE(service_->Delete("busybox", {}));
  EXPECT_EQ(LayerCount(), 0u);
  std::string bytes = *ReadFile(path, 1 << 30);
  size_t off = 0;
  auto lines = service_->LoadImages([&](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min(n, bytes.size() - off);
    std::memcpy(buf, bytes.data() + off, k);
    off += k;
    return k;
  });
  ASSERT_TRUE(lines) << lines.error().message();
  EXPECT_EQ(*lines, std::vector<std::string>{"Loaded image: busybox:latest"});
  auto img = service_->Get("busybox");
  ASSERT_TRUE(img) << img.error().message();
  EXPECT_EQ(img->record.id, *id);
  EXPECT_EQ(LayerCount(), 1u);
  EXPECT_GT(img->record.size, 0);
}

TEST_F(ImageServiceTest, LoadOfGarbageFailsAndLeavesNoImage) {
  std::string junk(1000, 'x');
  size_t off = 0;
  auto lines = service_->LoadImages([&](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min(n, junk.size() - off);
    std::memcpy(buf, junk.data() + off, k);
    off += k;
    return k;
  });
  EXPECT_FALSE(lines);
  EXPECT_EQ(service_->Count(), 0);
}

// A docker-archive of the given layer blobs (manifest.json first: it may come before the
// blobs), with one tag.
std::string DockerArchive(const std::vector<std::string>& blobs,
                          const std::vector<std::string>& diff_ids, const std::string& tag) {
  std::string ids, layers;
  for (size_t i = 0; i < blobs.size(); ++i) {
    ids += (i ? "," : "") + ("\"" + diff_ids[i] + "\"");
    layers += (i ? "," : "") + ("\"l" + std::to_string(i) + "/layer.tar\"");
  }
  std::string config =
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
      "\"layers\",\"diff_ids\":[" +
      ids + "]}}";
  std::string config_hex = *Sha256Hex(config);
  std::vector<store::archive::testing::TarEntry> entries = {
      {.name = "manifest.json",
       .data = "[{\"Config\":\"" + config_hex + ".json\",\"RepoTags\":[\"" + tag +
               "\"],\"Layers\":[" + layers + "]}]"},
      {.name = config_hex + ".json", .data = config}};
  for (size_t i = 0; i < blobs.size(); ++i)
    entries.push_back({.name = "l" + std::to_string(i) + "/layer.tar", .data = blobs[i]});
  return MakeTar(entries);
}

Result<std::vector<std::string>> LoadString(ImageService& s, const std::string& bytes) {
  size_t off = 0;
  return s.LoadImages([&](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min(n, bytes.size() - off);
    std::memcpy(buf, bytes.data() + off, k);
    off += k;
    return k;
  });
}

TEST_F(ImageServiceTest, LoadUnpacksLayersWhileStreamingAndLeavesNoExtraction) {
  std::string base = Tar("base");
  std::string top = MakeTar({{.name = "etc", .type = AE_IFDIR, .perm = 0755},
                             {.name = "etc/top", .data = "top"},
                             {.name = "bin/.wh.hello", .data = ""}});
  std::string top_gz = Gzip(top);
  std::string archive = DockerArchive(
      {base, top_gz}, {"sha256:" + *Sha256Hex(base), "sha256:" + *Sha256Hex(top)}, "two:layers");
  int64_t progress_calls = 0;
  auto lines = service_->LoadImages(
      [&, off = size_t{0}](char* buf, size_t n) mutable -> Result<size_t> {
        size_t k = std::min(n, archive.size() - off);
        std::memcpy(buf, archive.data() + off, k);
        off += k;
        return k;
      },
      [&](const std::string&, int64_t, int64_t) { ++progress_calls; });
  ASSERT_TRUE(lines) << lines.error().message();
  EXPECT_EQ(*lines, std::vector<std::string>{"Loaded image: two:layers"});
  EXPECT_GT(progress_calls, 0);
  std::vector<std::string> names;
  ASSERT_TRUE(snapshots_->Walk([&](const store::snapshot::Info& i) -> Result<void> {
    names.push_back(i.name + (i.parent.empty() ? "" : " on " + i.parent));
    return {};
  }));
  ASSERT_EQ(names.size(), 2u);
  auto img = service_->Get("two:layers");
  ASSERT_TRUE(img) << img.error().message();
  ASSERT_EQ(img->record.layers.size(), 2u);
  const std::string base_chain = img->record.layers[0].chain_id.str();
  const std::string top_chain = img->record.layers[1].chain_id.str();
  EXPECT_NE(std::find(names.begin(), names.end(), top_chain + " on " + base_chain), names.end());
  // GraphDriver: the top layer's own files, the base below it.
  EXPECT_EQ(*ReadFile(img->graph_driver.at("UpperDir") + "/etc/top", 100), "top");
  EXPECT_TRUE(PathExists(img->graph_driver.at("LowerDir") + "/bin/hello"));
  EXPECT_EQ(img->graph_driver.at("LowerDir").find(':'), std::string::npos);
  EXPECT_FALSE(img->last_tag_time.empty());
  // Loading again reuses the layers and leaves nothing new.
  ASSERT_TRUE(LoadString(*service_, archive));
  size_t count = 0;
  ASSERT_TRUE(snapshots_->Walk([&](const store::snapshot::Info&) -> Result<void> {
    ++count;
    return {};
  }));
  EXPECT_EQ(count, 2u);
}

TEST_F(ImageServiceTest, LoadOfAHostileLayerFailsAndLeavesNoSnapshot) {
  std::string bad = MakeTar({{.name = "../escape", .data = "x"}});
  std::string archive = DockerArchive({bad}, {"sha256:" + *Sha256Hex(bad)}, "bad:1");
  auto lines = LoadString(*service_, archive);
  ASSERT_FALSE(lines);
  EXPECT_NE(lines.error().message().find("escapes the layer"), std::string::npos)
      << lines.error().message();
  EXPECT_EQ(service_->Count(), 0);
  size_t snaps = 0;
  ASSERT_TRUE(snapshots_->Walk([&](const store::snapshot::Info&) -> Result<void> {
    ++snaps;
    return {};
  }));
  EXPECT_EQ(snaps, 0u);
  EXPECT_FALSE(PathExists(root_ + "/escape"));
}

TEST_F(ImageServiceTest, LoadWithAWrongDiffIdFailsAndLeavesNoSnapshot) {
  std::string layer = Tar("x");
  std::string archive = DockerArchive({layer}, {"sha256:" + std::string(64, 'a')}, "wrong:1");
  auto lines = LoadString(*service_, archive);
  ASSERT_FALSE(lines);
  EXPECT_EQ(lines.error().code(), ErrorCode::kDataLoss) << lines.error().message();
  size_t snaps = 0;
  ASSERT_TRUE(snapshots_->Walk([&](const store::snapshot::Info&) -> Result<void> {
    ++snaps;
    return {};
  }));
  EXPECT_EQ(snaps, 0u);
}

TEST_F(ImageServiceTest, SaveOfARepositoryKeepsEveryTag) {
  auto id = Import(Tar("a"), {.reference = "repo:1"});
  ASSERT_TRUE(id) << id.error().message();
  ASSERT_TRUE(service_->Tag("repo:1", "repo:2"));
  ASSERT_TRUE(Import(Tar("b"), {.reference = "other:1"}));
  std::string path = root_ + "/r.tar";
  {
    auto fd = Fd::Open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(fd);
    ASSERT_TRUE(service_->SaveImages({"repo"}, fd->get()));
  }
  ASSERT_TRUE(service_->Delete("repo:1", {}));
  ASSERT_TRUE(service_->Delete("repo:2", {}));
  auto lines = LoadString(*service_, *ReadFile(path, 1 << 30));
  ASSERT_TRUE(lines) << lines.error().message();
  EXPECT_EQ(*lines, (std::vector<std::string>{"Loaded image: repo:1", "Loaded image: repo:2"}));
}

}  // namespace
}  // namespace berth::image
