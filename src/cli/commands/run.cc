// berth run, create and start: POST /containers/create with the body docker builds, then (run)
// attach, wait, start and the streams, as the docker CLI orders them.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/commands/container_internal.h"
#include "cli/commands/container_options.h"
#include "cli/commands/container_util.h"
#include "cli/commands/flags.h"
#include "util/file.h"

namespace berth::cli {
namespace {

using nlohmann::json;

constexpr const char* kRunUsage = "[OPTIONS] IMAGE [COMMAND] [ARG...]";

// docker's withHelp: "berth: ERROR" and the --help hint, to stderr.
void PrintWithHelp(const std::string& cmd, const std::string& message) {
  std::fprintf(stderr, "berth: %s\n\nRun 'berth %s --help' for more information\n", message.c_str(),
               cmd.c_str());
}

// docker's toStatusError: 127 when the command is not there, 126 when it cannot be run, else
// 125 (the daemon refused).
int StatusFor(const std::string& message) {
  if (message.find("executable file not found") != std::string::npos ||
      message.find("no such file or directory") != std::string::npos ||
      message.find("system cannot find the file specified") != std::string::npos)
    return 127;
  if (message.find("permission denied") != std::string::npos ||
      message.find("is a directory") != std::string::npos)
    return 126;
  return 125;
}

// An image name as the docker CLI shows it and pulls it: "busybox" → shown "busybox:latest",
// pulled as fromImage=docker.io/library/busybox&tag=latest.
struct ImageRef {
  std::string familiar;  // with the tag
  std::string repo;      // fully qualified
  std::string tag;       // or digest
};

ImageRef ParseRef(const std::string& image) {
  ImageRef r;
  auto [name, tag] = SplitRef(image, true);
  bool digest = image.find('@') != std::string::npos;
  r.familiar = name + (digest ? "@" : ":") + tag;
  auto slash = name.find('/');
  std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
  bool has_domain =
      !first.empty() && (first.find('.') != std::string::npos ||
                         first.find(':') != std::string::npos || first == "localhost");
  if (has_domain)
    r.repo = name;
  else if (slash == std::string::npos)
    r.repo = "docker.io/library/" + name;
  else
    r.repo = "docker.io/" + name;
  r.tag = tag;
  return r;
}

// POST /images/create?fromImage= with the stored credentials, progress to stderr as docker's.
Result<void> Pull(api::Client& client, const ImageRef& ref, const std::string& platform) {
  return PullImage(client, ref.repo, ref.tag, platform, stderr);
}

Result<std::string> PostCreate(api::Client& client, const ContainerOptions& o) {
  std::string q;
  if (!o.name.empty()) q += "name=" + QueryEscape(o.name);
  if (!o.platform.empty())
    q += std::string(q.empty() ? "" : "&") + "platform=" + QueryEscape(o.platform);
  return Call(client, "POST", "/containers/create" + (q.empty() ? "" : "?" + q), o.body.dump(),
              {{"Content-Type", "application/json"}});
}

// Creates the container (pulling a missing image first unless --pull=never); prints the
// daemon's warnings; writes --cidfile. Returns the id.
Result<std::string> CreateContainer(api::Client& client, const ContainerOptions& o) {
  ImageRef ref = ParseRef(o.image);
  if (o.pull == "always") BERTH_TRY(Pull(client, ref, o.platform));
  auto created = PostCreate(client, o);
  if (!created && created.error().IsNotFound() && o.pull == "missing") {
    if (!o.quiet) std::fprintf(stderr, "Unable to find image '%s' locally\n", ref.familiar.c_str());
    BERTH_TRY(Pull(client, ref, o.platform));
    created = PostCreate(client, o);
  }
  if (!created) return std::move(created).error();
  auto j = json::parse(*created, nullptr, false);
  if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string())
    return Error::Internal("bad answer from the daemon: " + *created);
  if (j.contains("Warnings") && j["Warnings"].is_array())
    for (const auto& w : j["Warnings"])
      if (w.is_string()) std::fprintf(stderr, "WARNING: %s\n", w.get<std::string>().c_str());
  std::string id = j["Id"].get<std::string>();
  if (!o.cidfile.empty()) BERTH_TRY(WriteFile(o.cidfile, id));
  return id;
}

// Parses; on failure prints what docker prints and returns the exit code.
std::variant<ContainerOptions, int> Parse(const std::vector<std::string>& args, bool run) {
  auto parsed = ParseContainerOptions(args, run, TerminalSize(),
                                      [](const char* n) { return std::getenv(n); });
  if (auto* e = std::get_if<ParseError>(&parsed)) {
    std::fprintf(stderr, "%s\n", e->message.c_str());
    return e->kind == ParseFailure::kArgs ? 1 : 125;
  }
  return std::get<ContainerOptions>(std::move(parsed));
}

}  // namespace

Result<int> CmdCreate(Env& env) {
  auto parsed = Parse(env.args, false);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  auto& o = std::get<ContainerOptions>(parsed);
  auto id = CreateContainer(*env.client, o);
  if (!id) {
    PrintWithHelp("create", id.error().message());
    return 125;
  }
  std::printf("%s\n", id->c_str());
  return 0;
}

Result<int> CmdRun(Env& env) {
  auto parsed = Parse(env.args, true);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  auto& o = std::get<ContainerOptions>(parsed);
  api::Client& client = *env.client;
  if (!o.detach && o.attach_stdin && o.tty && !::isatty(STDIN_FILENO))
    return Error::InvalidArgument("the input device is not a TTY");
  auto keys = ParseDetachKeys(o.detach_keys);
  if (!keys) {
    PrintWithHelp("run", keys.error().message());
    return 125;
  }
  auto id = CreateContainer(client, o);
  if (!id) {
    PrintWithHelp("run", id.error().message());
    return 125;
  }
  bool attach = o.attach_stdin || o.attach_stdout || o.attach_stderr;
  std::optional<api::PendingResponse::Raw> conn;
  if (attach) {
    auto c = AttachContainer(client, *id, o.attach_stdin, o.attach_stdout, o.attach_stderr,
                             o.detach_keys);
    if (!c) return std::move(c).error();
    conn = std::move(*c);
  }
  // The wait is asked before the start, so that a container that exits at once is still seen.
  auto wait = StartWait(client, *id, o.auto_remove ? "removed" : "next-exit");
  if (!wait) return std::move(wait).error();
  if (auto started = Call(client, "POST", "/containers/" + *id + "/start"); !started) {
    conn.reset();
    if (o.auto_remove) (void)(*wait)->ReadBody();
    PrintWithHelp("run", started.error().message());
    return StatusFor(started.error().message());
  }
  if (!attach) {
    std::printf("%s\n", id->c_str());
    return 0;
  }
  Session s;
  s.tty = o.tty;
  s.in = o.attach_stdin;
  s.out = o.attach_stdout;
  s.err = o.attach_stderr;
  s.detach_keys = *keys;
  s.sig_proxy = o.sig_proxy;
  s.resize_prefix = "/containers/" + *id;
  return RunSession(client, *id, std::move(*conn), wait->get(), s);
}

Result<int> CmdStart(Env& env) {
  FlagSet fs;
  bool attach = false, interactive = false;
  std::string detach_keys;
  fs.Bool("attach", 'a', &attach);
  fs.Bool("interactive", 'i', &interactive);
  fs.String("detach-keys", 0, &detach_keys);
  const char* usage = "[OPTIONS] CONTAINER [CONTAINER...]";
  auto names = fs.Parse(env.args, true);
  if (!names) return FlagErrorExit("start", usage, names.error());
  if (names->empty()) return ArgsError("start", usage, "at least 1 argument");
  std::string keys = BERTH_TRY(ParseDetachKeys(detach_keys));
  api::Client& client = *env.client;
  if (!attach && !interactive) {
    std::vector<std::string> failed;
    for (const auto& n : *names) {
      if (auto r = Call(client, "POST", "/containers/" + QueryEscape(n) + "/start"); !r) {
        std::fprintf(stderr, "%s\n", r.error().message().c_str());
        failed.push_back(n);
        continue;
      }
      std::printf("%s\n", n.c_str());
    }
    if (failed.empty()) return 0;
    std::string list;
    for (const auto& f : failed) list += (list.empty() ? "" : ", ") + f;
    return Error::Internal("Error: failed to start containers: " + list);
  }
  if (names->size() > 1)
    return Error::InvalidArgument("you cannot start and attach multiple containers at once");
  json c = BERTH_TRY(InspectContainer(client, (*names)[0]));
  std::string id = c.value("Id", "");
  bool tty = c["Config"].value("Tty", false);
  bool open_stdin = c["Config"].value("OpenStdin", false);
  bool auto_remove = c["HostConfig"].value("AutoRemove", false);
  bool in = interactive && open_stdin;
  if (in && tty && !::isatty(STDIN_FILENO))
    return Error::InvalidArgument("the input device is not a TTY");
  auto conn = BERTH_TRY(AttachContainer(client, id, in, true, true, detach_keys));
  auto wait = BERTH_TRY(StartWait(client, id, auto_remove ? "removed" : "next-exit"));
  BERTH_TRY(Call(client, "POST", "/containers/" + id + "/start"));
  Session s;
  s.tty = tty;
  s.in = in;
  s.detach_keys = keys;
  s.sig_proxy = !tty;
  s.resize_prefix = "/containers/" + id;
  return RunSession(client, id, std::move(conn), wait.get(), s);
}

}  // namespace berth::cli
