#pragma once

// The commands of berth-runtime, one function each, with runc's flags and output. Each returns
// the process exit code; errors are returned to main, which prints and logs them once.

#include <string>
#include <vector>

#include "cmd/runtime/flags.h"
#include "runtime/container/runtime.h"
#include "util/result.h"

namespace berth::cmd {

struct Context {
  runtime::Runtime* runtime;
  const std::vector<std::string>* argv;
  size_t start;  // index of the command's first argument in argv
};

using CommandFn = Result<int> (*)(const Context&);

struct Command {
  const char* name;
  const char* summary;
  CommandFn fn;
};

/// The table of commands, in `--help` order.
const std::vector<Command>& Commands();

Result<int> CmdCreate(const Context& c);
Result<int> CmdStart(const Context& c);
Result<int> CmdRun(const Context& c);
Result<int> CmdState(const Context& c);
Result<int> CmdKill(const Context& c);
Result<int> CmdDelete(const Context& c);
Result<int> CmdExec(const Context& c);
Result<int> CmdPs(const Context& c);
Result<int> CmdList(const Context& c);
Result<int> CmdPause(const Context& c);
Result<int> CmdResume(const Context& c);
Result<int> CmdEvents(const Context& c);
Result<int> CmdUpdate(const Context& c);
Result<int> CmdFeatures(const Context& c);
Result<int> CmdSpec(const Context& c);

/// Exactly n positional arguments, else runc's usage error.
Result<void> NeedArgs(const Flags& f, size_t n, const char* cmd, const char* usage);

}  // namespace berth::cmd
