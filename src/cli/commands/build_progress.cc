#include "cli/commands/build_progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace berth::cli {
namespace {

constexpr size_t kTailLines = 6;

size_t TerminalWidth(std::FILE* out) {
  struct winsize ws = {};
  if (::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

void BuildProgress::Feed(std::string_view data) {
  buf_.append(data);
  size_t start = 0;
  for (;;) {
    size_t nl = buf_.find('\n', start);
    if (nl == std::string::npos) break;
    Line(std::string_view(buf_).substr(start, nl - start));
    start = nl + 1;
  }
  buf_.erase(0, start);
}

void BuildProgress::Finish() {
  if (!buf_.empty()) Line(buf_);
  buf_.clear();
  if (!partial_.empty()) {
    OutputLine(partial_);
    partial_.clear();
  }
  ClearLive();
  std::fflush(out_);
}

void BuildProgress::Line(std::string_view raw) {
  while (!raw.empty() && (raw.back() == '\r' || raw.back() == ' ')) raw.remove_suffix(1);
  if (raw.empty()) return;
  auto j = nlohmann::json::parse(raw, nullptr, false);
  if (!j.is_object()) return;
  if (auto e = j.find("errorDetail"); e != j.end() && e->is_object()) {
    if (auto m = e->find("message"); m != e->end() && m->is_string())
      error_ = m->get<std::string>();
    if (auto c = e->find("code"); c != e->end() && c->is_number_integer() && c->get<int>() != 0)
      error_code_ = c->get<int>();
  }
  if (!error_) {
    if (auto e = j.find("error"); e != j.end() && e->is_string()) error_ = e->get<std::string>();
  }
  if (error_) return;
  if (auto a = j.find("aux"); a != j.end() && a->is_object()) {
    if (auto id = a->find("ID"); id != a->end() && id->is_string())
      image_id_ = id->get<std::string>();
    return;
  }
  if (auto s = j.find("stream"); s != j.end() && s->is_string()) {
    if (quiet_) {
      quiet_text_ += s->get<std::string>();
      return;
    }
    Text(s->get<std::string>());
    return;
  }
  if (auto s = j.find("status"); s != j.end() && s->is_string() && !quiet_) {
    // A pull of the base image: its status lines, one per layer state.
    std::string line = s->get<std::string>();
    if (auto id = j.find("id"); id != j.end() && id->is_string())
      line = id->get<std::string>() + ": " + line;
    if (auto p = j.find("progress"); p != j.end() && p->is_string() && tty_) {
      // progress bars only live on a terminal: they change too often for a log
      partial_.clear();
      tail_.push_back(line + " " + p->get<std::string>());
      if (tail_.size() > kTailLines) tail_.erase(tail_.begin());
      Redraw();
      return;
    }
    Text(line + "\n");
  }
}

void BuildProgress::Text(std::string_view text) {
  if (!tty_) {
    std::fwrite(text.data(), 1, text.size(), out_);
    std::fflush(out_);
    return;
  }
  partial_.append(text);
  size_t start = 0;
  for (;;) {
    size_t nl = partial_.find('\n', start);
    if (nl == std::string::npos) break;
    OutputLine(partial_.substr(start, nl - start));
    start = nl + 1;
  }
  partial_.erase(0, start);
  Redraw();
}

// tty: a step line, a " ---> " line or a closing line is kept above the live area; anything
// else is the running step's output, of which the last few lines are shown.
void BuildProgress::OutputLine(const std::string& line) {
  bool keep = line.rfind("Step ", 0) == 0 || line.rfind(" ---> ", 0) == 0 ||
              line.rfind("Successfully ", 0) == 0 || line.rfind("Sending build context", 0) == 0 ||
              line.rfind("[Warning]", 0) == 0;
  if (!keep) {
    tail_.push_back(line);
    if (tail_.size() > kTailLines) tail_.erase(tail_.begin());
    return;
  }
  ClearLive();
  if (line.rfind("Step ", 0) == 0) {
    tail_.clear();
  } else if (line.rfind(" ---> ", 0) == 0 && line.rfind(" ---> Running in ", 0) != 0) {
    tail_.clear();  // the step is done: its output goes away
  }
  std::fprintf(out_, "%s\n", line.c_str());
}

void BuildProgress::Redraw() {
  if (!tty_) return;
  ClearLive();
  size_t width = TerminalWidth(out_);
  for (const auto& l : tail_) {
    std::string shown = "  " + l;
    if (shown.size() > width - 1) shown = shown.substr(0, width - 1);
    std::fprintf(out_, "\x1b[2m%s\x1b[0m\n", shown.c_str());
    ++drawn_;
  }
  std::fflush(out_);
}

void BuildProgress::ClearLive() {
  if (!tty_ || drawn_ == 0) return;
  std::fprintf(out_, "\x1b[%zuA\x1b[J", drawn_);
  drawn_ = 0;
}

}  // namespace berth::cli
