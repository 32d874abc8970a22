// libFuzzer target for the berth-runtime command line parser: the input is argv, split at NUL
// bytes, parsed against a fixed set of flags of both kinds.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "cmd/runtime/flags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<berth::cmd::FlagSpec> kSpecs = {
      {"bundle", "b", true},  {"pid-file", "", true}, {"console-socket", "", true},
      {"detach", "d", false}, {"force", "f", false},  {"env", "e", true},
      {"tty", "t", false},    {"all", "a", false},
  };
  std::vector<std::string> argv;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      argv.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  argv.push_back(cur);
  size_t start = argv.empty() ? 0 : data[0] % (argv.size() + 1);
  auto r = berth::cmd::ParseFlags(argv, start, kSpecs);
  if (!r) {
    if (!r.error().IsInvalidArgument()) std::abort();
    return 0;
  }
  // Positional arguments are a tail of argv.
  if (r->args.size() > argv.size() - std::min(start, argv.size())) std::abort();
  for (size_t i = 0; i < r->args.size(); ++i)
    if (r->args[i] != argv[argv.size() - r->args.size() + i]) std::abort();
  for (const auto& s : kSpecs) {
    (void)r->Get(s.name);
    (void)r->All(s.name);
    bool b = r->Bool(s.name);
    if (!s.takes_value && r->Has(s.name) && r->Get(s.name) != (b ? "true" : "false")) std::abort();
  }
  return 0;
}
