#include "cli/commands/flags.h"

namespace berth::cli {

void FlagSet::Add(const char* name, char shorthand, Kind kind, void* out) {
  flags_[name] = Flag{kind, shorthand, out};
  if (shorthand) shorthands_[shorthand] = name;
}

void FlagSet::Bool(const char* name, char shorthand, bool* out) {
  Add(name, shorthand, Kind::kBool, out);
}
void FlagSet::String(const char* name, char shorthand, std::string* out) {
  Add(name, shorthand, Kind::kString, out);
}
void FlagSet::List(const char* name, char shorthand, std::vector<std::string>* out) {
  Add(name, shorthand, Kind::kList, out);
}

std::string FlagSet::Display(const std::string& name) const {
  auto it = flags_.find(name);
  if (it != flags_.end() && it->second.shorthand)
    return std::string("-") + it->second.shorthand + ", --" + name;
  return "--" + name;
}

Error InvalidFlagValue(const FlagSet& flags, const std::string& name, const std::string& value,
                       const std::string& why) {
  return Error::InvalidArgument("invalid argument \"" + value + "\" for \"" + flags.Display(name) +
                                "\" flag: " + why);
}

Result<void> FlagSet::Set(const std::string& name, const Flag& f, const std::string& value) {
  changed_[name]++;
  switch (f.kind) {
    case Kind::kBool:
      if (value == "1" || value == "t" || value == "T" || value == "true" || value == "TRUE" ||
          value == "True") {
        *static_cast<bool*>(f.out) = true;
      } else if (value == "0" || value == "f" || value == "F" || value == "false" ||
                 value == "FALSE" || value == "False") {
        *static_cast<bool*>(f.out) = false;
      } else {
        return InvalidFlagValue(*this, name, value,
                                "strconv.ParseBool: parsing \"" + value + "\": invalid syntax");
      }
      return {};
    case Kind::kString:
      *static_cast<std::string*>(f.out) = value;
      return {};
    case Kind::kList:
      static_cast<std::vector<std::string>*>(f.out)->push_back(value);
      return {};
  }
  return {};
}

Result<std::vector<std::string>> FlagSet::Parse(const std::vector<std::string>& args,
                                                bool interspersed) {
  std::vector<std::string> positionals;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      positionals.insert(positionals.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      if (!interspersed) {
        positionals.insert(positionals.end(), args.begin() + static_cast<long>(i), args.end());
        break;
      }
      positionals.push_back(a);
      continue;
    }
    if (a[1] == '-') {
      std::string name = a.substr(2), value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
        has_value = true;
      }
      auto it = flags_.find(name);
      if (it == flags_.end()) return Error::InvalidArgument("unknown flag: --" + name);
      if (!has_value) {
        if (it->second.kind == Kind::kBool) {
          value = "true";
        } else if (i + 1 < args.size()) {
          value = args[++i];
        } else {
          return Error::InvalidArgument("flag needs an argument: --" + name);
        }
      }
      BERTH_TRY(Set(name, it->second, value));
      continue;
    }
    // One or more shorthands: -dit, -p80:80, -e=X, -e X.
    for (size_t j = 1; j < a.size(); ++j) {
      auto it = shorthands_.find(a[j]);
      if (it == shorthands_.end())
        return Error::InvalidArgument(std::string("unknown shorthand flag: '") + a[j] + "' in " +
                                      a);
      const Flag& f = flags_.at(it->second);
      std::string rest = a.substr(j + 1);
      if (f.kind == Kind::kBool) {
        if (!rest.empty() && rest[0] == '=') {
          BERTH_TRY(Set(it->second, f, rest.substr(1)));
          break;
        }
        BERTH_TRY(Set(it->second, f, "true"));
        continue;
      }
      std::string value;
      if (!rest.empty()) {
        value = rest[0] == '=' ? rest.substr(1) : rest;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Error::InvalidArgument(std::string("flag needs an argument: '") + a[j] + "' in " +
                                      a);
      }
      BERTH_TRY(Set(it->second, f, value));
      break;
    }
  }
  return positionals;
}

}  // namespace berth::cli
