// berth version [--format TEMPLATE]: the client's and the daemon's versions, as docker prints.

#include <sys/utsname.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/format/template.h"

namespace berth::cli {
namespace {

using nlohmann::json;

json ClientInfo() {
  return {{"Platform", {{"Name", ""}}},
          {"Version", "0.1.0"},
          {"ApiVersion", "1.51"},
          {"DefaultAPIVersion", "1.51"},
          {"GitCommit", ""},
          {"GoVersion", ""},
          {"Os", "linux"},
          {"Arch", "amd64"},
          {"BuildTime", ""},
          {"Context", "default"}};
}

void Line(std::string* out, const char* indent, const char* key, const std::string& value) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%s%-18s %s\n", indent, key, value.c_str());
  *out += buf;
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Result<int> CmdVersion(Env& env) {
  std::string format = BERTH_TRY(FormatFlagOnly(env.args, "version"));
  json data = {{"Client", ClientInfo()}};
  auto server_text = GetJson(*env.client, "/version");
  if (server_text) {
    auto server = json::parse(*server_text, nullptr, false);
    if (!server.is_discarded()) data["Server"] = server;
  }
  if (!format.empty()) {
    Template t = BERTH_TRY(Template::Parse(format));
    std::string out = BERTH_TRY(t.Execute(data));
    std::printf("%s\n", out.c_str());
    if (!server_text) return std::move(server_text).error();
    return 0;
  }
  std::string out = "Client:\n";
  const json& c = data["Client"];
  Line(&out, " ", "Version:", Str(c, "Version"));
  Line(&out, " ", "API version:", Str(c, "ApiVersion"));
  Line(&out, " ", "Built with:", "C++20, GCC " __VERSION__);
  Line(&out, " ", "OS/Arch:", "linux/amd64");
  Line(&out, " ", "Context:", "default");
  if (data.contains("Server")) {
    const json& s = data["Server"];
    std::string platform = s.contains("Platform") ? Str(s["Platform"], "Name") : "";
    out += "\nServer: " + platform + "\n Engine:\n";
    Line(&out, "  ", "Version:", Str(s, "Version"));
    Line(&out, "  ", "API version:",
         Str(s, "ApiVersion") + " (minimum version " + Str(s, "MinAPIVersion") + ")");
    Line(&out, "  ", "OS/Arch:", Str(s, "Os") + "/" + Str(s, "Arch"));
    Line(&out, "  ", "Kernel version:", Str(s, "KernelVersion"));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!server_text) return std::move(server_text).error();
  return 0;
}

}  // namespace berth::cli
