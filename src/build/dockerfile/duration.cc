#include "build/dockerfile/duration.h"

#include <cmath>
#include <string>

#include "build/dockerfile/text.h"

namespace berth::build {

Result<int64_t> ParseGoDuration(std::string_view orig) {
  auto invalid = [&] { return Error::InvalidArgument("time: invalid duration " + GoQuote(orig)); };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  long double total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return invalid();
    size_t i = 0;
    long double v = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0'), digits = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        v += (s[i++] - '0') * scale;
        scale /= 10;
        digits = true;
      }
    }
    if (!digits) return invalid();
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !(s[u] >= '0' && s[u] <= '9')) ++u;
    std::string_view unit = s.substr(i, u - i);
    if (unit.empty()) {
      return Error::InvalidArgument("time: missing unit in duration " + GoQuote(orig));
    }
    long double mul;
    if (unit == "ns") {
      mul = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      mul = 1e3L;
    } else if (unit == "ms") {
      mul = 1e6L;
    } else if (unit == "s") {
      mul = 1e9L;
    } else if (unit == "m") {
      mul = 60e9L;
    } else if (unit == "h") {
      mul = 3600e9L;
    } else {
      return Error::InvalidArgument("time: unknown unit " + GoQuote(unit) + " in duration " +
                                    GoQuote(orig));
    }
    total += v * mul;
    if (total > 9.223372036854775807e18L) return invalid();
    s.remove_prefix(u);
  }
  auto ns = static_cast<int64_t>(total);
  return neg ? -ns : ns;
}

Result<int64_t> ParseRamInBytes(std::string_view s) {
  // ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$
  auto invalid = [&] { return Error::InvalidArgument("invalid size: '" + std::string(s) + "'"); };
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0) return invalid();
  while (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i + 1) return invalid();
    i = j;
  }
  std::string number(s.substr(0, i));
  if (i < s.size() && s[i] == ' ') ++i;
  long double mul = 1;
  if (i < s.size()) {
    switch (s[i] | 0x20) {
      case 'k':
        mul = 1024.0L;
        ++i;
        break;
      case 'm':
        mul = 1024.0L * 1024;
        ++i;
        break;
      case 'g':
        mul = 1024.0L * 1024 * 1024;
        ++i;
        break;
      case 't':
        mul = 1024.0L * 1024 * 1024 * 1024;
        ++i;
        break;
      case 'p':
        mul = 1024.0L * 1024 * 1024 * 1024 * 1024;
        ++i;
        break;
      default:
        break;
    }
  }
  if (i < s.size() && (s[i] | 0x20) == 'i') ++i;
  if (i < s.size() && (s[i] | 0x20) == 'b') ++i;
  if (i != s.size()) return invalid();
  long double v = std::strtold(number.c_str(), nullptr) * mul;
  if (v > 9.2e18L) return invalid();
  return static_cast<int64_t>(v);
}

}  // namespace berth::build
