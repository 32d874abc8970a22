#pragma once

// Registry authentication, as Docker's registry client does it (docker/distribution's
// registry/client/auth and Docker's token spec, docs/spec/auth/token.md):
//
//   1. A request gets 401 with one or more challenges in WWW-Authenticate:
//        Basic realm="Registry Realm"
//        Bearer realm="https://auth.example/token",service="registry.example",
//               scope="repository:library/busybox:pull"
//   2. Basic: the request is sent again with "Authorization: Basic base64(user:password)".
//      Bearer: GET realm?service=S&scope=repository:NAME:pull (with Basic credentials if any,
//      or the identity token as refresh_token by POST), the answer {"token"|"access_token"}
//      goes into "Authorization: Bearer TOKEN" on the request and the ones after it.
//
// Credentials come from the Engine API's X-Registry-Auth header: base64url of
// {"username","password","auth","email","serveraddress","identitytoken","registrytoken"}.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::distribution {

/// One challenge of a WWW-Authenticate header. scheme is lowercased ("basic", "bearer");
/// parameter names are lowercased, values unquoted.
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
  std::string Param(std::string_view name) const;
};

/// Parses every challenge of a WWW-Authenticate value (RFC 7235: challenges separated by
/// commas, each a scheme and comma-separated auth-params with token or quoted-string values,
/// or a token68). Malformed parts are skipped, never fatal: the result may be empty.
std::vector<Challenge> ParseWwwAuthenticate(std::string_view header);

/// What the user gave for a registry (docker login, X-Registry-Auth).
struct Credentials {
  std::string username;
  std::string password;
  std::string identity_token;  // an OAuth2 refresh token ("identitytoken")
  std::string registry_token;  // a bearer token to use as is ("registrytoken")
  bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
  }
};

/// Decodes an X-Registry-Auth value (base64url or standard base64, padding optional). An empty
/// header is no credentials; malformed is InvalidArgument, as dockerd refuses it. "auth"
/// ("user:password" in base64) fills username and password when they are absent.
Result<Credentials> DecodeRegistryAuth(std::string_view header);

/// The value of an Authorization header for a Basic challenge: "Basic base64(user:password)".
std::string BasicAuthorization(const Credentials& credentials);

/// The URL to ask a token from for a Bearer challenge: realm?service=S&scope=A&scope=B
/// (service omitted when the challenge has none; the challenge's own scope is added to the
/// scopes asked). InvalidArgument when the challenge has no realm.
Result<std::string> TokenUrl(const Challenge& challenge, const std::vector<std::string>& scopes);

/// The token of a token server's JSON answer: "token", else "access_token". InvalidArgument
/// when there is neither.
Result<std::string> ParseTokenResponse(std::string_view json);

}  // namespace berth::distribution
