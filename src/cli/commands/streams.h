#pragma once

// The client side of a hijacked attach or exec connection, as the docker CLI runs it: stdin
// to the connection (through the detach-key watch when there is a TTY), the connection to
// stdout and stderr (raw with a TTY, else demultiplexed from Docker's 8-byte frames), the
// terminal in raw mode while it lasts, and signals handed to callbacks (SIGWINCH → resize,
// others → forwarded to the container).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/client/client.h"
#include "util/result.h"

namespace berth::cli {

/// Docker's detach keys: "ctrl-p,ctrl-q" (the default when empty), "ctrl-a", "a,ctrl-@", ...
/// InvalidArgument for anything else, in docker's words.
Result<std::string> ParseDetachKeys(const std::string& keys);

/// Splits Docker's multiplexed stream ([stream, 0, 0, 0, size as big-endian 32 bits] then
/// size bytes) into stdout and stderr, across any chunking of the input.
class Demuxer {
 public:
  /// Feeds bytes; calls out(stream, payload) for each complete piece (stream 1 stdout, 2
  /// stderr; 0 stdin is written to stdout as docker's StdCopy does). A frame with any other
  /// stream number is DataLoss.
  Result<void> Feed(std::string_view data,
                    const std::function<Result<void>(int, std::string_view)>& out);

 private:
  std::string pending_;
};

/// Watches typed input for the detach sequence: Filter returns the bytes to send on (those of
/// a partial match are held back until the match fails), and sets *detached once the whole
/// sequence has been typed.
class EscapeWatch {
 public:
  explicit EscapeWatch(std::string keys) : keys_(std::move(keys)) {}
  std::string Filter(std::string_view in, bool* detached);

 private:
  std::string keys_;
  size_t matched_ = 0;
};

struct StreamOptions {
  bool tty = false;
  bool stdin_attached = false;
  bool stdout_attached = true;
  bool stderr_attached = true;
  std::string detach_keys;  // parsed; "" means the default ctrl-p ctrl-q
  /// Signals to catch and hand to on_signal (sig-proxy); SIGWINCH goes to on_resize.
  std::vector<int> proxy_signals;
  std::function<void(int)> on_signal;
  std::function<void()> on_resize;
};

enum class StreamEnd { kEof, kDetached };

/// Runs the streams until the output ends (or, with no output attached, until stdin ends), or
/// the detach keys are typed. With a TTY and stdin a terminal, the terminal is raw meanwhile
/// and restored before returning.
Result<StreamEnd> PumpStreams(api::PendingResponse::Raw conn, const StreamOptions& opts);

/// The size of the terminal on stdout: {rows, cols}, {0, 0} when it is not one.
std::pair<int, int> TerminalSize();

}  // namespace berth::cli
