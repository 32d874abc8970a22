// Server::ServeConnection, apart from server.cc: connections that reach the server through
// something other than its own accept loop (registry/tls.h).

#include <unistd.h>

#include <exception>
#include <thread>

#include "api/http/server.h"
#include "util/log.h"

namespace berth::api {

void Server::ServeConnection(int fd) {
  static const auto& logger = log::Get("api");
  if (active_.load() >= options_.max_connections) {
    ::close(fd);
    return;
  }
  active_.fetch_add(1);
  try {
    std::thread([this, fd] {
      try {
        HandleConnection(fd);
      } catch (const std::exception& e) {
        logger.Error("connection: {}", e.what());
      } catch (...) {
        logger.Error("connection: unknown exception");
      }
      ::close(fd);
      active_.fetch_sub(1);
    }).detach();
  } catch (const std::exception& e) {
    logger.Error("connection thread: {}", e.what());
    ::close(fd);
    active_.fetch_sub(1);
  }
}

}  // namespace berth::api
