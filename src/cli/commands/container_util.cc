#include "cli/commands/container_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>

#include "cli/format/template.h"
#include "cli/format/units.h"
#include "util/file.h"

namespace berth::cli {
namespace {

size_t Runes(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string UsageTail(const FlagSpec& spec) {
  std::string cmd(spec.usage);
  // the command is every word before the first one in capitals or brackets
  std::string words;
  for (const auto& w : Split(cmd, ' ', true)) {
    if (w[0] == '[' || std::isupper(static_cast<unsigned char>(w[0]))) break;
    words += (words.empty() ? "" : " ") + w;
  }
  return words;
}

}  // namespace

bool Flags::On(const std::string& k) const {
  auto it = values.find(k);
  return it != values.end() && !it->second.empty() && it->second.back() != "false";
}

std::string Flags::Get(const std::string& k) const {
  auto it = values.find(k);
  return it == values.end() || it->second.empty() ? "" : it->second.back();
}

const std::vector<std::string>& Flags::All(const std::string& k) const {
  static const std::vector<std::string> kNone;
  auto it = values.find(k);
  return it == values.end() ? kNone : it->second;
}

Result<Flags> ParseFlags(const std::vector<std::string>& in, const FlagSpec& spec) {
  auto find = [](const auto& list, const std::string& name) -> const std::string* {
    for (const auto& [flag, key] : list)
      if (flag == name) return &key;
    return nullptr;
  };
  auto bad = [&](const std::string& what) -> Error {
    return Error::InvalidArgument(what + "\n\nUsage:  berth " + spec.usage + "\n\nRun 'berth " +
                                  UsageTail(spec) + " --help' for more information");
  };
  Flags f;
  bool positional_only = false;
  for (size_t i = 0; i < in.size(); ++i) {
    const std::string& a = in[i];
    if (positional_only || a.size() < 2 || a[0] != '-') {
      f.args.push_back(a);
      if (spec.stop_at_positional) positional_only = true;
      continue;
    }
    if (a == "--") {
      positional_only = true;
      continue;
    }
    if (a[1] == '-') {
      std::string name = a, value;
      bool has_value = false;
      if (auto eq = a.find('='); eq != std::string::npos) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        has_value = true;
      }
      if (const std::string* key = find(spec.bools, name)) {
        f.values[*key].push_back(has_value ? value : "true");
      } else if (const std::string* key = find(spec.valued, name)) {
        if (!has_value) {
          if (i + 1 >= in.size()) return bad("flag needs an argument: " + name);
          value = in[++i];
        }
        f.values[*key].push_back(value);
      } else {
        return bad("unknown flag: " + name);
      }
      continue;
    }
    // -abc: bools in a row; a valued one takes the rest of the word or the next argument
    for (size_t j = 1; j < a.size(); ++j) {
      std::string name = std::string("-") + a[j];
      if (const std::string* key = find(spec.bools, name)) {
        f.values[*key].push_back("true");
      } else if (const std::string* key = find(spec.valued, name)) {
        std::string value = a.substr(j + 1);
        if (!value.empty() && value[0] == '=') value = value.substr(1);
        if (j + 1 >= a.size()) {
          if (i + 1 >= in.size())
            return bad("flag needs an argument: '" + std::string(1, a[j]) + "' in -" + a[j]);
          value = in[++i];
        }
        f.values[*key].push_back(value);
        break;
      } else {
        return bad("unknown shorthand flag: '" + std::string(1, a[j]) + "' in " + a);
      }
    }
  }
  return f;
}

Result<void> NeedArgs(const Flags& f, const FlagSpec& spec, size_t min, size_t max) {
  size_t n = f.args.size();
  if (n >= min && n <= max) return {};
  std::string cmd = UsageTail(spec), what;
  auto arg = [](size_t k) { return std::to_string(k) + " argument" + (k == 1 ? "" : "s"); };
  std::string hint = "See";
  if (min == 0 && max == 0) {
    what = "accepts no arguments";
    hint = "Run";
  } else if (min == max) {
    what = "requires exactly " + arg(min);
  } else if (n < min && max == SIZE_MAX) {
    what = "requires at least " + arg(min);
  } else if (n < min) {
    what = "requires at least " + std::to_string(min) + " and at most " + arg(max);
  } else {
    what = "requires at most " + arg(max);
  }
  return Error::FailedPrecondition("berth: '" + ("berth " + cmd) + "' " + what +
                                   "\n\nUsage:  berth " + spec.usage + "\n\n" + hint + " 'berth " +
                                   cmd + " --help' for more information");
}

Result<int> UsageExit(Result<int> r) {
  if (r || !r.error().IsInvalidArgument()) return r;
  std::fprintf(stderr, "%s\n", r.error().message().c_str());
  return 125;
}

int ForEachName(const std::vector<std::string>& names,
                const std::function<Result<void>(const std::string&)>& op, bool print_name) {
  std::vector<std::string> errors;
  for (const auto& n : names) {
    auto r = op(n);
    if (!r) {
      errors.push_back(r.error().message());
    } else if (print_name) {
      std::printf("%s\n", n.c_str());
      std::fflush(stdout);
    }
  }
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  return errors.empty() ? 0 : 1;
}

Result<std::string> FiltersJson(const std::vector<std::string>& kvs) {
  if (kvs.empty()) return std::string();
  Json filters = Json::object();
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    if (eq == std::string::npos)
      return Error::Internal("bad format of filter (expected name=value)");
    std::string key(Trim(kv.substr(0, eq)));
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    filters[key].push_back(kv.substr(eq + 1));
  }
  return filters.dump();
}

std::string Tabulate(const std::vector<std::string>& lines, size_t minwidth) {
  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> widths;
  for (const auto& line : lines) {
    rows.push_back(Split(line, '\t'));
    const auto& r = rows.back();
    for (size_t i = 0; i + 1 < r.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], Runes(r[i]));
    }
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out.append(std::max(widths[i] + 3, minwidth) - Runes(r[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

Result<void> PrintRows(const std::string& format, const std::string& default_table,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::vector<Json>& rows, const std::vector<Json>& hidden) {
  std::string f = format;
  if (f.empty() || f == "table") f = default_table;
  if (f == "json") f = "{{json .}}";
  Template t = BERTH_TRY(Template::Parse(f));
  std::vector<std::string> lines;
  if (t.is_table()) lines.push_back(t.ExecuteHeader(headers));
  for (size_t i = 0; i < rows.size(); ++i)
    lines.push_back(BERTH_TRY(t.Execute(rows[i], i < hidden.size() ? hidden[i] : Json())));
  std::string out;
  if (t.is_table()) {
    out = Tabulate(lines);
  } else {
    for (const auto& l : lines) out += l + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return {};
}

std::string Str(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t Int(const Json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  return it->is_number_float() ? static_cast<int64_t>(it->get<double>()) : it->get<int64_t>();
}

std::string ShortId(const std::string& id, bool no_trunc) {
  if (no_trunc) return id;
  std::string hex = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return hex.substr(0, 12);
}

std::string Ellipsis(const std::string& s, size_t n) {
  if (Runes(s) <= n) return s;
  std::string out;
  size_t runes = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++runes == n) break;
    out += s[i];
  }
  return out + "…";
}

std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string GoTime(int64_t unix_seconds) {
  time_t t = unix_seconds;
  struct tm tm;
  ::localtime_r(&t, &tm);
  char buf[80];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
  return buf;
}

int64_t ParseRfc3339(const std::string& s) {
  struct tm tm = {};
  int y, mo, d, h, mi, sec;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) != 6) return 0;
  if (y <= 1) return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t t = ::timegm(&tm);
  // a zone offset after the seconds (and fraction): +hh:mm or -hh:mm
  auto z = s.find_first_of("Z+-", 19);
  if (z != std::string::npos && s[z] != 'Z') {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + z + 1, "%d:%d", &oh, &om) >= 1)
      t -= (s[z] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  }
  return t;
}

Result<std::string> TimestampArg(const std::string& value) {
  if (value.empty()) return value;
  // a Go duration: "10m", "1h30m", "1.5h", "300ms"
  double total = 0;
  bool is_duration = true;
  size_t i = 0;
  while (i < value.size() && is_duration) {
    size_t j = i;
    while (j < value.size() &&
           (std::isdigit(static_cast<unsigned char>(value[j])) || value[j] == '.'))
      ++j;
    size_t k = j;
    while (k < value.size() && std::isalpha(static_cast<unsigned char>(value[k]))) ++k;
    if (j == i || k == j) {
      is_duration = false;
      break;
    }
    double n = std::strtod(value.substr(i, j - i).c_str(), nullptr);
    std::string unit = value.substr(j, k - j);
    static const std::map<std::string, double> kUnits = {
        {"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}};
    auto u = kUnits.find(unit);
    if (u == kUnits.end()) {
      is_duration = false;
      break;
    }
    total += n * u->second;
    i = k;
  }
  if (is_duration) {
    struct timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    double t = static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9 - total;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9f", t);
    return std::string(buf);
  }
  if (value.find('-') != std::string::npos && value.find('-') > 0) {
    std::string v = value;
    if (v.find('T') == std::string::npos) v += "T00:00:00Z";
    int64_t t = ParseRfc3339(v);
    if (t == 0) return Error::InvalidArgument("invalid timestamp: " + value);
    return std::to_string(t);
  }
  char* end = nullptr;
  std::strtod(value.c_str(), &end);
  if (end && *end == 0) return value;
  return Error::Internal("failed to parse value as time or duration: \"" + value + "\"");
}

Result<Json> GetJsonValue(api::Client& client, const std::string& path) {
  std::string body = BERTH_TRY(GetJson(client, path));
  Json j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return Error::Internal("malformed answer from the daemon to " + path);
  return j;
}

std::string DisplayPorts(const Json& ports) {
  struct Port {
    std::string ip, type;
    int64_t priv, pub;
  };
  std::vector<Port> list;
  if (!ports.is_array()) return "";
  for (const auto& p : ports)
    list.push_back({Str(p, "IP"), Str(p, "Type"), Int(p, "PrivatePort"), Int(p, "PublicPort")});
  std::sort(list.begin(), list.end(), [](const Port& a, const Port& b) {
    if (a.priv != b.priv) return a.priv < b.priv;
    if (a.ip != b.ip) return a.ip < b.ip;
    if (a.pub != b.pub) return a.pub < b.pub;
    return a.type < b.type;
  });
  auto host_port = [](const std::string& ip, const std::string& port) {
    return ip.find(':') != std::string::npos ? "[" + ip + "]:" + port : ip + ":" + port;
  };
  // runs of consecutive ports that map to themselves, per address and protocol
  struct Run {
    std::string ip, type;
    int64_t first, last;
  };
  std::vector<Run> open;  // in the order their keys first appeared
  std::vector<std::string> out, mappings;
  auto form = [&](const Run& r) {
    std::string g = std::to_string(r.first);
    if (r.first != r.last) g += "-" + std::to_string(r.last);
    if (!r.ip.empty()) g = host_port(r.ip, g) + "->" + g;
    return g + "/" + r.type;
  };
  for (const auto& p : list) {
    if (!p.ip.empty() && p.pub != p.priv) {
      mappings.push_back(host_port(p.ip, std::to_string(p.pub)) + "->" + std::to_string(p.priv) +
                         "/" + p.type);
      continue;
    }
    auto it = std::find_if(open.begin(), open.end(),
                           [&](const Run& r) { return r.ip == p.ip && r.type == p.type; });
    if (it == open.end()) {
      open.push_back({p.ip, p.type, p.priv, p.priv});
    } else if (p.priv == it->last + 1) {
      it->last = p.priv;
    } else {
      out.push_back(form(*it));
      it->first = it->last = p.priv;
    }
  }
  for (const auto& r : open) out.push_back(form(r));
  out.insert(out.end(), mappings.begin(), mappings.end());
  std::string s;
  for (size_t i = 0; i < out.size(); ++i) s += (i ? ", " : "") + out[i];
  return s;
}

Json ContainerRow(const Json& c, bool no_trunc) {
  std::string image = Str(c, "Image");
  if (image.empty()) {
    image = "<no image>";
  } else if (!no_trunc) {
    std::string image_id = Str(c, "ImageID");
    if (!image_id.empty() && ShortId(image_id) == ShortId(image)) {
      image = ShortId(image);
    } else if (auto at = image.find('@'); at != std::string::npos) {
      image = image.substr(0, at);
    }
    for (const char* prefix : {"docker.io/library/", "docker.io/"})
      if (image.rfind(prefix, 0) == 0) image = image.substr(std::string(prefix).size());
  }
  std::string names;
  if (c.contains("Names") && c["Names"].is_array()) {
    for (const auto& n : c["Names"]) {
      if (!n.is_string()) continue;
      std::string s = n.get<std::string>();
      if (!s.empty() && s[0] == '/') s = s.substr(1);
      if (!no_trunc && s.find('/') != std::string::npos) continue;  // a link's name
      names += (names.empty() ? "" : ",") + s;
    }
  }
  std::string labels;
  if (c.contains("Labels") && c["Labels"].is_object())
    for (auto it = c["Labels"].begin(); it != c["Labels"].end(); ++it)
      labels += (labels.empty() ? "" : ",") + it.key() + "=" +
                (it->is_string() ? it->get<std::string>() : it->dump());
  std::string mounts;
  int64_t local_volumes = 0;
  if (c.contains("Mounts") && c["Mounts"].is_array()) {
    for (const auto& m : c["Mounts"]) {
      std::string name = Str(m, "Name");
      if (name.empty()) name = Str(m, "Source");
      if (!no_trunc) name = Ellipsis(name, 15);
      mounts += (mounts.empty() ? "" : ",") + name;
      if (Str(m, "Driver") == "local") ++local_volumes;
    }
  }
  std::string networks;
  if (c.contains("NetworkSettings") && c["NetworkSettings"].is_object() &&
      c["NetworkSettings"].contains("Networks") && c["NetworkSettings"]["Networks"].is_object())
    for (auto it = c["NetworkSettings"]["Networks"].begin();
         it != c["NetworkSettings"]["Networks"].end(); ++it)
      networks += (networks.empty() ? "" : ",") + it.key();
  std::string size = HumanSize(static_cast<double>(Int(c, "SizeRw")));
  if (Int(c, "SizeRootFs") > 0)
    size += " (virtual " + HumanSize(static_cast<double>(Int(c, "SizeRootFs"))) + ")";
  std::string command = Str(c, "Command");
  int64_t created = Int(c, "Created");
  return Json{{"Command", GoQuote(no_trunc ? command : Ellipsis(command, 20))},
              {"CreatedAt", GoTime(created)},
              {"ID", ShortId(Str(c, "Id"), no_trunc)},
              {"Image", image},
              {"Labels", labels},
              {"LocalVolumes", std::to_string(local_volumes)},
              {"Mounts", mounts},
              {"Names", names},
              {"Networks", networks},
              {"Platform", nullptr},
              {"Ports", DisplayPorts(c.contains("Ports") ? c["Ports"] : Json())},
              {"RunningFor", HumanDuration(std::time(nullptr) - created) + " ago"},
              {"Size", size},
              {"State", Str(c, "State")},
              {"Status", Str(c, "Status")}};
}

std::pair<std::string, std::string> SplitRef(const std::string& image, bool default_latest) {
  std::string name = image, tag;
  if (auto at = name.find('@'); at != std::string::npos) {
    tag = name.substr(at + 1);
    name.resize(at);
  } else if (auto colon = name.rfind(':');
             colon != std::string::npos && name.find('/', colon) == std::string::npos) {
    tag = name.substr(colon + 1);
    name.resize(colon);
  }
  if (tag.empty() && default_latest) tag = "latest";
  return {name, tag};
}

}  // namespace berth::cli
