#pragma once

// berth: the CLI. Docker's command names, flags and output; a client of the Engine API only
// (no engine code linked). Each command is one function in commands/<command>.cc, listed in
// the dispatch table of cli.cc.

#include <cstdio>
#include <string>
#include <vector>

#include "api/client/client.h"
#include "util/result.h"

namespace berth::cli {

struct Env {
  api::Client* client;
  std::vector<std::string> args;  // after the command name
};

/// Runs `berth ARGS...`; returns the process exit code (Docker's: 0, 1 for errors, 125 when
/// the daemon refuses a run). Errors are printed to stderr as docker prints them.
int Main(const std::vector<std::string>& argv);

/// The API version prefix every request uses ("/v1.51", or the daemon's lower version once
/// NegotiateApiVersion has asked it).
std::string ApiPrefix();
/// HEAD /_ping and use min(1.51, the daemon's Api-Version) from then on, as the docker CLI does.
void NegotiateApiVersion(api::Client& client);

/// GETs path (below the version prefix) and parses the JSON; a non-2xx answer becomes an
/// Error with the daemon's message ("Error response from daemon: ...").
Result<std::string> GetJson(api::Client& client, const std::string& path);

/// Sends method path (below the version prefix) with body; a non-2xx answer becomes an Error
/// "Error response from daemon: MESSAGE" (NotFound for 404).
Result<std::string> Call(api::Client& client, const std::string& method, const std::string& path,
                         std::string_view body = {},
                         const std::vector<std::pair<std::string, std::string>>& headers = {});
/// Percent-encodes a query value.
std::string QueryEscape(std::string_view s);

/// For commands whose only flag is -f/--format TEMPLATE: the template ("" if not given); any
/// other argument is docker's "unknown flag" error naming the command.
Result<std::string> FormatFlagOnly(const std::vector<std::string>& args, const char* command);

/// POST /images/create?fromImage=NAME&tag=TAG (a tag or a digest) with the credentials of
/// docker's config.json, the progress drawn to out as docker draws it; the stream's error as
/// an Error.
Result<void> PullImage(api::Client& client, const std::string& name, const std::string& tag,
                       const std::string& platform, std::FILE* out);

Result<int> CmdVersion(Env& env);
Result<int> CmdImages(Env& env);            // images, image ls
Result<int> CmdHistory(Env& env);           // history, image history
Result<int> CmdTag(Env& env);               // tag, image tag
Result<int> CmdRmi(Env& env);               // rmi, image rm
Result<int> CmdImport(Env& env);            // import, image import
Result<int> CmdInspect(Env& env);           // inspect, image inspect
Result<int> CmdPrune(Env& env);             // image prune
Result<int> CmdSystemDf(Env& env);          // system df
Result<int> CmdSave(Env& env);              // save, image save
Result<int> CmdLoad(Env& env);              // load, image load
Result<int> CmdImage(Env& env);             // image SUBCOMMAND
Result<int> CmdInfo(Env& env);              // info, system info
Result<int> CmdSystem(Env& env);            // system SUBCOMMAND
Result<int> CmdRun(Env& env);               // run, container run
Result<int> CmdCreate(Env& env);            // create, container create
Result<int> CmdStart(Env& env);             // start, container start
Result<int> CmdAttach(Env& env);            // attach, container attach
Result<int> CmdExec(Env& env);              // exec, container exec
Result<int> CmdLogs(Env& env);              // logs, container logs
Result<int> CmdWait(Env& env);              // wait, container wait
Result<int> CmdPs(Env& env);                // ps, container ls/list/ps
Result<int> CmdStop(Env& env);              // stop, container stop
Result<int> CmdKill(Env& env);              // kill, container kill
Result<int> CmdRestart(Env& env);           // restart, container restart
Result<int> CmdPause(Env& env);             // pause, container pause
Result<int> CmdUnpause(Env& env);           // unpause, container unpause
Result<int> CmdRm(Env& env);                // rm, container rm
Result<int> CmdRename(Env& env);            // rename, container rename
Result<int> CmdPort(Env& env);              // port, container port
Result<int> CmdTop(Env& env);               // top, container top
Result<int> CmdDiff(Env& env);              // diff, container diff
Result<int> CmdUpdate(Env& env);            // update, container update
Result<int> CmdCommit(Env& env);            // commit, container commit
Result<int> CmdExport(Env& env);            // export, container export
Result<int> CmdContainerPrune(Env& env);    // container prune
Result<int> CmdContainerInspect(Env& env);  // container inspect
Result<int> CmdImageInspect(Env& env);      // image inspect
Result<int> CmdStats(Env& env);             // stats, container stats
Result<int> CmdCp(Env& env);                // cp, container cp
Result<int> CmdContainer(Env& env);         // container SUBCOMMAND
Result<int> CmdVolume(Env& env);            // volume SUBCOMMAND
Result<int> CmdEvents(Env& env);            // events, system events
Result<int> CmdSystemPrune(Env& env);       // system prune
Result<int> CmdPull(Env& env);              // pull, image pull
Result<int> CmdPush(Env& env);              // push, image push
Result<int> CmdLogin(Env& env);             // login
Result<int> CmdLogout(Env& env);            // logout
Result<int> CmdBuild(Env& env);             // build, image build
Result<int> CmdBuilder(Env& env);           // builder prune

}  // namespace berth::cli
