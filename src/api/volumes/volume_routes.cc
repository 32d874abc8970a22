#include "api/volumes/volume_routes.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "api/routes/images.h"  // ParseFilters

namespace berth::api::volumes {
namespace {

using engine::VolumeService;
using nlohmann::ordered_json;

ordered_json Strings(const std::map<std::string, std::string>& m) {
  ordered_json o = ordered_json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

ordered_json VolumeObject(const engine::Volume& v, int64_t size, int64_t refs) {
  ordered_json j = ordered_json::object();
  if (!v.created_at.empty()) j["CreatedAt"] = v.created_at;
  j["Driver"] = v.driver;
  j["Labels"] = Strings(v.labels);
  j["Mountpoint"] = v.mountpoint;
  j["Name"] = v.name;
  j["Options"] = Strings(v.options);
  j["Scope"] = v.scope;
  if (size >= 0) j["UsageData"] = {{"RefCount", refs}, {"Size", size}};
  return j;
}

Result<bool> BoolFilter(const std::string& key, const std::vector<std::string>& values) {
  bool out = false;
  for (const auto& v : values) {
    if (v == "true" || v == "1")
      out = true;
    else if (v == "false" || v == "0")
      out = false;
    else
      return Error::InvalidArgument("invalid filter '" + key + "=" + v + "'");
  }
  return out;
}

// "1.41" < "1.42"; an empty version (no /vX.Y/ prefix) is the newest.
bool VersionBefore(const std::string& version, int major, int minor) {
  if (version.empty()) return false;
  char* end = nullptr;
  long ma = strtol(version.c_str(), &end, 10);
  long mi = (end && *end == '.') ? strtol(end + 1, nullptr, 10) : 0;
  return ma < major || (ma == major && mi < minor);
}

Response List(VolumeService* s, Request& req) {
  auto m = routes::ParseFilters(req.Query("filters"));
  if (!m) return ErrorResponse(m.error());
  engine::VolumeFilters f;
  for (auto& [key, values] : *m) {
    if (key == "name") {
      f.names = values;
    } else if (key == "label") {
      f.labels = values;
    } else if (key == "driver") {
      f.drivers = values;
    } else if (key == "dangling") {
      auto d = BoolFilter(key, values);
      if (!d) return ErrorResponse(d.error());
      if (!values.empty()) f.dangling = *d;
    } else {
      return ErrorResponse(Error::InvalidArgument("invalid filter '" + key + "'"));
    }
  }
  auto list = s->List(f);
  if (!list) return ErrorResponse(list.error());
  ordered_json a = ordered_json::array();
  for (const auto& v : *list) a.push_back(VolumeObject(v, -1, -1));
  ordered_json j = {{"Volumes", a}, {"Warnings", nullptr}};
  return JsonResponse(200, j.dump());
}

Result<std::map<std::string, std::string>> StringMap(const ordered_json& j, const char* field) {
  std::map<std::string, std::string> out;
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object())
    return Error::InvalidArgument(std::string("invalid JSON: ") + field + " must be an object");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string())
      return Error::InvalidArgument(std::string("invalid JSON: ") + field + "." + k +
                                    " must be a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<std::string> StringField(const ordered_json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string())
    return Error::InvalidArgument(std::string("invalid JSON: ") + field + " must be a string");
  return it->get<std::string>();
}

Result<engine::Volume> CreateFromBody(VolumeService* s, const std::string& body) {
  if (body.empty()) return Error::InvalidArgument("got EOF while reading request body");
  auto j = ordered_json::parse(body, nullptr, false);
  if (!j.is_object()) return Error::InvalidArgument("invalid JSON in the request body");
  std::string name = BERTH_TRY(StringField(j, "Name"));
  std::string driver = BERTH_TRY(StringField(j, "Driver"));
  auto opts = BERTH_TRY(StringMap(j, "DriverOpts"));
  auto labels = BERTH_TRY(StringMap(j, "Labels"));
  return s->Create(name, std::move(labels), std::move(opts), /*anonymous=*/false,
                   driver.empty() ? "local" : driver);
}

Response Create(VolumeService* s, Request& req) {
  auto v = CreateFromBody(s, req.body);
  if (!v) return ErrorResponse(v.error());
  return JsonResponse(201, VolumeObject(*v, -1, -1).dump());
}

Response Inspect(VolumeService* s, Request& req) {
  auto v = s->Get(req.params["name"]);
  if (!v) return ErrorResponse(v.error());
  return JsonResponse(200, VolumeObject(*v, -1, -1).dump());
}

Response Delete(VolumeService* s, Request& req) {
  if (auto r = s->Remove(req.params["name"], req.QueryBool("force")); !r)
    return ErrorResponse(r.error());
  Response resp;
  resp.status = 204;
  return resp;
}

Response Prune(VolumeService* s, Request& req) {
  auto m = routes::ParseFilters(req.Query("filters"));
  if (!m) return ErrorResponse(m.error());
  std::vector<std::string> labels, not_labels;
  // API 1.42 made `docker volume prune` remove only anonymous volumes unless all=true.
  bool all = VersionBefore(req.api_version, 1, 42);
  for (auto& [key, values] : *m) {
    if (key == "label") {
      labels = values;
    } else if (key == "label!") {
      not_labels = values;
    } else if (key == "all") {
      auto a = BoolFilter(key, values);
      if (!a) return ErrorResponse(a.error());
      if (!values.empty()) all = *a;
    } else {
      return ErrorResponse(Error::InvalidArgument("invalid filter '" + key + "'"));
    }
  }
  auto r = s->Prune(labels, all, not_labels);
  if (!r) return ErrorResponse(r.error());
  ordered_json deleted = ordered_json::array();
  for (const auto& n : r->deleted) deleted.push_back(n);
  ordered_json j = {{"VolumesDeleted", deleted}, {"SpaceReclaimed", r->space_reclaimed}};
  return JsonResponse(200, j.dump());
}

}  // namespace

std::string VolumeJson(const engine::Volume& v, int64_t size, int64_t refs) {
  return VolumeObject(v, size, refs).dump();
}

void AddVolumeRoutes(Router* router, VolumeService* service) {
  auto bind = [service](Response (*fn)(VolumeService*, Request&)) {
    return [service, fn](Request& req) { return fn(service, req); };
  };
  router->Add("GET", "/volumes", bind(List));
  router->Add("POST", "/volumes/create", bind(Create));
  router->Add("POST", "/volumes/prune", bind(Prune));
  router->Add("GET", "/volumes/{name}", bind(Inspect));
  router->Add("DELETE", "/volumes/{name}", bind(Delete));
}

}  // namespace berth::api::volumes
