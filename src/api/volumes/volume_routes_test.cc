#include "api/volumes/volume_routes.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "util/file.h"

namespace berth::api::volumes {
namespace {

using nlohmann::json;

class VolumeRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-volume-routes-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    svc_ = std::make_unique<engine::VolumeService>(dir_ + "/volumes");
    ASSERT_TRUE(svc_->Load());
    svc_->SetUsers([this](const std::string& v) {
      return v == used_ ? std::vector<std::string>{"c0ffee"} : std::vector<std::string>{};
    });
    AddVolumeRoutes(&router_, svc_.get());
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  Response Call(const std::string& method, const std::string& target, std::string body = "") {
    Request req;
    req.method = method;
    req.target = target;
    req.body = std::move(body);
    EXPECT_TRUE(Router::ParseTarget(target, &req)) << target;
    auto m = router_.Find(req);
    if (!m.handler) {
      Response r;
      r.status = m.path_known ? 405 : 404;
      return r;
    }
    return (*m.handler)(req);
  }
  static json Body(const Response& r) { return json::parse(r.body, nullptr, false); }

  std::string dir_;
  std::string used_;
  std::unique_ptr<engine::VolumeService> svc_;
  Router router_;
};

TEST_F(VolumeRoutesTest, CreateInspectListShapes) {
  auto r = Call("POST", "/v1.44/volumes/create",
                R"({"Name":"web","Driver":"local","DriverOpts":{},"Labels":{"a":"b"}})");
  ASSERT_EQ(r.status, 201) << r.body;
  json v = Body(r);
  std::vector<std::string> keys;
  for (auto& [k, _] : v.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"CreatedAt", "Driver", "Labels", "Mountpoint", "Name",
                                            "Options", "Scope"}));
  EXPECT_EQ(v["Name"], "web");
  EXPECT_EQ(v["Driver"], "local");
  EXPECT_EQ(v["Scope"], "local");
  EXPECT_EQ(v["Labels"], json({{"a", "b"}}));
  EXPECT_EQ(v["Options"], json::object());
  EXPECT_EQ(v["Mountpoint"], dir_ + "/volumes/web/_data");

  r = Call("GET", "/volumes/web");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r), v);

  r = Call("GET", "/volumes");
  ASSERT_EQ(r.status, 200);
  json list = Body(r);
  ASSERT_TRUE(list["Volumes"].is_array());
  ASSERT_EQ(list["Volumes"].size(), 1u);
  EXPECT_EQ(list["Volumes"][0], v);
  EXPECT_TRUE(list.contains("Warnings"));
  EXPECT_TRUE(list["Warnings"].is_null());

  // The docker CLI's `volume create` without a name: a random one.
  r = Call("POST", "/volumes/create", R"({"Driver":"local","DriverOpts":{},"Labels":null})");
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(Body(r)["Name"].get<std::string>().size(), 64u);
}

TEST_F(VolumeRoutesTest, ListFilters) {
  ASSERT_EQ(Call("POST", "/volumes/create", R"({"Name":"aa","Labels":{"x":"1"}})").status, 201);
  ASSERT_EQ(Call("POST", "/volumes/create", R"({"Name":"bb"})").status, 201);
  used_ = "bb";
  auto names = [&](const std::string& filters) {
    auto r = Call("GET", "/volumes?filters=" + filters);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    json body = Body(r);
    for (auto& v : body["Volumes"]) out.push_back(v["Name"]);
    return out;
  };
  EXPECT_EQ(names("%7B%22label%22%3A%5B%22x%3D1%22%5D%7D"), std::vector<std::string>{"aa"});
  EXPECT_EQ(names(R"({"dangling":["true"]})"), std::vector<std::string>{"aa"});
  EXPECT_EQ(names(R"({"dangling":{"false":true}})"), std::vector<std::string>{"bb"});
  EXPECT_EQ(names(R"({"name":["b"]})"), std::vector<std::string>{"bb"});
  EXPECT_EQ(names(R"({"driver":["local"]})").size(), 2u);
  auto bad = Call("GET", R"(/volumes?filters={"color":["red"]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["message"], "invalid filter 'color'");
  bad = Call("GET", R"(/volumes?filters={"dangling":["maybe"]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["message"], "invalid filter 'dangling=maybe'");
}

TEST_F(VolumeRoutesTest, ErrorsHaveDockersStatuses) {
  auto r = Call("GET", "/volumes/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["message"], "get nope: no such volume");
  r = Call("DELETE", "/volumes/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Call("DELETE", "/volumes/nope?force=1").status, 204);
  r = Call("POST", "/volumes/create", R"({"Name":"a/b"})");
  EXPECT_EQ(r.status, 400);
  r = Call("POST", "/volumes/create", R"({"Name":"x1","Driver":"flocker"})");
  EXPECT_EQ(r.status, 404);
  r = Call("POST", "/volumes/create",
           R"({"Name":"x1","DriverOpts":{"type":"nfs","device":":/e","o":"addr=h"}})");
  EXPECT_EQ(r.status, 501);
  r = Call("POST", "/volumes/create", R"({"Name":5})");
  EXPECT_EQ(r.status, 400);
  r = Call("POST", "/volumes/create", "{not json");
  EXPECT_EQ(r.status, 400);
  r = Call("POST", "/volumes/create", "");
  EXPECT_EQ(r.status, 400);

  ASSERT_EQ(Call("POST", "/volumes/create", R"({"Name":"busy"})").status, 201);
  used_ = "busy";
  r = Call("DELETE", "/volumes/busy?force=1");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Body(r)["message"], "remove busy: volume is in use - [c0ffee]");
  used_.clear();
  r = Call("DELETE", "/volumes/busy");
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(VolumeRoutesTest, PruneShapesAndVersions) {
  ASSERT_TRUE(svc_->Create("anon-one", {}, {}, /*anonymous=*/true));
  ASSERT_TRUE(svc_->Create("named", {}, {}));
  ASSERT_TRUE(WriteFile(svc_->Get("anon-one")->mountpoint + "/f", "12345"));
  auto r = Call("POST", "/v1.44/volumes/prune");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r), json({{"VolumesDeleted", {"anon-one"}}, {"SpaceReclaimed", 5}}));
  r = Call("POST", "/v1.44/volumes/prune");
  EXPECT_EQ(Body(r), json({{"VolumesDeleted", json::array()}, {"SpaceReclaimed", 0}}));
  // Before API 1.42 prune meant every unused volume.
  ASSERT_TRUE(svc_->Create("other", {{"keep", "1"}}, {}));
  r = Call("POST", R"(/v1.41/volumes/prune?filters={"label!":["keep"]})");
  EXPECT_EQ(Body(r)["VolumesDeleted"], json({"named"}));
  r = Call("POST", R"(/volumes/prune?filters={"all":["true"]})");
  EXPECT_EQ(Body(r)["VolumesDeleted"], json({"other"}));
  r = Call("POST", R"(/volumes/prune?filters={"until":["1h"]})");
  EXPECT_EQ(r.status, 400);
}

TEST_F(VolumeRoutesTest, DiskUsageForm) {
  engine::Volume v;
  v.name = "n";
  v.mountpoint = "/m";
  v.created_at = "2026-12-01T10:00:00Z";
  json j = json::parse(VolumeJson(v, 10, 2));
  EXPECT_EQ(j["UsageData"], json({{"RefCount", 2}, {"Size", 10}}));
  EXPECT_FALSE(json::parse(VolumeJson(v)).contains("UsageData"));
}

}  // namespace
}  // namespace berth::api::volumes
