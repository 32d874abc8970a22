#include "api/containers/fs_routes.h"

#include <gtest/gtest.h>

namespace berth::api::containers {
namespace {

TEST(ChangesJsonTest, NullWhenNoneAndDockerKinds) {
  EXPECT_EQ(ChangesJson({}), "null");
  std::vector<engine::fs::Change> changes = {{"/etc", engine::fs::ChangeKind::kModified},
                                             {"/new", engine::fs::ChangeKind::kAdded},
                                             {"/gone", engine::fs::ChangeKind::kDeleted}};
  EXPECT_EQ(ChangesJson(changes),
            R"([{"Path":"/etc","Kind":0},{"Path":"/new","Kind":1},{"Path":"/gone","Kind":2}])");
}

TEST(WithoutInitPathsTest, DropsPlaceholdersAndParentsChangedOnlyByThem) {
  using engine::fs::ChangeKind;
  std::vector<engine::fs::Change> in = {{"/etc", ChangeKind::kModified},
                                        {"/etc/resolv.conf", ChangeKind::kAdded},
                                        {"/x", ChangeKind::kAdded}};
  auto out = WithoutInitPaths(in);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].path, "/x");
  in.push_back({"/etc/group", ChangeKind::kModified});
  out = WithoutInitPaths(in);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].path, "/etc");
  EXPECT_EQ(out[1].path, "/x");
  EXPECT_EQ(out[2].path, "/etc/group");
  // A deleted /etc/hosts is the container's doing: kept.
  out = WithoutInitPaths({{"/etc", ChangeKind::kModified}, {"/etc/hosts", ChangeKind::kDeleted}});
  EXPECT_EQ(out.size(), 2u);
}

TEST(EffectiveConfigTest, ImageDefaultsFillWhatTheContainerLeavesUnset) {
  oci::ContainerConfig image;
  image.cmd = std::vector<std::string>{"sh"};
  image.env = {"PATH=/bin", "A=image"};
  image.working_dir = "/srv";
  image.user = "nobody";
  image.labels = {{"from", "image"}, {"both", "image"}};
  image.exposed_ports = {"80/tcp"};
  image.volumes = {"/data"};

  engine::ContainerConfig c;
  c.env = {"A=container"};
  c.labels = {{"both", "container"}};
  c.exposed_ports = {"443/tcp"};
  c.image = "busybox";
  oci::ContainerConfig e = EffectiveConfig(c, &image);
  ASSERT_TRUE(e.cmd.has_value());
  EXPECT_EQ(*e.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(e.env, (std::vector<std::string>{"A=container", "PATH=/bin"}));
  EXPECT_EQ(e.working_dir, "/srv");
  EXPECT_EQ(e.user, "nobody");
  EXPECT_EQ(e.labels.at("both"), "container");
  EXPECT_EQ(e.labels.at("from"), "image");
  EXPECT_EQ(e.exposed_ports, (std::vector<std::string>{"443/tcp", "80/tcp"}));
  EXPECT_EQ(e.volumes, std::vector<std::string>{"/data"});
  EXPECT_EQ(e.image, "busybox");
}

TEST(EffectiveConfigTest, ContainerCmdAndEntrypointWin) {
  oci::ContainerConfig image;
  image.cmd = std::vector<std::string>{"sh"};
  image.entrypoint = std::vector<std::string>{"/init"};
  engine::ContainerConfig c;
  c.cmd = {"echo", "hi"};
  c.cmd_set = true;
  oci::ContainerConfig e = EffectiveConfig(c, &image);
  EXPECT_EQ(*e.cmd, (std::vector<std::string>{"echo", "hi"}));
  EXPECT_EQ(*e.entrypoint, std::vector<std::string>{"/init"});

  // --entrypoint "": the image's entrypoint is cleared, and its Cmd not taken either.
  engine::ContainerConfig cleared;
  cleared.entrypoint = {""};
  cleared.entrypoint_set = true;
  cleared.cmd = {"true"};
  cleared.cmd_set = true;
  e = EffectiveConfig(cleared, &image);
  ASSERT_TRUE(e.entrypoint.has_value());
  EXPECT_TRUE(e.entrypoint->empty());
  EXPECT_EQ(*e.cmd, std::vector<std::string>{"true"});
}

TEST(EffectiveConfigTest, HealthcheckFromTheContainerJson) {
  engine::ContainerConfig c;
  c.healthcheck_json = R"({"Test":["CMD","true"],"Interval":1000000000})";
  oci::ContainerConfig e = EffectiveConfig(c, nullptr);
  ASSERT_TRUE(e.healthcheck.has_value());
  EXPECT_EQ(e.healthcheck->test, (std::vector<std::string>{"CMD", "true"}));
  EXPECT_EQ(e.healthcheck->interval, 1000000000);
}

}  // namespace
}  // namespace berth::api::containers
