#pragma once

// Who may do what. The registry asks its Authorizer about every request with the scopes the
// request needs (Docker's token spec: "repository:NAME:pull,push", "registry:catalog:*"), so
// that basic auth (htpasswd) and bearer tokens (registry/token.h) are two Authorizers behind
// one call.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/http.h"
#include "util/result.h"

namespace berth::registry {

struct Scope {
  std::string type;     // "repository", "registry"
  std::string name;     // "library/busybox", "catalog"
  std::string actions;  // "pull", "pull,push", "delete", "*"
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  /// OK if the request may proceed; PermissionDenied (401 UNAUTHORIZED) otherwise.
  virtual Result<void> Authorize(const api::Request& request, const std::vector<Scope>& scopes) = 0;
  /// The WWW-Authenticate challenge of a 401 for these scopes; why is Authorize's error.
  virtual std::string Challenge(const api::Request& request, const std::vector<Scope>& scopes,
                                const Error& why) const = 0;
  /// A response for a request outside /v2 that the authorizer itself answers (the token
  /// endpoint), or nullopt.
  virtual std::optional<api::Response> ServeOwn(api::Request& request) { return std::nullopt; }
};

/// Basic auth against an htpasswd file of bcrypt hashes ("user:$2y$..."; htpasswd -B makes
/// them). Every authenticated user may do everything. Verified passwords are remembered (by
/// a hash of user and password) so that a client's many requests cost one bcrypt.
class HtpasswdAuthorizer : public Authorizer {
 public:
  /// InvalidArgument if the file holds no bcrypt entry.
  static Result<std::unique_ptr<HtpasswdAuthorizer>> Load(const std::string& path,
                                                          std::string realm = "Berth Registry");
  Result<void> Authorize(const api::Request& request, const std::vector<Scope>& scopes) override;
  std::string Challenge(const api::Request& request, const std::vector<Scope>& scopes,
                        const Error& why) const override;
  /// Whether user's password is password (bcrypt through crypt_r).
  bool Check(std::string_view user, std::string_view password);
  /// The user of a request's valid Basic credentials; PermissionDenied if absent or wrong.
  Result<std::string> Authenticate(const api::Request& request);

 private:
  HtpasswdAuthorizer() = default;
  std::map<std::string, std::string, std::less<>> users_;  // user → bcrypt hash
  std::string realm_;
  std::mutex mu_;
  std::set<std::string> verified_;  // sha256(user NUL password NUL hash)
};

}  // namespace berth::registry
