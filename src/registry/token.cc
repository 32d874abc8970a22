#include "registry/token.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <strings.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "api/http/router.h"
#include "util/base64.h"
#include "util/file.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/time.h"

namespace berth::registry {
namespace {

using nlohmann::json;

const auto& logger = log::Get("registry");

constexpr int64_t kLeeway = 60;  // clock skew tolerated on nbf

Error Denied(std::string why) { return Error::PermissionDenied(std::move(why)); }

// The string claim key of j, or "".
std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  if (it->is_number_float()) return static_cast<int64_t>(it->get<double>());
  return it->get<int64_t>();
}

std::vector<std::string> SplitActions(std::string_view actions) {
  std::vector<std::string> out;
  for (auto& a : Split(actions, ',', true)) out.push_back(a);
  return out;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

Result<Scope> ParseScope(std::string_view text) {
  size_t first = text.find(':');
  size_t last = text.rfind(':');
  if (first == std::string_view::npos || first == last || first == 0 || last == first + 1)
    return Error::InvalidArgument("invalid scope \"" + std::string(text) + "\"");
  return Scope{std::string(text.substr(0, first)),
               std::string(text.substr(first + 1, last - first - 1)),
               std::string(text.substr(last + 1))};
}

std::string FormatScope(const Scope& s) { return s.type + ":" + s.name + ":" + s.actions; }

// Keys.

TokenKey::~TokenKey() { EVP_PKEY_free(key_); }

Result<void> TokenKey::Init(EVP_PKEY* key, bool can_sign) {
  key_ = key;
  can_sign_ = can_sign;
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) {
    if (EVP_PKEY_get_bits(key) < 2048) return Error::InvalidArgument("RSA key under 2048 bits");
    alg_ = "RS256";
  } else if (id == EVP_PKEY_EC) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1 ||
        std::string_view(group) != "prime256v1")
      return Error::InvalidArgument("EC key not on P-256 (ES256)");
    alg_ = "ES256";
  } else {
    return Error::InvalidArgument("token key is neither EC P-256 nor RSA");
  }
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  if (n <= 0) return Error::Internal("encode public key");
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  std::string hex = BERTH_TRY(Sha256Hex(bytes));
  std::string raw;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  kid_ = Base64UrlEncode(raw).substr(0, 32);
  return {};
}

Result<std::shared_ptr<TokenKey>> TokenKey::Load(const std::string& path) {
  std::string pem = BERTH_TRY(ReadFile(path, 1 << 20));
  auto bio = [&] { return BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())); };
  std::shared_ptr<TokenKey> k(new TokenKey());
  BIO* b = bio();
  EVP_PKEY* key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (key) {
    BERTH_TRY(k->Init(key, true));
    return k;
  }
  b = bio();
  key = PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  if (!key) {
    b = bio();
    X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    if (cert) {
      key = X509_get_pubkey(cert);
      X509_free(cert);
    }
  }
  if (!key) return Error::InvalidArgument(path + ": no PEM private key, public key or certificate");
  BERTH_TRY(k->Init(key, false));
  return k;
}

Result<std::shared_ptr<TokenKey>> TokenKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (!key) return Error::Internal("generate an EC P-256 key");
  std::shared_ptr<TokenKey> k(new TokenKey());
  BERTH_TRY(k->Init(key, true));
  return k;
}

Result<std::string> TokenKey::Sign(std::string_view input) const {
  if (!can_sign_) return Error::FailedPrecondition("token key has no private part");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  auto data = reinterpret_cast<const unsigned char*>(input.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1)
    return Error::Internal("sign token");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                     input.size()) != 1)
    return Error::Internal("sign token");
  sig.resize(len);
  if (alg_ != "ES256") return sig;
  // JWS wants ES256's r and s as two 32-byte big-endian numbers, not DER (RFC 7518 §3.4).
  const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
  ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
  if (!es) return Error::Internal("decode ECDSA signature");
  std::string raw(64, '\0');
  auto out = reinterpret_cast<unsigned char*>(raw.data());
  bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(es), out, 32) == 32 &&
            BN_bn2binpad(ECDSA_SIG_get0_s(es), out + 32, 32) == 32;
  ECDSA_SIG_free(es);
  if (!ok) return Error::Internal("encode ECDSA signature");
  return raw;
}

bool TokenKey::Verify(std::string_view input, std::string_view signature) const {
  std::string der;
  if (alg_ == "ES256") {
    if (signature.size() != 64) return false;
    auto in = reinterpret_cast<const unsigned char*>(signature.data());
    ECDSA_SIG* es = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(in, 32, nullptr);
    BIGNUM* s = BN_bin2bn(in + 32, 32, nullptr);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
      BN_free(r);
      BN_free(s);
      ECDSA_SIG_free(es);
      return false;
    }
    unsigned char* buf = nullptr;
    int n = i2d_ECDSA_SIG(es, &buf);
    ECDSA_SIG_free(es);
    if (n <= 0) return false;
    der.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(n));
    OPENSSL_free(buf);
    signature = der;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

// Tokens.

Result<std::string> SignToken(const TokenKey& key, const TokenClaims& c) {
  json header = {{"typ", "JWT"}, {"alg", key.alg()}, {"kid", key.kid()}};
  json access = json::array();
  for (const auto& a : c.access)
    access.push_back({{"type", a.type}, {"name", a.name}, {"actions", a.actions}});
  unsigned char id[16];
  if (RAND_bytes(id, sizeof id) != 1) return Error::Internal("random token id");
  json claims = {{"iss", c.issuer},
                 {"sub", c.subject},
                 {"aud", c.audience},
                 {"exp", c.expires_at},
                 {"nbf", c.not_before},
                 {"iat", c.issued_at},
                 {"jti", Base64UrlEncode(std::string_view(reinterpret_cast<char*>(id), sizeof id))},
                 {"access", access}};
  std::string input = Base64UrlEncode(header.dump(-1, ' ', false, json::error_handler_t::replace)) +
                      "." +
                      Base64UrlEncode(claims.dump(-1, ' ', false, json::error_handler_t::replace));
  std::string sig = BERTH_TRY(key.Sign(input));
  return input + "." + Base64UrlEncode(sig);
}

Result<TokenClaims> VerifyToken(const TokenKey& key, std::string_view token, int64_t now) {
  size_t d1 = token.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return Denied("malformed token");
  auto header_text = Base64Decode(token.substr(0, d1), Base64::kUrl);
  auto claims_text = Base64Decode(token.substr(d1 + 1, d2 - d1 - 1), Base64::kUrl);
  auto sig = Base64Decode(token.substr(d2 + 1), Base64::kUrl);
  if (!header_text || !claims_text || !sig) return Denied("malformed token");
  json header = json::parse(*header_text, nullptr, false);
  if (!header.is_object() || Str(header, "alg") != key.alg())
    return Denied("token not signed with " + key.alg());
  if (!key.Verify(token.substr(0, d2), *sig)) return Denied("invalid token signature");
  json j = json::parse(*claims_text, nullptr, false);
  if (!j.is_object()) return Denied("malformed token claims");
  TokenClaims c;
  c.issuer = Str(j, "iss");
  c.subject = Str(j, "sub");
  if (auto aud = j.find("aud"); aud != j.end()) {
    if (aud->is_string()) {
      c.audience = aud->get<std::string>();
    } else if (aud->is_array()) {
      for (const auto& a : *aud)
        if (a.is_string() && c.audience.empty()) c.audience = a.get<std::string>();
    }
  }
  c.expires_at = Int(j, "exp");
  c.not_before = Int(j, "nbf");
  c.issued_at = Int(j, "iat");
  if (c.expires_at == 0 || now >= c.expires_at) return Denied("token expired");
  if (c.not_before > now + kLeeway) return Denied("token not yet valid");
  if (auto access = j.find("access"); access != j.end() && access->is_array()) {
    for (const auto& a : *access) {
      if (!a.is_object()) continue;
      TokenAccess ta{Str(a, "type"), Str(a, "name"), {}};
      if (auto acts = a.find("actions"); acts != a.end() && acts->is_array())
        for (const auto& x : *acts)
          if (x.is_string()) ta.actions.push_back(x.get<std::string>());
      c.access.push_back(std::move(ta));
    }
  }
  return c;
}

bool Covers(const std::vector<TokenAccess>& access, const Scope& scope) {
  for (const auto& want : SplitActions(scope.actions)) {
    bool granted = false;
    for (const auto& a : access) {
      if (a.type != scope.type || a.name != scope.name) continue;
      for (const auto& have : a.actions)
        if (have == want || have == "*") granted = true;
    }
    if (!granted) return false;
  }
  return true;
}

// The authorizer and the token endpoint.

TokenAuthorizer::TokenAuthorizer(TokenOptions options, std::shared_ptr<TokenKey> key,
                                 std::unique_ptr<HtpasswdAuthorizer> users)
    : options_(std::move(options)), key_(std::move(key)), users_(std::move(users)) {}

std::string TokenAuthorizer::endpoint_path() const {
  if (!users_ || !key_->can_sign()) return "";
  std::string_view r = options_.realm;
  if (!r.starts_with("/")) {  // an absolute URL: its path
    size_t scheme = r.find("://");
    size_t slash = scheme == std::string_view::npos ? r.npos : r.find('/', scheme + 3);
    r = slash == std::string_view::npos ? "/" : r.substr(slash);
  }
  return std::string(r.substr(0, r.find('?')));
}

std::string TokenAuthorizer::Realm(const api::Request& req) const {
  if (!options_.realm.starts_with("/")) return options_.realm;
  std::string host = req.Header("Host");
  if (host.empty()) host = "localhost";
  return (options_.tls ? "https://" : "http://") + host + options_.realm;
}

Result<void> TokenAuthorizer::Authorize(const api::Request& req, const std::vector<Scope>& scopes) {
  std::string h = req.Header("Authorization");
  if (h.size() < 7 || ::strncasecmp(h.c_str(), "bearer ", 7) != 0)
    return Denied("authentication required");
  auto claims = VerifyToken(*key_, Trim(std::string_view(h).substr(7)), std::time(nullptr));
  if (!claims) return claims.error();
  if (claims->issuer != options_.issuer) return Denied("token from another issuer");
  if (claims->audience != options_.service) return Denied("token for another service");
  for (const auto& s : scopes)
    if (!Covers(claims->access, s)) return Denied("insufficient scope: " + FormatScope(s));
  return {};
}

std::string TokenAuthorizer::Challenge(const api::Request& req, const std::vector<Scope>& scopes,
                                       const Error& why) const {
  std::string c = "Bearer realm=" + Quote(Realm(req)) + ",service=" + Quote(options_.service);
  if (!scopes.empty()) {
    std::string s;
    for (const auto& x : scopes) s += (s.empty() ? "" : " ") + FormatScope(x);
    c += ",scope=" + Quote(s);
  }
  std::string_view m = why.message();
  if (m.starts_with("insufficient scope"))
    c += ",error=\"insufficient_scope\"";
  else if (m != "authentication required")
    c += ",error=\"invalid_token\"";
  return c;
}

std::optional<api::Response> TokenAuthorizer::ServeOwn(api::Request& req) {
  std::string path = endpoint_path();
  if (path.empty() || req.target.substr(0, req.target.find('?')) != path) return std::nullopt;
  return IssueToken(req);
}

api::Response TokenAuthorizer::IssueToken(const api::Request& req) {
  auto error = [](int status, std::string_view code, std::string_view message) {
    json e = {{"code", code}, {"message", message}, {"detail", nullptr}};
    return api::JsonResponse(status, json{{"errors", json::array({e})}}.dump(
                                         -1, ' ', false, json::error_handler_t::replace));
  };
  // GET with Basic credentials (Docker's token spec), or POST of a form with
  // grant_type=password (its OAuth2 flavour, which containerd tries first).
  api::Request form;
  bool oauth = req.method == "POST";
  if (oauth) {
    std::string body = req.body;
    if (req.body_stream) {
      char buf[4096];
      for (;;) {
        auto n = req.body_stream->Read(buf, sizeof buf);
        if (!n) return error(400, "DENIED", n.error().message());
        if (*n == 0) break;
        body.append(buf, *n);
        if (body.size() > (64u << 10)) return error(413, "SIZE_INVALID", "form too large");
      }
    }
    if (!api::Router::ParseTarget("/token?" + body, &form))
      return error(400, "DENIED", "malformed form");
    if (form.Query("grant_type") != "password")
      return error(400, "unsupported_grant_type", "only grant_type=password is supported");
  } else if (req.method != "GET" && req.method != "HEAD") {
    return error(405, "UNSUPPORTED", "the token endpoint takes GET or POST");
  }
  const api::Request& params = oauth ? form : req;
  std::string service = params.Query("service");
  if (!service.empty() && service != options_.service)
    return error(400, "DENIED", "unknown service \"" + service + "\"");
  Result<std::string> user = Error::PermissionDenied("authentication required");
  if (oauth) {
    if (users_->Check(form.Query("username"), form.Query("password")))
      user = form.Query("username");
  } else {
    user = users_->Authenticate(req);
  }
  if (!user) {
    api::Response r = error(401, "UNAUTHORIZED", "authentication required");
    r.Header("WWW-Authenticate", "Basic realm=" + Quote(options_.service));
    return r;
  }
  TokenClaims c;
  c.issuer = options_.issuer;
  c.subject = *user;
  c.audience = options_.service;
  c.issued_at = std::time(nullptr);
  c.not_before = c.issued_at;
  c.expires_at = c.issued_at + options_.expires_in;
  auto [begin, end] = params.query.equal_range("scope");
  for (auto it = begin; it != end; ++it) {
    for (const auto& text : Split(it->second, ' ', true)) {
      auto s = ParseScope(text);
      if (!s) return error(400, "DENIED", s.error().message());
      // Every user of the htpasswd file may do everything, as with basic auth: the token
      // grants the actions asked for that the registry knows.
      TokenAccess a{s->type, s->name, {}};
      for (const auto& act : SplitActions(s->actions))
        if (act == "pull" || act == "push" || act == "delete" || act == "*")
          a.actions.push_back(act);
      c.access.push_back(std::move(a));
    }
  }
  auto token = SignToken(*key_, c);
  if (!token) {
    logger.Error("{}", token.error().message());
    return error(500, "UNKNOWN", token.error().message());
  }
  logger.Debug({{"user", *user}}, "issued a token");
  if (oauth) {
    json body = {{"access_token", *token},
                 {"expires_in", options_.expires_in},
                 {"issued_at", NowRfc3339()},
                 {"token_type", "Bearer"}};
    return api::JsonResponse(200, body.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  json body = {{"token", *token},
               {"access_token", *token},
               {"expires_in", options_.expires_in},
               {"issued_at", NowRfc3339()}};
  return api::JsonResponse(200, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace berth::registry
