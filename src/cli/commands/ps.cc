// berth ps / container ls: docker's table, -a -q -s -n -l --filter --format --no-trunc.

#include <cstdio>

#include "cli/cli.h"
#include "cli/commands/container_util.h"

namespace berth::cli {
namespace {

const FlagSpec kPsFlags = {"ps [OPTIONS]",
                           {{"-a", "all"},
                            {"--all", "all"},
                            {"-q", "quiet"},
                            {"--quiet", "quiet"},
                            {"-s", "size"},
                            {"--size", "size"},
                            {"-l", "latest"},
                            {"--latest", "latest"},
                            {"--no-trunc", "no-trunc"}},
                           {{"-f", "filter"},
                            {"--filter", "filter"},
                            {"--format", "format"},
                            {"-n", "last"},
                            {"--last", "last"}}};

// Whether a --format needs the sizes (docker asks for them when the template reads .Size).
bool FormatWantsSize(const std::string& format) {
  if (format.find(".Size") != std::string::npos) return true;
  std::string f;
  for (char c : format)
    if (c != ' ') f += c;
  return f.find("{{json.}}") != std::string::npos || f.find("{{.|json}}") != std::string::npos;
}

Result<int> Ps(Env& env) {
  Flags f = BERTH_TRY(ParseFlags(env.args, kPsFlags));
  BERTH_TRY(NeedArgs(f, kPsFlags, 0, 0));
  std::string format = f.Get("format");
  bool quiet = f.On("quiet"), no_trunc = f.On("no-trunc");
  bool size = f.Has("size") ? f.On("size") : (!quiet && FormatWantsSize(format));
  int64_t last = -1;
  if (f.Has("last")) {
    char* end = nullptr;
    last = std::strtoll(f.Get("last").c_str(), &end, 10);
    if (!end || *end)
      return Error::InvalidArgument("invalid argument \"" + f.Get("last") +
                                    "\" for \"-n, --last\" flag: strconv.ParseInt: parsing \"" +
                                    f.Get("last") + "\": invalid syntax");
  }
  if (f.On("latest") && last == -1) last = 1;
  std::string query;
  auto add = [&](const std::string& kv) { query += (query.empty() ? "?" : "&") + kv; };
  if (f.On("all")) add("all=1");
  if (last > 0) add("limit=" + std::to_string(last));
  if (size) add("size=1");
  std::string filters = BERTH_TRY(FiltersJson(f.All("filter")));
  if (!filters.empty()) add("filters=" + QueryEscape(filters));
  Json list = BERTH_TRY(GetJsonValue(*env.client, "/containers/json" + query));
  if (!list.is_array()) return Error::Internal("malformed answer from the daemon");
  std::vector<Json> rows, hidden;
  for (const auto& c : list) {
    rows.push_back(ContainerRow(c, no_trunc));
    hidden.push_back({{"Label", c.contains("Labels") && c["Labels"].is_object() ? c["Labels"]
                                                                                : Json::object()}});
  }
  if (quiet) format = "{{.ID}}";
  std::string table =
      "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{."
      "Names}}";
  if (size) table += "\t{{.Size}}";
  BERTH_TRY(PrintRows(format, table,
                      {{"ID", "CONTAINER ID"},
                       {"RunningFor", "CREATED"},
                       {"CreatedAt", "CREATED AT"},
                       {"LocalVolumes", "LOCAL VOLUMES"}},
                      rows, hidden));
  return 0;
}

}  // namespace

Result<int> CmdPs(Env& env) { return UsageExit(Ps(env)); }

}  // namespace berth::cli
