#pragma once

// berth: the CLI. Docker's command names, flags and output; a client of the Engine API only
// (no engine code linked). Each command is one function in commands/<command>.cc, listed in
// the dispatch table of cli.cc.

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

/// The API version prefix every request uses ("/v1.51").
std::string ApiPrefix();

/// GETs path (below the version prefix) and parses the JSON; a non-2xx answer becomes an
/// Error with the daemon's message ("Error response from daemon: ...").
Result<std::string> GetJson(api::Client& client, const std::string& path);

Result<int> CmdVersion(Env& env);

}  // namespace berth::cli
