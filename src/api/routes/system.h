#pragma once

// /_ping, /version, /info: what every Docker client asks first.

#include <cstdint>
#include <string>

#include "api/http/router.h"

namespace berth::api::routes {

inline constexpr const char* kApiVersion = "1.51";
inline constexpr const char* kMinApiVersion = "1.24";
inline constexpr const char* kEngineVersion = "0.1.0";

/// What the system routes need from the daemon.
class SystemBackend {
 public:
  virtual ~SystemBackend() = default;
  struct Counts {
    int64_t containers = 0, running = 0, paused = 0, stopped = 0, images = 0;
  };
  virtual Counts GetCounts() = 0;
  virtual std::string RootDir() = 0;
  virtual std::string DaemonId() = 0;
};

void AddSystemRoutes(Router* router, SystemBackend* backend);

/// The headers every response carries (Api-Version, Docker-Experimental, Ostype, Server).
std::vector<std::pair<std::string, std::string>> CommonHeaders();

}  // namespace berth::api::routes
