#pragma once

// The OCI Distribution Specification 1.1 over HTTP: the routes of `berth registry serve`
// (end-1 … end-13), on the project's HTTP server (api/http).
//
//   auto storage = BERTH_TRY(Storage::Open(root));
//   Registry registry(storage.get(), authorizer.get());   // authorizer may be null: open
//   api::Router router;
//   registry.AddRoutes(&router);
//   api::Server server(router, Registry::ServerOptions());
//
// Every answer but a success is the spec's error body, {"errors":[{"code","message","detail"}]},
// with the spec's status; a malformed request never stops the server.

#include <cstddef>
#include <string>
#include <vector>

#include "api/http/router.h"
#include "api/http/server.h"
#include "registry/auth.h"
#include "registry/storage.h"

namespace berth::registry {

class Registry {
 public:
  static constexpr size_t kMaxManifestBytes = 4u << 20;

  Registry(Storage* storage, Authorizer* authorizer) : storage_(storage), authorizer_(authorizer) {}

  /// Registers a route for every method under "/": the registry dispatches itself, since
  /// repository names hold slashes and the spec's errors are not the Engine API's.
  void AddRoutes(api::Router* router);
  /// Answers one request (the body, if any, in request.body_stream or request.body).
  api::Response Handle(api::Request& request);

  /// The server options the registry wants (common headers).
  static api::ServerOptions ServerOptions();

 private:
  struct Target;
  api::Response Dispatch(api::Request& request, const Target& t);
  api::Response Base(api::Request& req);
  api::Response Catalog(api::Request& req);
  api::Response Tags(api::Request& req, const std::string& name);
  api::Response GetBlob(api::Request& req, const std::string& name, const std::string& digest);
  api::Response DeleteBlob(const std::string& name, const std::string& digest);
  api::Response StartUpload(api::Request& req, const std::string& name);
  api::Response UploadStatus(const std::string& name, const std::string& id);
  api::Response PatchUpload(api::Request& req, const std::string& name, const std::string& id);
  api::Response PutUpload(api::Request& req, const std::string& name, const std::string& id);
  api::Response CancelUpload(const std::string& name, const std::string& id);
  api::Response GetManifest(api::Request& req, const std::string& name, const std::string& ref);
  api::Response PutManifest(api::Request& req, const std::string& name, const std::string& ref);
  api::Response DeleteManifest(const std::string& name, const std::string& ref);
  api::Response Referrers(api::Request& req, const std::string& name, const std::string& digest);

  Storage* storage_;
  Authorizer* authorizer_;
};

/// The spec's error response: {"errors":[{"code":code,"message":message,"detail":...}]}.
api::Response RegistryError(int status, std::string_view code, std::string_view message);

/// `berth registry ARGS...` (args after "registry"): serve, gc. Returns the exit code.
int Main(const std::vector<std::string>& args);

}  // namespace berth::registry
