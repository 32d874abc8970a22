// The executor over a real image store: a base image imported from a tar, RUN steps through
// a runner that commits a real layer (a file named by the step) with ImageService::Commit.

#include "build/builder.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "build/cache.h"
#include "build/executor_internal.h"
#include "image/image_commit.h"
#include "store/archive/test_tar.h"
#include "store/content/local_content_store.h"
#include "util/file.h"

namespace berth::build {
namespace {

using store::archive::testing::MakeTar;

struct Capture : BuildOutput {
  std::string text;
  nlohmann::json aux;
  void Stream(std::string_view t) override { text += t; }
  void Aux(const nlohmann::json& j) override { aux = j; }
};

/// Commits a layer holding /ran/<n> (its content: the command) for each RUN; `false` fails.
struct LayerRunner : StepRunner {
  image::ImageService* images = nullptr;
  std::vector<Run> runs;
  std::mutex mu;
  Result<oci::Digest> RunAndCommit(const Run& r, const oci::ContainerConfig& config,
                                   const std::string& created_by, std::string* removed) override {
    size_t n;
    {
      std::lock_guard lock(mu);
      runs.push_back(r);
      n = runs.size();
    }
    if (r.started) r.started("0123456789ab");
    if (r.output) r.output("output of " + r.args.back() + "\n");
    if (removed) *removed = "0123456789ab";
    if (r.args.back() == "false")
      return Error::Internal("The command '/bin/sh -c false' returned a non-zero code: 1");
    std::string tar = MakeTar({{.name = "ran", .type = AE_IFDIR, .perm = 0755},
                               {.name = "ran/" + std::to_string(n), .data = r.args.back()}});
    image::CommitOptions o;
    o.parent = BERTH_TRY(oci::Digest::Parse(r.image_id));
    o.config = config;
    o.container_config = config;
    o.exact_config = true;
    o.created_by = created_by;
    size_t off = 0;
    o.layer_tar = [&](char* b, size_t k) -> Result<size_t> {
      size_t m = std::min(k, tar.size() - off);
      std::memcpy(b, tar.data() + off, m);
      off += m;
      return m;
    };
    return images->Commit(o);
  }
};

class BuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-build-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    ctx_ = root_ + "/ctx";
    ASSERT_TRUE(MkdirAll(ctx_));
    store::Layout layout(root_ + "/root");
    ASSERT_TRUE(layout.Create());
    content_ = std::move(*store::content::LocalContentStore::Open(layout));
    db_ = std::move(*store::meta::MetadataDb::Open(layout.DbPath()));
    snapshots_ = std::move(*store::snapshot::OverlaySnapshotter::Open(layout.LayersRoot()));
    images_ =
        std::make_unique<image::ImageService>(layout, content_.get(), db_.get(), snapshots_.get());
    ASSERT_TRUE(images_->Recover());
    runner_.images = images_.get();
    std::string tar = MakeTar({
        {.name = "etc", .type = AE_IFDIR, .perm = 0755},
        {.name = "etc/passwd",
         .data = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/:/bin/sh\n"},
        {.name = "etc/group", .data = "root:x:0:\nstaff:x:50:\n"},
        {.name = "usr", .type = AE_IFDIR, .perm = 0755},
        {.name = "usr/bin", .type = AE_IFDIR, .perm = 0750, .uid = 7},
        {.name = "bin", .type = AE_IFLNK, .perm = 0777, .symlink = "usr/bin"},
    });
    size_t off = 0;
    auto id = images_->Import(
        [&](char* b, size_t k) -> Result<size_t> {
          size_t m = std::min(k, tar.size() - off);
          std::memcpy(b, tar.data() + off, m);
          off += m;
          return m;
        },
        {.reference = "base:1", .changes = {"CMD [\"sh\"]"}});
    ASSERT_TRUE(id) << id.error().message();
    NewBuilder();
  }
  void TearDown() override {
    builder_.reset();
    images_.reset();
    (void)RemoveAll(root_);
  }
  void NewBuilder() {
    builder_ = std::make_unique<Builder>(*images_, runner_, root_ + "/root/builder");
  }
  void Write(const std::string& rel, const std::string& data, mode_t mode = 0644) {
    std::string p = ctx_ + "/" + rel;
    ASSERT_TRUE(MkdirAll(p.substr(0, p.rfind('/'))));
    ASSERT_TRUE(WriteFile(p, data, mode));
    ::chmod(p.c_str(), mode);
  }
  Result<oci::Digest> Build(BuildOptions o = {}) {
    out_ = Capture{};
    o.context_dir = ctx_;
    return builder_->Build(o, out_);
  }
  /// A file of the image's top layer.
  std::string TopFile(const oci::Digest& id, const std::string& path) {
    auto img = images_->Get(id.str());
    if (!img) return "<no image>";
    return ReadFile(img->graph_driver.at("UpperDir") + path).value_or("<missing>");
  }
  struct stat TopStat(const oci::Digest& id, const std::string& path) {
    struct stat st {};
    auto img = images_->Get(id.str());
    if (img) ::lstat((img->graph_driver.at("UpperDir") + path).c_str(), &st);
    return st;
  }
  static int Count(const std::string& text, const std::string& what) {
    int n = 0;
    for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
  }

  std::string root_, ctx_;
  std::unique_ptr<store::content::LocalContentStore> content_;
  std::unique_ptr<store::meta::MetadataDb> db_;
  std::unique_ptr<store::snapshot::OverlaySnapshotter> snapshots_;
  std::unique_ptr<image::ImageService> images_;
  LayerRunner runner_;
  std::unique_ptr<Builder> builder_;
  Capture out_;
};

const char* kTenSteps =
    "FROM base:1\n"
    "ARG V=1\n"
    "ENV A=b PATH=/usr/bin\n"
    "LABEL k=v\n"
    "RUN echo $V\n"
    "COPY a.txt /app/\n"
    "WORKDIR /app\n"
    "COPY src/ ./src\n"
    "EXPOSE 80\n"
    "CMD [\"sh\", \"-c\", \"x\"]\n";

TEST_F(BuilderTest, BuildsEveryStepWithDockersOutputAndHistory) {
  Write("Dockerfile", kTenSteps);
  Write("a.txt", "A");
  Write("src/m.py", "print(1)", 0755);
  auto id = Build({.tags = {"web:1"}, .build_args = {{"V", "7"}}});
  ASSERT_TRUE(id) << id.error().message() << "\n" << out_.text;
  EXPECT_NE(out_.text.find("Step 1/10 : FROM base:1\n"), std::string::npos) << out_.text;
  EXPECT_NE(out_.text.find("Step 5/10 : RUN echo $V\n ---> Running in 0123456789ab\noutput of "
                           "echo $V\nRemoving intermediate container 0123456789ab\n"),
            std::string::npos)
      << out_.text;
  EXPECT_NE(out_.text.find("Successfully built " + std::string(id->short_hex()) +
                           "\nSuccessfully tagged web:1\n"),
            std::string::npos);
  EXPECT_EQ(out_.aux["ID"], id->str());
  ASSERT_EQ(runner_.runs.size(), 1u);
  EXPECT_EQ(runner_.runs[0].args, (std::vector<std::string>{"/bin/sh", "-c", "echo $V"}));
  // The build arg is in the RUN's env but not in the image's.
  EXPECT_NE(std::find(runner_.runs[0].env.begin(), runner_.runs[0].env.end(), "V=7"),
            runner_.runs[0].env.end());
  auto img = images_->Get("web:1");
  ASSERT_TRUE(img);
  const oci::ContainerConfig& c = *img->config.config.config;
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=b", "PATH=/usr/bin"}));
  EXPECT_EQ(c.working_dir, "/app");
  EXPECT_EQ(c.labels.at("k"), "v");
  EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"80/tcp"}));
  EXPECT_EQ(*c.cmd, (std::vector<std::string>{"sh", "-c", "x"}));
  auto history = *images_->History("web:1");
  ASSERT_EQ(history.size(), 10u);  // the base's import + 9 steps
  EXPECT_EQ(history[0].created_by, "/bin/sh -c #(nop)  CMD [\"sh\" \"-c\" \"x\"]");
  EXPECT_EQ(history[1].created_by, "/bin/sh -c #(nop)  EXPOSE 80");
  EXPECT_EQ(history[5].created_by, "|1 V=7 /bin/sh -c echo $V");
  EXPECT_EQ(history[7].created_by, "/bin/sh -c #(nop)  ENV A=b PATH=/usr/bin");
  EXPECT_EQ(history[8].created_by, "/bin/sh -c #(nop)  ARG V=1");
  EXPECT_TRUE(history[2].created_by.starts_with("/bin/sh -c #(nop) COPY dir:"));
  EXPECT_TRUE(history[2].created_by.ends_with(" in ./src "));
  EXPECT_EQ(TopFile(*id, "/app/src/m.py"), "print(1)");
  EXPECT_EQ(TopStat(*id, "/app/src/m.py").st_mode & 07777, 0755u);
}

TEST_F(BuilderTest, RebuildHitsTheCacheAndAChangedFileInvalidatesFromItsStepOn) {
  Write("Dockerfile", kTenSteps);
  Write("a.txt", "A");
  Write("src/m.py", "print(1)");
  auto first = Build();
  ASSERT_TRUE(first) << first.error().message();
  auto again = Build();
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *first);
  EXPECT_EQ(Count(out_.text, " ---> Using cache\n"), 9) << out_.text;
  EXPECT_EQ(runner_.runs.size(), 1u);
  // A new daemon: the cache is read back from disk.
  NewBuilder();
  ASSERT_EQ(*Build(), *first);
  EXPECT_EQ(Count(out_.text, " ---> Using cache\n"), 9);
  // mtime only: still a hit.
  ::utimes((ctx_ + "/src/m.py").c_str(), nullptr);
  ASSERT_EQ(*Build(), *first);
  // The second COPY's source changes: steps 1-7 hit, 8-10 run.
  Write("src/m.py", "print(2)");
  auto changed = Build();
  ASSERT_TRUE(changed);
  EXPECT_NE(*changed, *first);
  EXPECT_EQ(Count(out_.text, " ---> Using cache\n"), 6) << out_.text;
  EXPECT_EQ(out_.text.find("Step 8/10 : COPY src/ ./src\n ---> Using cache"), std::string::npos);
  EXPECT_EQ(TopFile(*changed, "/app/src/m.py"), "print(2)");  // CMD and EXPOSE add no layer
  // --no-cache runs everything.
  ASSERT_TRUE(Build({.no_cache = true}));
  EXPECT_EQ(Count(out_.text, "Using cache"), 0);
  EXPECT_EQ(runner_.runs.size(), 2u);
}

TEST_F(BuilderTest, ARunFailureIsDockersError) {
  Write("Dockerfile", "FROM base:1\nRUN false\nRUN true\n");
  auto r = Build();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "The command '/bin/sh -c false' returned a non-zero code: 1");
  EXPECT_EQ(runner_.runs.size(), 1u);
}

TEST_F(BuilderTest, CopyRefusesPathsOutsideTheContext) {
  Write("Dockerfile", "FROM base:1\nCOPY ../secret /x\n");
  auto r = Build();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "forbidden path outside the build context: ../secret ()");
  ASSERT_EQ(::symlink("/etc/shadow", (ctx_ + "/link").c_str()), 0);
  Write("Dockerfile", "FROM base:1\nCOPY link /x\n");
  r = Build();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "forbidden path outside the build context: link ()");
  ASSERT_EQ(::symlink("../../..", (ctx_ + "/up").c_str()), 0);
  Write("Dockerfile", "FROM base:1\nCOPY up/etc/passwd /x\n");
  EXPECT_FALSE(Build());
}

TEST_F(BuilderTest, CopyDestinationRulesWildcardsChownChmod) {
  Write("a.txt", "A");
  Write("b.txt", "B");
  Write("c.md", "C");
  Write("Dockerfile", "FROM base:1\nCOPY a.txt b.txt /multi\n");
  auto r = Build();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("must be a directory and end with a /"), std::string::npos);
  Write("Dockerfile", "FROM base:1\nCOPY --chown=app:staff --chmod=600 *.txt /d/\n");
  auto id = Build();
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(TopFile(*id, "/d/a.txt"), "A");
  EXPECT_EQ(TopFile(*id, "/d/b.txt"), "B");
  EXPECT_EQ(TopFile(*id, "/d/c.md"), "<missing>");
  struct stat st = TopStat(*id, "/d/a.txt");
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 50u);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // A file to a path that is not a directory is renamed; /bin (a symlink to usr/bin) is
  // followed, and usr/bin keeps the image's mode and owner in the layer.
  Write("Dockerfile", "FROM base:1\nCOPY a.txt /renamed\nCOPY --chown=5 c.md /bin/\n");
  id = Build();
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(TopFile(*id, "/usr/bin/c.md"), "C");
  EXPECT_EQ(TopStat(*id, "/usr/bin/c.md").st_uid, 5u);
  EXPECT_EQ(TopStat(*id, "/usr/bin").st_mode & 07777, 0750u);
  EXPECT_EQ(TopStat(*id, "/usr/bin").st_uid, 7u);
  auto parent = images_->Get(id->str());
  // Missing file and unknown user.
  Write("Dockerfile", "FROM base:1\nCOPY nope /x\n");
  r = Build();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("file not found in build context"), std::string::npos);
  Write("Dockerfile", "FROM base:1\nCOPY --chown=nobody a.txt /x\n");
  EXPECT_FALSE(Build());
}

TEST_F(BuilderTest, DockerignoreHidesFiles) {
  Write(".dockerignore", "*.md\n");
  Write("c.md", "C");
  Write("a.txt", "A");
  Write("Dockerfile", "FROM base:1\nCOPY . /all/\n");
  auto id = Build();
  ASSERT_TRUE(id) << id.error().message();
  EXPECT_EQ(TopFile(*id, "/all/a.txt"), "A");
  EXPECT_EQ(TopFile(*id, "/all/c.md"), "<missing>");
  EXPECT_EQ(TopFile(*id, "/all/Dockerfile").substr(0, 4), "FROM");
}

TEST_F(BuilderTest, MultiStageBuildsOnlyWhatTheTargetNeeds) {
  Write("Dockerfile",
        "FROM base:1 AS one\nRUN one\n"
        "FROM base:1 AS two\nRUN two\n"
        "FROM base:1 AS unused\nRUN unused\n"
        "FROM scratch\nCOPY --from=one /ran/ /from-one/\nCOPY --from=two /etc/group /g\n");
  auto id = Build();
  ASSERT_TRUE(id) << id.error().message() << out_.text;
  ASSERT_EQ(runner_.runs.size(), 2u);
  for (const auto& r : runner_.runs) EXPECT_NE(r.args.back(), "unused");
  auto img = images_->Get(id->str());
  ASSERT_TRUE(img);
  EXPECT_EQ(img->config.config.diff_ids.size(), 2u);
  EXPECT_EQ(TopFile(*id, "/g"), "root:x:0:\nstaff:x:50:\n");
  // --target stops at a stage.
  auto two = Build({.target = "two"});
  ASSERT_TRUE(two);
  EXPECT_EQ(Count(out_.text, "Step "), 2) << out_.text;
}

TEST_F(BuilderTest, PruneRemovesRecordsAndUntaggedImages) {
  Write("Dockerfile", "FROM base:1\nENV A=1\nENV B=2\n");
  ASSERT_TRUE(Build({.tags = {"keep:1"}}));
  auto usage = builder_->CacheUsage();
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->size(), 2u);
  auto report = builder_->PruneCache({});
  ASSERT_TRUE(report);
  EXPECT_EQ(report->deleted.size(), 1u);  // the tagged image's record stays without --all
  EXPECT_TRUE(images_->Get("keep:1"));
  ASSERT_TRUE(builder_->PruneCache({.all = true}));
  EXPECT_TRUE(builder_->CacheUsage()->empty());
  EXPECT_TRUE(images_->Get("keep:1"));
  ASSERT_TRUE(Build());
  EXPECT_EQ(Count(out_.text, "Using cache"), 0);
}

TEST(CacheKeyTest, EveryFieldCounts) {
  CacheKeyInput base{.parent = "sha256:1", .instruction = "RUN x", .env = {"A=1"}, .sources = "d"};
  std::string k = CacheKey(base);
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, CacheKey(base));
  for (int i = 0; i < 4; ++i) {
    CacheKeyInput c = base;
    if (i == 0) c.parent = "sha256:2";
    if (i == 1) c.instruction = "RUN y";
    if (i == 2) c.env = {"A=2"};
    if (i == 3) c.sources = "e";
    EXPECT_NE(CacheKey(c), k) << i;
  }
  // Length prefixes: moving a byte between fields changes the key.
  EXPECT_NE(CacheKey({.parent = "ab", .instruction = "c"}),
            CacheKey({.parent = "a", .instruction = "bc"}));
}

TEST(CreatedByTest, DockersStrings) {
  EXPECT_EQ(internal::QuotedList({"/bin/sh", "-c", "echo \"hi\""}),
            "[\"/bin/sh\" \"-c\" \"echo \\\"hi\\\"\"]");
  EXPECT_EQ(internal::PlainList({"/data", "/logs"}), "[/data /logs]");
  EXPECT_EQ(internal::NopCreatedBy("ENV A=b"), "/bin/sh -c #(nop)  ENV A=b");
  EXPECT_EQ(internal::RunCreatedBy({"A=1", "B=2"}, "/bin/sh -c make"),
            "|2 A=1 B=2 /bin/sh -c make");
  EXPECT_EQ(internal::RunCreatedBy({}, "/bin/sh -c make"), "/bin/sh -c make");
  EXPECT_EQ(internal::RunBuildEnv({{"B", "2"}, {"A", "1"}, {"P", "x"}}, {"P=/bin"}),
            (std::vector<std::string>{"A=1", "B=2"}));
}

}  // namespace
}  // namespace berth::build
