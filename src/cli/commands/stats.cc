// berth stats / container stats: docker's columns (CPU % from cpu_stats and precpu_stats, memory
// less the inactive file cache, network and block I/O, pids), --no-stream, --format, -a.

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

#include "cli/cli.h"
#include "cli/commands/container_util.h"
#include "cli/format/units.h"

namespace berth::cli {

/// go-units' BytesSize: binary units, 4 significant digits ("320KiB", "23.54GiB").
std::string BytesSize(double size) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  size_t i = 0;
  while (size >= 1024 && i + 1 < std::size(kUnits)) {
    size /= 1024;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", size, kUnits[i]);
  return buf;
}

/// One stats sample as the row docker stats prints. container: the name as the user gave it.
Json StatsRow(const Json& s, const std::string& container, const std::string& id, bool no_trunc) {
  auto num = [](const Json& j, std::initializer_list<const char*> path) -> double {
    const Json* v = &j;
    for (const char* k : path) {
      if (!v->is_object() || !v->contains(k)) return 0;
      v = &(*v)[k];
    }
    return v->is_number() ? v->get<double>() : 0;
  };
  double cpu_delta = num(s, {"cpu_stats", "cpu_usage", "total_usage"}) -
                     num(s, {"precpu_stats", "cpu_usage", "total_usage"});
  double system_delta =
      num(s, {"cpu_stats", "system_cpu_usage"}) - num(s, {"precpu_stats", "system_cpu_usage"});
  double cpus = num(s, {"cpu_stats", "online_cpus"});
  if (cpus == 0 && s.contains("cpu_stats") && s["cpu_stats"].contains("cpu_usage") &&
      s["cpu_stats"]["cpu_usage"].contains("percpu_usage") &&
      s["cpu_stats"]["cpu_usage"]["percpu_usage"].is_array())
    cpus = static_cast<double>(s["cpu_stats"]["cpu_usage"]["percpu_usage"].size());
  double cpu = 0;
  if (system_delta > 0 && cpu_delta > 0) cpu = cpu_delta / system_delta * cpus * 100;
  // memory in use: less the inactive file cache (total_inactive_file on cgroup v1,
  // inactive_file on v2), as docker counts it
  double usage = num(s, {"memory_stats", "usage"});
  double limit = num(s, {"memory_stats", "limit"});
  const Json* ms = s.contains("memory_stats") && s["memory_stats"].contains("stats")
                       ? &s["memory_stats"]["stats"]
                       : nullptr;
  if (ms && ms->contains("total_inactive_file") && (*ms)["total_inactive_file"].is_number() &&
      (*ms)["total_inactive_file"].get<double>() < usage) {
    usage -= (*ms)["total_inactive_file"].get<double>();
  } else if (ms && ms->contains("inactive_file") && (*ms)["inactive_file"].is_number() &&
             (*ms)["inactive_file"].get<double>() < usage) {
    usage -= (*ms)["inactive_file"].get<double>();
  }
  double mem_pct = limit != 0 ? usage / limit * 100 : 0;
  double rx = 0, tx = 0;
  if (s.contains("networks") && s["networks"].is_object())
    for (const auto& n : s["networks"]) {
      rx += num(n, {"rx_bytes"});
      tx += num(n, {"tx_bytes"});
    }
  double blk_read = 0, blk_write = 0;
  if (s.contains("blkio_stats") && s["blkio_stats"].contains("io_service_bytes_recursive") &&
      s["blkio_stats"]["io_service_bytes_recursive"].is_array())
    for (const auto& e : s["blkio_stats"]["io_service_bytes_recursive"]) {
      std::string op = Str(e, "op");
      if (!op.empty()) op[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(op[0])));
      if (op == "read") blk_read += num(e, {"value"});
      if (op == "write") blk_write += num(e, {"value"});
    }
  auto pct = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f%%", v);
    return std::string(buf);
  };
  std::string name = Str(s, "name");
  if (!name.empty() && name[0] == '/') name = name.substr(1);
  std::string full_id = Str(s, "id").empty() ? id : Str(s, "id");
  return Json{{"BlockIO", HumanSize(blk_read) + " / " + HumanSize(blk_write)},
              {"CPUPerc", pct(cpu)},
              {"Container", container},
              {"ID", ShortId(full_id, no_trunc)},
              {"MemPerc", pct(mem_pct)},
              {"MemUsage", BytesSize(usage) + " / " + BytesSize(limit)},
              {"Name", name.empty() ? "--" : name},
              {"NetIO", HumanSize(rx) + " / " + HumanSize(tx)},
              {"PIDs", std::to_string(static_cast<int64_t>(num(s, {"pids_stats", "current"})))}};
}

namespace {

const FlagSpec kStatsFlags = {
    "stats [OPTIONS] [CONTAINER...]",
    {{"-a", "all"}, {"--all", "all"}, {"--no-stream", "no-stream"}, {"--no-trunc", "no-trunc"}},
    {{"--format", "format"}}};

const char* kStatsTable =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{."
    "BlockIO}}\t{{.PIDs}}";
const std::vector<std::pair<std::string, std::string>> kStatsHeaders = {
    {"ID", "CONTAINER ID"},   {"Container", "CONTAINER"},
    {"CPUPerc", "CPU %"},     {"MemUsage", "MEM USAGE / LIMIT"},
    {"MemPerc", "MEM %"},     {"NetIO", "NET I/O"},
    {"BlockIO", "BLOCK I/O"}, {"PIDs", "PIDS"}};

struct Target {
  std::string given;  // as the user wrote it, or the short id when listed
  std::string id;
  Json row;
  bool have = false, done = false;
  std::string error;
};

Result<int> Stats(Env& env) {
  Flags f = BERTH_TRY(ParseFlags(env.args, kStatsFlags));
  bool no_trunc = f.On("no-trunc"), no_stream = f.On("no-stream");
  std::vector<Target> targets;
  bool listed = f.args.empty();
  if (listed) {
    Json list = BERTH_TRY(
        GetJsonValue(*env.client, std::string("/containers/json") + (f.On("all") ? "?all=1" : "")));
    for (const auto& c : list) targets.push_back({ShortId(Str(c, "Id")), Str(c, "Id"), {}});
  } else {
    // names are checked before anything is shown, as docker does
    std::vector<std::string> errors;
    for (const auto& n : f.args) {
      auto c = GetJsonValue(*env.client, "/containers/" + QueryEscape(n) + "/json");
      if (!c) {
        errors.push_back(c.error().message());
        continue;
      }
      targets.push_back({n, Str(*c, "Id"), {}});
    }
    if (!errors.empty()) {
      for (size_t i = 0; i + 1 < errors.size(); ++i)
        std::fprintf(stderr, "%s\n", errors[i].c_str());
      return Error::Internal(errors.back());
    }
  }
  std::mutex mu;
  std::vector<std::thread> threads;
  std::string host = env.client->host();
  for (size_t i = 0; i < targets.size(); ++i) {
    threads.emplace_back([&, i] {
      api::Client client(host);  // one connection per stream; the version was negotiated
      std::string path =
          ApiPrefix() + "/containers/" + targets[i].id + "/stats?stream=" + (no_stream ? "0" : "1");
      std::string pending;
      auto r = client.Do("GET", path, {}, {}, [&](std::string_view chunk) {
        pending.append(chunk);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          Json s = Json::parse(pending.substr(0, nl), nullptr, false);
          pending.erase(0, nl + 1);
          if (!s.is_object()) continue;
          std::lock_guard<std::mutex> lock(mu);
          targets[i].row = StatsRow(s, targets[i].given, targets[i].id, no_trunc);
          targets[i].have = true;
        }
        return true;
      });
      std::lock_guard<std::mutex> lock(mu);
      if (!pending.empty()) {
        Json s = Json::parse(pending, nullptr, false);
        if (s.is_object()) {
          targets[i].row = StatsRow(s, targets[i].given, targets[i].id, no_trunc);
          targets[i].have = true;
        }
      }
      if (!r) targets[i].error = r.error().message();
      targets[i].done = true;
    });
  }
  auto render = [&]() -> Result<void> {
    std::vector<Json> rows;
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& t : targets)
      if (t.have && !(listed && !f.On("all") && t.done && !no_stream)) rows.push_back(t.row);
    return PrintRows(f.Get("format"), kStatsTable, kStatsHeaders, rows);
  };
  if (no_stream) {
    for (auto& t : threads) t.join();
    BERTH_TRY(render());
    for (const auto& t : targets)
      if (!t.error.empty()) std::fprintf(stderr, "%s\n", t.error.c_str());
    return 0;
  }
  // live: redraw every half second until every stream has ended (or the user interrupts)
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (::isatty(STDOUT_FILENO)) std::printf("\033[2J\033[H");
    BERTH_TRY(render());
    std::fflush(stdout);
    bool all_done = true;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& t : targets) all_done = all_done && t.done;
    }
    if (all_done) break;
  }
  for (auto& t : threads) t.join();
  return 0;
}

}  // namespace

Result<int> CmdStats(Env& env) { return UsageExit(Stats(env)); }

}  // namespace berth::cli
