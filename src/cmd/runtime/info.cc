// list, ps, events.

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "cmd/runtime/commands.h"
#include "runtime/cgroups/manager.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::cmd {
namespace {

void Print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// Go's tabwriter as runc sets it up for `list`: minwidth 12, padding 3, spaces.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out.append(std::max<size_t>(12, width[i] + 3) - r[i].size(), ' ');
    }
    out += "\n";
  }
  return out;
}

Result<uint64_t> ParseDurationSeconds(const std::string& s) {
  // "5s", "1m", "500ms", "2" (seconds)
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string unit = end ? end : "";
  double ms = unit == "ms" ? v : unit == "m" ? v * 60000 : unit == "h" ? v * 3600000 : v * 1000;
  if (end == s.c_str() || (unit != "" && unit != "s" && unit != "ms" && unit != "m" && unit != "h"))
    return Error::InvalidArgument("invalid duration " + s);
  return static_cast<uint64_t>(ms);
}

}  // namespace

Result<int> CmdList(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {{"format", "f", true}, {"quiet", "q", false}}));
  auto list = BERTH_TRY(c.runtime->List());
  std::string format = f.Get("format", "table");
  if (f.Bool("quiet")) {
    for (const auto& i : list) Print(i.record.id + "\n");
    return 0;
  }
  if (format == "json") {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& i : list)
      arr.push_back(nlohmann::json::parse(runtime::container::StateJson(i.record, i.status)));
    Print(arr.dump() + "\n");
    return 0;
  }
  if (format != "table") return Error::InvalidArgument("invalid format option");
  std::vector<std::vector<std::string>> rows = {
      {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
  for (const auto& i : list) {
    bool stopped = i.status == runtime::container::Status::kStopped;
    rows.push_back({i.record.id, std::to_string(stopped ? 0 : i.record.pid),
                    std::string(runtime::container::StatusName(i.status)), i.record.bundle,
                    i.record.created, i.record.owner.empty() ? "root" : i.record.owner});
  }
  Print(Table(rows));
  return 0;
}

Result<int> CmdPs(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {{"format", "f", true}}));
  if (f.args.empty())
    return Error::InvalidArgument(
        "\"ps\" requires a minimum of 1 argument\nUsage: berth-runtime ps [command options] "
        "<container-id> [ps options]");
  auto pids = BERTH_TRY(c.runtime->Pids(f.args[0]));
  std::string format = f.Get("format", "table");
  if (format == "json") {
    Print(nlohmann::json(pids).dump() + "\n");
    return 0;
  }
  if (format != "table") return Error::InvalidArgument("invalid format option");
  std::vector<std::string> ps_args = {"ps"};
  if (f.args.size() > 1)
    ps_args.insert(ps_args.end(), f.args.begin() + 1, f.args.end());
  else
    ps_args.push_back("-ef");
  Pipe out = BERTH_TRY(Pipe::Make());
  pid_t child = ::fork();
  if (child < 0) return Error::FromErrno(errno, "fork ps");
  if (child == 0) {
    ::dup2(out.write.get(), 1);
    std::vector<char*> argv;
    for (auto& a : ps_args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("ps", argv.data());
    ::_exit(127);
  }
  out.write.Reset();
  std::string text = BERTH_TRY(ReadAll(out.read.get()));
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Error::Internal("ps " + std::string(ps_args.size() > 1 ? ps_args[1] : "") +
                           ": exit status " + std::to_string(WEXITSTATUS(status)));
  auto lines = Split(text, '\n', true);
  if (lines.empty()) return 0;
  auto header = Split(lines[0], ' ', true);
  size_t col = header.size();
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == "PID") col = i;
  if (col == header.size()) return Error::InvalidArgument("couldn't find PID field in ps output");
  std::set<pid_t> want(pids.begin(), pids.end());
  std::string result = lines[0] + "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    auto fields = Split(lines[i], ' ', true);
    if (fields.size() > col && want.count(std::atoi(fields[col].c_str())))
      result += lines[i] + "\n";
  }
  Print(result);
  return 0;
}

Result<int> CmdEvents(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {{"stats", "", false}, {"interval", "", true}}));
  BERTH_TRY(NeedArgs(f, 1, "events", "[command options] <container-id>"));
  const std::string& id = f.args[0];
  auto emit = [&](const runtime::cgroups::Stats& s) {
    std::string line = "{\"type\":\"stats\",\"id\":" + nlohmann::json(id).dump() +
                       ",\"data\":" + runtime::cgroups::StatsToJson(s) + "}\n";
    Print(line);
    std::fflush(stdout);
  };
  if (f.Bool("stats")) {
    emit(BERTH_TRY(c.runtime->Stats(id)));
    return 0;
  }
  uint64_t interval_ms = BERTH_TRY(ParseDurationSeconds(f.Get("interval", "5s")));
  if (interval_ms == 0) return Error::InvalidArgument("duration interval must be greater than 0");
  uint64_t ooms = 0;
  uint64_t since_stats = interval_ms;
  const uint64_t tick = std::min<uint64_t>(interval_ms, 200);
  for (;;) {
    auto stats = c.runtime->Stats(id);
    if (!stats) {
      if (stats.error().IsFailedPrecondition() || stats.error().IsNotFound()) return 0;
      return std::move(stats).error();
    }
    if (stats->oom_kill > ooms) {
      Print("{\"type\":\"oom\",\"id\":" + nlohmann::json(id).dump() + "}\n");
      std::fflush(stdout);
    }
    ooms = stats->oom_kill;
    if (since_stats >= interval_ms) {
      emit(*stats);
      since_stats = 0;
    }
    ::poll(nullptr, 0, static_cast<int>(tick));
    since_stats += tick;
  }
}

}  // namespace berth::cmd
