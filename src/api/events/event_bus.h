#pragma once

// EventBus: the daemon's recent events (a ring of the last `capacity`) and the GET /events
// streams waiting for new ones. Publishers (the image service's event sink) append; readers
// walk the ring by sequence number and block on a condition variable for more.
//
//   EventBus bus;
//   bus.Publish({.type = "image", .action = "tag", .id = id, .attributes = {{"name", "a:1"}}});
//   uint64_t cursor = 0;  // 0: from the oldest kept; bus.Last(): only new ones
//   std::vector<Event> got;
//   bool open = bus.Wait(&cursor, &got, deadline);
//
// Thread safety: every method may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "util/result.h"

namespace berth::api::events {

struct Event {
  std::string type;                               // "image"
  std::string action;                             // "tag", "untag", "delete", "import", "load"
  std::string id;                                 // the actor's id ("sha256:…")
  std::map<std::string, std::string> attributes;  // "name": "busybox:latest"
  int64_t time_nano = 0;                          // set by Publish when 0
  uint64_t seq = 0;                               // set by Publish
};

/// The filters of GET /events: type, event (the action), image (an id, an id prefix, a name
/// with or without its tag). An empty list matches everything; within a key any value.
struct EventFilter {
  std::vector<std::string> types;
  std::vector<std::string> actions;
  std::vector<std::string> images;
  bool Matches(const Event& e) const;
};
/// From the API's `filters` map; InvalidArgument for an unknown key ("invalid filter 'x'").
Result<EventFilter> MakeFilter(const std::map<std::string, std::vector<std::string>>& filters);

/// Docker's `since`/`until` values as nanoseconds since the epoch: unix seconds with an
/// optional fraction ("1700000000.5"), RFC 3339, or a Go duration before now ("10m", "1h30m").
Result<int64_t> ParseEventTime(const std::string& text, int64_t now_nano);

/// Docker's event JSON ({"status":…,"id":…,"Type":…,"Action":…,"Actor":…,"scope":"local",
/// "time":…,"timeNano":…}), one line, without the newline.
std::string EventJson(const Event& e);

class EventBus {
 public:
  explicit EventBus(size_t capacity = 1024) : capacity_(capacity) {}

  void Publish(Event e);
  /// The sequence number of the newest event (0 if none yet).
  uint64_t Last();
  /// Appends the events after *cursor to out and advances it, waiting until there is one, the
  /// deadline passes or the bus closes. Returns false once closed.
  bool Wait(uint64_t* cursor, std::vector<Event>* out,
            std::chrono::steady_clock::time_point deadline);
  /// Wakes every reader for good (the daemon stops).
  void Close();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> ring_;  // GUARDED_BY(mu_)
  uint64_t last_ = 0;       // GUARDED_BY(mu_)
  bool closed_ = false;     // GUARDED_BY(mu_)
  size_t capacity_;
};

}  // namespace berth::api::events
