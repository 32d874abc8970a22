// berth: the CLI (src/cli/), and `berth registry`, which runs the registry server itself
// rather than asking berthd (src/registry/).

#include <string>
#include <vector>

#include "cli/cli.h"
#include "registry/registry.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() >= 2 && args[1] == "registry")
    return berth::registry::Main(std::vector<std::string>(args.begin() + 2, args.end()));
  return berth::cli::Main(args);
}
