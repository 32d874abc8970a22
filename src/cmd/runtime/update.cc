#include <unistd.h>
#include <cstdlib>

#include "cmd/runtime/commands.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::cmd {
namespace {

// "64m", "1G", "1024" → bytes (docker's RAMInBytes: binary units); "-1" stays -1.
Result<int64_t> ParseBytes(const std::string& s) {
  if (s == "-1") return -1;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || v < 0) return Error::InvalidArgument("invalid size: " + s);
  std::string unit = end;
  for (auto& ch : unit) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  double mult = 1;
  if (unit == "k")
    mult = 1024.0;
  else if (unit == "m")
    mult = 1024.0 * 1024;
  else if (unit == "g")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "t")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty())
    return Error::InvalidArgument("invalid size: " + s);
  return static_cast<int64_t>(v * mult);
}

Result<int64_t> ParseInt(const std::string& s) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end) return Error::InvalidArgument("invalid number: " + s);
  return static_cast<int64_t>(v);
}

}  // namespace

Result<int> CmdUpdate(const Context& c) {
  Flags f = BERTH_TRY(ParseFlags(*c.argv, c.start,
                                 {{"resources", "r", true},
                                  {"blkio-weight", "", true},
                                  {"cpu-period", "", true},
                                  {"cpu-quota", "", true},
                                  {"cpu-share", "", true},
                                  {"cpu-rt-period", "", true},
                                  {"cpu-rt-runtime", "", true},
                                  {"cpuset-cpus", "", true},
                                  {"cpuset-mems", "", true},
                                  {"memory", "", true},
                                  {"memory-reservation", "", true},
                                  {"memory-swap", "", true},
                                  {"pids-limit", "", true},
                                  {"kernel-memory", "", true},
                                  {"kernel-memory-tcp", "", true},
                                  {"l3-cache-schema", "", true},
                                  {"mem-bw-schema", "", true}}));
  BERTH_TRY(NeedArgs(f, 1, "update", "[command options] <container-id>"));
  oci::Resources res;
  if (f.Has("resources")) {
    std::string path = f.Get("resources");
    std::string text = path == "-" ? BERTH_TRY(ReadAll(0, oci::kMaxConfigBytes))
                                   : BERTH_TRY(ReadFile(path, oci::kMaxConfigBytes));
    res = BERTH_TRY(oci::ParseResources(text));
  }
  auto cpu = [&]() -> oci::Cpu& {
    if (!res.cpu) res.cpu.emplace();
    return *res.cpu;
  };
  auto mem = [&]() -> oci::Memory& {
    if (!res.memory) res.memory.emplace();
    return *res.memory;
  };
  if (f.Has("cpu-period")) cpu().period = BERTH_TRY(ParseInt(f.Get("cpu-period")));
  if (f.Has("cpu-quota")) cpu().quota = BERTH_TRY(ParseInt(f.Get("cpu-quota")));
  if (f.Has("cpu-share")) cpu().shares = BERTH_TRY(ParseInt(f.Get("cpu-share")));
  if (f.Has("cpu-rt-period")) cpu().realtime_period = BERTH_TRY(ParseInt(f.Get("cpu-rt-period")));
  if (f.Has("cpu-rt-runtime"))
    cpu().realtime_runtime = BERTH_TRY(ParseInt(f.Get("cpu-rt-runtime")));
  if (f.Has("cpuset-cpus")) cpu().cpus = f.Get("cpuset-cpus");
  if (f.Has("cpuset-mems")) cpu().mems = f.Get("cpuset-mems");
  if (f.Has("memory")) mem().limit = BERTH_TRY(ParseBytes(f.Get("memory")));
  if (f.Has("memory-reservation"))
    mem().reservation = BERTH_TRY(ParseBytes(f.Get("memory-reservation")));
  if (f.Has("memory-swap")) mem().swap = BERTH_TRY(ParseBytes(f.Get("memory-swap")));
  if (f.Has("pids-limit")) res.pids = oci::Pids{BERTH_TRY(ParseInt(f.Get("pids-limit")))};
  if (f.Has("blkio-weight")) {
    if (!res.block_io) res.block_io.emplace();
    res.block_io->weight = static_cast<uint16_t>(BERTH_TRY(ParseInt(f.Get("blkio-weight"))));
  }
  if (f.Has("l3-cache-schema") || f.Has("mem-bw-schema"))
    return Error::NotImplemented("intel RDT is not supported on this host");
  BERTH_TRY(c.runtime->Update(f.args[0], res));
  return 0;
}

}  // namespace berth::cmd
