// berth: the CLI (src/cli/).

#include <string>
#include <vector>

#include "cli/cli.h"

int main(int argc, char** argv) {
  return berth::cli::Main(std::vector<std::string>(argv, argv + argc));
}
