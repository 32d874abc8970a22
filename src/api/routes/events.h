#pragma once

// GET /events: Docker's event stream from the daemon's EventBus, one JSON object a line, with
// `since` and `until` (unix seconds, RFC 3339 or a duration before now) and `filters`
// (type, event, image). Past events are replayed only with `since`; the stream ends when the
// client goes, when `until` passes or when the daemon stops.

#include "api/events/event_bus.h"
#include "api/http/router.h"

namespace berth::api::routes {

void AddEventRoutes(Router* router, events::EventBus* bus);

}  // namespace berth::api::routes
