#include "api/events/event_bus.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

namespace berth::api::events {
namespace {

int64_t NowNano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool AnyOf(const std::vector<std::string>& want, const std::string& have) {
  return want.empty() || std::find(want.begin(), want.end(), have) != want.end();
}

// "busybox" → "busybox:latest"; a name with a tag or digest stays.
std::string WithTag(const std::string& name) {
  auto slash = name.rfind('/');
  auto colon = name.rfind(':');
  if (name.find('@') != std::string::npos) return name;
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) return name;
  return name + ":latest";
}

bool ImageMatches(const std::string& filter, const Event& e) {
  std::string hex = e.id.rfind("sha256:", 0) == 0 ? e.id.substr(7) : e.id;
  std::string f = filter.rfind("sha256:", 0) == 0 ? filter.substr(7) : filter;
  if (!f.empty() && hex.rfind(f, 0) == 0) return true;
  auto it = e.attributes.find("name");
  if (it == e.attributes.end()) return false;
  return it->second == filter || WithTag(it->second) == WithTag(filter);
}

// A Go duration ("1h30m", "10s", "1.5h"): nanoseconds, or -1 if malformed.
int64_t GoDuration(const std::string& s) {
  if (s.empty()) return -1;
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return -1;
    double v = std::atof(s.substr(start, i - start).c_str());
    size_t u = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string unit = s.substr(u, i - u);
    double scale = unit == "ns"                   ? 1
                   : unit == "us" || unit == "µs" ? 1e3
                   : unit == "ms"                 ? 1e6
                   : unit == "s"                  ? 1e9
                   : unit == "m"                  ? 60e9
                   : unit == "h"                  ? 3600e9
                                                  : -1;
    if (scale < 0) return -1;
    total += v * scale;
  }
  return static_cast<int64_t>(total);
}

}  // namespace

bool EventFilter::Matches(const Event& e) const {
  if (!AnyOf(types, e.type) || !AnyOf(actions, e.action)) return false;
  if (images.empty()) return true;
  if (e.type != "image") return false;
  return std::any_of(images.begin(), images.end(),
                     [&](const std::string& f) { return ImageMatches(f, e); });
}

Result<EventFilter> MakeFilter(const std::map<std::string, std::vector<std::string>>& filters) {
  EventFilter f;
  for (const auto& [key, values] : filters) {
    if (key == "type")
      f.types = values;
    else if (key == "event")
      f.actions = values;
    else if (key == "image")
      f.images = values;
    else if (key != "scope" && key != "label")
      return Error::InvalidArgument("invalid filter '" + key + "'");
  }
  return f;
}

Result<int64_t> ParseEventTime(const std::string& text, int64_t now_nano) {
  auto bad = [&] { return Error::InvalidArgument("invalid timestamp: " + text); };
  if (text.empty()) return bad();
  // Unix seconds, maybe with a fraction.
  if (text.find_first_not_of("0123456789.") == std::string::npos) {
    auto dot = text.find('.');
    int64_t secs = std::atoll(text.substr(0, dot).c_str());
    int64_t frac = 0;
    if (dot != std::string::npos) {
      std::string f = text.substr(dot + 1, 9);
      if (f.find('.') != std::string::npos) return bad();
      f.resize(9, '0');
      frac = std::atoll(f.c_str());
    }
    return secs * 1000000000 + frac;
  }
  // RFC 3339: 2026-01-02T03:04:05[.frac](Z|±hh:mm)
  int y, mo, d, h, mi, s;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) == 6) {
    struct tm tm {};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    int64_t secs = ::timegm(&tm);
    int64_t frac = 0;
    size_t p = 19;
    if (p < text.size() && text[p] == '.') {
      size_t q = p + 1;
      while (q < text.size() && std::isdigit(static_cast<unsigned char>(text[q]))) ++q;
      std::string f = text.substr(p + 1, std::min<size_t>(q - p - 1, 9));
      f.resize(9, '0');
      frac = std::atoll(f.c_str());
      p = q;
    }
    if (p < text.size() && (text[p] == '+' || text[p] == '-') && text.size() >= p + 6) {
      int64_t off = std::atoi(text.substr(p + 1, 2).c_str()) * 3600 +
                    std::atoi(text.substr(p + 4, 2).c_str()) * 60;
      secs += text[p] == '+' ? -off : off;
    }
    return secs * 1000000000 + frac;
  }
  int64_t d_nano = GoDuration(text);
  if (d_nano < 0) return bad();
  return now_nano - d_nano;
}

std::string EventJson(const Event& e) {
  nlohmann::ordered_json attrs = nlohmann::ordered_json::object();
  for (const auto& [k, v] : e.attributes) attrs[k] = v;
  nlohmann::ordered_json j = {{"status", e.action},
                              {"id", e.id},
                              {"Type", e.type},
                              {"Action", e.action},
                              {"Actor", {{"ID", e.id}, {"Attributes", attrs}}},
                              {"scope", "local"},
                              {"time", e.time_nano / 1000000000},
                              {"timeNano", e.time_nano}};
  return j.dump();
}

void EventBus::Publish(Event e) {
  if (e.time_nano == 0) e.time_nano = NowNano();
  {
    std::lock_guard lock(mu_);
    e.seq = ++last_;
    ring_.push_back(std::move(e));
    while (ring_.size() > capacity_) ring_.pop_front();
  }
  cv_.notify_all();
}

uint64_t EventBus::Last() {
  std::lock_guard lock(mu_);
  return last_;
}

bool EventBus::Wait(uint64_t* cursor, std::vector<Event>* out,
                    std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return closed_ || last_ > *cursor; });
  for (const auto& e : ring_)
    if (e.seq > *cursor) out->push_back(e);
  *cursor = std::max(*cursor, last_);
  return !closed_;
}

void EventBus::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

}  // namespace berth::api::events
