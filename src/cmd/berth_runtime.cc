// berth-runtime: an OCI runtime with runc's command line.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cmd/runtime/commands.h"
#include "runtime/seccomp/seccomp.h"
#include "util/log.h"

#include <seccomp.h>

namespace berth::cmd {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"create", "create a container", CmdCreate},
      {"delete", "delete any resources held by the container often used with detached container",
       CmdDelete},
      {"events",
       "display container events such as OOM notifications, cpu, memory, and IO usage "
       "statistics",
       CmdEvents},
      {"exec", "execute new process inside the container", CmdExec},
      {"features", "show the enabled features", CmdFeatures},
      {"kill",
       "kill sends the specified signal (default: SIGTERM) to the container's init "
       "process",
       CmdKill},
      {"list", "lists containers started by berth-runtime with the given root", CmdList},
      {"pause", "pause suspends all processes inside the container", CmdPause},
      {"ps", "ps displays the processes running inside a container", CmdPs},
      {"resume", "resumes all processes that have been previously paused", CmdResume},
      {"run", "create and run a container", CmdRun},
      {"spec", "create a new specification file", CmdSpec},
      {"start", "executes the user defined process in a created container", CmdStart},
      {"state", "output the state of a container", CmdState},
      {"update", "update container resource constraints", CmdUpdate},
  };
  return kCommands;
}

namespace {

void PrintVersion() {
  const struct scmp_version* v = seccomp_version();
  std::printf("berth-runtime version 0.1.0\nspec: %s\nlibseccomp: %u.%u.%u\n",
              std::string(oci::kOciVersion).c_str(), v->major, v->minor, v->micro);
}

void PrintHelp() {
  std::printf(
      "NAME:\n   berth-runtime - Open Container Initiative runtime\n\nUSAGE:\n   berth-runtime "
      "[global options] command [command options] [arguments...]\n\nCOMMANDS:\n");
  for (const auto& c : Commands()) std::printf("   %-10s %s\n", c.name, c.summary);
  std::printf(
      "\nGLOBAL OPTIONS:\n   --debug               enable debug logging\n"
      "   --log value           set the log file to write berth-runtime logs to (default is "
      "'/dev/stderr')\n"
      "   --log-format value    set the log format ('text' (default), or 'json')\n"
      "   --root value          root directory for storage of container state (this should be "
      "located in tmpfs) (default: \"/run/berth-runtime\")\n"
      "   --systemd-cgroup      enable systemd cgroup support\n"
      "   --cgroup-favordynmods value  turn on the kernel's favordynmods cgroup option at create: "
      "fast cgroup moves host-wide, slightly slower fork/exit (default: true; env "
      "BERTH_CGROUP_FAVORDYNMODS)\n"
      "   --help, -h            show help\n   --version, -v         print the version\n");
}

}  // namespace
}  // namespace berth::cmd

int main(int argc, char** argv) {
  using namespace berth;
  std::vector<std::string> args(argv, argv + argc);
  auto global = cmd::ParseFlags(args, 1,
                                {{"root", "", true},
                                 {"log", "", true},
                                 {"log-format", "", true},
                                 {"debug", "", false},
                                 {"systemd-cgroup", "", false},
                                 {"cgroup-favordynmods", "", true},
                                 {"criu", "", true},
                                 {"rootless", "", true},
                                 {"help", "h", false},
                                 {"version", "v", false}});
  if (!global) {
    std::fprintf(stderr, "berth-runtime: %s\n", global.error().message().c_str());
    return 1;
  }
  if (global->Bool("version")) {
    cmd::PrintVersion();
    return 0;
  }
  if (global->Bool("help") || global->args.empty()) {
    cmd::PrintHelp();
    return global->args.empty() && !global->Bool("help") ? 1 : 0;
  }
  std::string format = global->Get("log-format", "text");
  if (format != "text" && format != "json") {
    std::fprintf(stderr, "berth-runtime: invalid log-format: %s\n", format.c_str());
    return 1;
  }
  std::string log_file = global->Get("log");
  log::Configure(global->Bool("debug") ? log::Level::kDebug : log::Level::kWarn,
                 format == "json" ? log::Format::kJson : log::Format::kText, log_file);

  runtime::RuntimeOptions options;
  options.root = global->Get("root", "/run/berth-runtime");
  options.systemd_cgroup = global->Bool("systemd-cgroup");
  std::string favor = global->Get("cgroup-favordynmods", "true");
  if (const char* env = std::getenv("BERTH_CGROUP_FAVORDYNMODS");
      env && !global->Has("cgroup-favordynmods"))
    favor = env;
  if (favor != "true" && favor != "false" && favor != "1" && favor != "0") {
    std::fprintf(stderr, "berth-runtime: invalid --cgroup-favordynmods value: %s\n", favor.c_str());
    return 1;
  }
  options.favor_dynmods = favor == "true" || favor == "1";
  runtime::Runtime rt(options);

  // Where the command's own arguments start in argv.
  const std::string& name = global->args[0];
  size_t start = static_cast<size_t>(argc) - global->args.size() + 1;
  for (const auto& c : cmd::Commands()) {
    if (name != c.name) continue;
    auto code = c.fn({&rt, &args, start});
    if (code) return *code;
    const auto& e = code.error();
    // The message goes to the log (containerd reads the last error from a JSON --log) and to
    // stderr, once.
    if (!log_file.empty()) log::Get("runtime").Error("{}", e.message());
    std::fprintf(stderr, "berth-runtime: %s\n", e.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "berth-runtime: No help topic for '%s'\n", name.c_str());
  return 1;
}
