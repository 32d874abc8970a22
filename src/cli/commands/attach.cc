// berth attach: the streams of a running container, as docker attach.

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/commands/container_internal.h"
#include "cli/commands/flags.h"

namespace berth::cli {
namespace {

// docker's inspectContainerAndCheckState.
Result<nlohmann::json> RunningContainer(api::Client& client, const std::string& name) {
  nlohmann::json c = BERTH_TRY(InspectContainer(client, name));
  const auto& st = c["State"];
  if (!st.value("Running", false))
    return Error::FailedPrecondition("cannot attach to a stopped container, start it first");
  if (st.value("Paused", false))
    return Error::FailedPrecondition("cannot attach to a paused container, unpause it first");
  if (st.value("Restarting", false))
    return Error::FailedPrecondition(
        "cannot attach to a restarting container, wait until it is running");
  return c;
}

}  // namespace

Result<int> CmdAttach(Env& env) {
  FlagSet fs;
  bool no_stdin = false, sig_proxy = true;
  std::string detach_keys;
  fs.Bool("no-stdin", 0, &no_stdin);
  fs.Bool("sig-proxy", 0, &sig_proxy);
  fs.String("detach-keys", 0, &detach_keys);
  const char* usage = "[OPTIONS] CONTAINER";
  auto args = fs.Parse(env.args, true);
  if (!args) return FlagErrorExit("attach", usage, args.error());
  if (args->size() != 1) return ArgsError("attach", usage, "exactly 1 argument");
  std::string keys = BERTH_TRY(ParseDetachKeys(detach_keys));
  api::Client& client = *env.client;
  const std::string& name = (*args)[0];
  // As docker: the wait first (no condition: until the container is not running).
  auto wait = BERTH_TRY(StartWait(client, QueryEscape(name), ""));
  nlohmann::json c = BERTH_TRY(RunningContainer(client, name));
  std::string id = c.value("Id", name);
  bool tty = c["Config"].value("Tty", false);
  if (!no_stdin && tty && !::isatty(STDIN_FILENO))
    return Error::InvalidArgument("the input device is not a TTY");
  bool in = !no_stdin && c["Config"].value("OpenStdin", false);
  auto conn = BERTH_TRY(AttachContainer(client, id, in, true, true, detach_keys));
  BERTH_TRY(RunningContainer(client, id));
  Session s;
  s.tty = tty;
  s.in = in;
  s.detach_keys = keys;
  s.sig_proxy = sig_proxy && !tty;
  s.resize_prefix = "/containers/" + id;
  return RunSession(client, id, std::move(conn), wait.get(), s);
}

}  // namespace berth::cli
