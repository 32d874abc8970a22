#include "image/image_service.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "store/archive/test_tar.h"
#include "store/content/local_content_store.h"
#include "util/fd.h"
#include "util/file.h"

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

}  // namespace
}  // namespace berth::image
