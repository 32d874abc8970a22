// berth events / system events (--since, --until, --filter, --format) and system prune.

#include <cstdio>
#include <ctime>
#include <optional>

#include "cli/cli.h"
#include "cli/commands/container_util.h"
#include "cli/format/template.h"
#include "cli/format/units.h"

namespace berth::cli {

/// docker's line for one event: "2026-12-01T22:33:50.123456789Z container start ID (k=v, ...)".
std::string EventLine(const Json& e) {
  std::string out;
  int64_t nano = Int(e, "timeNano");
  int64_t secs = nano ? nano / 1000000000 : Int(e, "time");
  if (nano || secs) {
    time_t t = secs;
    struct tm tm;
    ::localtime_r(&t, &tm);
    char date[64], zone[16];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    std::strftime(zone, sizeof zone, "%z", &tm);
    std::string z = zone;
    z = z == "+0000" ? "Z" : z.substr(0, 3) + ":" + z.substr(3);
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nano % 1000000000));
    out += std::string(date) + frac + z + " ";
  }
  const Json actor = e.contains("Actor") && e["Actor"].is_object() ? e["Actor"] : Json::object();
  out += Str(e, "Type") + " " + Str(e, "Action") + " " + Str(actor, "ID");
  if (actor.contains("Attributes") && actor["Attributes"].is_object() &&
      !actor["Attributes"].empty()) {
    std::string attrs;
    for (auto it = actor["Attributes"].begin(); it != actor["Attributes"].end(); ++it)
      attrs += (attrs.empty() ? "" : ", ") + it.key() + "=" +
               (it->is_string() ? it->get<std::string>() : it->dump());
    out += " (" + attrs + ")";
  }
  return out;
}

namespace {

Result<int> Events(Env& env) {
  static const FlagSpec spec = {"events [OPTIONS]",
                                {},
                                {{"-f", "filter"},
                                 {"--filter", "filter"},
                                 {"--format", "format"},
                                 {"--since", "since"},
                                 {"--until", "until"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 0, 0));
  std::string query;
  auto add = [&](const std::string& kv) { query += (query.empty() ? "?" : "&") + kv; };
  if (f.Has("since")) add("since=" + QueryEscape(BERTH_TRY(TimestampArg(f.Get("since")))));
  if (f.Has("until")) add("until=" + QueryEscape(BERTH_TRY(TimestampArg(f.Get("until")))));
  std::string filters = BERTH_TRY(FiltersJson(f.All("filter")));
  if (!filters.empty()) add("filters=" + QueryEscape(filters));
  std::string format = f.Get("format");
  if (format == "json") format = "{{json .}}";
  std::optional<Template> tpl;
  if (!format.empty()) tpl = BERTH_TRY(Template::Parse(format));
  std::string pending;
  Result<void> failed;
  auto r = BERTH_TRY(
      env.client->Do("GET", ApiPrefix() + "/events" + query, {}, {}, [&](std::string_view chunk) {
        pending.append(chunk);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::string line = pending.substr(0, nl);
          pending.erase(0, nl + 1);
          Json e = Json::parse(line, nullptr, false);
          if (!e.is_object()) continue;
          if (e.size() == 1 && e.contains("message")) {  // the daemon's error answer
            failed = Error::Internal("Error response from daemon: " + Str(e, "message"));
            return false;
          }
          std::string out;
          if (tpl) {
            // the daemon's key order, as docker's {{json .}} keeps its struct's
            auto s = tpl->ExecuteOrdered(nlohmann::ordered_json::parse(line, nullptr, false));
            if (!s) {
              failed = s.error();
              return false;
            }
            out = *s;
          } else {
            out = EventLine(e);
          }
          std::printf("%s\n", out.c_str());
          std::fflush(stdout);
        }
        return true;
      }));
  BERTH_TRY(failed);
  if (r.status / 100 != 2) {
    Json j = Json::parse(pending, nullptr, false);
    return Error::Internal("Error response from daemon: " +
                           (j.is_object() ? Str(j, "message") : pending));
  }
  return 0;
}

// POST path; a daemon without the route (404 page not found, 405) counts as nothing pruned.
Result<Json> PruneCall(api::Client& client, const std::string& path, bool optional) {
  auto r = Call(client, "POST", path);
  if (!r) {
    if (optional) return Json::object();
    return r.error();
  }
  Json j = Json::parse(*r, nullptr, false);
  return j.is_object() ? j : Json::object();
}

void Section(std::string& out, const char* title, const Json& list) {
  if (!list.is_array() || list.empty()) return;
  out += std::string(title) + ":\n";
  for (const auto& v : list)
    if (v.is_string()) out += v.get<std::string>() + "\n";
  out += "\n";
}

Result<int> SystemPrune(Env& env) {
  static const FlagSpec spec = {"system prune [OPTIONS]",
                                {{"-a", "all"},
                                 {"--all", "all"},
                                 {"-f", "force"},
                                 {"--force", "force"},
                                 {"--volumes", "volumes"}},
                                {{"--filter", "filter"}}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 0, 0));
  bool all = f.On("all"), volumes = f.On("volumes");
  if (!f.On("force")) {
    std::printf(
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not "
        "used by at least one container\n");
    if (volumes) std::printf("  - all anonymous volumes not used by at least one container\n");
    std::printf(all ? "  - all images without at least one container associated to them\n"
                      "  - all build cache\n"
                    : "  - all dangling images\n  - unused build cache\n");
    std::printf("\nAre you sure you want to continue? [y/N] ");
    std::fflush(stdout);
    char buf[16] = {};
    if (!std::fgets(buf, sizeof buf, stdin) || (buf[0] != 'y' && buf[0] != 'Y')) return 0;
  }
  std::string filters = BERTH_TRY(FiltersJson(f.All("filter")));
  std::string fq = filters.empty() ? "" : "?filters=" + QueryEscape(filters);
  std::string out;
  int64_t reclaimed = 0;
  Json c = BERTH_TRY(PruneCall(*env.client, "/containers/prune" + fq, false));
  Section(out, "Deleted Containers", c["ContainersDeleted"]);
  reclaimed += Int(c, "SpaceReclaimed");
  Json n = BERTH_TRY(PruneCall(*env.client, "/networks/prune" + fq, true));
  Section(out, "Deleted Networks", n["NetworksDeleted"]);
  if (volumes) reclaimed += BERTH_TRY(PruneVolumes(*env.client, filters, out));
  Json image_filters = filters.empty() ? Json::object() : Json::parse(filters);
  image_filters["dangling"] = Json::array({all ? "false" : "true"});
  Json i = BERTH_TRY(
      PruneCall(*env.client, "/images/prune?filters=" + QueryEscape(image_filters.dump()), false));
  if (i["ImagesDeleted"].is_array() && !i["ImagesDeleted"].empty()) {
    out += "Deleted Images:\n";
    for (const auto& d : i["ImagesDeleted"]) {
      if (d.contains("Untagged")) out += "untagged: " + Str(d, "Untagged") + "\n";
      if (d.contains("Deleted")) out += "deleted: " + Str(d, "Deleted") + "\n";
    }
    out += "\n";
  }
  reclaimed += Int(i, "SpaceReclaimed");
  Json b =
      BERTH_TRY(PruneCall(*env.client, std::string("/build/prune") + (all ? "?all=1" : ""), true));
  Section(out, "Deleted build cache objects", b["CachesDeleted"]);
  reclaimed += Int(b, "SpaceReclaimed");
  out += "Total reclaimed space: " + HumanSize(static_cast<double>(reclaimed)) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace

Result<int> CmdEvents(Env& env) { return UsageExit(Events(env)); }
Result<int> CmdSystemPrune(Env& env) { return UsageExit(SystemPrune(env)); }

}  // namespace berth::cli
