#pragma once

// What run, create, start, attach, exec, logs and wait share: the daemon's error answers, the
// wait and attach requests, resize and signal forwarding.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/client/client.h"
#include "cli/commands/streams.h"
#include "util/result.h"

namespace berth::cli {

/// "Error response from daemon: MESSAGE" from a non-2xx answer (NotFound for 404).
Error DaemonError(int status, const std::string& body);

/// GET /containers/{name}/json.
Result<nlohmann::json> InspectContainer(api::Client& client, const std::string& name);

/// POST /containers/{id}/wait?condition=C (none when empty): returns once the daemon has sent
/// the headers; WaitStatus reads the body later.
Result<std::unique_ptr<api::PendingResponse>> StartWait(api::Client& client, const std::string& id,
                                                        const std::string& condition);
/// The exit code from a wait answer; 125 (with docker's message on stderr) when the daemon
/// reports an error instead.
int WaitStatus(api::PendingResponse& wait);

/// POST /containers/{id}/attach hijacked (query as docker sends it, keys sorted).
Result<api::PendingResponse::Raw> AttachContainer(api::Client& client, const std::string& id,
                                                  bool in, bool out, bool err,
                                                  const std::string& detach_keys);

/// Hijacked POST of path (exec start): the raw stream, or the daemon's error.
Result<api::PendingResponse::Raw> HijackPost(api::Client& client, const std::string& path,
                                             const std::string& body);

/// POST {prefix}/resize?h=&w= with stdout's terminal size (prefix "/containers/ID" or
/// "/exec/ID"); nothing when stdout is not a terminal. Errors are ignored, as docker does.
void ResizeTty(api::Client& client, const std::string& prefix);

/// The signals docker's sig-proxy forwards (all but SIGCHLD, SIGPIPE, SIGWINCH and the
/// fatal ones), and the forwarding: POST /containers/{id}/kill?signal=N.
std::vector<int> ProxiedSignals();
void ForwardSignal(api::Client& client, const std::string& id, int sig);

/// Runs one attached container session: the streams until the output ends or the detach
/// keys, then the exit code from wait (0 after a detach).
struct Session {
  bool tty = false;
  bool in = false, out = true, err = true;
  std::string detach_keys;  // parsed
  bool sig_proxy = true;
  std::string resize_prefix;  // "" for no resize
};
Result<int> RunSession(api::Client& client, const std::string& id, api::PendingResponse::Raw conn,
                       api::PendingResponse* wait, const Session& s);

/// "berth: 'berth CMD' requires ..." with the usage line: docker's argument-count error.
Error ArgsError(const std::string& cmd, const std::string& usage, const std::string& need);
/// docker's flag error: MESSAGE, the usage line and the --help hint; exit 125.
int FlagErrorExit(const std::string& cmd, const std::string& usage, const Error& e);

}  // namespace berth::cli
