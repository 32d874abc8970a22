// berth inspect (containers first, then images, then volumes, as docker), container inspect,
// volume inspect's engine, image inspect; and the `container` group's dispatch.

#include <algorithm>
#include <cstdio>
#include <optional>

#include "cli/cli.h"
#include "cli/commands/container_util.h"
#include "cli/format/template.h"

namespace berth::cli {
namespace {

using Ordered = nlohmann::ordered_json;

// GET the object of one kind: its raw JSON, or the daemon's error.
Result<std::string> Fetch(api::Client& client, const std::string& kind, const std::string& name,
                          bool size) {
  std::string n = QueryEscape(name);
  if (kind == "container")
    return GetJson(client, "/containers/" + n + "/json" + (size ? "?size=1" : ""));
  if (kind == "image") return GetJson(client, "/images/" + n + "/json");
  if (kind == "volume") return GetJson(client, "/volumes/" + n);
  if (kind == "network") return GetJson(client, "/networks/" + n);
  return Error::InvalidArgument("unknown type " + kind);
}

const char* kTypes[] = {"config", "container", "image",   "network", "node",
                        "plugin", "secret",    "service", "task",    "volume"};

}  // namespace

// Prints the objects named (their JSON array, or the template per object) and the errors of the
// missing ones; kinds is tried in order for each name. any_kind: a name found in none of them is
// "Error: No such object: NAME" (docker inspect); otherwise the daemon's own error.
Result<int> InspectObjects(Env& env, const std::vector<std::string>& names,
                           const std::vector<std::string>& kinds, const std::string& format,
                           bool size, bool any_kind) {
  std::optional<Template> tpl;
  if (!format.empty() && format != "json") tpl = BERTH_TRY(Template::Parse(format));
  Ordered all = Ordered::array();
  std::string out;
  std::vector<std::string> errors;
  for (const auto& n : names) {
    std::optional<std::string> raw;
    std::string last_error;
    for (const auto& kind : kinds) {
      auto r = Fetch(*env.client, kind, n, size);
      if (r) {
        raw = std::move(*r);
        break;
      }
      if (!r.error().IsNotFound() || kinds.size() == 1) {
        last_error = r.error().message();
        if (!r.error().IsNotFound()) break;
      }
    }
    if (!raw) {
      errors.push_back(any_kind && last_error.empty() ? "Error: No such object: " + n : last_error);
      continue;
    }
    Ordered j = Ordered::parse(*raw, nullptr, false);
    if (j.is_discarded()) {
      errors.push_back("malformed answer from the daemon for " + n);
      continue;
    }
    if (tpl) {
      auto s = tpl->ExecuteOrdered(j);
      if (!s) return Error::Internal("template: " + s.error().message());
      out += *s + "\n";
    } else {
      all.push_back(std::move(j));
    }
  }
  if (!tpl) out = all.dump(4) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  return errors.empty() ? 0 : 1;
}

namespace {

Result<int> Inspect(Env& env, const char* usage, std::vector<std::string> kinds, bool any_kind) {
  FlagSpec spec = {
      usage, {{"-s", "size"}, {"--size", "size"}}, {{"-f", "format"}, {"--format", "format"}}};
  if (any_kind) spec.valued.push_back({"--type", "type"});
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 1));
  if (f.Has("type") && !f.Get("type").empty()) {
    std::string t = f.Get("type");
    if (std::find(std::begin(kTypes), std::end(kTypes), t) == std::end(kTypes)) {
      std::string all;
      for (const char* k : kTypes) all += std::string(all.empty() ? "" : ", ") + "\"" + k + "\"";
      return Error::Internal("unknown type: \"" + t + "\": must be one of " + all);
    }
    kinds = {t};
    any_kind = false;
  }
  return InspectObjects(env, f.args, kinds, f.Get("format"), f.On("size"), any_kind);
}

}  // namespace

Result<int> CmdInspect(Env& env) {
  return UsageExit(Inspect(env, "inspect [OPTIONS] NAME|ID [NAME|ID...]",
                           {"container", "image", "network", "volume"}, true));
}

Result<int> CmdContainerInspect(Env& env) {
  return UsageExit(
      Inspect(env, "container inspect [OPTIONS] CONTAINER [CONTAINER...]", {"container"}, false));
}

Result<int> CmdImageInspect(Env& env) {
  return UsageExit(Inspect(env, "image inspect [OPTIONS] IMAGE [IMAGE...]", {"image"}, false));
}

Result<int> CmdContainer(Env& env) {
  if (env.args.empty() || env.args[0] == "--help" || env.args[0] == "-h") {
    std::printf(
        "\nUsage:  berth container COMMAND\n\nManage containers\n\nCommands:\n"
        "  attach, commit, cp, create, diff, exec, export, inspect, kill, logs, ls, pause, port,\n"
        "  prune, rename, restart, rm, run, start, stats, stop, top, unpause, update, wait\n");
    return env.args.empty() ? 1 : 0;
  }
  std::string sub = env.args[0];
  Env rest{env.client, std::vector<std::string>(env.args.begin() + 1, env.args.end())};
  struct Sub {
    const char* name;
    Result<int> (*fn)(Env&);
  };
  static const Sub kSubs[] = {
      {"ls", CmdPs},
      {"list", CmdPs},
      {"ps", CmdPs},
      {"inspect", CmdContainerInspect},
      {"stop", CmdStop},
      {"kill", CmdKill},
      {"restart", CmdRestart},
      {"pause", CmdPause},
      {"unpause", CmdUnpause},
      {"rm", CmdRm},
      {"remove", CmdRm},
      {"rename", CmdRename},
      {"port", CmdPort},
      {"top", CmdTop},
      {"diff", CmdDiff},
      {"update", CmdUpdate},
      {"commit", CmdCommit},
      {"export", CmdExport},
      {"prune", CmdContainerPrune},
      {"stats", CmdStats},
      {"cp", CmdCp},
      {"run", CmdRun},
      {"create", CmdCreate},
      {"start", CmdStart},
      {"attach", CmdAttach},
      {"exec", CmdExec},
      {"logs", CmdLogs},
      {"wait", CmdWait},
  };
  for (const auto& s : kSubs)
    if (sub == s.name) return s.fn(rest);
  return Error::InvalidArgument("berth: unknown command: berth container " + sub +
                                "\n\nRun 'berth container --help' for more information");
}

}  // namespace berth::cli
