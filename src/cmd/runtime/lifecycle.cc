// create, start, run, state, kill, delete, pause, resume.

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "cmd/runtime/commands.h"

namespace berth::cmd {
namespace {

const std::vector<FlagSpec> kCreateFlags = {
    {"bundle", "b", true},      {"console-socket", "", true},  {"pid-file", "", true},
    {"no-pivot", "", false},    {"no-new-keyring", "", false}, {"preserve-fds", "", true},
    {"detach", "d", false},     {"keep", "", false},           {"no-subreaper", "", false},
    {"pidfd-socket", "", true},
};

Result<runtime::CreateOptions> CreateOptionsFrom(const Flags& f) {
  runtime::CreateOptions o;
  o.id = f.args[0];
  o.bundle = f.Get("bundle", ".");
  o.console_socket = f.Get("console-socket");
  o.pid_file = f.Get("pid-file");
  o.no_pivot = f.Bool("no-pivot");
  o.no_new_keyring = f.Bool("no-new-keyring");
  std::string fds = f.Get("preserve-fds", "0");
  char* end = nullptr;
  long n = std::strtol(fds.c_str(), &end, 10);
  if (*end || n < 0 || n > 1024)
    return Error::InvalidArgument("invalid --preserve-fds value: " + fds);
  o.preserve_fds = static_cast<int>(n);
  return o;
}

}  // namespace

Result<void> NeedArgs(const Flags& f, size_t n, const char* cmd, const char* usage) {
  if (f.args.size() == n) return {};
  std::string why = f.args.size() < n ? "requires exactly " : "requires exactly ";
  return Error::InvalidArgument("\"" + std::string(cmd) + "\" " + why + std::to_string(n) +
                                " argument(s)\nUsage: berth-runtime " + cmd + " " + usage);
}

Result<int> CmdCreate(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, kCreateFlags));
  BERTH_TRY(NeedArgs(f, 1, "create", "[command options] <container-id>"));
  runtime::CreateOptions o = BERTH_TRY(CreateOptionsFrom(f));
  BERTH_TRY(c.runtime->Create(o));
  return 0;
}

Result<int> CmdRun(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, kCreateFlags));
  BERTH_TRY(NeedArgs(f, 1, "run", "[command options] <container-id>"));
  runtime::CreateOptions o = BERTH_TRY(CreateOptionsFrom(f));
  return c.runtime->Run(o, f.Bool("detach"));
}

Result<int> CmdStart(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {}));
  BERTH_TRY(NeedArgs(f, 1, "start", "<container-id>"));
  BERTH_TRY(c.runtime->Start(f.args[0]));
  return 0;
}

Result<int> CmdState(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {}));
  BERTH_TRY(NeedArgs(f, 1, "state", "<container-id>"));
  runtime::ContainerInfo info = BERTH_TRY(c.runtime->Info(f.args[0]));
  std::string out = runtime::container::StateJson(info.record, info.status) + "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

Result<int> CmdKill(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {{"all", "a", false}, {"pid", "p", true}}));
  if (f.args.empty() || f.args.size() > 2)
    return Error::InvalidArgument(
        "\"kill\" requires 1 or 2 arguments\nUsage: berth-runtime kill [command options] "
        "<container-id> [signal]");
  int sig = SIGTERM;
  if (f.args.size() == 2) {
    sig = runtime::ParseSignal(f.args[1]);
    if (sig == 0) return Error::InvalidArgument("unknown signal \"" + f.args[1] + "\"");
  }
  BERTH_TRY(c.runtime->Kill(f.args[0], sig, f.Bool("all")));
  return 0;
}

Result<int> CmdDelete(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {{"force", "f", false}}));
  if (f.args.empty())
    return Error::InvalidArgument(
        "\"delete\" requires a minimum of 1 argument\nUsage: berth-runtime delete [command "
        "options] <container-id>");
  for (const auto& id : f.args) BERTH_TRY(c.runtime->Delete(id, f.Bool("force")));
  return 0;
}

Result<int> CmdPause(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {}));
  BERTH_TRY(NeedArgs(f, 1, "pause", "<container-id>"));
  BERTH_TRY(c.runtime->Pause(f.args[0]));
  return 0;
}

Result<int> CmdResume(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start, {}));
  BERTH_TRY(NeedArgs(f, 1, "resume", "<container-id>"));
  BERTH_TRY(c.runtime->Resume(f.args[0]));
  return 0;
}

}  // namespace berth::cmd
