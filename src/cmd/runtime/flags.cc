#include "cmd/runtime/flags.h"

namespace berth::cmd {

std::string Flags::Get(std::string_view name, std::string def) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty()) return def;
  return it->second.back();
}

const std::vector<std::string>& Flags::All(std::string_view name) const {
  static const std::vector<std::string> kEmpty;
  auto it = values_.find(std::string(name));
  return it == values_.end() ? kEmpty : it->second;
}

bool Flags::Bool(std::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end() || it->second.empty()) return false;
  return it->second.back() == "true";  // ParseFlags stores booleans as "true" or "false"
}

namespace {

// Go's strconv.ParseBool: the value as "true" or "false", or empty if it is neither.
std::string_view NormalizeBool(std::string_view v) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (v == t) return "true";
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (v == f) return "false";
  return {};
}

}  // namespace

Result<Flags> ParseFlags(const std::vector<std::string>& argv, size_t start,
                         const std::vector<FlagSpec>& specs) {
  Flags flags;
  size_t i = start;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a.size() < 2 || a[0] != '-') break;
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    if (body.empty() || body[0] == '-' || body[0] == '=')
      return Error::InvalidArgument("bad flag syntax: " + a);
    std::string value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == body || (!s.short_name.empty() && s.short_name == body)) spec = &s;
    if (!spec) return Error::InvalidArgument("flag provided but not defined: -" + body);
    if (spec->takes_value && !has_value) {
      if (i + 1 >= argv.size()) return Error::InvalidArgument("flag needs an argument: -" + body);
      value = argv[++i];
    } else if (!spec->takes_value && !has_value) {
      value = "true";
    } else if (!spec->takes_value) {
      std::string_view b = NormalizeBool(value);
      if (b.empty())
        return Error::InvalidArgument("invalid boolean value \"" + value + "\" for -" + body +
                                      ": parse error");
      value = b;
    }
    flags.values_[spec->name].push_back(value);
  }
  for (; i < argv.size(); ++i) flags.args.push_back(argv[i]);
  return flags;
}

}  // namespace berth::cmd
