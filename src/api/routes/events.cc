#include "api/routes/events.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "api/routes/images.h"

namespace berth::api::routes {
namespace {

using events::Event;
using events::EventBus;
using std::chrono::nanoseconds;
using std::chrono::steady_clock;

// Docker's image filter (daemon/events/filter.go): an exact match of the value against the
// actor's id or name attribute, or against either without its tag ("busybox" matches
// "busybox:1.36"); names in their familiar form.
std::string StripTag(std::string name) {
  if (auto at = name.find('@'); at != std::string::npos) name.resize(at);
  if (auto colon = name.rfind(':');
      colon != std::string::npos && name.find('/', colon) == std::string::npos)
    name.resize(colon);
  constexpr std::string_view kLibrary = "docker.io/library/", kHub = "docker.io/";
  if (name.starts_with(kLibrary) && name.find('/', kLibrary.size()) == std::string::npos)
    return name.substr(kLibrary.size());
  if (name.starts_with(kHub)) return name.substr(kHub.size());
  return name;
}

bool ImageFilterMatches(const std::vector<std::string>& values, const Event& e) {
  if (values.empty()) return true;
  if (e.type != "image" && !e.attributes.contains("image")) return false;
  auto attr = e.attributes.find(e.type == "image" ? "name" : "image");
  std::string name = attr == e.attributes.end() ? "" : attr->second;
  std::string candidates[] = {e.id, name, StripTag(e.id), StripTag(name)};
  for (const auto& v : values)
    for (const auto& c : candidates)
      if (!c.empty() && c == v) return true;
  return false;
}

int64_t NowNano() {
  return std::chrono::duration_cast<nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Response Events(EventBus* bus, Request& req) {
  int64_t now = NowNano();
  std::optional<int64_t> since, until;
  for (auto [key, slot] : {std::pair{"since", &since}, std::pair{"until", &until}}) {
    std::string v = req.Query(key);
    if (v.empty()) continue;
    auto t = events::ParseEventTime(v, now);
    if (!t) return ErrorResponse(t.error());
    *slot = *t;
  }
  auto parsed = ParseFilters(req.Query("filters"));
  if (!parsed) return ErrorResponse(parsed.error());
  auto filter = events::MakeFilter(*parsed);
  if (!filter) return ErrorResponse(filter.error());
  std::vector<std::string> images = std::move(filter->images);
  filter->images.clear();
  uint64_t start = since ? 0 : bus->Last();
  Response res;
  res.Header("Content-Type", "application/json");
  res.stream = [bus, since, until, start, filter = *filter,
                images = std::move(images)](BodyWriter& out) -> Result<void> {
    uint64_t cursor = start;
    for (;;) {
      int64_t now = NowNano();
      bool past = until && *until <= now;
      // Wake at least each second, and when `until` passes.
      auto deadline = steady_clock::now();
      if (!past) {
        int64_t wait = 1000000000;
        if (until) wait = std::min(wait, *until - now);
        deadline += nanoseconds(wait);
      }
      std::vector<Event> got;
      bool open = bus->Wait(&cursor, &got, deadline);
      for (const auto& e : got) {
        if ((since && e.time_nano < *since) || (until && e.time_nano > *until)) continue;
        if (!filter.Matches(e) || !ImageFilterMatches(images, e)) continue;
        BERTH_TRY(out.Write(events::EventJson(e) + "\n"));
      }
      if (past || !open) return {};
      if (out.ClientGone()) return {};  // checked each second: no event may come for long
    }
  };
  return res;
}

}  // namespace

void AddEventRoutes(Router* router, events::EventBus* bus) {
  router->Add("GET", "/events", [bus](Request& req) { return Events(bus, req); });
}

}  // namespace berth::api::routes
