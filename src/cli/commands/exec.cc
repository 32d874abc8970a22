// berth exec: POST /containers/{id}/exec, then /exec/{id}/start hijacked (or detached), then
// the exit code from GET /exec/{id}/json, as docker exec.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/commands/container_internal.h"
#include "cli/commands/flags.h"
#include "util/file.h"

namespace berth::cli {

Result<int> CmdExec(Env& env) {
  FlagSet fs;
  bool interactive = false, tty = false, detach = false, privileged = false;
  std::string user, workdir, detach_keys;
  std::vector<std::string> envs, env_files;
  fs.Bool("interactive", 'i', &interactive);
  fs.Bool("tty", 't', &tty);
  fs.Bool("detach", 'd', &detach);
  fs.Bool("privileged", 0, &privileged);
  fs.String("user", 'u', &user);
  fs.String("workdir", 'w', &workdir);
  fs.String("detach-keys", 0, &detach_keys);
  fs.List("env", 'e', &envs);
  fs.List("env-file", 0, &env_files);
  const char* usage = "[OPTIONS] CONTAINER COMMAND [ARG...]";
  auto args = fs.Parse(env.args, false);
  if (!args) return FlagErrorExit("exec", usage, args.error());
  if (args->size() < 2) return ArgsError("exec", usage, "at least 2 arguments");
  std::string keys = BERTH_TRY(ParseDetachKeys(detach_keys));
  api::Client& client = *env.client;
  const std::string& name = (*args)[0];
  BERTH_TRY(InspectContainer(client, name));

  // Env: env-file lines, then -e, a bare NAME taking the client's value (docker's
  // ReadKVEnvStrings).
  std::vector<std::string> all_env;
  for (const auto& f : env_files) {
    std::string text = BERTH_TRY(ReadFile(f, 16u << 20));
    for (auto line : Split(text, '\n')) {
      std::string_view l = Trim(line);
      if (l.empty() || l[0] == '#') continue;
      std::string s(l);
      if (s.find('=') == std::string::npos) {
        const char* v = std::getenv(s.c_str());
        if (!v) continue;
        s += std::string("=") + v;
      }
      all_env.push_back(s);
    }
  }
  for (const auto& e : envs) {
    const char* v = e.find('=') == std::string::npos ? std::getenv(e.c_str()) : nullptr;
    all_env.push_back(v ? e + "=" + v : e);
  }
  bool in = !detach && interactive;
  if (!detach && in && tty && !::isatty(STDIN_FILENO))
    return Error::InvalidArgument("the input device is not a TTY");
  nlohmann::ordered_json body;
  body["User"] = user;
  body["Privileged"] = privileged;
  body["Tty"] = tty;
  // ConsoleSize exists from API 1.42; the Go client leaves it out for older daemons.
  auto size = TerminalSize();
  int major = 0, minor = 0;
  std::sscanf(ApiPrefix().c_str(), "/v%d.%d", &major, &minor);
  bool console = tty && size.first && (major > 1 || (major == 1 && minor >= 42));
  if (console) body["ConsoleSize"] = {size.first, size.second};
  body["AttachStdin"] = in;
  body["AttachStderr"] = !detach;
  body["AttachStdout"] = !detach;
  body["Detach"] = detach;
  body["DetachKeys"] = detach_keys;
  body["Env"] = all_env.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(all_env);
  body["WorkingDir"] = workdir;
  body["Cmd"] = std::vector<std::string>(args->begin() + 1, args->end());
  std::string created = BERTH_TRY(Call(client, "POST", "/containers/" + QueryEscape(name) + "/exec",
                                       body.dump(), {{"Content-Type", "application/json"}}));
  auto j = nlohmann::json::parse(created, nullptr, false);
  if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string() || j["Id"] == "")
    return Error::Internal("exec ID empty");
  std::string exec_id = j["Id"].get<std::string>();

  nlohmann::ordered_json start = {{"Detach", detach}, {"Tty", tty}};
  if (console) start["ConsoleSize"] = {size.first, size.second};
  if (detach) {
    BERTH_TRY(Call(client, "POST", "/exec/" + exec_id + "/start", start.dump(),
                   {{"Content-Type", "application/json"}}));
    return 0;
  }
  auto conn = BERTH_TRY(HijackPost(client, "/exec/" + exec_id + "/start", start.dump()));
  Session s;
  s.tty = tty;
  s.in = in;
  s.detach_keys = keys;
  s.sig_proxy = false;
  s.resize_prefix = "/exec/" + exec_id;
  int code = BERTH_TRY(RunSession(client, exec_id, std::move(conn), nullptr, s));
  (void)code;
  std::string inspect = BERTH_TRY(GetJson(client, "/exec/" + exec_id + "/json"));
  auto ij = nlohmann::json::parse(inspect, nullptr, false);
  if (!ij.is_object()) return Error::Internal("bad answer from the daemon: " + inspect);
  return ij.contains("ExitCode") && ij["ExitCode"].is_number_integer() ? ij["ExitCode"].get<int>()
                                                                       : 0;
}

}  // namespace berth::cli
