#pragma once

// Routes of the Engine API: a method and a path pattern ("/images/{name}/json") to a handler.
// Paths come with or without Docker's version prefix (/v1.24/ ... /v1.51/); the router strips
// it and records the version. A {name} segment matches one path segment, except a final
// "{name*}" which matches the rest (image names contain slashes: /images/library/busybox/json
// is matched by routes written "/images/{name*}/json" through suffix matching).

#include <functional>
#include <string>
#include <vector>

#include "api/http/http.h"

namespace berth::api {

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  /// stream_body: the handler reads the body from Request::body_stream (archives, uploads).
  void Add(std::string method, std::string pattern, Handler handler, bool stream_body = false);

  struct Match {
    const Handler* handler = nullptr;
    bool stream_body = false;
    bool path_known = false;  // some route has this path (405 rather than 404)
  };
  /// Fills request.path, api_version and params from request.target.
  Match Find(Request& request) const;

  /// Splits a target into path, version and query (percent-decoded); false if malformed.
  static bool ParseTarget(std::string_view target, Request* request);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    bool stream_body;
  };
  static bool MatchRoute(const Route& route, const std::vector<std::string>& segments,
                         std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

/// Decodes %XX and (in queries) '+'; false on a malformed escape.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

}  // namespace berth::api
