#include "api/events/event_bus.h"

#include <gtest/gtest.h>

#include <thread>

namespace berth::api::events {
namespace {

Event Img(std::string action, std::string id, std::string name) {
  return {.type = "image",
          .action = std::move(action),
          .id = std::move(id),
          .attributes = {{"name", std::move(name)}}};
}

TEST(EventFilterTest, MatchesTypeActionAndImage) {
  const std::string id = "sha256:" + std::string(64, 'a');
  Event tag = Img("tag", id, "busybox:latest");
  auto f = MakeFilter({{"type", {"image"}}, {"event", {"tag"}}, {"image", {"busybox"}}});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->Matches(tag));
  EXPECT_FALSE(f->Matches(Img("untag", id, "busybox:latest")));
  EXPECT_FALSE(f->Matches(Img("tag", id, "other:1")));
  EXPECT_TRUE(MakeFilter({{"image", {"aaaa"}}})->Matches(tag));  // an id prefix
  EXPECT_TRUE(MakeFilter({{"image", {"busybox:latest"}}})->Matches(tag));
  EXPECT_FALSE(MakeFilter({{"image", {"busybox:1"}}})->Matches(tag));
  EXPECT_FALSE(MakeFilter({{"type", {"container"}}})->Matches(tag));
  EXPECT_TRUE(EventFilter{}.Matches(tag));
  auto bad = MakeFilter({{"bogus", {"1"}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "invalid filter 'bogus'");
}

TEST(EventTimeTest, ParsesUnixRfc3339AndDurations) {
  EXPECT_EQ(*ParseEventTime("0", 5), 0);
  EXPECT_EQ(*ParseEventTime("1700000000", 0), 1700000000000000000);
  EXPECT_EQ(*ParseEventTime("1700000000.5", 0), 1700000000500000000);
  EXPECT_EQ(*ParseEventTime("2023-11-14T22:13:20Z", 0), 1700000000000000000);
  EXPECT_EQ(*ParseEventTime("2023-11-14T23:13:20.25+01:00", 0), 1700000000250000000);
  EXPECT_EQ(*ParseEventTime("10s", 60000000000), 50000000000);
  EXPECT_EQ(*ParseEventTime("1m30s", 100000000000), 10000000000);
  EXPECT_FALSE(ParseEventTime("soon", 0));
}

TEST(EventBusTest, ReplaysTheRingAndWakesWaiters) {
  EventBus bus(2);
  bus.Publish(Img("import", "sha256:1", "a"));
  bus.Publish(Img("tag", "sha256:1", "a"));
  bus.Publish(Img("untag", "sha256:1", "a"));  // the first falls out of the ring
  uint64_t cursor = 0;
  std::vector<Event> got;
  EXPECT_TRUE(bus.Wait(&cursor, &got, std::chrono::steady_clock::now()));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].action, "tag");
  EXPECT_EQ(cursor, 3u);
  EXPECT_GT(got[0].time_nano, 0);

  got.clear();
  std::thread t([&] { bus.Publish(Img("delete", "sha256:1", "a")); });
  EXPECT_TRUE(bus.Wait(&cursor, &got, std::chrono::steady_clock::now() + std::chrono::seconds(10)));
  t.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].action, "delete");
  bus.Close();
  got.clear();
  EXPECT_FALSE(bus.Wait(&cursor, &got, std::chrono::steady_clock::now() + std::chrono::hours(1)));
  EXPECT_NE(
      EventJson(got.empty() ? Img("tag", "sha256:1", "a") : got[0]).find("\"scope\":\"local\""),
      std::string::npos);
}

}  // namespace
}  // namespace berth::api::events
