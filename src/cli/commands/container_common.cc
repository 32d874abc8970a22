#include <signal.h>
#include <unistd.h>

#include <cstdio>

#include "cli/cli.h"
#include "cli/commands/container_internal.h"

namespace berth::cli {

using nlohmann::json;

Error DaemonError(int status, const std::string& body) {
  std::string msg = body;
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    msg = j["message"].get<std::string>();
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  return Error(status == 404   ? ErrorCode::kNotFound
               : status == 409 ? ErrorCode::kConflict
               : status == 400 ? ErrorCode::kInvalidArgument
                               : ErrorCode::kInternal,
               "Error response from daemon: " + msg);
}

Result<json> InspectContainer(api::Client& client, const std::string& name) {
  std::string body = BERTH_TRY(GetJson(client, "/containers/" + QueryEscape(name) + "/json"));
  auto j = json::parse(body, nullptr, false);
  if (!j.is_object()) return Error::Internal("bad answer from the daemon: " + body);
  return j;
}

Result<std::unique_ptr<api::PendingResponse>> StartWait(api::Client& client, const std::string& id,
                                                        const std::string& condition) {
  std::string path = ApiPrefix() + "/containers/" + id + "/wait";
  if (!condition.empty()) path += "?condition=" + condition;
  auto r = BERTH_TRY(client.Send("POST", path));
  if (r->status() / 100 != 2) {
    std::string body = r->ReadBody().value_or(std::string());
    return DaemonError(r->status(), body);
  }
  return r;
}

int WaitStatus(api::PendingResponse& wait) {
  auto body = wait.ReadBody();
  if (!body) {
    std::fprintf(stderr, "error waiting for container: %s\n", body.error().message().c_str());
    return 125;
  }
  auto j = json::parse(*body, nullptr, false);
  if (!j.is_object()) {
    std::fprintf(stderr, "error waiting for container: %s\n", body->c_str());
    return 125;
  }
  if (j.contains("Error") && j["Error"].is_object() && j["Error"].contains("Message")) {
    std::fprintf(stderr, "Error waiting for container: %s\n",
                 j["Error"]["Message"].get<std::string>().c_str());
    return 125;
  }
  return j.value("StatusCode", 0);
}

Result<api::PendingResponse::Raw> HijackPost(api::Client& client, const std::string& path,
                                             const std::string& body) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.emplace_back("Content-Type", body.empty() ? "text/plain" : "application/json");
  auto r = BERTH_TRY(client.Hijack("POST", ApiPrefix() + path, body, headers));
  if (r->status() != 101 && r->status() != 200) {
    std::string err = r->ReadBody().value_or(std::string());
    return DaemonError(r->status(), err);
  }
  return r->TakeConnection();
}

Result<api::PendingResponse::Raw> AttachContainer(api::Client& client, const std::string& id,
                                                  bool in, bool out, bool err,
                                                  const std::string& detach_keys) {
  std::string q;
  if (!detach_keys.empty()) q += "detachKeys=" + QueryEscape(detach_keys) + "&";
  if (err) q += "stderr=1&";
  if (in) q += "stdin=1&";
  if (out) q += "stdout=1&";
  q += "stream=1";
  return HijackPost(client, "/containers/" + id + "/attach?" + q, "");
}

void ResizeTty(api::Client& client, const std::string& prefix) {
  auto [h, w] = TerminalSize();
  if (h == 0 && w == 0) return;
  (void)Call(client, "POST", prefix + "/resize?h=" + std::to_string(h) + "&w=" + std::to_string(w));
}

std::vector<int> ProxiedSignals() {
  return {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGCONT, SIGTSTP};
}

void ForwardSignal(api::Client& client, const std::string& id, int sig) {
  (void)Call(client, "POST", "/containers/" + id + "/kill?signal=" + std::to_string(sig));
}

Result<int> RunSession(api::Client& client, const std::string& id, api::PendingResponse::Raw conn,
                       api::PendingResponse* wait, const Session& s) {
  StreamOptions o;
  o.tty = s.tty;
  o.stdin_attached = s.in;
  o.stdout_attached = s.out;
  o.stderr_attached = s.err;
  o.detach_keys = s.detach_keys;
  if (s.sig_proxy) {
    o.proxy_signals = ProxiedSignals();
    o.on_signal = [&](int sig) { ForwardSignal(client, id, sig); };
  }
  if (!s.resize_prefix.empty() && s.tty && ::isatty(STDOUT_FILENO)) {
    ResizeTty(client, s.resize_prefix);
    o.on_resize = [&] { ResizeTty(client, s.resize_prefix); };
  }
  StreamEnd end = BERTH_TRY(PumpStreams(std::move(conn), o));
  if (end == StreamEnd::kDetached) return 0;
  return wait ? WaitStatus(*wait) : 0;
}

Error ArgsError(const std::string& cmd, const std::string& usage, const std::string& need) {
  return Error::InvalidArgument("berth: 'berth " + cmd + "' requires " + need +
                                "\n\nUsage:  berth " + cmd + " " + usage + "\n\nSee 'berth " + cmd +
                                " --help' for more information");
}

int FlagErrorExit(const std::string& cmd, const std::string& usage, const Error& e) {
  std::fprintf(stderr, "%s\n\nUsage:  berth %s %s\n\nRun 'berth %s --help' for more information\n",
               e.message().c_str(), cmd.c_str(), usage.c_str(), cmd.c_str());
  return 125;
}

}  // namespace berth::cli
