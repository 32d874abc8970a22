#pragma once

// A command line parser with pflag's grammar, as the docker CLI uses it: --name value,
// --name=value, -n value, -nvalue, -n=value, grouped booleans (-dit), --flag=false, "--" to end
// the flags, and (for run, create and exec) flags only before the first positional argument.
// Its errors are pflag's words: "unknown flag: --foo", "unknown shorthand flag: 'x' in -x",
// "flag needs an argument: 'e' in -e", "invalid argument \"x\" for \"--rm\" flag: ...".

#include <map>
#include <string>
#include <vector>

#include "util/result.h"

namespace berth::cli {

class FlagSet {
 public:
  /// Each flag has a long name and, optionally, a one-letter short name (0 for none).
  void Bool(const char* name, char shorthand, bool* out);
  void String(const char* name, char shorthand, std::string* out);
  /// Repeatable: every value in order.
  void List(const char* name, char shorthand, std::vector<std::string>* out);

  /// The positional arguments. With interspersed false, the first positional and everything
  /// after it are positionals (docker run IMAGE COMMAND ARGS...).
  Result<std::vector<std::string>> Parse(const std::vector<std::string>& args, bool interspersed);

  /// The flag was given on the command line (even with an empty value).
  bool Changed(const std::string& name) const { return changed_.count(name) > 0; }
  /// "-m, --memory" or "--name": how pflag names a flag in its errors.
  std::string Display(const std::string& name) const;

 private:
  enum class Kind { kBool, kString, kList };
  struct Flag {
    Kind kind;
    char shorthand;
    void* out;
  };
  Result<void> Set(const std::string& name, const Flag& f, const std::string& value);
  void Add(const char* name, char shorthand, Kind kind, void* out);

  std::map<std::string, Flag> flags_;
  std::map<char, std::string> shorthands_;
  std::map<std::string, int> changed_;
};

/// pflag's message for a value a flag cannot take.
Error InvalidFlagValue(const FlagSet& flags, const std::string& name, const std::string& value,
                       const std::string& why);

}  // namespace berth::cli
