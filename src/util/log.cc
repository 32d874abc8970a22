#include "util/log.h"

#include "util/time.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <map>
#include <memory>
#include <mutex>

namespace berth::log {
namespace {

Level g_level = Level::kWarn;
Format g_format = Format::kText;
std::shared_ptr<spdlog::logger> g_sink_logger;
std::mutex g_mu;

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warning";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

spdlog::level::level_enum ToSpd(Level l) {
  switch (l) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

spdlog::logger& SinkLogger() {
  std::lock_guard lock(g_mu);
  if (!g_sink_logger) {
    g_sink_logger = std::make_shared<spdlog::logger>(
        "berth", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    g_sink_logger->set_pattern("%v");
    g_sink_logger->set_level(spdlog::level::trace);
  }
  return *g_sink_logger;
}

}  // namespace

bool ParseLevel(std::string_view name, Level* out) {
  static const std::map<std::string_view, Level> kNames = {
      {"trace", Level::kTrace}, {"debug", Level::kDebug},  {"info", Level::kInfo},
      {"warn", Level::kWarn},   {"warning", Level::kWarn}, {"error", Level::kError},
      {"fatal", Level::kError}, {"panic", Level::kError},  {"off", Level::kOff}};
  auto it = kNames.find(name);
  if (it == kNames.end()) return false;
  *out = it->second;
  return true;
}

void Configure(Level level, Format format, const std::string& path) {
  g_level = level;
  g_format = format;
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (path.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
    } catch (const std::exception&) {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    }
  }
  auto logger = std::make_shared<spdlog::logger>("berth", sink);
  logger->set_pattern("%v");
  logger->set_level(ToSpd(Level::kTrace));
  logger->flush_on(spdlog::level::trace);
  std::lock_guard lock(g_mu);
  g_sink_logger = logger;
}

Level CurrentLevel() { return g_level; }

namespace {

// The length of the valid UTF-8 sequence at the start of s, or 0 (overlong forms, surrogates
// and code points above U+10FFFF are invalid, as in Go's unicode/utf8).
size_t Utf8SequenceLength(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

void AppendJsonEscaped(std::string* out, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // JSON is UTF-8: each byte of an invalid sequence becomes U+FFFD, as Go writes it.
      size_t n = Utf8SequenceLength(s.substr(i));
      if (n == 0) {
        *out += "\\ufffd";
      } else {
        out->append(s.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
}

void Logger::Write(Level level, std::initializer_list<Field> fields, std::string_view msg) const {
  std::string line;
  if (g_format == Format::kJson) {
    line = "{\"level\":\"";
    line += LevelName(level);
    line += "\",\"msg\":\"";
    AppendJsonEscaped(&line, msg);
    line += "\",\"subsystem\":\"";
    AppendJsonEscaped(&line, name_);
    line += "\",\"time\":\"" + NowRfc3339() + "\"";
    for (const auto& [k, v] : fields) {
      line += ",\"";
      AppendJsonEscaped(&line, k);
      line += "\":\"";
      AppendJsonEscaped(&line, v);
      line += "\"";
    }
    line += "}";
  } else {
    line = NowRfc3339();
    line += " ";
    line += LevelName(level);
    line += " [";
    line += name_;
    line += "] ";
    line += msg;
    for (const auto& [k, v] : fields) {
      line += " ";
      line += k;
      line += "=";
      line += v;
    }
  }
  SinkLogger().log(ToSpd(level), "{}", line);
}

const Logger& Get(std::string_view subsystem) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Logger>, std::less<>> loggers;
  std::lock_guard lock(mu);
  auto it = loggers.find(subsystem);
  if (it == loggers.end())
    it = loggers.emplace(std::string(subsystem), std::make_unique<Logger>(std::string(subsystem)))
             .first;
  return *it->second;
}

}  // namespace berth::log
