// RUN --mount=... as BuildKit's commands_runmount.go parses it.

#include <cctype>

#include "build/dockerfile/dockerfile.h"
#include "build/dockerfile/duration.h"
#include "build/dockerfile/parser_internal.h"
#include "build/dockerfile/text.h"

namespace berth::build {
namespace {

// One CSV record as Go's encoding/csv reads it (',' separated, `"` quoting with `""`).
Result<std::vector<std::string>> CsvFields(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  auto err = [](const std::string& m) {
    return Error::InvalidArgument("failed to parse csv mounts: parse error on line 1, " + m);
  };
  while (true) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      size_t start = i;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field.push_back(s[i++]);
      }
      if (!closed || (i < s.size() && s[i] != ',')) {
        return err("column " + std::to_string(closed ? i + 1 : start + 1) +
                   ": extraneous or missing \" in quoted-field");
      }
    } else {
      while (i < s.size() && s[i] != ',') {
        if (s[i] == '"') {
          return err("column " + std::to_string(i + 1) + ": bare \" in non-quoted-field");
        }
        field.push_back(s[i++]);
      }
    }
    out.push_back(std::move(field));
    if (i >= s.size()) break;
    ++i;  // ','
  }
  return out;
}

std::optional<bool> GoParseBool(std::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "FALSE" || v == "false" || v == "False") {
    return false;
  }
  return std::nullopt;
}

std::optional<uint32_t> ParseUint(std::string_view v, int base) {
  if (v.empty()) return std::nullopt;
  uint64_t x = 0;
  for (char c : v) {
    int d = c - '0';
    if (d < 0 || d >= base) return std::nullopt;
    x = x * base + d;
    if (x > 0xFFFFFFFFull) return std::nullopt;
  }
  return static_cast<uint32_t>(x);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<RunMount> ParseRunMount(std::string_view spec,
                               const std::function<Result<std::string>(std::string_view)>* expand) {
  auto fields = BERTH_TRY(CsvFields(spec));
  RunMount m;
  bool ro_auto = true;
  auto invalid_value = [](const std::string& key, const std::string& value) {
    return Error::InvalidArgument("invalid value for " + key + ": " + value);
  };
  for (const auto& field : fields) {
    auto eq = field.find('=');
    std::string key = Lower(field.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (eq == std::string::npos) {
      if (!expand) continue;  // checked once substituted
      if (key == "readonly" || key == "ro") {
        m.read_only = true, ro_auto = false;
      } else if (key == "readwrite" || key == "rw") {
        m.read_only = false, ro_auto = false;
      } else if (key == "required") {
        if (m.type != "secret" && m.type != "ssh") {
          return Error::InvalidArgument("unexpected key '" + key + "' for mount type '" + m.type +
                                        "'");
        }
        m.required = true;
      } else {
        return Error::InvalidArgument("invalid field '" + field + "' must be a key=value pair");
      }
      continue;
    }
    if (expand) {
      value = BERTH_TRY((*expand)(value));
    } else if (key == "from") {
      auto dollar = value.find('$');
      if (dollar != std::string::npos && dollar != value.size() - 1) {
        return Error::InvalidArgument("'" + key +
                                      "' doesn't support variable expansion, define alias stage "
                                      "instead");
      }
    } else {
      continue;
    }
    if (key == "type") {
      std::string v = Lower(value);
      static const std::vector<std::string> kTypes = {"bind", "cache", "tmpfs", "secret", "ssh"};
      if (std::find(kTypes.begin(), kTypes.end(), v) == kTypes.end()) {
        return Error::InvalidArgument("unsupported mount type " + GoQuote(value) +
                                      internal::Suggest(value, kTypes, true));
      }
      m.type = v;
    } else if (key == "from") {
      m.from = value;
    } else if (key == "source" || key == "src") {
      m.source = value;
    } else if (key == "target" || key == "dst" || key == "destination") {
      m.target = value;
    } else if (key == "readonly" || key == "ro" || key == "readwrite" || key == "rw") {
      auto b = GoParseBool(value);
      if (!b) return invalid_value(key, value);
      m.read_only = (key == "readonly" || key == "ro") ? *b : !*b;
      ro_auto = false;
    } else if (key == "required") {
      if (m.type != "secret" && m.type != "ssh") {
        return Error::InvalidArgument("unexpected key '" + key + "' for mount type '" + m.type +
                                      "'");
      }
      auto b = GoParseBool(value);
      if (!b) return invalid_value(key, value);
      m.required = *b;
    } else if (key == "size") {
      if (m.type != "tmpfs") {
        return Error::InvalidArgument("unexpected key '" + key + "' for mount type '" + m.type +
                                      "'");
      }
      auto size = ParseRamInBytes(value);
      if (!size) return invalid_value(key, value);
      m.size_limit = *size;
    } else if (key == "id") {
      m.id = value;
    } else if (key == "sharing") {
      std::string v = Lower(value);
      static const std::vector<std::string> kModes = {"shared", "private", "locked"};
      if (std::find(kModes.begin(), kModes.end(), v) == kModes.end()) {
        return Error::InvalidArgument("unsupported sharing value " + GoQuote(value) +
                                      internal::Suggest(value, kModes, true));
      }
      m.sharing = v;
    } else if (key == "mode" || key == "uid" || key == "gid") {
      auto x = ParseUint(value, key == "mode" ? 8 : 10);
      if (!x) return Error::InvalidArgument("invalid value " + value + " for " + key);
      (key == "mode" ? m.mode : key == "uid" ? m.uid : m.gid) = *x;
    } else if (key == "env") {
      m.env = value;
    } else {
      static const std::vector<std::string> kKeys = {
          "type",        "from", "source", "target",    "readonly", "id",  "sharing",
          "required",    "size", "mode",   "uid",       "gid",      "src", "dst",
          "destination", "ro",   "rw",     "readwrite", "env"};
      return Error::InvalidArgument("unexpected key '" + key + "' in '" + field + "'" +
                                    internal::Suggest(key, kKeys, true));
    }
  }
  bool file_info = m.type == "secret" || m.type == "ssh" || m.type == "cache";
  if (!file_info) {
    if (m.mode)
      return Error::InvalidArgument("mode not allowed for " + GoQuote(m.type) + " type mounts");
    if (m.uid)
      return Error::InvalidArgument("uid not allowed for " + GoQuote(m.type) + " type mounts");
    if (m.gid)
      return Error::InvalidArgument("gid not allowed for " + GoQuote(m.type) + " type mounts");
  }
  if (ro_auto) m.read_only = !(m.type == "cache" || m.type == "tmpfs");
  if (m.type == "secret") {
    if (!m.from.empty()) return Error::InvalidArgument("secret mount should not have a from");
    if (!m.sharing.empty()) {
      return Error::InvalidArgument("secret mount should not define sharing");
    }
    if (m.source.empty() && m.target.empty() && m.id.empty()) {
      return Error::InvalidArgument("invalid secret mount. one of source, target required");
    }
    if (!m.source.empty() && !m.id.empty()) {
      return Error::InvalidArgument("both source and id can't be set");
    }
  }
  if (!m.sharing.empty() && m.type != "cache") {
    return Error::InvalidArgument("invalid cache sharing set for " + m.type + " mount");
  }
  return m;
}

}  // namespace berth::build
