#include "cli/cli.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace berth::cli {
namespace {

struct CommandEntry {
  const char* name;
  const char* summary;
  Result<int> (*fn)(Env&);
};

const CommandEntry kCommands[] = {
    {"version", "Show the Berth version information", CmdVersion},
    {"images", "List images", CmdImages},
    {"image", "Manage images", CmdImage},
    {"history", "Show the history of an image", CmdHistory},
    {"tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", CmdTag},
    {"rmi", "Remove one or more images", CmdRmi},
    {"import", "Import the contents from a tarball to create a filesystem image", CmdImport},
    {"inspect", "Return low-level information on Docker objects", CmdInspect},
    {"save", "Save one or more images to a tar archive (streamed to STDOUT by default)", CmdSave},
    {"load", "Load an image from a tar archive or STDIN", CmdLoad},
    {"build", "Build an image from a Dockerfile", CmdBuild},
    {"builder", "Manage builds", CmdBuilder},
    {"pull", "Download an image from a registry", CmdPull},
    {"push", "Upload an image to a registry", CmdPush},
    {"login", "Authenticate to a registry", CmdLogin},
    {"logout", "Log out from a registry", CmdLogout},
    {"info", "Display system-wide information", CmdInfo},
    {"system", "Manage Berth", CmdSystem},
    {"ps", "List containers", CmdPs},
    {"container", "Manage containers", CmdContainer},
    {"stop", "Stop one or more running containers", CmdStop},
    {"kill", "Kill one or more running containers", CmdKill},
    {"restart", "Restart one or more containers", CmdRestart},
    {"pause", "Pause all processes within one or more containers", CmdPause},
    {"unpause", "Unpause all processes within one or more containers", CmdUnpause},
    {"rm", "Remove one or more containers", CmdRm},
    {"rename", "Rename a container", CmdRename},
    {"port", "List port mappings or a specific mapping for the container", CmdPort},
    {"top", "Display the running processes of a container", CmdTop},
    {"diff", "Inspect changes to files or directories on a container's filesystem", CmdDiff},
    {"update", "Update configuration of one or more containers", CmdUpdate},
    {"commit", "Create a new image from a container's changes", CmdCommit},
    {"export", "Export a container's filesystem as a tar archive", CmdExport},
    {"stats", "Display a live stream of container(s) resource usage statistics", CmdStats},
    {"cp", "Copy files/folders between a container and the local filesystem", CmdCp},
    {"volume", "Manage volumes", CmdVolume},
    {"events", "Get real time events from the server", CmdEvents},
    {"run", "Create and run a new container from an image", CmdRun},
    {"create", "Create a new container", CmdCreate},
    {"start", "Start one or more stopped containers", CmdStart},
    {"attach", "Attach local standard input, output, and error streams to a running container",
     CmdAttach},
    {"exec", "Execute a command in a running container", CmdExec},
    {"logs", "Fetch the logs of a container", CmdLogs},
    {"wait", "Block until one or more containers stop, then print their exit codes", CmdWait},
};

void Usage() {
  std::printf("\nUsage:  berth [OPTIONS] COMMAND\n\nA container engine\n\nCommands:\n");
  for (const auto& c : kCommands) std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf(
      "\nGlobal Options:\n  -H, --host string   Daemon socket to connect to (default "
      "$BERTH_HOST, $DOCKER_HOST or unix:///run/berth/berth.sock)\n  -v, --version       "
      "Print version information and quit\n");
}

}  // namespace

namespace {
std::string api_prefix = "/v1.51";
}

std::string ApiPrefix() { return api_prefix; }

void NegotiateApiVersion(api::Client& client) {
  // As the docker CLI: HEAD /_ping, then min(ours, the daemon's Api-Version); no answer keeps
  // ours (the command's own request then reports the daemon missing).
  auto r = client.Do("HEAD", "/_ping");
  if (!r) return;
  auto it = r->headers.find("api-version");
  if (it == r->headers.end()) return;
  int major = 0, minor = 0;
  if (std::sscanf(it->second.c_str(), "%d.%d", &major, &minor) != 2) return;
  if (major < 1 || (major == 1 && minor < 51))
    api_prefix = "/v" + std::to_string(major) + "." + std::to_string(minor);
}

std::string QueryEscape(std::string_view s) {
  std::string out;
  const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Result<std::string> GetJson(api::Client& client, const std::string& path) {
  return Call(client, "GET", path);
}

Result<std::string> Call(api::Client& client, const std::string& method, const std::string& path,
                         std::string_view body,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  api::ClientResponse r = BERTH_TRY(client.Do(method, ApiPrefix() + path, body, headers));
  if (r.status / 100 != 2) {
    std::string msg = r.body;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string())
      msg = j["message"].get<std::string>();
    Error e(r.status == 404 ? ErrorCode::kNotFound : ErrorCode::kInternal,
            "Error response from daemon: " + msg);
    return e;
  }
  return r.body;
}

Result<std::string> FormatFlagOnly(const std::vector<std::string>& args, const char* command) {
  std::string format;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if ((a == "-f" || a == "--format") && i + 1 < args.size())
      format = args[++i];
    else if (a.rfind("--format=", 0) == 0)
      format = a.substr(9);
    else
      return Error::InvalidArgument("unknown flag: " + a + "\nSee 'berth " + command + " --help'.");
  }
  return format;
}

int Main(const std::vector<std::string>& argv) {
  std::string host = api::Client::DefaultHost();
  size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if ((a == "-H" || a == "--host") && i + 1 < argv.size()) {
      host = argv[++i];
    } else if (a.rfind("--host=", 0) == 0) {
      host = a.substr(7);
    } else if (a == "-v" || a == "--version") {
      std::printf("Berth version 0.1.0\n");
      return 0;
    } else if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else {
      break;
    }
  }
  if (i >= argv.size()) {
    Usage();
    return 0;
  }
  const std::string& name = argv[i];
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    api::Client client(host);
    NegotiateApiVersion(client);
    Env env{&client, std::vector<std::string>(argv.begin() + static_cast<long>(i) + 1, argv.end())};
    auto code = c.fn(env);
    if (code) return *code;
    std::fprintf(stderr, "%s\n", code.error().message().c_str());
    return 1;
  }
  std::fprintf(stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'\n", name.c_str());
  return 1;
}

}  // namespace berth::cli
