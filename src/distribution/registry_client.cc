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
                                                               const RegistryOptions& options,
                                                               const std::string& actions) {
  std::string host = domain == "docker.io" ? "registry-1.docker.io" : domain;
  bool insecure = IsLoopbackHost(host) ||
                  std::find(options.insecure_registries.begin(), options.insecure_registries.end(),
                            host) != options.insecure_registries.end();
  Url base = BERTH_TRY(ParseUrl("https://" + host + "/"));
  return std::unique_ptr<RegistryClient>(
      new RegistryClient(std::move(base), repository, options, actions, insecure));
}

Result<void> RegistryClient::ChooseScheme() {
  if (!insecure_) return {};
  std::call_once(scheme_once_, [this] {
    HttpRequest probe{.method = "GET", .url = base_, .timeout = std::chrono::seconds(10)};
    probe.url.target = "/v2/";
    probe.tls_verify = false;
    auto res = HttpSend(probe);
    if (res) return;  // it speaks TLS: https, unverified
    if (res.error().message().find(": tls handshake: ") == std::string::npos) {
      scheme_error_ = res.error();  // not there at all
      return;
    }
    auto plain = ParseUrl("http://" + base_.Authority() + "/");
    if (!plain) {
      scheme_error_ = plain.error();
      return;
    }
    kLog.Debug("{} does not speak TLS: plain HTTP", base_.Authority());
    base_ = *plain;
  });
  if (scheme_error_) return *scheme_error_;
  return {};
}

void RegistryClient::SetTls(HttpRequest* request) const {
  bool same_host = request->url.host == base_.host && request->url.port == base_.port;
  request->tls_verify = !(insecure_ && same_host);
  if (same_host && !options_.certs_dir.empty())
    request->ca_dir = options_.certs_dir + "/" + base_.Authority();
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
    std::vector<std::string> scopes;
    if (!repository_.empty()) scopes.push_back("repository:" + repository_ + ":" + actions_);
    {
      std::lock_guard lock(mu_);
      scopes.insert(scopes.end(), extra_scopes_.begin(), extra_scopes_.end());
    }
    Url token_url = BERTH_TRY(ParseUrl(BERTH_TRY(TokenUrl(*bearer, scopes))));
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
    SetTls(&req);
    auto res = BERTH_TRY(HttpSend(req));
    std::string body = BERTH_TRY(res->ReadAll(1u << 20));
    if (res->status() != 200) {
      if (res->status() == 401 && !creds.username.empty())
        return Error::PermissionDenied("unauthorized: incorrect username or password");
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
  BERTH_TRY(ChooseScheme());
  HttpRequest req{.method = method, .url = base_, .headers = std::move(headers)};
  req.url.target = target;
  return DoUrl(std::move(req));
}

Result<std::unique_ptr<HttpResponse>> RegistryClient::DoUrl(HttpRequest request) {
  BERTH_TRY(ChooseScheme());
  const auto headers = request.headers;
  bool answered_challenge = false;
  for (int hop = 0; hop < 8; ++hop) {
    HttpRequest req = request;
    req.headers = headers;
    bool same_host = req.url.host == base_.host && req.url.port == base_.port;
    std::string auth = same_host ? CurrentAuthorization() : "";
    if (!auth.empty()) req.headers.emplace_back("Authorization", auth);
    SetTls(&req);
    auto res = BERTH_TRY(HttpSend(req));
    int status = res->status();
    if (status == 401 && same_host && !answered_challenge && !request.body_source) {
      answered_challenge = true;
      auto challenges = ParseWwwAuthenticate(res->Header("WWW-Authenticate"));
      std::string value = BERTH_TRY(Authorize(challenges));
      std::lock_guard lock(mu_);
      authorization_ = value;
      continue;
    }
    if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
      std::string location = res->Header("Location");
      if (location.empty() || request.body_source) return res;
      request.url = BERTH_TRY(ResolveUrl(req.url, location));
      if (status == 303) request.method = "GET", request.body.clear();
      continue;
    }
    return res;
  }
  return Error::Unavailable(request.method + " " + request.url.String() + ": too many redirects");
}

Error RegistryClient::ResponseError(const std::string& what, HttpResponse& res) {
  int status = res.status();
  std::string body = res.ReadAll(64 << 10).value_or("");
  std::string text = what + ": " + RegistryErrorText(status, body);
  if (status == 404) return Error::NotFound(text);
  if (status == 401 || status == 403) return Error::PermissionDenied(text);
  if (status == 400) return Error::InvalidArgument(text);
  return Error::Unavailable(text);
}

void RegistryClient::AddScope(std::string scope) {
  std::lock_guard lock(mu_);
  if (std::find(extra_scopes_.begin(), extra_scopes_.end(), scope) == extra_scopes_.end())
    extra_scopes_.push_back(std::move(scope));
}

Result<void> RegistryClient::Ping() {
  auto res = BERTH_TRY(Do("GET", "/v2/", {}));
  if (res->status() == 200) return {};
  if (res->status() == 401)
    return Error::PermissionDenied("login attempt to " + base_.String() +
                                   "v2/ failed with status: 401 Unauthorized");
  return ResponseError("login attempt to " + base_.String() + "v2/", *res);
}

Result<bool> RegistryClient::HasBlob(const oci::Digest& digest) {
  auto res = BERTH_TRY(Do("HEAD", "/v2/" + repository_ + "/blobs/" + digest.str(), {}));
  if (res->status() == 200) return true;
  if (res->status() == 404) return false;
  return ResponseError("blob " + digest.str(), *res);
}

Result<std::string> RegistryClient::StartUpload(const oci::Digest& digest,
                                                const std::string& from) {
  std::string target = "/v2/" + repository_ + "/blobs/uploads/";
  if (!from.empty()) target += "?mount=" + QueryEscape(digest.str()) + "&from=" + QueryEscape(from);
  auto res = BERTH_TRY(Do("POST", target, {}));
  if (res->status() == 201 && !from.empty()) return std::string();
  if (res->status() != 202) return ResponseError("upload of " + digest.str(), *res);
  std::string location = res->Header("Location");
  if (location.empty())
    return Error::Unavailable("upload of " + digest.str() + ": the registry gave no Location");
  return location;
}

Result<void> RegistryClient::UploadBlob(const std::string& location, const oci::Digest& digest,
                                        int64_t size,
                                        const std::function<Result<size_t>(char*, size_t)>& read,
                                        int64_t chunk,
                                        const std::function<void(int64_t)>& progress) {
  const std::string what = "upload of " + digest.str();
  Url url = BERTH_TRY(ResolveUrl(base_, location));
  auto with_digest = [&](Url u) {
    u.target += (u.target.find('?') == std::string::npos ? "?" : "&");
    u.target += "digest=" + QueryEscape(digest.str());
    return u;
  };
  const std::pair<std::string, std::string> octets{"Content-Type", "application/octet-stream"};
  if (size <= chunk) {
    // Monolithic: the whole blob in the PUT that commits it.
    auto res = BERTH_TRY(DoUrl({.method = "PUT",
                                .url = with_digest(url),
                                .headers = {octets},
                                .body_source = read,
                                .body_length = size,
                                .timeout = std::chrono::seconds(300)}));
    if (res->status() != 201) return ResponseError(what, *res);
    if (progress) progress(size);
    return {};
  }
  // Chunked: PATCH pieces of chunk bytes in order, each to the location the last one gave.
  int64_t offset = 0;
  while (offset < size) {
    int64_t n = std::min(chunk, size - offset);
    kLog.Debug("upload of {}: chunk {}-{}", digest.str(), offset, offset + n - 1);
    auto res = BERTH_TRY(DoUrl({.method = "PATCH",
                                .url = url,
                                .headers = {octets,
                                            {"Content-Range", std::to_string(offset) + "-" +
                                                                  std::to_string(offset + n - 1)}},
                                .body_source = read,
                                .body_length = n,
                                .timeout = std::chrono::seconds(300)}));
    if (res->status() != 202) return ResponseError(what, *res);
    if (std::string next = res->Header("Location"); !next.empty())
      url = BERTH_TRY(ResolveUrl(url, next));
    offset += n;
    if (progress) progress(offset);
  }
  auto res = BERTH_TRY(DoUrl({.method = "PUT", .url = with_digest(url), .headers = {octets}}));
  if (res->status() != 201) return ResponseError(what, *res);
  return {};
}

Result<void> RegistryClient::PutManifest(const std::string& reference,
                                         const std::string& media_type, const std::string& bytes) {
  BERTH_TRY(ChooseScheme());
  HttpRequest req{.method = "PUT", .url = base_, .headers = {{"Content-Type", media_type}}};
  req.url.target = "/v2/" + repository_ + "/manifests/" + reference;
  req.body = bytes;
  auto res = BERTH_TRY(DoUrl(std::move(req)));
  if (res->status() != 201 && res->status() != 200)
    return ResponseError("manifest " + reference, *res);
  return {};
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

Result<std::unique_ptr<HttpResponse>> RegistryClient::OpenBlob(const oci::Digest& digest,
                                                               int64_t offset) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (offset > 0) headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
  auto res = BERTH_TRY(Do("GET", "/v2/" + repository_ + "/blobs/" + digest.str(), headers));
  int status = res->status();
  if (offset > 0 && status == 206) return res;
  if (offset > 0 && status == 200) {
    char buf[65536];
    for (int64_t skipped = 0; skipped < offset;) {
      size_t want = static_cast<size_t>(std::min<int64_t>(offset - skipped, sizeof buf));
      size_t n = BERTH_TRY(res->Read(buf, want));
      if (n == 0) return Error::Unavailable("blob " + digest.str() + ": shorter than before");
      skipped += static_cast<int64_t>(n);
    }
    return res;
  }
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
