// berth tag, rmi, import, inspect, image prune, and the `image` and `system` groups.

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/format/template.h"
#include "cli/format/units.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::cli {
namespace {

using nlohmann::json;

Result<int> Usage(const std::string& cmd, size_t want, size_t got, bool at_least = false) {
  if (at_least ? got >= want : got == want) return 0;
  return Error::InvalidArgument("\"berth " + cmd + "\" requires " +
                                (at_least ? "at least " : "exactly ") + std::to_string(want) +
                                " argument" + (want == 1 ? "" : "s") + ".\nSee 'berth " + cmd +
                                " --help'.");
}

}  // namespace

Result<int> CmdTag(Env& env) {
  BERTH_TRY(Usage("tag", 2, env.args.size()));
  std::string target = env.args[1], repo = target, tag;
  auto colon = target.rfind(':');
  if (colon != std::string::npos && target.find('/', colon) == std::string::npos &&
      target.find('@') == std::string::npos) {
    repo = target.substr(0, colon);
    tag = target.substr(colon + 1);
  }
  std::string path = "/images/" + env.args[0] + "/tag?repo=" + QueryEscape(repo);
  if (!tag.empty()) path += "&tag=" + QueryEscape(tag);
  BERTH_TRY(Call(*env.client, "POST", path));
  return 0;
}

Result<int> CmdRmi(Env& env) {
  bool force = false, noprune = false;
  std::vector<std::string> names;
  for (const auto& a : env.args) {
    if (a == "-f" || a == "--force")
      force = true;
    else if (a == "--no-prune")
      noprune = true;
    else
      names.push_back(a);
  }
  BERTH_TRY(Usage("rmi", 1, names.size(), true));
  int code = 0;
  for (const auto& n : names) {
    std::string path =
        "/images/" + n + "?force=" + (force ? "1" : "0") + "&noprune=" + (noprune ? "1" : "0");
    auto r = Call(*env.client, "DELETE", path);
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message().c_str());
      code = 1;
      continue;
    }
    auto items = json::parse(*r, nullptr, false);
    if (!items.is_array()) continue;
    for (const auto& i : items) {
      if (i.contains("Untagged"))
        std::printf("Untagged: %s\n", i["Untagged"].get<std::string>().c_str());
      if (i.contains("Deleted"))
        std::printf("Deleted: %s\n", i["Deleted"].get<std::string>().c_str());
    }
  }
  return code;
}

Result<int> CmdImport(Env& env) {
  std::vector<std::string> changes, args;
  std::string message;
  for (size_t i = 0; i < env.args.size(); ++i) {
    const std::string& a = env.args[i];
    if ((a == "-c" || a == "--change") && i + 1 < env.args.size())
      changes.push_back(env.args[++i]);
    else if (a.rfind("--change=", 0) == 0)
      changes.push_back(a.substr(9));
    else if ((a == "-m" || a == "--message") && i + 1 < env.args.size())
      message = env.args[++i];
    else if (a.rfind("--message=", 0) == 0)
      message = a.substr(10);
    else
      args.push_back(a);
  }
  if (args.empty() || args.size() > 2) {
    return Error::InvalidArgument(
        "\"berth import\" requires at least 1 and at most 2 arguments.\nSee 'berth import "
        "--help'.");
  }
  std::string body;
  if (args[0] == "-") {
    body = BERTH_TRY(ReadAll(STDIN_FILENO, size_t{16} << 30));
  } else {
    Fd fd = BERTH_TRY(Fd::Open(args[0], O_RDONLY));
    body = BERTH_TRY(ReadAll(fd.get(), size_t{16} << 30));
  }
  std::string path = "/images/create?fromSrc=-";
  if (args.size() == 2) {
    std::string repo = args[1], tag;
    auto colon = repo.rfind(':');
    if (colon != std::string::npos && repo.find('/', colon) == std::string::npos) {
      tag = repo.substr(colon + 1);
      repo = repo.substr(0, colon);
    }
    path += "&repo=" + QueryEscape(repo);
    if (!tag.empty()) path += "&tag=" + QueryEscape(tag);
  }
  if (!message.empty()) path += "&message=" + QueryEscape(message);
  for (const auto& c : changes) path += "&changes=" + QueryEscape(c);
  std::string r =
      BERTH_TRY(Call(*env.client, "POST", path, body, {{"Content-Type", "application/x-tar"}}));
  for (const auto& line : Split(r, '\n', true)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("error"))
      return Error::Internal(j["error"].is_string() ? j["error"].get<std::string>() : line);
    if (j.is_object() && j.contains("status") && j["status"].is_string())
      std::printf("%s\n", j["status"].get<std::string>().c_str());
  }
  return 0;
}

Result<int> CmdPrune(Env& env) {
  bool all = false, force = false;
  json filters = json::object();
  for (size_t i = 0; i < env.args.size(); ++i) {
    const std::string& a = env.args[i];
    if (a == "-a" || a == "--all")
      all = true;
    else if (a == "-f" || a == "--force")
      force = true;
    else if (a == "--filter" && i + 1 < env.args.size()) {
      std::string kv = env.args[++i];
      auto eq = kv.find('=');
      filters[kv.substr(0, eq)].push_back(eq == std::string::npos ? "" : kv.substr(eq + 1));
    } else {
      return Error::InvalidArgument("unknown flag: " + a + "\nSee 'berth image prune --help'.");
    }
  }
  if (!force) {
    std::printf(
        "WARNING! This will remove all %s.\nAre you sure you want to continue? [y/N] ",
        all ? "images without at least one container associated to them" : "dangling images");
    std::fflush(stdout);
    char buf[16] = {};
    if (!std::fgets(buf, sizeof buf, stdin) || (buf[0] != 'y' && buf[0] != 'Y')) return 0;
  }
  filters["dangling"] = json::array({all ? "false" : "true"});
  std::string r =
      BERTH_TRY(Call(*env.client, "POST", "/images/prune?filters=" + QueryEscape(filters.dump())));
  json j = json::parse(r, nullptr, false);
  std::string out;
  if (j.is_object() && j["ImagesDeleted"].is_array() && !j["ImagesDeleted"].empty()) {
    out += "Deleted Images:\n";
    for (const auto& i : j["ImagesDeleted"]) {
      if (i.contains("Untagged")) out += "untagged: " + i["Untagged"].get<std::string>() + "\n";
      if (i.contains("Deleted")) out += "deleted: " + i["Deleted"].get<std::string>() + "\n";
    }
    out += "\n";
  }
  int64_t reclaimed =
      j.is_object() && j["SpaceReclaimed"].is_number() ? j["SpaceReclaimed"].get<int64_t>() : 0;
  out += "Total reclaimed space: " + HumanSize(static_cast<double>(reclaimed)) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

Result<int> CmdImage(Env& env) {
  if (env.args.empty())
    return Error::InvalidArgument("Usage:  berth image COMMAND\n\nManage images");
  std::string sub = env.args[0];
  Env rest{env.client, std::vector<std::string>(env.args.begin() + 1, env.args.end())};
  if (sub == "ls" || sub == "list") return CmdImages(rest);
  if (sub == "rm" || sub == "remove") return CmdRmi(rest);
  if (sub == "tag") return CmdTag(rest);
  if (sub == "inspect") return CmdImageInspect(rest);
  if (sub == "history") return CmdHistory(rest);
  if (sub == "import") return CmdImport(rest);
  if (sub == "prune") return CmdPrune(rest);
  if (sub == "save") return CmdSave(rest);
  if (sub == "load") return CmdLoad(rest);
  if (sub == "pull") return CmdPull(rest);
  if (sub == "build") return CmdBuild(rest);
  if (sub == "push") return CmdPush(rest);
  return Error::InvalidArgument("berth: 'image " + sub +
                                "' is not a berth command.\nSee 'berth image --help'");
}

Result<int> CmdSystem(Env& env) {
  if (!env.args.empty() && env.args[0] == "df") {
    Env rest{env.client, std::vector<std::string>(env.args.begin() + 1, env.args.end())};
    return CmdSystemDf(rest);
  }
  if (!env.args.empty() && (env.args[0] == "prune" || env.args[0] == "events")) {
    Env rest{env.client, std::vector<std::string>(env.args.begin() + 1, env.args.end())};
    return env.args[0] == "prune" ? CmdSystemPrune(rest) : CmdEvents(rest);
  }
  if (!env.args.empty() && env.args[0] == "info") {
    Env rest{env.client, std::vector<std::string>(env.args.begin() + 1, env.args.end())};
    return CmdInfo(rest);
  }
  return Error::InvalidArgument("Usage:  berth system COMMAND\n\nManage Berth");
}

}  // namespace berth::cli
