#include "build/executor_internal.h"

#include <algorithm>

namespace berth::build::internal {

namespace {
std::string GoQuote(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      case '\r':
        o += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static const char* hex = "0123456789abcdef";
          o += "\\x";
          o += hex[c >> 4];
          o += hex[c & 15];
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}
}  // namespace

std::string QuotedList(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + GoQuote(v[i]);
  return s + "]";
}

std::string PlainList(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + v[i];
  return s + "]";
}

std::string NopCreatedBy(const std::string& text) { return "/bin/sh -c #(nop)  " + text; }

std::string RunCreatedBy(const std::vector<std::string>& build_env, const std::string& command) {
  if (build_env.empty()) return command;
  std::string s = "|" + std::to_string(build_env.size());
  for (const auto& e : build_env) s += " " + e;
  return s + " " + command;
}

std::vector<std::string> RunBuildEnv(const std::map<std::string, std::string>& declared,
                                     const std::vector<std::string>& config_env) {
  std::vector<std::string> out;
  for (const auto& [k, v] : declared) {
    bool overridden = std::any_of(config_env.begin(), config_env.end(), [&](const std::string& e) {
      return e.compare(0, k.size() + 1, k + "=") == 0;
    });
    if (!overridden) out.push_back(k + "=" + v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace berth::build::internal
