#pragma once

// The logging facade: one named logger per subsystem (runtime, store, pull, api, build, net),
// sinks chosen once by the program (text or JSON, stderr or a file). Library code logs through
// this; it never prints.
//
//   static auto& log = berth::log::Get("runtime");
//   log.Debug("mount {} on {}", src, dst);
//   log.Info({{"id", id}}, "container created");

#include <fmt/core.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class Format { kText, kJson };

using Field = std::pair<std::string_view, std::string_view>;

/// Parses "trace", "debug", "info", "warn"/"warning", "error", "off"/"fatal"/"panic".
bool ParseLevel(std::string_view name, Level* out);

/// Where log lines go. path empty: stderr. JSON lines are {"level","msg","time",fields...},
/// the form runc writes and containerd reads back from --log on failure.
/// REQUIRES: called before other threads log.
void Configure(Level level, Format format, const std::string& path = "");
Level CurrentLevel();

class Logger {
 public:
  explicit Logger(std::string name) : name_(std::move(name)) {}

  bool Enabled(Level level) const { return level >= CurrentLevel(); }
  void Write(Level level, std::initializer_list<Field> fields, std::string_view msg) const;

  template <typename... A>
  void Log(Level level, std::initializer_list<Field> fields, fmt::format_string<A...> f,
           A&&... a) const {
    if (Enabled(level)) Write(level, fields, fmt::format(f, std::forward<A>(a)...));
  }

#define BERTH_LOG_LEVEL_METHOD(Name, level)                                                    \
  template <typename... A>                                                                     \
  void Name(fmt::format_string<A...> f, A&&... a) const {                                      \
    Log(level, {}, f, std::forward<A>(a)...);                                                  \
  }                                                                                            \
  template <typename... A>                                                                     \
  void Name(std::initializer_list<Field> fields, fmt::format_string<A...> f, A&&... a) const { \
    Log(level, fields, f, std::forward<A>(a)...);                                              \
  }
  BERTH_LOG_LEVEL_METHOD(Trace, Level::kTrace)
  BERTH_LOG_LEVEL_METHOD(Debug, Level::kDebug)
  BERTH_LOG_LEVEL_METHOD(Info, Level::kInfo)
  BERTH_LOG_LEVEL_METHOD(Warn, Level::kWarn)
  BERTH_LOG_LEVEL_METHOD(Error, Level::kError)
#undef BERTH_LOG_LEVEL_METHOD

 private:
  std::string name_;
};

/// The logger of a subsystem; the reference stays valid for the program's life.
const Logger& Get(std::string_view subsystem);

/// Appends s to out as the inside of a JSON string (quotes not added); bytes that are not
/// valid UTF-8 become U+FFFD, one per byte.
void AppendJsonEscaped(std::string* out, std::string_view s);

}  // namespace berth::log
