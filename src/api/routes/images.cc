#include "api/routes/images.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/routes/fd_response.h"

namespace berth::api::routes {
namespace {

using nlohmann::ordered_json;

ordered_json Strings(const std::vector<std::string>& v) {
  ordered_json a = ordered_json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

ordered_json Labels(const std::map<std::string, std::string>& m) {
  ordered_json o = ordered_json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

ordered_json SummaryJson(const ImageSummary& s) {
  return {{"Containers", s.containers},
          {"Created", s.created},
          {"Id", s.id},
          {"Labels", Labels(s.labels)},
          {"ParentId", s.parent_id},
          {"RepoDigests", Strings(s.repo_digests)},
          {"RepoTags", Strings(s.repo_tags)},
          {"SharedSize", s.shared_size},
          {"Size", s.size}};
}

ordered_json DeleteItemsJson(const std::vector<ImageDeleteItem>& items) {
  ordered_json a = ordered_json::array();
  for (const auto& i : items) {
    if (!i.untagged.empty())
      a.push_back({{"Untagged", i.untagged}});
    else
      a.push_back({{"Deleted", i.deleted}});
  }
  return a;
}

Result<ImageFilters> FiltersOf(const Request& req) {
  ImageFilters f;
  f.all = req.QueryBool("all");
  auto m = BERTH_TRY(ParseFilters(req.Query("filters")));
  for (auto& [key, values] : m) {
    if (key == "dangling") {
      for (const auto& v : values) {
        if (v == "true" || v == "1")
          f.dangling = true;
        else if (v == "false" || v == "0")
          f.dangling = false;
        else
          return Error::InvalidArgument("invalid filter 'dangling=" + v + "'");
      }
    } else if (key == "reference") {
      f.references = values;
    } else if (key == "label") {
      f.labels = values;
    } else if (key != "before" && key != "since" && key != "until") {
      return Error::InvalidArgument("invalid filter '" + key + "'");
    }
  }
  // `filter` (API < 1.28): a reference pattern.
  if (auto legacy = req.Query("filter"); !legacy.empty()) f.references.push_back(legacy);
  return f;
}

Response ListImages(ImageBackend* b, Request& req) {
  auto filters = FiltersOf(req);
  if (!filters) return ErrorResponse(filters.error());
  auto images = b->ListImages(*filters);
  if (!images) return ErrorResponse(images.error());
  ordered_json a = ordered_json::array();
  for (const auto& s : *images) a.push_back(SummaryJson(s));
  return JsonResponse(200, a.dump());
}

Response InspectImage(ImageBackend* b, Request& req) {
  auto i = b->InspectImage(req.params["name"]);
  if (!i) return ErrorResponse(i.error());
  ordered_json config = ordered_json::parse(i->config_json, nullptr, false);
  if (config.is_discarded()) config = nullptr;
  ordered_json data = ordered_json::object();
  for (const auto& [k, v] : i->graph_driver_data) data[k] = v;
  ordered_json j = {
      {"Id", i->id},
      {"RepoTags", Strings(i->repo_tags)},
      {"RepoDigests", Strings(i->repo_digests)},
      {"Parent", i->parent},
      {"Comment", i->comment},
      {"Created", i->created},
      {"DockerVersion", ""},
      {"Author", i->author},
      {"Config", config},
      {"Architecture", i->architecture},
  };
  if (!i->variant.empty()) j["Variant"] = i->variant;
  j["Os"] = i->os;
  j["Size"] = i->size;
  j["GraphDriver"] = {{"Data", data}, {"Name", "overlay2"}};
  j["RootFS"] = {{"Type", "layers"}, {"Layers", Strings(i->layers)}};
  j["Metadata"] = {
      {"LastTagTime", i->last_tag_time.empty() ? "0001-01-01T00:00:00Z" : i->last_tag_time}};
  return JsonResponse(200, j.dump());
}

Response History(ImageBackend* b, Request& req) {
  auto h = b->ImageHistory(req.params["name"]);
  if (!h) return ErrorResponse(h.error());
  ordered_json a = ordered_json::array();
  for (const auto& e : *h) {
    a.push_back({{"Comment", e.comment},
                 {"Created", e.created},
                 {"CreatedBy", e.created_by},
                 {"Id", e.id},
                 {"Size", e.size},
                 {"Tags", e.tags.empty() ? ordered_json(nullptr) : Strings(e.tags)}});
  }
  return JsonResponse(200, a.dump());
}

Response Tag(ImageBackend* b, Request& req) {
  std::string repo = req.Query("repo"), tag = req.Query("tag");
  if (repo.empty()) return ErrorResponse(Error::InvalidArgument("repository name is empty"));
  std::string target = tag.empty() ? repo : repo + ":" + tag;
  if (auto r = b->TagImage(req.params["name"], target); !r) return ErrorResponse(r.error());
  Response resp;
  resp.status = 201;
  return resp;
}

Response Delete(ImageBackend* b, Request& req) {
  auto items = b->DeleteImage(req.params["name"], req.QueryBool("force"), req.QueryBool("noprune"));
  if (!items) return ErrorResponse(items.error());
  return JsonResponse(200, DeleteItemsJson(*items).dump());
}

// POST /images/create?fromImage=: Docker's JSON progress messages as the pull goes; an error
// comes in the stream ({"errorDetail": …}), as dockerd sends it once output has begun.
Response Pull(ImageBackend* b, Request& req) {
  PullRequest pr;
  pr.image = req.Query("fromImage");
  pr.tag = req.Query("tag");
  pr.platform = req.Query("platform");
  pr.registry_auth = req.Header("X-Registry-Auth");
  Response res;
  res.Header("Content-Type", "application/json");
  res.stream = [b, pr](BodyWriter& out) -> Result<void> {
    std::optional<Error> gone;  // the client went away: the pull goes on, unreported
    auto send = [&](const std::string& m) {
      if (gone) return;
      if (auto w = out.Write(m); !w) gone = w.error();
    };
    auto pulled = b->PullImage(pr, [&](const PullMessage& m) {
      if (m.current >= 0)
        send(ProgressMessage(m.status, m.id, m.current, m.total));
      else
        send(StatusMessage(m.status, m.id, m.detail));
    });
    if (!pulled) send(ErrorMessage(pulled.error().message()));
    if (gone) return *gone;
    return {};
  };
  return res;
}

// POST /images/{name}/push?tag=: Docker's push progress as it goes, errors in the stream.
Response Push(ImageBackend* b, Request& req) {
  PushRequest pr;
  pr.name = req.params["name"];
  pr.tag = req.Query("tag");
  pr.registry_auth = req.Header("X-Registry-Auth");
  Response res;
  res.Header("Content-Type", "application/json");
  res.stream = [b, pr](BodyWriter& out) -> Result<void> {
    std::optional<Error> gone;
    auto send = [&](const std::string& m) {
      if (gone) return;
      if (auto w = out.Write(m); !w) gone = w.error();
    };
    auto pushed = b->PushImage(pr, [&](const PushMessage& m) {
      if (m.aux_size >= 0)
        send(PushAuxMessage(m.aux_tag, m.aux_digest, m.aux_size));
      else if (m.current >= 0)
        send(ProgressMessage(m.status, m.id, m.current, m.total));
      else
        send(StatusMessage(m.status, m.id, m.detail));
    });
    if (!pushed) send(ErrorMessage(pushed.error().message()));
    if (gone) return *gone;
    return {};
  };
  return res;
}

// POST /auth: {"Status":"Login Succeeded","IdentityToken":""}, or the registry's refusal.
Response Auth(ImageBackend* b, Request& req) {
  auto j = nlohmann::json::parse(req.body, nullptr, false);
  if (!j.is_object()) return ErrorResponse(Error::InvalidArgument("invalid auth configuration"));
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  AuthRequest ar{str("username"), str("password"), str("serveraddress"), str("identitytoken")};
  auto token = b->Login(ar);
  if (!token) {
    // Refused credentials are 401, as dockerd's errdefs.Unauthorized.
    Response r = ErrorResponse(token.error());
    if (token.error().IsPermissionDenied()) r.status = 401;
    return r;
  }
  return JsonResponse(
      200, ordered_json({{"IdentityToken", *token}, {"Status", "Login Succeeded"}}).dump());
}

Response Create(ImageBackend* b, Request& req) {
  if (req.Query("fromSrc").empty()) {
    if (!req.Query("fromImage").empty()) return Pull(b, req);
    return ErrorResponse(Error::InvalidArgument("fromImage or fromSrc is required"));
  }
  ImportRequest ir;
  ir.source = req.Query("fromSrc");
  if (ir.source != "-")
    return ErrorResponse(Error::NotImplemented("import from a URL is not supported yet"));
  ir.reference = req.Query("repo");
  if (std::string tag = req.Query("tag"); !tag.empty() && !ir.reference.empty())
    ir.reference += ":" + tag;
  ir.message = req.Query("message");
  auto range = req.query.equal_range("changes");
  for (auto it = range.first; it != range.second; ++it) ir.changes.push_back(it->second);
  auto read = [&req](char* buf, size_t n) -> Result<size_t> {
    if (req.body_stream) return req.body_stream->Read(buf, n);
    return size_t{0};
  };
  auto id = b->ImportImage(read, ir);
  if (!id) return ErrorResponse(id.error());
  Response resp = JsonResponse(200, ordered_json({{"status", *id}}).dump() + "\r\n");
  return resp;
}

// POST /images/load: Docker's JSON message stream: "Loading layer" progress (unless quiet),
// then one {"stream": "Loaded image: …\n"} a line. Errors come in the stream, as Docker's
// ({"errorDetail": …}, status 200): the docker CLI prints the message and exits 1.
Response Load(ImageBackend* b, Request& req) {
  bool quiet = req.QueryBool("quiet");
  auto read = [&req](char* buf, size_t n) -> Result<size_t> {
    if (req.body_stream) return req.body_stream->Read(buf, n);
    return size_t{0};
  };
  std::string body;
  auto progress = [&](const std::string& id, int64_t current, int64_t total) {
    if (!quiet) body += ProgressMessage("Loading layer", id, current, total);
  };
  auto lines = b->LoadImagesWithProgress(read, progress);
  if (!lines) {
    body += ErrorMessage(lines.error().message());
  } else {
    for (const auto& l : *lines) body += StreamMessage(l + "\n");
  }
  return JsonResponse(200, std::move(body));
}

// The same, answering while the body is still read: progress reaches the client as it happens.
// REQUIRES: the server keeps Request::body_stream readable while Response::stream runs.
Response LoadLive(ImageBackend* b, Request& req) {
  bool quiet = req.QueryBool("quiet");
  Response res;
  res.Header("Content-Type", "application/json");
  res.stream = [b, &req, quiet](BodyWriter& out) -> Result<void> {
    std::optional<Error> gone;  // the client went away: stop reading its body
    auto send = [&](const std::string& m) {
      if (gone) return;
      if (auto w = out.Write(m); !w) gone = w.error();
    };
    auto read = [&](char* buf, size_t n) -> Result<size_t> {
      if (gone) return Error::Canceled("the client went away");
      if (req.body_stream) return req.body_stream->Read(buf, n);
      return size_t{0};
    };
    auto progress = [&](const std::string& id, int64_t current, int64_t total) {
      if (!quiet) send(ProgressMessage("Loading layer", id, current, total));
    };
    auto lines = b->LoadImagesWithProgress(read, progress);
    if (!lines) {
      send(ErrorMessage(lines.error().message()));
    } else {
      for (const auto& l : *lines) send(StreamMessage(l + "\n"));
    }
    if (gone) return *gone;
    return {};
  };
  return res;
}

Response SaveNames(ImageBackend* b, std::vector<std::string> names) {
  if (names.empty()) return ErrorResponse(Error::InvalidArgument("no image names given"));
  return FdStreamResponse(
      [b, names = std::move(names)](int fd) -> Result<void> { return b->SaveImages(names, fd); },
      "application/x-tar");
}

Response SaveOne(ImageBackend* b, Request& req) { return SaveNames(b, {req.params["name"]}); }

Response SaveMany(ImageBackend* b, Request& req) {
  std::vector<std::string> names;
  auto range = req.query.equal_range("names");
  for (auto it = range.first; it != range.second; ++it) names.push_back(it->second);
  return SaveNames(b, std::move(names));
}

Response Prune(ImageBackend* b, Request& req) {
  auto filters = FiltersOf(req);
  if (!filters) return ErrorResponse(filters.error());
  auto r = b->PruneImages(*filters);
  if (!r) return ErrorResponse(r.error());
  ordered_json j = {
      {"ImagesDeleted", r->first.empty() ? ordered_json(nullptr) : DeleteItemsJson(r->first)},
      {"SpaceReclaimed", r->second}};
  return JsonResponse(200, j.dump());
}

Response DiskUsage(ImageBackend* b, const ImageRouteOptions& options, Request&) {
  auto r = b->ImageDiskUsage();
  if (!r) return ErrorResponse(r.error());
  ordered_json images = ordered_json::array();
  for (const auto& s : r->second) images.push_back(SummaryJson(s));
  auto part = [](const std::function<Result<std::string>()>& f) -> Result<ordered_json> {
    if (!f) return ordered_json::array();
    std::string text = BERTH_TRY(f());
    auto j = ordered_json::parse(text, nullptr, false);
    if (!j.is_array()) return Error::Internal("disk usage: not a JSON array");
    return j;
  };
  auto containers = part(options.container_usage);
  if (!containers) return ErrorResponse(containers.error());
  auto volumes = part(options.volume_usage);
  if (!volumes) return ErrorResponse(volumes.error());
  auto cache = part(options.build_cache_usage);
  if (!cache) return ErrorResponse(cache.error());
  ordered_json j = {{"LayersSize", r->first},
                    {"Images", images},
                    {"Containers", *containers},
                    {"Volumes", *volumes},
                    {"BuildCache", *cache}};
  return JsonResponse(200, j.dump());
}

}  // namespace

std::string ProgressMessage(std::string_view status, const std::string& id, int64_t current,
                            int64_t total) {
  ordered_json detail = ordered_json::object();
  detail["current"] = current;
  if (total > 0) detail["total"] = total;
  ordered_json j = {{"status", status}, {"progressDetail", detail}};
  // The bar the daemon renders (pkg/jsonmessage's JSONProgress.String): 50 wide.
  auto human = [](double v) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB"};
    int u = 0;
    while (v >= 1000 && u < 4) v /= 1000, ++u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g%s", v, units[u]);
    return std::string(buf);
  };
  std::string bar;
  if (total > 0) {
    int64_t n = std::min<int64_t>(50, current * 50 / total);
    bar = "[" + std::string(n > 0 ? n - 1 : 0, '=') + (n > 0 ? ">" : "") +
          std::string(50 - (n > 0 ? n : 0), ' ') + "] " + human(double(current)) + "/" +
          human(double(total));
  } else {
    bar = human(double(current));
  }
  j["progress"] = bar;
  j["id"] = id;
  return j.dump() + "\r\n";
}

std::string StatusMessage(std::string_view status, const std::string& id, bool detail) {
  ordered_json j = {{"status", status}};
  if (detail) j["progressDetail"] = ordered_json::object();
  if (!id.empty()) j["id"] = id;
  return j.dump() + "\r\n";
}

std::string StreamMessage(std::string_view text) {
  return ordered_json({{"stream", text}}).dump() + "\r\n";
}

std::string ErrorMessage(std::string_view message) {
  return ordered_json({{"errorDetail", {{"message", message}}}, {"error", message}}).dump() +
         "\r\n";
}

std::string PushAuxMessage(const std::string& tag, const std::string& digest, int64_t size) {
  ordered_json j = {{"progressDetail", ordered_json::object()},
                    {"aux", {{"Tag", tag}, {"Digest", digest}, {"Size", size}}}};
  return j.dump() + "\r\n";
}

Result<std::map<std::string, std::vector<std::string>>> ParseFilters(const std::string& text) {
  std::map<std::string, std::vector<std::string>> out;
  if (text.empty()) return out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Error::InvalidArgument("invalid filter: " + text);
  for (const auto& [key, value] : j.items()) {
    auto& list = out[key];
    if (value.is_array()) {
      for (const auto& v : value) {
        if (!v.is_string()) return Error::InvalidArgument("invalid filter: " + text);
        list.push_back(v.get<std::string>());
      }
    } else if (value.is_object()) {
      for (const auto& [v, on] : value.items())
        if (on.is_boolean() && on.get<bool>()) list.push_back(v);
    } else {
      return Error::InvalidArgument("invalid filter: " + text);
    }
  }
  return out;
}

void AddImageRoutes(Router* router, ImageBackend* backend, const ImageRouteOptions& options) {
  auto bind = [backend](Response (*fn)(ImageBackend*, Request&)) {
    return [backend, fn](Request& req) { return fn(backend, req); };
  };
  router->Add("GET", "/images/json", bind(ListImages));
  router->Add("POST", "/images/create", bind(Create), /*stream_body=*/true);
  router->Add("POST", "/images/prune", bind(Prune));
  router->Add("POST", "/images/load", bind(options.live_load ? LoadLive : Load),
              /*stream_body=*/true);
  router->Add("GET", "/images/get", bind(SaveMany));
  router->Add("GET", "/images/{name*}/get", bind(SaveOne));
  router->Add("GET", "/system/df",
              [backend, options](Request& req) { return DiskUsage(backend, options, req); });
  router->Add("GET", "/images/{name*}/json", bind(InspectImage));
  router->Add("GET", "/images/{name*}/history", bind(History));
  router->Add("POST", "/images/{name*}/tag", bind(Tag));
  router->Add("POST", "/images/{name*}/push", bind(Push));
  router->Add("POST", "/auth", bind(Auth));
  router->Add("DELETE", "/images/{name*}", bind(Delete));
}

}  // namespace berth::api::routes
