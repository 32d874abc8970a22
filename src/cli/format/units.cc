#include "cli/format/units.h"

#include <algorithm>
#include <cstdio>

#include "util/file.h"

namespace berth::cli {

std::string HumanSize(double size, int precision) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  size_t i = 0;
  while (size >= 1000 && i + 1 < std::size(kUnits)) {
    size /= 1000;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g%s", precision, size, kUnits[i]);
  return buf;
}

std::string HumanDuration(int64_t s) {
  auto n = [](int64_t v, const char* unit) { return std::to_string(v) + " " + unit; };
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return n(s, "seconds");
  int64_t minutes = s / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return n(minutes, "minutes");
  int64_t hours = static_cast<int64_t>(static_cast<double>(s) / 3600 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return n(hours, "hours");
  if (hours < 24 * 7 * 2) return n(hours / 24, "days");
  if (hours < 24 * 30 * 2) return n(hours / 24 / 7, "weeks");
  if (hours < 24 * 365 * 2) return n(hours / 24 / 30, "months");
  return n(s / 3600 / 24 / 365, "years");
}

std::string TabAlign(const std::vector<std::string>& lines) {
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> widths;
  for (const auto& line : lines) {
    rows.push_back(Split(line, '\t'));
    const auto& r = rows.back();
    for (size_t i = 0; i + 1 < r.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], r[i].size());
    }
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out.append(std::max<size_t>(widths[i] + 3, 10) - r[i].size(), ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace berth::cli
