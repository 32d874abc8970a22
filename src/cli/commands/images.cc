// berth images / image ls, history, system df: Docker's tables, -q, --format.

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/format/template.h"
#include "cli/format/units.h"

namespace berth::cli {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}
int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : 0;
}
std::string Since(int64_t created) { return HumanDuration(std::time(nullptr) - created) + " ago"; }
std::string CreatedAt(int64_t created) {
  time_t t = created;
  struct tm tm;
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}
std::string ShortId(const std::string& id, bool no_trunc) {
  if (no_trunc) return id;
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 12);
}

// Prints rows through a --format template (or the default table) as docker does.
Result<void> Print(const std::string& format, const std::string& default_table,
                   const std::vector<std::pair<std::string, std::string>>& headers,
                   const std::vector<json>& rows) {
  Template t = BERTH_TRY(Template::Parse(format.empty() ? default_table : format));
  std::vector<std::string> lines;
  if (t.is_table()) lines.push_back(t.ExecuteHeader(headers));
  for (const auto& r : rows) lines.push_back(BERTH_TRY(t.Execute(r)));
  std::string out;
  if (t.is_table()) {
    out = TabAlign(lines);
  } else {
    for (const auto& l : lines) out += l + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return {};
}

struct Flags {
  std::vector<std::string> args;
  std::map<std::string, std::vector<std::string>> values;
  bool Has(const std::string& k) const { return values.contains(k); }
  std::string Get(const std::string& k) const {
    auto it = values.find(k);
    return it == values.end() || it->second.empty() ? "" : it->second.back();
  }
};

// bools: flags without a value; valued: flags taking one. Short names map to long ones.
Result<Flags> ParseArgs(const std::vector<std::string>& in,
                        const std::map<std::string, std::string>& bools,
                        const std::map<std::string, std::string>& valued, const char* cmd) {
  Flags f;
  for (size_t i = 0; i < in.size(); ++i) {
    std::string a = in[i];
    if (a.size() < 2 || a[0] != '-') {
      f.args.push_back(a);
      continue;
    }
    std::string value;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    if (auto it = bools.find(a); it != bools.end()) {
      f.values[it->second].push_back(has_value ? value : "true");
    } else if (auto v = valued.find(a); v != valued.end()) {
      if (!has_value) {
        if (i + 1 >= in.size())
          return Error::InvalidArgument("flag needs an argument: " + a + "\nSee 'berth " + cmd +
                                        " --help'.");
        value = in[++i];
      }
      f.values[v->second].push_back(value);
    } else {
      return Error::InvalidArgument("unknown flag: " + a + "\nSee 'berth " + cmd + " --help'.");
    }
  }
  return f;
}

}  // namespace

Result<int> CmdImages(Env& env) {
  Flags f = BERTH_TRY(ParseArgs(env.args,
                                {{"-a", "all"},
                                 {"--all", "all"},
                                 {"-q", "quiet"},
                                 {"--quiet", "quiet"},
                                 {"--digests", "digests"},
                                 {"--no-trunc", "no-trunc"}},
                                {{"-f", "filter"}, {"--filter", "filter"}, {"--format", "format"}},
                                "images"));
  json filters = json::object();
  for (const auto& kv : f.values["filter"]) {
    auto eq = kv.find('=');
    if (eq == std::string::npos)
      return Error::InvalidArgument("bad format of filter (expected name=value)");
    filters[kv.substr(0, eq)].push_back(kv.substr(eq + 1));
  }
  if (!f.args.empty()) filters["reference"].push_back(f.args[0]);
  std::string path = "/images/json";
  if (f.Has("all")) path += "?all=1";
  if (!filters.empty())
    path += std::string(f.Has("all") ? "&" : "?") + "filters=" + QueryEscape(filters.dump());
  json images = json::parse(BERTH_TRY(GetJson(*env.client, path)), nullptr, false);
  if (!images.is_array()) return Error::Internal("malformed answer from the daemon");
  bool no_trunc = f.Has("no-trunc");
  std::vector<json> rows;
  for (const auto& img : images) {
    std::vector<std::pair<std::string, std::string>> refs;
    if (img.contains("RepoTags") && img["RepoTags"].is_array()) {
      for (const auto& t : img["RepoTags"]) {
        std::string s = t.get<std::string>();
        auto colon = s.rfind(':');
        if (colon == std::string::npos || s.find('/', colon) != std::string::npos)
          refs.emplace_back(s, "<none>");
        else
          refs.emplace_back(s.substr(0, colon), s.substr(colon + 1));
      }
    }
    if (refs.empty()) refs.emplace_back("<none>", "<none>");
    for (const auto& [repo, tag] : refs) {
      int64_t created = Int(img, "Created");
      std::string size = HumanSize(static_cast<double>(Int(img, "Size")));
      rows.push_back({{"Containers", "N/A"},
                      {"CreatedAt", CreatedAt(created)},
                      {"CreatedSince", Since(created)},
                      {"Digest", "<none>"},
                      {"ID", ShortId(Str(img, "Id"), no_trunc)},
                      {"Repository", repo},
                      {"SharedSize", "N/A"},
                      {"Size", size},
                      {"Tag", tag},
                      {"UniqueSize", "N/A"},
                      {"VirtualSize", HumanSize(static_cast<double>(Int(img, "Size")), 4)}});
    }
  }
  std::string format = f.Get("format");
  if (f.Has("quiet")) format = "{{.ID}}";
  std::string table =
      f.Has("digests")
          ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
          : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  if (format == "table") format = table;
  BERTH_TRY(Print(format, table,
                  {{"ID", "IMAGE ID"}, {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"}},
                  rows));
  return 0;
}

Result<int> CmdHistory(Env& env) {
  Flags f = BERTH_TRY(ParseArgs(env.args,
                                {{"-q", "quiet"},
                                 {"--quiet", "quiet"},
                                 {"--no-trunc", "no-trunc"},
                                 {"-H", "human"},
                                 {"--human", "human"}},
                                {{"--format", "format"}}, "history"));
  if (f.args.size() != 1)
    return Error::InvalidArgument("\"berth history\" requires exactly 1 argument.");
  json h = json::parse(BERTH_TRY(GetJson(*env.client, "/images/" + f.args[0] + "/history")),
                       nullptr, false);
  if (!h.is_array()) return Error::Internal("malformed answer from the daemon");
  bool no_trunc = f.Has("no-trunc");
  std::vector<json> rows;
  for (const auto& e : h) {
    std::string id = Str(e, "Id");
    std::string created_by = Str(e, "CreatedBy");
    if (!no_trunc && created_by.size() > 45) created_by = created_by.substr(0, 44) + "…";
    rows.push_back({{"ID", id == "<missing>" ? id : ShortId(id, no_trunc)},
                    {"CreatedSince", Since(Int(e, "Created"))},
                    {"CreatedAt", CreatedAt(Int(e, "Created"))},
                    {"CreatedBy", created_by},
                    {"Size", HumanSize(static_cast<double>(Int(e, "Size")))},
                    {"Comment", Str(e, "Comment")}});
  }
  std::string format = f.Has("quiet") ? "{{.ID}}" : f.Get("format");
  BERTH_TRY(
      Print(format, "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
            {{"ID", "IMAGE"}, {"CreatedSince", "CREATED"}, {"CreatedBy", "CREATED BY"}}, rows));
  return 0;
}

// docker system df -v: a table per kind. Containers, volumes and build cache are printed from
// the answer's arrays (empty until berthd has them).
Result<int> PrintDiskUsageVerbose(const json& df) {
  auto table = [](const std::string& format,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  const std::vector<json>& rows) -> Result<std::string> {
    Template t = BERTH_TRY(Template::Parse(format));
    std::vector<std::string> lines{t.ExecuteHeader(headers)};
    for (const auto& r : rows) lines.push_back(BERTH_TRY(t.Execute(r)));
    return TabAlign(lines);
  };
  auto size = [](int64_t v) { return v < 0 ? std::string("N/A") : HumanSize(double(v)); };
  std::vector<json> images;
  for (const auto& img : df.value("Images", json::array())) {
    std::string repo = "<none>", tag = "<none>";
    auto tags = img.value("RepoTags", json::array());
    if (tags.is_array() && !tags.empty() && tags[0].is_string()) {
      std::string t = tags[0].get<std::string>();
      auto colon = t.rfind(':');
      if (colon != std::string::npos && t.find('/', colon) == std::string::npos) {
        repo = t.substr(0, colon);
        tag = t.substr(colon + 1);
      } else {
        repo = t;
      }
    }
    int64_t sz = Int(img, "Size"),
            shared = img.contains("SharedSize") ? Int(img, "SharedSize") : -1;
    images.push_back({{"Repository", repo},
                      {"Tag", tag},
                      {"ID", ShortId(Str(img, "Id"), false)},
                      {"CreatedSince", Since(Int(img, "Created"))},
                      {"Size", size(sz)},
                      // docker's go-units HumanSize (4 digits) for these two
                      {"SharedSize", shared < 0 ? "N/A" : HumanSize(double(shared), 4)},
                      {"UniqueSize", shared < 0 ? "N/A" : HumanSize(double(sz - shared), 4)},
                      {"Containers", std::to_string(Int(img, "Containers"))}});
  }
  std::vector<json> containers;
  for (const auto& c : df.value("Containers", json::array())) {
    std::string names;
    for (const auto& n : c.value("Names", json::array()))
      if (n.is_string()) names += (names.empty() ? "" : ",") + n.get<std::string>().substr(1);
    std::string cmd = Str(c, "Command");
    if (cmd.size() > 20) cmd = cmd.substr(0, 19) + "…";
    containers.push_back({{"ID", ShortId(Str(c, "Id"), false)},
                          {"Image", Str(c, "Image")},
                          {"Command", "\"" + cmd + "\""},
                          {"LocalVolumes", "0"},
                          {"Size", size(Int(c, "SizeRw"))},
                          {"RunningFor", Since(Int(c, "Created"))},
                          {"Status", Str(c, "Status")},
                          {"Names", names}});
  }
  std::vector<json> volumes;
  for (const auto& v : df.value("Volumes", json::array())) {
    json usage = v.value("UsageData", json::object());
    volumes.push_back({{"Name", Str(v, "Name")},
                       {"Links", std::to_string(Int(usage, "RefCount"))},
                       {"Size", size(Int(usage, "Size"))}});
  }
  int64_t cache_size = 0;
  std::vector<json> cache;
  for (const auto& b : df.value("BuildCache", json::array())) {
    cache_size += Int(b, "Size");
    cache.push_back({{"ID", ShortId(Str(b, "ID"), false)},
                     {"CacheType", Str(b, "Type")},
                     {"Size", size(Int(b, "Size"))},
                     {"CreatedSince", ""},
                     {"LastUsedSince", ""},
                     {"UsageCount", std::to_string(Int(b, "UsageCount"))},
                     {"Shared", b.value("Shared", false) ? "true" : "false"}});
  }
  std::string out = "Images space usage:\n\n";
  out += BERTH_TRY(table(
      "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}"
      "\t{{.UniqueSize}}\t{{.Containers}}",
      {{"ID", "IMAGE ID"},
       {"CreatedSince", "CREATED"},
       {"SharedSize", "SHARED SIZE"},
       {"UniqueSize", "UNIQUE SIZE"}},
      images));
  out += "\nContainers space usage:\n\n";
  out += BERTH_TRY(
      table("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}"
            "\t{{.Status}}\t{{.Names}}",
            {{"ID", "CONTAINER ID"}, {"LocalVolumes", "LOCAL VOLUMES"}, {"RunningFor", "CREATED"}},
            containers));
  out += "\nLocal Volumes space usage:\n\n";
  out += BERTH_TRY(
      table("table {{.Name}}\t{{.Links}}\t{{.Size}}", {{"Name", "VOLUME NAME"}}, volumes));
  out += "\nBuild cache usage: " + HumanSize(double(cache_size)) + "\n\n";
  out += BERTH_TRY(
      table("table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}"
            "\t{{.UsageCount}}\t{{.Shared}}",
            {{"ID", "CACHE ID"},
             {"CacheType", "CACHE TYPE"},
             {"CreatedSince", "CREATED"},
             {"LastUsedSince", "LAST USED"},
             {"UsageCount", "USAGE"}},
            cache));
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

Result<int> CmdSystemDf(Env& env) {
  Flags f = BERTH_TRY(ParseArgs(env.args, {{"-v", "verbose"}, {"--verbose", "verbose"}},
                                {{"--format", "format"}}, "system df"));
  json df = json::parse(BERTH_TRY(GetJson(*env.client, "/system/df")), nullptr, false);
  if (!df.is_object()) return Error::Internal("malformed answer from the daemon");
  int64_t total = 0, active = 0, reclaimable = 0;
  for (const auto& img : df["Images"]) {
    ++total;
    if (Int(img, "Containers") > 0)
      ++active;
    else
      reclaimable += Int(img, "Size") - std::max<int64_t>(Int(img, "SharedSize"), 0);
  }
  int64_t size = Int(df, "LayersSize");
  if (f.Has("verbose") && f.Get("format").empty()) return PrintDiskUsageVerbose(df);
  auto pct = [](int64_t part, int64_t whole) {
    if (whole == 0) return std::string();
    return " (" + std::to_string(part * 100 / whole) + "%)";
  };
  // Docker counts shared layers as reclaimable only once every image using them is unused.
  if (active == 0) reclaimable = size;
  std::vector<json> rows = {
      {{"Type", "Images"},
       {"TotalCount", std::to_string(total)},
       {"Active", std::to_string(active)},
       {"Size", HumanSize(static_cast<double>(size), 4)},
       {"Reclaimable", HumanSize(static_cast<double>(reclaimable), 4) + pct(reclaimable, size)}},
      {{"Type", "Containers"},
       {"TotalCount", "0"},
       {"Active", "0"},
       {"Size", "0B"},
       {"Reclaimable", "0B"}},
      {{"Type", "Local Volumes"},
       {"TotalCount", "0"},
       {"Active", "0"},
       {"Size", "0B"},
       {"Reclaimable", "0B"}},
      {{"Type", "Build Cache"},
       {"TotalCount", "0"},
       {"Active", "0"},
       {"Size", "0B"},
       {"Reclaimable", "0B"}}};
  BERTH_TRY(Print(f.Get("format"),
                  "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                  {{"TotalCount", "TOTAL"}}, rows));
  return 0;
}

}  // namespace berth::cli
