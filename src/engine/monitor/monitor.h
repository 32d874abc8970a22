#pragma once

// The monitor: one small process per running container, forked by berthd's spawner. It
// creates and starts the container with the runtime library and stays its parent: it holds
// the pty or the stdio pipes, writes the json-file log, copies the streams of attached
// clients and exec sessions, reaps, records the exit status in <run_dir>/exit.json, removes
// the runtime state and unmounts the rootfs. It does not need berthd: a daemon that restarts
// finds it again through <run_dir>/monitor.sock.
//
// Single-threaded: one epoll loop, no logging library (errors go to the report socket and to
// <run_dir>/monitor.log).
//
// Requests on monitor.sock (and on the report socket berthd keeps), one JSON object each:
//   {"op":"attach", stdin, stdout, stderr, "detach_keys":"ctrl-p,ctrl-q", "initial":"…"}
//        + the client's socket                                → {"ok":true}
//   {"op":"resize", "height":h, "width":w}                      → {"ok":true}
//   {"op":"exec", "exec_id", "process":{OCI process}, tty, stdin, stdout, stderr,
//        "detach_keys"} + the client's socket (none: detached)   → {"pid":n} or {"error"}
//   {"op":"exec_resize", "exec_id", "height", "width"}           → {"ok":true}
//   {"op":"watch"}   this connection gets the events below      → {"ok":true, "pid":n}
// Events on the report socket and on watch connections:
//   {"event":"started","pid":n} or {"event":"error","error":…} (once, after the start)
//   {"event":"exec_exit","exec_id":…,"exit_code":n}
//   {"event":"exit","exit_code":n,"finished_at":…,"oom_killed":b}

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/fd.h"
#include "util/result.h"

namespace berth::engine::monitor {

struct AttachRequest {
  bool stdin = false, stdout = true, stderr = true;
  std::string detach_keys;  // docker's notation, "" = ctrl-p,ctrl-q
  std::string initial;      // bytes the client sent after its request, for the container's stdin
};

struct MonitorConfig {
  std::string id;
  std::string bundle;        // holds config.json; the rootfs is already mounted
  std::string runtime_root;  // the runtime library's state root
  std::string run_dir;       // monitor.sock, exit.json, exec exit files, monitor.log
  std::string log_path;      // json-file log ("" = none)
  int64_t log_max_size = 0;
  int log_max_files = 1;
  bool tty = false;
  bool open_stdin = false;
  bool stdin_once = false;
  uint32_t console_height = 0, console_width = 0;
  std::string rootfs_mount;             // unmounted after the exit ("" = nothing)
  std::vector<AttachRequest> attaches;  // clients attached before the start, fds in order
};

nlohmann::json ToJson(const MonitorConfig& c);
Result<MonitorConfig> MonitorConfigFromJson(const nlohmann::json& j);

/// Docker's --detach-keys notation ("ctrl-p,ctrl-q", "a,ctrl-@") to bytes.
Result<std::string> ParseDetachKeys(std::string_view keys);

/// Bytes as lowercase hex and back (binary data inside the JSON messages).
std::string ToHex(std::string_view bytes);
std::string FromHex(std::string_view hex);

/// Runs the monitor until the container has exited and everything is recorded; returns the
/// process exit code. report is berthd's end-of-spawn socket (it gets "started" or "error"
/// first); attach_fds match config.attaches.
int RunMonitor(const MonitorConfig& config, Fd report, std::vector<Fd> attach_fds);

/// <run_dir>/exit.json as the monitor wrote it: {"exit_code", "finished_at", "oom_killed"}.
std::string ExitFile(const std::string& run_dir);
std::string ExecExitFile(const std::string& run_dir, const std::string& exec_id);
std::string SocketPath(const std::string& run_dir);

}  // namespace berth::engine::monitor
