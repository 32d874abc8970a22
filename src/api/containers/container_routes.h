#pragma once

// The container and exec routes of the Engine API (moby's router/container), with Docker's
// JSON shapes, over engine::ContainerService:
//   POST /containers/create, /containers/{name}/{start,stop,restart,kill,pause,unpause,wait,
//   attach,resize,rename,update}, DELETE /containers/{name}, GET /containers/json,
//   /containers/{name}/{json,logs,top,stats}, POST /containers/prune,
//   POST /containers/{name}/exec, POST /exec/{id}/{start,resize}, GET /exec/{id}/json.

#include <string>

#include "api/http/router.h"
#include "engine/container_service.h"

namespace berth::api::containers {

void AddContainerRoutes(Router* router, engine::ContainerService* service);

/// inspect's JSON (GET /containers/{name}/json) for a container.
std::string InspectJson(const engine::Container& c, const std::vector<std::string>& exec_ids);
/// One entry of GET /containers/json.
std::string SummaryJson(const engine::Container& c);
/// "Up 3 minutes", "Exited (0) 2 seconds ago", "Created", as docker ps shows State.
std::string StatusText(const engine::Container& c, int64_t now);
/// Docker's units.HumanDuration of seconds.
std::string HumanDuration(int64_t seconds);

}  // namespace berth::api::containers
