#include "registry/registry.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "oci/digest.h"
#include "oci/media_types.h"
#include "registry/names.h"
#include "util/file.h"
#include "util/log.h"

namespace berth::registry {
namespace {

using api::Request;
using api::Response;
using nlohmann::json;

const auto& logger = log::Get("registry");

// The request body as a Source: streamed when the server left it unread, else from memory.
Source BodySource(Request& req) {
  if (req.body_stream) {
    api::BodyReader* r = req.body_stream;
    return [r](char* buf, size_t n) { return r->Read(buf, n); };
  }
  auto offset = std::make_shared<size_t>(0);
  return [&req, offset](char* buf, size_t n) -> Result<size_t> {
    size_t k = std::min(n, req.body.size() - *offset);
    std::memcpy(buf, req.body.data() + *offset, k);
    *offset += k;
    return k;
  };
}

// Reads the whole body, at most max bytes; nullopt if it is larger.
Result<std::optional<std::string>> ReadBody(Request& req, size_t max) {
  Source src = BodySource(req);
  std::string out;
  char buf[65536];
  for (;;) {
    size_t n = BERTH_TRY(src(buf, sizeof buf));
    if (n == 0) break;
    if (out.size() + n > max) return std::optional<std::string>();
    out.append(buf, n);
  }
  return std::optional<std::string>(std::move(out));
}

std::string MediaTypeOf(const std::string& content_type) {
  std::string_view v = content_type;
  if (auto semi = v.find(';'); semi != std::string_view::npos) v = v.substr(0, semi);
  return std::string(Trim(v));
}

std::string RangeHeader(int64_t size) { return "0-" + std::to_string(size > 0 ? size - 1 : 0); }

bool ParseCount(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 9) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && *out >= 0;
}

// The spec's error for a storage error in the context of one kind of object.
enum class Kind { kBlob, kUpload, kManifest, kName };

Response FromError(const Error& e, Kind kind) {
  switch (e.code()) {
    case ErrorCode::kNotFound:
      switch (kind) {
        case Kind::kBlob:
          return RegistryError(404, "BLOB_UNKNOWN", e.message());
        case Kind::kUpload:
          return RegistryError(404, "BLOB_UPLOAD_UNKNOWN", e.message());
        case Kind::kManifest:
          return RegistryError(404, "MANIFEST_UNKNOWN", e.message());
        case Kind::kName:
          return RegistryError(404, "NAME_UNKNOWN", e.message());
      }
      break;
    case ErrorCode::kInvalidArgument:
      if (kind == Kind::kManifest && e.message().find("digest") == std::string::npos)
        return RegistryError(400, "MANIFEST_INVALID", e.message());
      return RegistryError(400, "DIGEST_INVALID", e.message());
    case ErrorCode::kFailedPrecondition:
      return RegistryError(400, "MANIFEST_BLOB_UNKNOWN", e.message());
    case ErrorCode::kConflict:
      if (kind == Kind::kManifest) return RegistryError(400, "DIGEST_INVALID", e.message());
      return RegistryError(416, "BLOB_UPLOAD_INVALID", e.message());
    case ErrorCode::kUnavailable:
      return RegistryError(400, "BLOB_UPLOAD_INVALID", e.message());
    default:
      break;
  }
  logger.Error("{}", e.message());
  return RegistryError(500, "UNKNOWN", e.message());
}

Response Empty(int status) {
  Response r;
  r.status = status;
  r.Header("Content-Length", "0");
  return r;
}

std::string BlobLocation(const std::string& name, const oci::Digest& d) {
  return "/v2/" + name + "/blobs/" + d.str();
}

std::string UploadLocation(const std::string& name, const std::string& id) {
  return "/v2/" + name + "/blobs/uploads/" + id;
}

Response UploadAccepted(int status, const std::string& name, const std::string& id, int64_t size) {
  Response r = Empty(status);
  r.Header("Location", UploadLocation(name, id));
  r.Header("Range", RangeHeader(size));
  r.Header("Docker-Upload-UUID", id);
  return r;
}

Response BlobCreated(const std::string& name, const oci::Digest& d) {
  Response r = Empty(201);
  r.Header("Location", BlobLocation(name, d));
  r.Header("Docker-Content-Digest", d.str());
  return r;
}

// Pages of a sorted list after `last`, n at a time (tags/list, _catalog). Fills *link with the
// next page's Link header when the list goes on.
Result<std::vector<std::string>> Page(const std::vector<std::string>& all, const Request& req,
                                      const std::string& path, std::string* link) {
  std::string last = req.Query("last");
  auto it = last.empty() ? all.begin() : std::upper_bound(all.begin(), all.end(), last);
  std::vector<std::string> out(it, all.end());
  std::string n_text = req.Query("n");
  if (!n_text.empty()) {
    int64_t n = 0;
    if (!ParseCount(n_text, &n)) return Error::InvalidArgument("invalid n: " + n_text);
    if (static_cast<int64_t>(out.size()) > n) {
      out.resize(static_cast<size_t>(n));
      if (!out.empty())
        *link = "<" + path + "?n=" + std::to_string(n) + "&last=" + out.back() + ">; rel=\"next\"";
    }
  }
  return out;
}

}  // namespace

// Messages may quote the request (a name, an upload id): bytes that are not UTF-8 are replaced,
// never thrown about.
Response RegistryError(int status, std::string_view code, std::string_view message) {
  json e = {{"code", code}, {"message", message}, {"detail", nullptr}};
  json body = {{"errors", json::array({e})}};
  Response r = api::JsonResponse(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
  return r;
}

api::ServerOptions Registry::ServerOptions() {
  api::ServerOptions o;
  o.common_headers = {{"Docker-Distribution-API-Version", "registry/2.0"}};
  return o;
}

void Registry::AddRoutes(api::Router* router) {
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    for (const char* pattern : {"/", "/{path*}"})
      router->Add(
          method, pattern, [this](Request& r) { return Handle(r); }, true);
  }
}

// A request's target once "/v2" is off: the repository name and what follows it.
struct Registry::Target {
  enum Type {
    kBase,
    kCatalog,
    kTags,
    kManifest,
    kBlob,
    kUploads,
    kUpload,
    kReferrers,
    kUnknown
  } type = kUnknown;
  std::string name;
  std::string ref;  // digest, tag or upload id
};

Response Registry::Handle(Request& req) {
  // The router took "/v2" for an API version ("/v2/x" → version 2, path "/x").
  Target t;
  std::vector<std::string> segs;
  if (req.api_version == "2") {
    segs = Split(req.path, '/');
    segs.erase(segs.begin());                                   // before the leading '/'
    if (!segs.empty() && segs.back().empty()) segs.pop_back();  // a trailing '/'
  } else if (req.api_version.empty() && req.path == "/v2") {
    // no segments: the base
  } else {
    if (authorizer_) {
      if (auto own = authorizer_->ServeOwn(req)) return std::move(*own);
    }
    return RegistryError(404, "NOT_FOUND", "not an OCI distribution endpoint");
  }
  size_t n = segs.size();
  auto name_of = [&](size_t end) {
    std::string s;
    for (size_t i = 0; i < end; ++i) s += (i ? "/" : "") + segs[i];
    return s;
  };
  if (n == 0) {
    t.type = Target::kBase;
  } else if (n == 1 && segs[0] == "_catalog") {
    t.type = Target::kCatalog;
  } else if (n >= 3 && segs[n - 2] == "tags" && segs[n - 1] == "list") {
    t = {Target::kTags, name_of(n - 2), ""};
  } else if (n >= 3 && segs[n - 2] == "manifests") {
    t = {Target::kManifest, name_of(n - 2), segs[n - 1]};
  } else if (n >= 3 && segs[n - 2] == "referrers") {
    t = {Target::kReferrers, name_of(n - 2), segs[n - 1]};
  } else if (n >= 4 && segs[n - 3] == "blobs" && segs[n - 2] == "uploads") {
    t = {Target::kUpload, name_of(n - 3), segs[n - 1]};
  } else if (n >= 3 && segs[n - 2] == "blobs" && segs[n - 1] == "uploads") {
    t = {Target::kUploads, name_of(n - 2), ""};
  } else if (n >= 3 && segs[n - 2] == "blobs") {
    t = {Target::kBlob, name_of(n - 2), segs[n - 1]};
  }
  if (t.type == Target::kUnknown)
    return RegistryError(404, "NOT_FOUND", "not an OCI distribution endpoint");
  if (t.type != Target::kBase && t.type != Target::kCatalog && !ValidRepositoryName(t.name))
    return RegistryError(400, "NAME_INVALID", "invalid repository name");

  if (authorizer_) {
    std::vector<Scope> scopes;
    bool read = req.method == "GET" || req.method == "HEAD";
    if (t.type == Target::kCatalog) {
      scopes.push_back({"registry", "catalog", "*"});
    } else if (t.type != Target::kBase) {
      scopes.push_back({"repository", t.name,
                        read                     ? "pull"
                        : req.method == "DELETE" ? "delete"
                                                 : "pull,push"});
      std::string from = req.Query("from");
      if (t.type == Target::kUploads && !from.empty() && ValidRepositoryName(from))
        scopes.push_back({"repository", from, "pull"});
    }
    if (auto r = authorizer_->Authorize(req, scopes); !r) {
      Response res = RegistryError(401, "UNAUTHORIZED", r.error().message());
      res.Header("WWW-Authenticate", authorizer_->Challenge(req, scopes, r.error()));
      return res;
    }
  }
  return Dispatch(req, t);
}

Response Registry::Dispatch(Request& req, const Target& t) {
  const std::string& m = req.method;
  bool get = m == "GET" || m == "HEAD";
  switch (t.type) {
    case Target::kBase:
      if (get) return Base(req);
      break;
    case Target::kCatalog:
      if (get) return Catalog(req);
      break;
    case Target::kTags:
      if (get) return Tags(req, t.name);
      break;
    case Target::kManifest:
      if (get) return GetManifest(req, t.name, t.ref);
      if (m == "PUT") return PutManifest(req, t.name, t.ref);
      if (m == "DELETE") return DeleteManifest(t.name, t.ref);
      break;
    case Target::kBlob:
      if (get) return GetBlob(req, t.name, t.ref);
      if (m == "DELETE") return DeleteBlob(t.name, t.ref);
      break;
    case Target::kUploads:
      if (m == "POST") return StartUpload(req, t.name);
      break;
    case Target::kUpload:
      if (get) return UploadStatus(t.name, t.ref);
      if (m == "PATCH") return PatchUpload(req, t.name, t.ref);
      if (m == "PUT") return PutUpload(req, t.name, t.ref);
      if (m == "DELETE") return CancelUpload(t.name, t.ref);
      break;
    case Target::kReferrers:
      if (get) return Referrers(req, t.name, t.ref);
      break;
    case Target::kUnknown:
      break;
  }
  Response r = RegistryError(405, "UNSUPPORTED", "method " + m + " not allowed here");
  return r;
}

Response Registry::Base(Request&) { return api::JsonResponse(200, "{}"); }

Response Registry::Catalog(Request& req) {
  auto all = storage_->Repositories();
  if (!all) return FromError(all.error(), Kind::kName);
  std::string link;
  auto page = Page(*all, req, "/v2/_catalog", &link);
  if (!page) return RegistryError(400, "PAGINATION_NUMBER_INVALID", page.error().message());
  Response r = api::JsonResponse(
      200, json{{"repositories", *page}}.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!link.empty()) r.Header("Link", link);
  return r;
}

Response Registry::Tags(Request& req, const std::string& name) {
  auto all = storage_->Tags(name);
  if (!all) return FromError(all.error(), Kind::kName);
  std::string link;
  auto page = Page(*all, req, "/v2/" + name + "/tags/list", &link);
  if (!page) return RegistryError(400, "PAGINATION_NUMBER_INVALID", page.error().message());
  Response r = api::JsonResponse(200, json{{"name", name}, {"tags", *page}}.dump(
                                          -1, ' ', false, json::error_handler_t::replace));
  if (!link.empty()) r.Header("Link", link);
  return r;
}

Response Registry::GetBlob(Request& req, const std::string& name, const std::string& digest_text) {
  auto digest = oci::Digest::Parse(digest_text);
  if (!digest) return RegistryError(400, "DIGEST_INVALID", digest.error().message());
  auto fd = storage_->OpenBlob(name, *digest);
  if (!fd) return FromError(fd.error(), Kind::kBlob);
  struct stat st;
  if (::fstat(fd->get(), &st) < 0)
    return FromError(Error::FromErrno(errno, "stat blob"), Kind::kBlob);
  int64_t size = st.st_size;
  int64_t start = 0, end = size - 1;
  Response r;
  r.status = 200;
  std::string range = req.Header("Range");
  if (!range.empty()) {
    auto span = ParseRange(range, size);
    if (!span) {
      Response bad = RegistryError(416, "BLOB_UNKNOWN", "requested range not satisfiable");
      bad.Header("Content-Range", "bytes */" + std::to_string(size));
      return bad;
    }
    start = span->start;
    end = span->end;
    r.status = 206;
    r.Header("Content-Range", "bytes " + std::to_string(start) + "-" + std::to_string(end) + "/" +
                                  std::to_string(size));
  }
  r.Header("Content-Type", "application/octet-stream");
  r.Header("Docker-Content-Digest", digest->str());
  r.Header("Accept-Ranges", "bytes");
  r.Header("ETag", "\"" + digest->str() + "\"");
  int64_t length = size == 0 ? 0 : end - start + 1;
  r.content_length = static_cast<uint64_t>(length);
  if (req.method == "HEAD" || length == 0) return r;
  auto shared = std::make_shared<Fd>(std::move(*fd));
  r.stream = [shared, start, length](api::BodyWriter& w) -> Result<void> {
    std::vector<char> buf(256 << 10);
    int64_t off = start, left = length;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<int64_t>(left, static_cast<int64_t>(buf.size())));
      ssize_t n = ::pread(shared->get(), buf.data(), want, off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Error::DataLoss("blob shorter than its size");
      BERTH_TRY(w.Write(std::string_view(buf.data(), static_cast<size_t>(n))));
      off += n;
      left -= n;
    }
    return {};
  };
  return r;
}

Response Registry::DeleteBlob(const std::string& name, const std::string& digest_text) {
  auto digest = oci::Digest::Parse(digest_text);
  if (!digest) return RegistryError(400, "DIGEST_INVALID", digest.error().message());
  if (auto r = storage_->DeleteBlob(name, *digest); !r) return FromError(r.error(), Kind::kBlob);
  return Empty(202);
}

Response Registry::StartUpload(Request& req, const std::string& name) {
  std::string mount = req.Query("mount");
  if (!mount.empty()) {
    auto digest = oci::Digest::Parse(mount);
    if (!digest) return RegistryError(400, "DIGEST_INVALID", digest.error().message());
    std::string from = req.Query("from");
    if (!from.empty() && ValidRepositoryName(from) &&
        storage_->MountBlob(name, from, *digest).has_value())
      return BlobCreated(name, *digest);
    // Not mountable: an upload session instead, as the spec asks.
  }
  std::string digest_text = req.Query("digest");
  oci::Digest digest;
  if (!digest_text.empty()) {
    auto d = oci::Digest::Parse(digest_text);
    if (!d) return RegistryError(400, "DIGEST_INVALID", d.error().message());
    digest = *d;
  }
  auto id = storage_->StartUpload(name);
  if (!id) return FromError(id.error(), Kind::kUpload);
  if (!digest.valid()) return UploadAccepted(202, name, *id, 0);
  // Monolithic: the whole blob in this request.
  auto size = storage_->AppendUpload(name, *id, std::nullopt, BodySource(req));
  if (size) {
    if (auto c = storage_->CommitUpload(name, *id, digest); !c) {
      (void)storage_->CancelUpload(name, *id);
      return FromError(c.error(), Kind::kUpload);
    }
    return BlobCreated(name, digest);
  }
  (void)storage_->CancelUpload(name, *id);
  return FromError(size.error(), Kind::kUpload);
}

Response Registry::UploadStatus(const std::string& name, const std::string& id) {
  auto size = storage_->UploadSize(name, id);
  if (!size) return FromError(size.error(), Kind::kUpload);
  return UploadAccepted(204, name, id, *size);
}

namespace {

// The Content-Range of a chunk, checked against its Content-Length. nullopt start: none given.
Result<std::optional<int64_t>> ChunkStart(const Request& req) {
  std::string cr = req.Header("Content-Range");
  if (cr.empty()) return std::optional<int64_t>();
  auto span = ParseContentRange(cr);
  if (!span) return Error::InvalidArgument("invalid Content-Range " + cr);
  std::string cl = req.Header("Content-Length");
  int64_t len = 0;
  if (!cl.empty() && (!ParseCount(cl, &len) || len != span->end - span->start + 1))
    return Error::InvalidArgument("Content-Range " + cr + " does not match Content-Length " + cl);
  return std::optional<int64_t>(span->start);
}

}  // namespace

Response Registry::PatchUpload(Request& req, const std::string& name, const std::string& id) {
  auto start = ChunkStart(req);
  if (!start) return RegistryError(400, "BLOB_UPLOAD_INVALID", start.error().message());
  auto size = storage_->AppendUpload(name, id, *start, BodySource(req));
  if (!size) {
    Response r = FromError(size.error(), Kind::kUpload);
    if (r.status == 416) {
      if (auto now = storage_->UploadSize(name, id); now) {
        r.Header("Location", UploadLocation(name, id));
        r.Header("Range", RangeHeader(*now));
        r.Header("Docker-Upload-UUID", id);
      }
    }
    return r;
  }
  return UploadAccepted(202, name, id, *size);
}

Response Registry::PutUpload(Request& req, const std::string& name, const std::string& id) {
  auto digest = oci::Digest::Parse(req.Query("digest"));
  if (!digest) return RegistryError(400, "DIGEST_INVALID", digest.error().message());
  auto start = ChunkStart(req);
  if (!start) return RegistryError(400, "BLOB_UPLOAD_INVALID", start.error().message());
  auto size = storage_->AppendUpload(name, id, *start, BodySource(req));
  if (!size) return FromError(size.error(), Kind::kUpload);
  if (auto c = storage_->CommitUpload(name, id, *digest); !c)
    return FromError(c.error(), Kind::kUpload);
  return BlobCreated(name, *digest);
}

Response Registry::CancelUpload(const std::string& name, const std::string& id) {
  if (auto r = storage_->CancelUpload(name, id); !r) return FromError(r.error(), Kind::kUpload);
  return Empty(204);
}

Response Registry::GetManifest(Request&, const std::string& name, const std::string& ref) {
  if (ref.find(':') != std::string::npos) {
    if (auto d = oci::Digest::Parse(ref); !d)
      return RegistryError(400, "DIGEST_INVALID", d.error().message());
  }
  auto m = storage_->GetManifest(name, ref);
  if (!m) return FromError(m.error(), Kind::kManifest);
  Response r;
  r.status = 200;
  r.body = std::move(m->body);
  r.Header("Content-Type", m->media_type);
  r.Header("Docker-Content-Digest", m->digest.str());
  r.Header("ETag", "\"" + m->digest.str() + "\"");
  return r;
}

Response Registry::PutManifest(Request& req, const std::string& name, const std::string& ref) {
  if (ref.find(':') != std::string::npos) {
    if (auto d = oci::Digest::Parse(ref); !d)
      return RegistryError(400, "DIGEST_INVALID", d.error().message());
  } else if (!ValidTag(ref)) {
    return RegistryError(400, "TAG_INVALID", "invalid tag \"" + ref + "\"");
  }
  auto body = ReadBody(req, kMaxManifestBytes);
  if (!body) return FromError(body.error(), Kind::kManifest);
  if (!*body)
    return RegistryError(413, "SIZE_INVALID",
                         "manifest larger than " + std::to_string(kMaxManifestBytes) + " bytes");
  auto put = storage_->PutManifest(name, ref, MediaTypeOf(req.Header("Content-Type")), **body);
  if (!put) return FromError(put.error(), Kind::kManifest);
  Response r = Empty(201);
  r.Header("Location", "/v2/" + name + "/manifests/" + put->digest.str());
  r.Header("Docker-Content-Digest", put->digest.str());
  if (put->subject.valid()) r.Header("OCI-Subject", put->subject.str());
  return r;
}

Response Registry::DeleteManifest(const std::string& name, const std::string& ref) {
  if (ref.find(':') != std::string::npos) {
    if (auto d = oci::Digest::Parse(ref); !d)
      return RegistryError(400, "DIGEST_INVALID", d.error().message());
  }
  if (auto r = storage_->DeleteManifest(name, ref); !r)
    return FromError(r.error(), Kind::kManifest);
  return Empty(202);
}

Response Registry::Referrers(Request& req, const std::string& name,
                             const std::string& digest_text) {
  auto digest = oci::Digest::Parse(digest_text);
  if (!digest) return RegistryError(400, "DIGEST_INVALID", digest.error().message());
  std::string artifact = req.Query("artifactType");
  auto list = storage_->Referrers(name, *digest, artifact);
  if (!list) return FromError(list.error(), Kind::kManifest);
  json manifests = json::array();
  for (const auto& d : *list) {
    json j = json::parse(d, nullptr, false);
    if (j.is_object()) manifests.push_back(std::move(j));
  }
  json index = {
      {"schemaVersion", 2}, {"mediaType", oci::kOciIndex}, {"manifests", std::move(manifests)}};
  Response r;
  r.status = 200;
  r.body = index.dump(-1, ' ', false, json::error_handler_t::replace);
  r.Header("Content-Type", std::string(oci::kOciIndex));
  if (!artifact.empty()) r.Header("OCI-Filters-Applied", "artifactType");
  return r;
}

}  // namespace berth::registry
