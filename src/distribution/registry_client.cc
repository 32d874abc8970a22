#include "distribution/registry_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "oci/image.h"
#include "oci/media_types.h"
#include "util/log.h"
#include "util/sha256.h"

namespace berth::distribution {
namespace {

const auto& kLog = log::Get("pull");

std::string StatusText(int status) {
  switch (status) {
    case 400:
      return "400 Bad Request";
    case 401:
      return "401 Unauthorized";
    case 403:
      return "403 Forbidden";
    case 404:
      return "404 Not Found";
    case 416:
      return "416 Requested Range Not Satisfiable";
    case 429:
      return "429 Too Many Requests";
    case 500:
      return "500 Internal Server Error";
    case 502:
      return "502 Bad Gateway";
    case 503:
      return "503 Service Unavailable";
    default:
      return std::to_string(status);
  }
}

Result<oci::Digest> DigestOf(std::string_view bytes) {
  return oci::Digest::Sha256Hex(BERTH_TRY(Sha256Hex(bytes)));
}

}  // namespace

const char kManifestAccept[] =
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json";

std::string RegistryErrorText(int status, std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::vector<std::string> parts;
  if (j.is_object() && j.contains("errors") && j["errors"].is_array()) {
    for (const auto& e : j["errors"]) {
      if (!e.is_object()) continue;
      std::string code = e.value("code", "");
      std::replace(code.begin(), code.end(), '_', ' ');
      for (auto& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string message =
          e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
      parts.push_back(code.empty() ? message : message.empty() ? code : code + ": " + message);
    }
  }
  if (parts.empty()) return "unexpected status: " + StatusText(status);
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) out += "; " + parts[i];
  return out;
}

Result<std::unique_ptr<RegistryClient>> RegistryClient::Create(const std::string& domain,
                                                               const std::string& repository,
                                                               const RegistryOptions& options) {
  std::string host = domain == "docker.io" ? "registry-1.docker.io" : domain;
  bool insecure = IsLoopbackHost(host) ||
                  std::find(options.insecure_registries.begin(), options.insecure_registries.end(),
                            host) != options.insecure_registries.end();
  Url base = BERTH_TRY(ParseUrl((insecure ? "http://" : "https://") + host + "/"));
  return std::unique_ptr<RegistryClient>(new RegistryClient(std::move(base), repository, options));
}

std::string RegistryClient::CurrentAuthorization() {
  std::lock_guard lock(mu_);
  return authorization_;
}

Result<std::string> RegistryClient::Authorize(const std::vector<Challenge>& challenges) {
  const Credentials& creds = options_.credentials;
  const Challenge* bearer = nullptr;
  const Challenge* basic = nullptr;
  for (const auto& c : challenges) {
    if (c.scheme == "bearer" && !bearer) bearer = &c;
    if (c.scheme == "basic" && !basic) basic = &c;
  }
  if (bearer) {
    if (!creds.registry_token.empty()) return "Bearer " + creds.registry_token;
    std::string scope = "repository:" + repository_ + ":pull";
    Url token_url = BERTH_TRY(ParseUrl(BERTH_TRY(TokenUrl(*bearer, {scope}))));
    HttpRequest req{.method = "GET", .url = token_url};
    if (!creds.identity_token.empty()) {
      // OAuth2 refresh-token grant (Docker's token spec, oauth.md).
      req.method = "POST";
      std::string query = token_url.target.substr(token_url.target.find('?') + 1);
      req.url.target = token_url.target.substr(0, token_url.target.find('?'));
      req.body = query + "&grant_type=refresh_token&client_id=berth&refresh_token=" +
                 QueryEscape(creds.identity_token);
      req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    } else if (!creds.username.empty()) {
      req.headers.emplace_back("Authorization", BasicAuthorization(creds));
    }
    kLog.Debug("token from {}", token_url.String());
    auto res = BERTH_TRY(HttpSend(req));
    std::string body = BERTH_TRY(res->ReadAll(1u << 20));
    if (res->status() != 200) {
      if (res->status() == 401 || res->status() == 403)
        return Error::PermissionDenied("unauthorized: " + RegistryErrorText(res->status(), body));
      return Error::Unavailable("get token from " + token_url.Authority() + ": " +
                                RegistryErrorText(res->status(), body));
    }
    return "Bearer " + BERTH_TRY(ParseTokenResponse(body));
  }
  if (basic) {
    if (creds.username.empty() && creds.password.empty())
      return Error::PermissionDenied("unauthorized: authentication required");
    return BasicAuthorization(creds);
  }
  return Error::PermissionDenied("unauthorized: the registry asks for an unknown authentication");
}

Result<std::unique_ptr<HttpResponse>> RegistryClient::Do(
    const std::string& method, const std::string& target,
    std::vector<std::pair<std::string, std::string>> headers) {
  Url url = base_;
  url.target = target;
  bool answered_challenge = false;
  for (int hop = 0; hop < 8; ++hop) {
    HttpRequest req{.method = method, .url = url, .headers = headers};
    bool same_host = url.host == base_.host && url.port == base_.port;
    std::string auth = same_host ? CurrentAuthorization() : "";
    if (!auth.empty()) req.headers.emplace_back("Authorization", auth);
    auto res = BERTH_TRY(HttpSend(req));
    int status = res->status();
    if (status == 401 && same_host && !answered_challenge) {
      answered_challenge = true;
      auto challenges = ParseWwwAuthenticate(res->Header("WWW-Authenticate"));
      std::string value = BERTH_TRY(Authorize(challenges));
      std::lock_guard lock(mu_);
      authorization_ = value;
      continue;
    }
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
      std::string location = res->Header("Location");
      if (location.empty()) return res;
      url = BERTH_TRY(ResolveUrl(url, location));
      continue;
    }
    return res;
  }
  return Error::Unavailable(method + " " + base_.String() + target.substr(1) +
                            ": too many redirects");
}

Result<FetchedManifest> RegistryClient::GetManifest(const std::string& reference) {
  auto res = BERTH_TRY(
      Do("GET", "/v2/" + repository_ + "/manifests/" + reference, {{"Accept", kManifestAccept}}));
  int status = res->status();
  if (status != 200) {
    std::string body = res->ReadAll(64 << 10).value_or("");
    std::string text = RegistryErrorText(status, body);
    if (status == 404) return Error::NotFound(text);
    if (status == 401 || status == 403) return Error::PermissionDenied(text);
    return Error::Unavailable(text);
  }
  FetchedManifest m;
  m.bytes = BERTH_TRY_CTX(res->ReadAll(kMaxManifestBytes), "manifest " + reference);
  m.digest = BERTH_TRY(DigestOf(m.bytes));
  m.media_type = res->Header("Content-Type");
  if (auto semi = m.media_type.find(';'); semi != std::string::npos) m.media_type.resize(semi);
  if (!oci::IsManifest(m.media_type) && !oci::IsIndex(m.media_type)) {
    // Registries answer application/json or text/plain for documents without a mediaType.
    m.media_type = BERTH_TRY_CTX(oci::DetectManifestMediaType(m.bytes), "manifest " + reference);
  }
  if (auto want = oci::Digest::Parse(reference); want && *want != m.digest) {
    return Error::DataLoss("manifest " + reference + ": its bytes hash to " + m.digest.str());
  }
  if (std::string header = res->Header("Docker-Content-Digest"); !header.empty()) {
    auto d = oci::Digest::Parse(header);
    if (d && d->algorithm() == "sha256" && *d != m.digest)
      return Error::DataLoss("manifest " + reference + ": the registry says " + header +
                             ", its bytes hash to " + m.digest.str());
  }
  return m;
}

Result<std::unique_ptr<HttpResponse>> RegistryClient::OpenBlob(const oci::Digest& digest) {
  auto res = BERTH_TRY(Do("GET", "/v2/" + repository_ + "/blobs/" + digest.str(), {}));
  int status = res->status();
  if (status != 200) {
    std::string body = res->ReadAll(64 << 10).value_or("");
    std::string text = "blob " + digest.str() + ": " + RegistryErrorText(status, body);
    if (status == 404) return Error::NotFound(text);
    if (status == 401 || status == 403) return Error::PermissionDenied(text);
    return Error::Unavailable(text);
  }
  return res;
}

Result<std::string> RegistryClient::ReadBlob(const oci::Digest& digest, size_t max_bytes) {
  auto res = BERTH_TRY(OpenBlob(digest));
  std::string bytes = BERTH_TRY_CTX(res->ReadAll(max_bytes), "blob " + digest.str());
  if (digest.algorithm() == "sha256") {
    oci::Digest got = BERTH_TRY(DigestOf(bytes));
    if (got != digest)
      return Error::DataLoss("blob " + digest.str() + ": its bytes hash to " + got.str());
  }
  return bytes;
}

}  // namespace berth::distribution
