#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "runtime/cgroups/manager.h"

namespace berth::runtime::cgroups {
namespace {

TEST(StatsToJsonTest, RuncShape) {
  Stats s;
  s.cpu.total = 100;
  s.cpu.percpu = {60, 40};
  s.cpu.user = 70;
  s.cpu.throttled_periods = 3;
  s.memory.cache = 4096;
  s.memory.usage = {1 << 20, 8192, 16384, 0};
  s.memory.raw = {{"cache", 4096}, {"rss", 8192}};
  s.pids = {1, 20};
  s.blkio.io_service_bytes_recursive = {{8, 0, "Read", 512}};
  s.hugetlb["2MB"] = {0, 0, 0};
  auto j = nlohmann::json::parse(StatsToJson(s));

  EXPECT_EQ(j["cpu"]["usage"]["total"], 100);
  EXPECT_EQ(j["cpu"]["usage"]["percpu"], nlohmann::json({60, 40}));
  EXPECT_EQ(j["cpu"]["usage"]["kernel"], 0);  // not omitempty in runc
  EXPECT_EQ(j["cpu"]["usage"]["user"], 70);
  EXPECT_EQ(j["cpu"]["throttling"]["throttledPeriods"], 3);
  EXPECT_FALSE(j["cpu"]["throttling"].contains("periods"));  // omitempty at zero

  EXPECT_EQ(j["memory"]["cache"], 4096);
  EXPECT_EQ(j["memory"]["usage"]["limit"], 1 << 20);
  EXPECT_EQ(j["memory"]["usage"]["usage"], 8192);
  EXPECT_EQ(j["memory"]["usage"]["max"], 16384);
  EXPECT_EQ(j["memory"]["usage"]["failcnt"], 0);
  // A struct is never omitted by encoding/json: zero entries keep limit and failcnt.
  EXPECT_EQ(j["memory"]["swap"], nlohmann::json({{"limit", 0}, {"failcnt", 0}}));
  EXPECT_TRUE(j["memory"].contains("kernel"));
  EXPECT_TRUE(j["memory"].contains("kernelTCP"));
  EXPECT_EQ(j["memory"]["raw"]["rss"], 8192);

  EXPECT_EQ(j["pids"]["current"], 1);
  EXPECT_EQ(j["pids"]["limit"], 20);
  auto e = j["blkio"]["ioServiceBytesRecursive"][0];
  EXPECT_EQ(e, nlohmann::json({{"major", 8}, {"op", "Read"}, {"value", 512}}));  // minor 0
  EXPECT_FALSE(j["blkio"].contains("ioServicedRecursive"));
  EXPECT_EQ(j["hugetlb"]["2MB"], nlohmann::json({{"failcnt", 0}}));
  EXPECT_TRUE(j["network_interfaces"].is_null());
  EXPECT_TRUE(j["intel_rdt"].is_object());
}

TEST(StatsToJsonTest, EmptyStats) {
  auto j = nlohmann::json::parse(StatsToJson(Stats{}));
  EXPECT_TRUE(j["hugetlb"].is_object());
  EXPECT_TRUE(j["hugetlb"].empty());
  EXPECT_TRUE(j["pids"].empty());
  EXPECT_TRUE(j["blkio"].empty());
  EXPECT_FALSE(j["memory"].contains("raw"));
}

}  // namespace
}  // namespace berth::runtime::cgroups
