// ImageService::Commit over a real container overlay: the committed image's layers, mounted,
// show what the container showed.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/fs/fs_test_util.h"
#include "engine/fs/overlay_mount.h"
#include "image/image_commit.h"
#include "image/image_service.h"
#include "store/archive/test_tar.h"
#include "store/content/local_content_store.h"

namespace berth::engine::fs {
namespace {

using store::archive::testing::MakeTar;
using testing::TempDir;
using testing::Write;

class CommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store::Layout layout(t_.Dir("root"));
    ASSERT_TRUE(layout.Create());
    content_ = std::move(*store::content::LocalContentStore::Open(layout));
    db_ = std::move(*store::meta::MetadataDb::Open(layout.DbPath()));
    snapshots_ = std::move(*store::snapshot::OverlaySnapshotter::Open(layout.LayersRoot()));
    images_ =
        std::make_unique<image::ImageService>(layout, content_.get(), db_.get(), snapshots_.get());
    ASSERT_TRUE(images_->Recover());
    std::string base = MakeTar({
        {.name = "bin", .type = AE_IFDIR, .perm = 0755},
        {.name = "bin/sh", .perm = 0755, .data = "sh"},
        {.name = "bin/ls", .perm = 0755, .data = "ls"},
        {.name = "etc", .type = AE_IFDIR, .perm = 0755},
        {.name = "etc/passwd", .data = "root:x:0:0::/root:/bin/sh\n"},
        {.name = "var", .type = AE_IFDIR, .perm = 0755},
        {.name = "var/lib", .type = AE_IFDIR, .perm = 0755},
        {.name = "var/lib/old", .data = "old"},
    });
    std::string gz = store::archive::testing::Gzip(base);
    auto id = images_->Import(testing::StringReader(gz), {.reference = "base:1"});
    ASSERT_TRUE(id) << id.error().message();
    base_ = *id;
    upper_ = t_.Dir("c/upper");
    work_ = t_.Dir("c/work");
    merged_ = t_.Dir("c/merged");
    t_.WillMount(merged_);
    t_.WillMount(t_.Sub("check/merged"));
  }

  std::vector<std::string> LayerDirs(const std::string& name) {
    std::vector<std::string> out;
    auto img = images_->Get(name);
    EXPECT_TRUE(img) << img.error().message();
    if (!img) return out;
    for (const auto& l : img->record.layers)
      out.insert(out.begin(), *snapshots_->FsDir(l.chain_id.str()));
    return out;
  }

  /// The tree an image's layers show, mounted as a fresh container would mount them.
  std::vector<std::string> ImageTree(const std::string& name) {
    (void)RemoveAll(t_.Sub("check"));
    std::string up = t_.Dir("check/upper"), wk = t_.Dir("check/work"), mnt = t_.Dir("check/merged");
    auto m = OverlayMount::Mount(LayerDirs(name), up, wk, mnt);
    EXPECT_TRUE(m) << m.error().message();
    return testing::Tree(mnt);
  }

  size_t LayerCount() {
    size_t n = 0;
    (void)db_->Read([&](store::meta::Tx& tx) -> Result<void> {
      n = BERTH_TRY(tx.ListLayers()).size();
      return {};
    });
    return n;
  }

  TempDir t_;
  std::unique_ptr<store::content::LocalContentStore> content_;
  std::unique_ptr<store::meta::MetadataDb> db_;
  std::unique_ptr<store::snapshot::OverlaySnapshotter> snapshots_;
  std::unique_ptr<image::ImageService> images_;
  oci::Digest base_;
  std::string upper_, work_, merged_;
};

TEST_F(CommitTest, CommittedLayerReproducesTheContainersView) {
  std::vector<std::string> container_view;
  {
    auto m = OverlayMount::Mount(LayerDirs("base:1"), upper_, work_, merged_);
    ASSERT_TRUE(m) << m.error().message();
    Write(merged_ + "/etc/passwd", "root:x:0:0::/root:/bin/ash\n");
    Write(merged_ + "/home/app/notes", "new file");
    ASSERT_EQ(::unlink((merged_ + "/bin/ls").c_str()), 0);
    ASSERT_TRUE(RemoveAll(merged_ + "/var/lib"));
    ASSERT_EQ(::mkdir((merged_ + "/var/lib").c_str(), 0755), 0);  // opaque
    Write(merged_ + "/var/lib/fresh", "fresh");
    container_view = testing::Tree(merged_);
  }

  image::CommitOptions o;
  o.parent = base_;
  o.upper_dir = upper_;
  o.reference = "committed:v1";
  o.author = "someone <a@b>";
  o.comment = "a message";
  o.changes = {"ENV MODE=prod", "CMD [\"/bin/sh\", \"-c\", \"run\"]"};
  o.container_config.cmd = std::vector<std::string>{"sh", "-c", "echo hi"};
  o.container_config.env = {"PATH=/bin", "MODE=dev"};
  o.container_config.working_dir = "/home/app";
  auto id = images_->Commit(o);
  ASSERT_TRUE(id) << id.error().message();

  auto img = images_->Get("committed:v1");
  ASSERT_TRUE(img) << img.error().message();
  EXPECT_EQ(img->record.id, *id);
  ASSERT_EQ(img->record.layers.size(), 2u);
  const oci::ImageConfig& c = img->config.config;
  ASSERT_EQ(c.diff_ids.size(), 2u);
  EXPECT_EQ(c.author, "someone <a@b>");
  ASSERT_EQ(c.history.size(), 2u);
  EXPECT_EQ(c.history[1].comment, "a message");
  EXPECT_EQ(c.history[1].author, "someone <a@b>");
  EXPECT_EQ(c.history[1].created_by, "sh -c echo hi");
  EXPECT_FALSE(c.history[1].empty_layer);
  ASSERT_TRUE(c.config);
  EXPECT_EQ(c.config->cmd, (std::vector<std::string>{"/bin/sh", "-c", "run"}));
  EXPECT_EQ(c.config->env, (std::vector<std::string>{"PATH=/bin", "MODE=prod"}));
  EXPECT_EQ(c.config->working_dir, "/home/app");

  // The new layer holds Docker's whiteouts, unpacked as overlay ones.
  std::string top = *snapshots_->FsDir(img->record.layers[1].chain_id.str());
  struct stat st;
  ASSERT_EQ(::lstat((top + "/bin/ls").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  char v[2] = {};
  EXPECT_EQ(::getxattr((top + "/var/lib").c_str(), "trusted.overlay.opaque", v, 2), 1);

  EXPECT_EQ(ImageTree("committed:v1"), container_view);
  EXPECT_NE(ImageTree("base:1"), container_view);
}

TEST_F(CommitTest, EmptyUpperAddsNoLayer) {
  image::CommitOptions o;
  o.parent = base_;
  o.upper_dir = upper_;
  o.container_config.cmd = std::vector<std::string>{"sh"};
  auto id = images_->Commit(o);
  ASSERT_TRUE(id) << id.error().message();
  auto img = images_->Get(id->str());
  ASSERT_TRUE(img);
  EXPECT_EQ(img->record.layers.size(), 1u);
  EXPECT_EQ(img->config.config.diff_ids.size(), 1u);
  ASSERT_EQ(img->config.config.history.size(), 2u);
  EXPECT_TRUE(img->config.config.history[1].empty_layer);
  EXPECT_NE(*id, base_);
}

TEST_F(CommitTest, SameChangesShareOneLayer) {
  Write(upper_ + "/added", "same");
  image::CommitOptions o;
  o.parent = base_;
  o.upper_dir = upper_;
  o.comment = "one";
  auto a = images_->Commit(o);
  ASSERT_TRUE(a) << a.error().message();
  size_t layers = LayerCount();
  o.comment = "two";
  auto b = images_->Commit(o);
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_NE(*a, *b);
  EXPECT_EQ(LayerCount(), layers);
  EXPECT_EQ(images_->Get(a->str())->record.layers[1].chain_id,
            images_->Get(b->str())->record.layers[1].chain_id);
}

TEST_F(CommitTest, ErrorsAreClear) {
  image::CommitOptions o;
  o.parent = base_;
  o.upper_dir = upper_;
  o.changes = {"RUN rm -rf /"};
  auto bad = images_->Commit(o);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().IsInvalidArgument()) << bad.error().message();
  o.changes.clear();
  o.parent = *oci::Digest::Parse("sha256:" + std::string(64, 'a'));
  auto missing = images_->Commit(o);
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().IsNotFound()) << missing.error().message();
}

}  // namespace
}  // namespace berth::engine::fs
