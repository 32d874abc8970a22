#pragma once

// How `berth build` shows the daemon's build stream (Docker's JSON messages: {"stream"},
// {"status"} of a pull, {"aux":{"ID"}}, {"errorDetail"}): plain, every line as it comes (what
// `DOCKER_BUILDKIT=0 docker build` prints); or, on a terminal, a live display: each step's
// line kept, with the last few lines of its output redrawn under it while it runs.

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::cli {

class BuildProgress {
 public:
  /// tty: the live display; quiet: nothing but errors (the caller prints the id).
  BuildProgress(std::FILE* out, bool tty, bool quiet) : out_(out), tty_(tty), quiet_(quiet) {}

  /// Feeds bytes of the response body as they arrive.
  void Feed(std::string_view data);
  /// The body ended: flushes what is left and clears the live area.
  void Finish();

  const std::string& image_id() const { return image_id_; }
  /// The stream's error, with the code Docker's CLI exits with (the failed RUN's, or 1).
  const std::optional<std::string>& error() const { return error_; }
  int error_code() const { return error_code_; }
  /// What a quiet build's stream said (the id line).
  const std::string& quiet_text() const { return quiet_text_; }

 private:
  void Line(std::string_view json);
  void Text(std::string_view text);
  void OutputLine(const std::string& line);
  void Redraw();
  void ClearLive();

  std::FILE* out_;
  bool tty_, quiet_;
  std::string buf_;      // bytes of an unfinished JSON line
  std::string partial_;  // text of an unfinished output line (tty)
  std::string image_id_;
  std::optional<std::string> error_;
  int error_code_ = 1;
  std::string quiet_text_;
  // tty: the live area
  std::vector<std::string> tail_;  // last lines of the current step's output
  size_t drawn_ = 0;               // lines drawn in the live area
};

}  // namespace berth::cli
