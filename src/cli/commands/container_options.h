#pragma once

// The flags of `berth run` and `berth create`, turned into the body of POST /containers/create
// (Config with HostConfig and NetworkingConfig inside) exactly as the docker CLI builds it,
// field for field, so that a daemon cannot tell the two clients apart.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "util/result.h"

namespace berth::cli {

struct ContainerOptions {
  nlohmann::ordered_json body;
  std::string image;
  std::string name;      // ?name=
  std::string platform;  // ?platform=
  std::string pull = "missing";
  std::string cidfile;
  std::string detach_keys;
  bool detach = false;
  bool sig_proxy = true;
  bool quiet = false;
  bool auto_remove = false;
  bool tty = false;
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
};

/// How a parse failed, for the exit code and the wording docker uses: kFlag (125, followed by
/// the usage line), kValue (125, "berth: MSG" and the --help hint) or kArgs (1: no IMAGE).
enum class ParseFailure { kFlag, kValue, kArgs };
struct ParseError {
  ParseFailure kind;
  std::string message;
};

/// Parses ARGS of `berth run` (run = true: also -d, --sig-proxy, --detach-keys) or `berth
/// create`. console is the terminal size of stdout ({0, 0} when it is not a terminal), sent as
/// HostConfig.ConsoleSize as docker does. lookup_env reads the client's environment for
/// `-e NAME` and env-file lines without a value.
std::variant<ContainerOptions, ParseError> ParseContainerOptions(
    const std::vector<std::string>& args, bool run, std::pair<int, int> console,
    const std::function<const char*(const char*)>& lookup_env);

/// Docker's byte sizes (go-units RAMInBytes): "64m", "1.5g", "100kb", "512" → bytes, with
/// binary multipliers. InvalidArgument "invalid size: 'X'" otherwise.
Result<int64_t> ParseRamBytes(const std::string& s);
/// --cpus "1.5" → 1500000000 nano CPUs.
Result<int64_t> ParseNanoCpus(const std::string& s);

}  // namespace berth::cli
