#include "store/meta/metadata_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <thread>

#include "store/meta/schema.h"
#include "util/file.h"
#include "util/sha256.h"

namespace berth::store::meta {
namespace {

oci::Digest D(std::string_view seed) { return oci::Digest::Sha256Hex(Sha256Hex(seed).value()); }

class MetadataDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-meta-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/berth.db";
    auto db = MetadataDb::Open(path_);
    ASSERT_TRUE(db) << db.error().message();
    db_ = std::move(*db);
  }
  void TearDown() override {
    db_.reset();
    ASSERT_TRUE(RemoveAll(dir_));
  }

  // A layer chain base → top, and an image over it.
  LayerRecord Layer(std::string_view name, const oci::Digest& parent = {}) {
    LayerRecord l;
    l.chain_id = D(std::string("chain-") + std::string(name));
    l.diff_id = D(std::string("diff-") + std::string(name));
    l.parent = parent;
    l.blob_digest = D(std::string("blob-") + std::string(name));
    l.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
    l.size = 10;
    l.unpacked_size = 20;
    return l;
  }
  ImageRecord Image(std::string_view name, const std::vector<LayerRecord>& layers) {
    ImageRecord im;
    im.id = D(std::string("config-") + std::string(name));
    im.manifest_digest = D(std::string("manifest-") + std::string(name));
    im.media_type = "application/vnd.oci.image.manifest.v1+json";
    im.os = "linux";
    im.architecture = "amd64";
    im.created = "2024-01-01T00:00:00Z";
    im.labels = {{"org.example", "yes"}};
    for (const auto& l : layers) im.layers.push_back({l.chain_id, l.diff_id, l.blob_digest});
    return im;
  }
  Result<void> Write(const std::function<Result<void>(Tx&)>& fn) { return db_->Write(fn); }

  std::string dir_, path_;
  std::unique_ptr<MetadataDb> db_;
};

TEST_F(MetadataDbTest, FreshDatabaseHasLatestSchema) {
  EXPECT_EQ(db_->schema_version(), LatestSchemaVersion());
  EXPECT_GE(LatestSchemaVersion(), 1);
  db_.reset();
  auto again = MetadataDb::Open(path_);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->schema_version(), LatestSchemaVersion());
}

TEST_F(MetadataDbTest, NewerSchemaIsRefused) {
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "UPDATE schema_version SET version = 999", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto db = MetadataDb::Open(path_);
  ASSERT_FALSE(db);
  EXPECT_TRUE(db.error().IsFailedPrecondition()) << db.error().message();
  EXPECT_NE(db.error().message().find("999"), std::string::npos);
}

TEST_F(MetadataDbTest, MissingVersionRowIsDataLoss) {
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DELETE FROM schema_version", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  auto db = MetadataDb::Open(path_);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code(), ErrorCode::kDataLoss);
}

TEST_F(MetadataDbTest, GarbageFileIsRefused) {
  db_.reset();
  ASSERT_TRUE(RemoveAll(path_ + "-wal"));
  ASSERT_TRUE(RemoveAll(path_ + "-shm"));
  ASSERT_TRUE(WriteFile(path_, std::string(8192, 'x')));
  auto db = MetadataDb::Open(path_);
  ASSERT_FALSE(db);
  EXPECT_EQ(db.error().code(), ErrorCode::kDataLoss) << db.error().message();
}

TEST_F(MetadataDbTest, PutGetListDeleteImage) {
  auto base = Layer("base");
  auto top = Layer("top", base.chain_id);
  auto im = Image("a", {base, top});
  im.blobs = {D("index-a")};
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(tx.PutLayer(base));
    BERTH_TRY(tx.PutLayer(top));
    return tx.PutImage(im);
  }));
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Result<void> {
    auto got = BERTH_TRY(tx.GetImage(im.id));
    EXPECT_EQ(got.id, im.id);
    EXPECT_EQ(got.manifest_digest, im.manifest_digest);
    EXPECT_EQ(got.os, "linux");
    EXPECT_EQ(got.labels, im.labels);
    EXPECT_EQ(got.blobs, im.blobs);
    EXPECT_EQ(got.state, RecordState::kComplete);
    EXPECT_EQ(got.layers.size(), 2u);
    EXPECT_EQ(got.layers[0].chain_id, base.chain_id);
    EXPECT_EQ(got.layers[1].blob_digest, top.blob_digest);
    EXPECT_EQ(BERTH_TRY(tx.ListImages()).size(), 1u);
    auto l = BERTH_TRY(tx.GetLayer(top.chain_id));
    EXPECT_EQ(l.parent, base.chain_id);
    EXPECT_EQ(l.unpacked_size, 20);
    EXPECT_EQ(BERTH_TRY(tx.ListLayers()).size(), 2u);
    EXPECT_EQ(BERTH_TRY(tx.ImagesByLayer(base.chain_id)), std::vector<oci::Digest>{im.id});
    EXPECT_TRUE(tx.GetImage(D("nope")).error().IsNotFound());
    // Writes are refused in a read transaction.
    EXPECT_TRUE(tx.DeleteImage(im.id).error().IsFailedPrecondition());
    return {};
  }));
  // Replacing keeps one row, with the new layers.
  im.layers.pop_back();
  ASSERT_TRUE(Write([&](Tx& tx) { return tx.PutImage(im); }));
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Result<void> {
    EXPECT_EQ(BERTH_TRY(tx.GetImage(im.id)).layers.size(), 1u);
    EXPECT_TRUE(BERTH_TRY(tx.ImagesByLayer(top.chain_id)).empty());
    return {};
  }));
  ASSERT_TRUE(Write([&](Tx& tx) { return tx.DeleteImage(im.id); }));
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    EXPECT_TRUE(tx.DeleteImage(im.id).error().IsNotFound());
    EXPECT_TRUE(BERTH_TRY(tx.ListImages()).empty());
    return {};
  }));
}

TEST_F(MetadataDbTest, ImageNeedsItsLayers) {
  auto im = Image("orphan", {Layer("missing")});
  auto r = Write([&](Tx& tx) { return tx.PutImage(im); });
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsFailedPrecondition()) << r.error().message();
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Result<void> {
    EXPECT_TRUE(tx.GetImage(im.id).error().IsNotFound());  // rolled back
    return {};
  }));
}

TEST_F(MetadataDbTest, ErrorRollsBackTheWholeTransaction) {
  auto base = Layer("base");
  auto r = Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(tx.PutLayer(base));
    BERTH_TRY(tx.PutImage(Image("x", {base})));
    return Error::Canceled("changed my mind");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCanceled);
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Result<void> {
    EXPECT_TRUE(BERTH_TRY(tx.ListLayers()).empty());
    EXPECT_TRUE(BERTH_TRY(tx.ListImages()).empty());
    return {};
  }));
  // The connection is usable afterwards.
  ASSERT_TRUE(Write([&](Tx& tx) { return tx.PutLayer(base); }));
}

TEST_F(MetadataDbTest, TagsAreUniqueAndMove) {
  auto base = Layer("base");
  auto a = Image("a", {base}), b = Image("b", {base});
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(tx.PutLayer(base));
    BERTH_TRY(tx.PutImage(a));
    BERTH_TRY(tx.PutImage(b));
    EXPECT_FALSE(BERTH_TRY(tx.SetTag("docker.io/library/x:latest", a.id)).has_value());
    EXPECT_FALSE(BERTH_TRY(tx.SetTag("docker.io/library/x:latest", a.id)).has_value());
    EXPECT_FALSE(BERTH_TRY(tx.SetTag("docker.io/library/x:1", a.id)).has_value());
    // Moving the tag reports the image it left.
    auto prev = BERTH_TRY(tx.SetTag("docker.io/library/x:latest", b.id));
    EXPECT_EQ(prev, a.id);
    EXPECT_EQ(BERTH_TRY(tx.ResolveTag("docker.io/library/x:latest")), b.id);
    EXPECT_EQ(BERTH_TRY(tx.TagsOf(a.id)), std::vector<std::string>{"docker.io/library/x:1"});
    EXPECT_EQ(BERTH_TRY(tx.ListTags()).size(), 2u);
    EXPECT_TRUE(tx.SetTag("docker.io/library/y:1", D("no image")).error().IsNotFound());
    BERTH_TRY(tx.RemoveTag("docker.io/library/x:1"));
    EXPECT_TRUE(tx.RemoveTag("docker.io/library/x:1").error().IsNotFound());
    EXPECT_TRUE(tx.ResolveTag("docker.io/library/x:1").error().IsNotFound());
    // Deleting an image drops its tags.
    BERTH_TRY(tx.DeleteImage(b.id));
    EXPECT_TRUE(tx.ResolveTag("docker.io/library/x:latest").error().IsNotFound());
    return {};
  }));
}

TEST_F(MetadataDbTest, SetTagRecordsTheLastTagTime) {
  auto base = Layer("base");
  auto a = Image("a", {base});
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(tx.PutLayer(base));
    BERTH_TRY(tx.PutImage(a));
    EXPECT_EQ(BERTH_TRY(tx.GetImage(a.id)).last_tag_time, "");
    BERTH_TRY(tx.SetTag("docker.io/library/x:1", a.id));
    std::string t = BERTH_TRY(tx.GetImage(a.id)).last_tag_time;
    EXPECT_EQ(t.size() > 19 && t[4] == '-' && t[10] == 'T', true) << t;
    // Recording the image again (a load) keeps it.
    BERTH_TRY(tx.PutImage(a));
    EXPECT_EQ(BERTH_TRY(tx.GetImage(a.id)).last_tag_time, t);
    return {};
  }));
}

TEST_F(MetadataDbTest, LayerReferences) {
  auto base = Layer("base");
  auto top = Layer("top", base.chain_id);
  auto im = Image("a", {base, top});
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    EXPECT_TRUE(tx.PutLayer(top).error().IsFailedPrecondition());  // parent first
    BERTH_TRY(tx.PutLayer(base));
    BERTH_TRY(tx.PutLayer(top));
    BERTH_TRY(tx.PutImage(im));
    auto refs = BERTH_TRY(tx.LayerReferences(base.chain_id));
    EXPECT_EQ(refs.images, std::vector<oci::Digest>{im.id});
    EXPECT_EQ(refs.children, std::vector<oci::Digest>{top.chain_id});
    EXPECT_EQ(refs.count(), 2u);
    EXPECT_TRUE(tx.DeleteLayer(base.chain_id).error().IsFailedPrecondition());
    BERTH_TRY(tx.DeleteImage(im.id));
    EXPECT_TRUE(tx.DeleteLayer(base.chain_id).error().IsFailedPrecondition());  // top
    BERTH_TRY(tx.DeleteLayer(top.chain_id));
    BERTH_TRY(tx.DeleteLayer(base.chain_id));
    EXPECT_TRUE(tx.DeleteLayer(base.chain_id).error().IsNotFound());
    return {};
  }));
}

TEST_F(MetadataDbTest, GarbageCollectFindsExactlyTheUnreferenced) {
  auto base = Layer("base");
  auto mid = Layer("mid", base.chain_id);
  auto top = Layer("top", mid.chain_id);  // only image b uses it
  auto lone = Layer("lone");              // no image
  auto lone_child = Layer("lone-child", lone.chain_id);
  auto a = Image("a", {base, mid});
  auto b = Image("b", {base, mid, top});
  a.blobs = {D("index-a")};
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    for (const auto& l : {base, mid, top, lone, lone_child}) {
      BERTH_TRY(tx.PutLayer(l));
      BERTH_TRY(tx.PutBlob(l.blob_digest, l.size, l.media_type));
    }
    for (const auto& im : {a, b}) {
      BERTH_TRY(tx.PutImage(im));
      BERTH_TRY(tx.PutBlob(im.id, 1, "config"));
      BERTH_TRY(tx.PutBlob(im.manifest_digest, 1, "manifest"));
    }
    BERTH_TRY(tx.PutBlob(D("index-a"), 1, "index"));
    BERTH_TRY(tx.PutBlob(D("stray"), 1, "x"));
    BERTH_TRY(tx.SetTag("a:latest", a.id));
    return {};
  }));

  // Everything reachable from an image stays; a blob file with no row (from a crash between
  // commit and the row) is found too.
  std::vector<oci::Digest> disk_blobs = {D("no-row"), a.id, base.blob_digest};
  std::vector<oci::Digest> disk_layers = {D("chain-no-row"), base.chain_id};
  GcResult gc;
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    gc = BERTH_TRY(tx.GarbageCollect(disk_blobs, disk_layers));
    return {};
  }));
  auto sorted = [](std::vector<oci::Digest> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(gc.chain_ids), sorted({lone.chain_id, lone_child.chain_id, D("chain-no-row")}));
  EXPECT_EQ(sorted(gc.blobs),
            sorted({lone.blob_digest, lone_child.blob_digest, D("stray"), D("no-row")}));

  // The rows are gone; a second pass finds nothing.
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    EXPECT_EQ(BERTH_TRY(tx.ListLayers()).size(), 3u);
    gc = BERTH_TRY(tx.GarbageCollect());
    EXPECT_TRUE(gc.blobs.empty());
    EXPECT_TRUE(gc.chain_ids.empty());
    // Untagged images are still roots; deleting b frees top and its blob only.
    BERTH_TRY(tx.DeleteImage(b.id));
    gc = BERTH_TRY(tx.GarbageCollect());
    EXPECT_EQ(gc.chain_ids, std::vector<oci::Digest>{top.chain_id});
    EXPECT_EQ(sorted(gc.blobs), sorted({top.blob_digest, b.id, b.manifest_digest}));
    return {};
  }));
}

TEST_F(MetadataDbTest, GarbageCollectNeedsWriteTransaction) {
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Result<void> {
    EXPECT_TRUE(tx.GarbageCollect().error().IsFailedPrecondition());
    return {};
  }));
}

TEST_F(MetadataDbTest, RecoverAtStartListsPendingRows) {
  auto base = Layer("base");
  auto pending_layer = Layer("half", base.chain_id);
  pending_layer.state = RecordState::kPending;
  auto im = Image("loading", {base, pending_layer});
  im.state = RecordState::kPending;
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(tx.PutLayer(base));
    BERTH_TRY(tx.PutLayer(pending_layer));
    return tx.PutImage(im);
  }));
  // A pending image is a GC root: its blobs are being written.
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    EXPECT_TRUE(BERTH_TRY(tx.GarbageCollect()).chain_ids.empty());
    return {};
  }));
  db_.reset();  // "crash"
  db_ = MetadataDb::Open(path_).value();
  auto pending = db_->RecoverAtStart();
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->images, std::vector<oci::Digest>{im.id});
  EXPECT_EQ(pending->layers, std::vector<oci::Digest>{pending_layer.chain_id});
  // The caller removes the files, then the rows.
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(tx.DeleteImage(im.id));
    return tx.DeleteLayer(pending_layer.chain_id);
  }));
  EXPECT_TRUE(db_->RecoverAtStart().value().images.empty());
  // Completing a row takes it off the list.
  ASSERT_TRUE(Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(tx.PutLayer(pending_layer));
    BERTH_TRY(tx.SetLayerState(pending_layer.chain_id, RecordState::kComplete));
    EXPECT_TRUE(tx.SetImageState(im.id, RecordState::kComplete).error().IsNotFound());
    return {};
  }));
  EXPECT_TRUE(db_->RecoverAtStart().value().layers.empty());
}

TEST_F(MetadataDbTest, ConcurrentWritersAreSerialized) {
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto l = Layer("l" + std::to_string(t) + "-" + std::to_string(i));
        if (!db_->Write([&](Tx& tx) { return tx.PutLayer(l); })) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Result<void> {
    EXPECT_EQ(BERTH_TRY(tx.ListLayers()).size(), size_t{kThreads * kEach});
    return {};
  }));
}

}  // namespace
}  // namespace berth::store::meta
