// berth info / system info [--format TEMPLATE]: the daemon's view of itself, as docker prints.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/format/template.h"

namespace berth::cli {
namespace {

using nlohmann::json;

std::string Field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  return it->dump();
}

// go-units' BytesSize: binary units with two decimals ("23.47GiB").
std::string BinarySize(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int i = 0;
  while (bytes >= 1024 && i < 5) {
    bytes /= 1024;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", bytes, units[i]);
  return buf;
}

}  // namespace

Result<int> CmdInfo(Env& env) {
  std::string format = BERTH_TRY(FormatFlagOnly(env.args, "info"));
  std::string text = BERTH_TRY(GetJson(*env.client, "/info"));
  json info = json::parse(text, nullptr, false);
  if (!info.is_object()) return Error::Internal("Error response from daemon: invalid /info answer");
  if (!format.empty()) {
    Template t = BERTH_TRY(Template::Parse(format));
    std::string out = BERTH_TRY(t.Execute(info));
    std::printf("%s\n", out.c_str());
    return 0;
  }
  std::string out =
      "Client:\n Version:    0.1.0\n Context:    default\n Debug Mode: false\n\nServer:\n";
  auto line = [&](const char* key, const std::string& value) {
    out += " ";
    out += key;
    out += ": " + value + "\n";
  };
  line("Containers", Field(info, "Containers"));
  out += "  Running: " + Field(info, "ContainersRunning") + "\n";
  out += "  Paused: " + Field(info, "ContainersPaused") + "\n";
  out += "  Stopped: " + Field(info, "ContainersStopped") + "\n";
  line("Images", Field(info, "Images"));
  line("Server Version", Field(info, "ServerVersion"));
  line("Storage Driver", Field(info, "Driver"));
  line("Logging Driver", Field(info, "LoggingDriver"));
  line("Cgroup Driver", Field(info, "CgroupDriver"));
  line("Cgroup Version", Field(info, "CgroupVersion"));
  line("Default Runtime", Field(info, "DefaultRuntime"));
  line("Kernel Version", Field(info, "KernelVersion"));
  line("Operating System", Field(info, "OperatingSystem"));
  line("OSType", Field(info, "OSType"));
  line("Architecture", Field(info, "Architecture"));
  line("CPUs", Field(info, "NCPU"));
  double mem = info.value("MemTotal", 0.0);
  line("Total Memory", BinarySize(mem));
  line("Name", Field(info, "Name"));
  line("ID", Field(info, "ID"));
  line("Docker Root Dir", Field(info, "DockerRootDir"));
  line("Debug Mode", Field(info, "Debug"));
  line("Experimental", Field(info, "ExperimentalBuild"));
  line("Live Restore Enabled", Field(info, "LiveRestoreEnabled"));
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace berth::cli
