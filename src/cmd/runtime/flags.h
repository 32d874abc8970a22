#pragma once

// A command line parser with runc's (urfave/cli and Go flag) rules: flags before positional
// arguments, "-name" or "--name", "--name value" or "--name=value", booleans without a value
// (or "=true"/"=false"), "--" ends the flags. A flag may be given more than once.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::cmd {

struct FlagSpec {
  std::string name;        // "pid-file"
  std::string short_name;  // "p", or empty
  bool takes_value = false;
};

class Flags {
 public:
  bool Has(std::string_view name) const { return values_.count(std::string(name)) > 0; }
  /// The last value given, or def.
  std::string Get(std::string_view name, std::string def = "") const;
  const std::vector<std::string>& All(std::string_view name) const;
  bool Bool(std::string_view name) const;
  std::vector<std::string> args;  // positional arguments, in order

 private:
  friend Result<Flags> ParseFlags(const std::vector<std::string>&, size_t,
                                  const std::vector<FlagSpec>&);
  std::map<std::string, std::vector<std::string>> values_;
};

/// Parses argv[start...]. An unknown flag is an InvalidArgument error naming it.
Result<Flags> ParseFlags(const std::vector<std::string>& argv, size_t start,
                         const std::vector<FlagSpec>& specs);

}  // namespace berth::cmd
