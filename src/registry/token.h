#pragma once

// Bearer tokens per Docker's token specification (distribution's docs/spec/auth/token.md and
// jwt.md), with the token server built in:
//
//   client ──GET /v2/NAME/manifests/T──▶ registry
//          ◀─401 WWW-Authenticate: Bearer realm="R",service="S",scope="repository:NAME:pull"
//   client ──GET R?service=S&scope=repository:NAME:pull  (Authorization: Basic …)──▶ /token
//          ◀─200 {"token":JWT,"access_token":JWT,"expires_in":300,"issued_at":…}
//   client ──GET /v2/NAME/manifests/T  (Authorization: Bearer JWT)──▶ registry ─▶ 200
//
// A token is a JWS in compact form, signed ES256 (an EC P-256 key) or RS256 (an RSA key)
// through libcrypto. Its claims: iss (the issuer), sub (the user), aud (the service), exp, nbf,
// iat, jti and access, [{"type":"repository","name":"NAME","actions":["pull","push"]}]. The
// registry accepts a token only if the signature is the key's, iss is its issuer, aud names its
// service, now is within [nbf - 60 s, exp) and access covers every action the request needs.
//
// The token endpoint (GET /token, or whichever path the realm names) checks Basic credentials
// against the htpasswd file and grants an authenticated user every action it asks for (as
// htpasswd basic auth does); anonymous or wrong credentials get 401.

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/http.h"
#include "registry/auth.h"
#include "util/base64.h"  // JWT parts: Base64UrlEncode, Base64Decode(kUrl)
#include "util/result.h"

namespace berth::registry {

/// "repository:NAME:pull,push" → {repository, NAME, pull,push}; the name may hold ':' (the
/// actions follow the last one). InvalidArgument if malformed.
Result<Scope> ParseScope(std::string_view text);
std::string FormatScope(const Scope& scope);

/// A signing (private) or verifying (public) key: EC P-256 (ES256) or RSA (RS256).
class TokenKey {
 public:
  /// A PEM file: a private key (signs and verifies), a public key or a certificate (verifies).
  static Result<std::shared_ptr<TokenKey>> Load(const std::string& path);
  /// A fresh EC P-256 key, for a registry that issues its own tokens and keeps no key file
  /// (its tokens die with the process, which is what their few minutes of life allow).
  static Result<std::shared_ptr<TokenKey>> Generate();
  ~TokenKey();

  const std::string& alg() const { return alg_; }
  /// Key id for the JWS header: base64url of the SHA-256 of the public key's DER, 32 chars.
  const std::string& kid() const { return kid_; }
  bool can_sign() const { return can_sign_; }
  /// The JWS signature of input (raw r||s for ES256).
  Result<std::string> Sign(std::string_view input) const;
  bool Verify(std::string_view input, std::string_view signature) const;

 private:
  TokenKey() = default;
  Result<void> Init(EVP_PKEY* key, bool can_sign);
  EVP_PKEY* key_ = nullptr;
  std::string alg_;
  std::string kid_;
  bool can_sign_ = false;
};

struct TokenAccess {
  std::string type;
  std::string name;
  std::vector<std::string> actions;
};

struct TokenClaims {
  std::string issuer;
  std::string subject;
  std::string audience;
  int64_t issued_at = 0;
  int64_t not_before = 0;
  int64_t expires_at = 0;
  std::vector<TokenAccess> access;
};

/// A signed JWT carrying claims. FailedPrecondition if key cannot sign.
Result<std::string> SignToken(const TokenKey& key, const TokenClaims& claims);
/// The claims of token if its signature is key's and it is in force at now (seconds since the
/// epoch); PermissionDenied otherwise (the reason in the message). Audience and issuer are the
/// caller's to check.
Result<TokenClaims> VerifyToken(const TokenKey& key, std::string_view token, int64_t now);
/// Whether access grants every action of scope ("*" grants all).
bool Covers(const std::vector<TokenAccess>& access, const Scope& scope);

struct TokenOptions {
  /// The realm clients are sent to. A path ("/token") is made absolute from the request's Host
  /// header and the scheme (https when tls).
  std::string realm = "/token";
  std::string service = "berth-registry";
  std::string issuer = "berth-registry";
  int64_t expires_in = 300;
  bool tls = false;
};

/// The registry's Authorizer for bearer tokens, and the token server itself when given the
/// users (htpasswd) and a key that signs.
class TokenAuthorizer : public Authorizer {
 public:
  /// users may be null: tokens come from an outside issuer, and key only verifies.
  TokenAuthorizer(TokenOptions options, std::shared_ptr<TokenKey> key,
                  std::unique_ptr<HtpasswdAuthorizer> users);

  Result<void> Authorize(const api::Request& request, const std::vector<Scope>& scopes) override;
  std::string Challenge(const api::Request& request, const std::vector<Scope>& scopes,
                        const Error& why) const override;
  std::optional<api::Response> ServeOwn(api::Request& request) override;

  /// The token endpoint: GET realm-path?service=&scope=…&scope=… with Basic credentials.
  api::Response IssueToken(const api::Request& request);
  /// The path the endpoint answers on ("/token"), empty when it does not issue.
  std::string endpoint_path() const;

 private:
  std::string Realm(const api::Request& request) const;
  TokenOptions options_;
  std::shared_ptr<TokenKey> key_;
  std::unique_ptr<HtpasswdAuthorizer> users_;
};

}  // namespace berth::registry
