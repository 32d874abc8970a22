// berth pull, push, login and logout: POST /images/create?fromImage=, /images/{name}/push and
// /auth, with the credentials of docker's config.json ($DOCKER_CONFIG/config.json, else
// ~/.docker/config.json: {"auths": {"127.0.0.1:5000": {"auth": base64("user:password")}}})
// sent as X-Registry-Auth, and the daemon's JSON progress drawn as the docker CLI draws it
// (bars redrawn in place on a terminal; only the status lines otherwise).

#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/cli.h"
#include "cli/commands/container_util.h"
#include "util/file.h"

namespace berth::cli {
namespace {

using nlohmann::json;

constexpr const char* kDockerHubServer = "https://index.docker.io/v1/";

std::string Base64(std::string_view in, bool url) {
  const char* a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                      : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += a[(v >> s) & 63];
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (rest == 2) v |= uint8_t(in[i + 1]) << 8;
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += rest == 2 ? a[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Unbase64(std::string_view in) {
  std::string out;
  uint32_t v = 0;
  int bits = 0;
  for (char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z')
      d = c - 'A';
    else if (c >= 'a' && c <= 'z')
      d = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      d = c - '0' + 52;
    else if (c == '+' || c == '-')
      d = 62;
    else if (c == '/' || c == '_')
      d = 63;
    else if (c == '=')
      break;
    else
      return Error::InvalidArgument("invalid base64");
    v = (v << 6) | uint32_t(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

// The registry a reference names, as config.json keys it: "127.0.0.1:5000", or Docker Hub's
// "https://index.docker.io/v1/".
std::string RegistryOf(const std::string& image) {
  auto slash = image.find('/');
  if (slash == std::string::npos) return kDockerHubServer;
  std::string first = image.substr(0, slash);
  bool domain = first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
                first == "localhost";
  if (!domain || first == "docker.io" || first == "index.docker.io") return kDockerHubServer;
  return first;
}

// A server as `docker login` takes it ("http://127.0.0.1:5000/v2/" → "127.0.0.1:5000").
std::string ServerKey(std::string server) {
  if (server.empty()) return kDockerHubServer;
  if (auto s = server.find("://"); s != std::string::npos) server = server.substr(s + 3);
  server = server.substr(0, server.find('/'));
  if (server == "docker.io" || server == "index.docker.io" || server == "registry-1.docker.io")
    return kDockerHubServer;
  return server;
}

std::string ConfigPath() {
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d) return std::string(d) + "/config.json";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.docker/config.json";
}

Result<json> LoadConfig() {
  auto text = ReadFile(ConfigPath(), 16 << 20);
  if (!text) {
    if (text.error().IsNotFound()) return json::object();
    return std::move(text).error();
  }
  auto j = json::parse(*text, nullptr, false);
  if (!j.is_object())
    return Error::InvalidArgument("loading config file " + ConfigPath() + ": invalid JSON");
  return j;
}

Result<void> SaveConfig(const json& j) {
  std::string path = ConfigPath();
  std::string dir = path.substr(0, path.rfind('/'));
  ::mkdir(dir.c_str(), 0700);
  return WriteFileReplace(path, j.dump(1, '\t') + "\n", 0600);
}

struct Creds {
  std::string username, password;
};

Creds StoredCreds(const std::string& server) {
  Creds c;
  auto j = LoadConfig();
  if (!j || !j->contains("auths") || !(*j)["auths"].is_object()) return c;
  const json& auths = (*j)["auths"];
  auto it = auths.find(server);
  if (it == auths.end() || !it->is_object()) return c;
  if (auto a = it->find("auth"); a != it->end() && a->is_string()) {
    auto plain = Unbase64(a->get<std::string>());
    if (plain) {
      auto colon = plain->find(':');
      c.username = plain->substr(0, colon);
      if (colon != std::string::npos) c.password = plain->substr(colon + 1);
    }
  }
  return c;
}

// X-Registry-Auth: base64url of the AuthConfig, as the docker CLI sends it ("e30=" for none).
std::string RegistryAuthHeader(const std::string& server) {
  Creds c = StoredCreds(server);
  json j = json::object();
  if (!c.username.empty() || !c.password.empty())
    j = {{"username", c.username}, {"password", c.password}, {"serveraddress", server}};
  return Base64(j.dump(), true);
}

// Draws docker's JSON messages (pkg/jsonmessage): on a terminal one line per id, redrawn in
// place with its progress bar; otherwise every status line, no bars. Returns the stream's
// error as an Error.
class MessageDisplay {
 public:
  MessageDisplay(bool tty, std::FILE* out) : tty_(tty), out_(out) {}

  void Feed(std::string_view data) {
    buf_.append(data);
    size_t nl;
    while ((nl = buf_.find('\n')) != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      Line(line);
    }
  }
  std::optional<std::string> error() const { return error_; }

 private:
  void Line(const std::string& line) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object()) return;
    if (j.contains("error")) {
      error_ = j["error"].is_string() ? j["error"].get<std::string>() : line;
      return;
    }
    if (j.contains("stream") && j["stream"].is_string()) {
      std::fputs(j["stream"].get<std::string>().c_str(), out_);
      return;
    }
    if (!j.contains("status") || !j["status"].is_string()) return;
    std::string id = j.value("id", "");
    std::string status = j["status"].get<std::string>();
    std::string progress =
        j.contains("progress") && j["progress"].is_string() ? j["progress"].get<std::string>() : "";
    if (!tty_) {
      if (!progress.empty()) return;
      std::fprintf(out_, "%s%s\n", id.empty() ? "" : (id + ": ").c_str(), status.c_str());
      std::fflush(out_);
      return;
    }
    std::string text =
        (id.empty() ? "" : id + ": ") + status + (progress.empty() ? "" : " " + progress);
    if (id.empty()) {
      std::fprintf(out_, "%s\n", text.c_str());
    } else {
      auto [it, added] = rows_.emplace(id, rows_.size());
      if (added) {
        std::fprintf(out_, "%s\n", text.c_str());
      } else {
        size_t up = rows_.size() - it->second;
        std::fprintf(out_, "\x1b[%zuA\r\x1b[2K%s\x1b[%zuB\r", up, text.c_str(), up);
      }
    }
    std::fflush(out_);
  }

  bool tty_;
  std::FILE* out_;
  std::string buf_;
  std::map<std::string, size_t> rows_;  // id → its line, counted from the first
  std::optional<std::string> error_;
};

// Sends a request whose answer is a JSON message stream and draws it.
Result<void> StreamMessages(api::Client& client, const std::string& path,
                            const std::string& auth_header, bool quiet, std::FILE* out = stdout) {
  MessageDisplay display(!quiet && ::isatty(::fileno(out)), out);
  std::string collected;
  auto r = BERTH_TRY(client.Do("POST", ApiPrefix() + path, {}, {{"X-Registry-Auth", auth_header}},
                               [&](std::string_view chunk) {
                                 collected.append(chunk);
                                 if (!quiet) display.Feed(chunk);
                                 return true;
                               }));
  if (r.status / 100 != 2) {
    std::string msg = collected.empty() ? r.body : collected;
    auto j = json::parse(msg, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string())
      msg = j["message"].get<std::string>();
    return Error::Internal("Error response from daemon: " + msg);
  }
  if (quiet) display.Feed(collected);
  if (auto e = display.error()) return Error::Internal(*e);
  return {};
}

bool Flag(const std::string& a, const char* short_name, const char* long_name) {
  return (short_name && a == short_name) || a == long_name;
}

}  // namespace

Result<void> PullImage(api::Client& client, const std::string& name, const std::string& tag,
                       const std::string& platform, std::FILE* out) {
  std::string path = "/images/create?fromImage=" + QueryEscape(name) + "&tag=" + QueryEscape(tag);
  if (!platform.empty()) path += "&platform=" + QueryEscape(platform);
  return StreamMessages(client, path, RegistryAuthHeader(RegistryOf(name)), false, out);
}

Result<int> CmdPull(Env& env) {
  std::string image, platform;
  bool quiet = false, all_tags = false;
  for (size_t i = 0; i < env.args.size(); ++i) {
    const std::string& a = env.args[i];
    if (Flag(a, "-q", "--quiet"))
      quiet = true;
    else if (Flag(a, "-a", "--all-tags"))
      all_tags = true;
    else if (a == "--platform" && i + 1 < env.args.size())
      platform = env.args[++i];
    else if (a.rfind("--platform=", 0) == 0)
      platform = a.substr(11);
    else if (!a.empty() && a[0] == '-')
      return Error::InvalidArgument("unknown flag: " + a + "\nSee 'berth pull --help'.");
    else if (image.empty())
      image = a;
    else
      return Error::InvalidArgument("\"berth pull\" requires exactly 1 argument.");
  }
  if (image.empty()) return Error::InvalidArgument("\"berth pull\" requires exactly 1 argument.");
  if (all_tags) return Error::NotImplemented("berth pull --all-tags is not supported yet");
  auto [name, tag] = SplitRef(image, true);
  std::string path = "/images/create?fromImage=" + QueryEscape(name) + "&tag=" + QueryEscape(tag);
  if (!platform.empty()) path += "&platform=" + QueryEscape(platform);
  BERTH_TRY(StreamMessages(*env.client, path, RegistryAuthHeader(RegistryOf(name)), quiet));
  if (quiet)
    std::printf("%s%s%s\n", name.c_str(), tag.rfind("sha256:", 0) == 0 ? "@" : ":", tag.c_str());
  return 0;
}

Result<int> CmdPush(Env& env) {
  std::string image;
  bool quiet = false, all_tags = false;
  for (const auto& a : env.args) {
    if (Flag(a, "-q", "--quiet"))
      quiet = true;
    else if (Flag(a, "-a", "--all-tags"))
      all_tags = true;
    else if (!a.empty() && a[0] == '-')
      return Error::InvalidArgument("unknown flag: " + a + "\nSee 'berth push --help'.");
    else if (image.empty())
      image = a;
    else
      return Error::InvalidArgument("\"berth push\" requires exactly 1 argument.");
  }
  if (image.empty()) return Error::InvalidArgument("\"berth push\" requires exactly 1 argument.");
  auto [name, tag] = SplitRef(image, !all_tags);
  if (all_tags && !tag.empty())
    return Error::InvalidArgument("tag can't be used with --all-tags/-a");
  if (!quiet && !all_tags && SplitRef(image, false).second.empty())
    std::printf("Using default tag: latest\n");
  std::string path = "/images/" + name + "/push" + (tag.empty() ? "" : "?tag=" + QueryEscape(tag));
  BERTH_TRY(StreamMessages(*env.client, path, RegistryAuthHeader(RegistryOf(name)), quiet));
  if (quiet) std::printf("%s\n", image.c_str());
  return 0;
}

Result<int> CmdLogin(Env& env) {
  std::string user, password, server;
  bool password_stdin = false, password_flag = false;
  for (size_t i = 0; i < env.args.size(); ++i) {
    const std::string& a = env.args[i];
    auto value = [&](const char* prefix) { return a.substr(std::string(prefix).size()); };
    if (Flag(a, "-u", "--username") && i + 1 < env.args.size())
      user = env.args[++i];
    else if (a.rfind("--username=", 0) == 0)
      user = value("--username=");
    else if (Flag(a, "-p", "--password") && i + 1 < env.args.size())
      password = env.args[++i], password_flag = true;
    else if (a.rfind("--password=", 0) == 0)
      password = value("--password="), password_flag = true;
    else if (a == "--password-stdin")
      password_stdin = true;
    else if (!a.empty() && a[0] == '-')
      return Error::InvalidArgument("unknown flag: " + a + "\nSee 'berth login --help'.");
    else if (server.empty())
      server = a;
    else
      return Error::InvalidArgument("\"berth login\" requires at most 1 argument.");
  }
  if (password_flag && password_stdin)
    return Error::InvalidArgument("--password and --password-stdin are mutually exclusive");
  if (password_flag)
    std::fprintf(stderr,
                 "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
  if (password_stdin) {
    if (user.empty())
      return Error::InvalidArgument("Must provide --username with --password-stdin");
    std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    while (!all.empty() && (all.back() == '\n' || all.back() == '\r')) all.pop_back();
    password = all;
  }
  std::string key = ServerKey(server);
  if (user.empty() || password.empty()) {
    if (!::isatty(STDIN_FILENO))
      return Error::InvalidArgument(
          "Error: Cannot perform an interactive login from a non TTY device");
    if (user.empty()) {
      std::printf("Username: ");
      std::fflush(stdout);
      std::getline(std::cin, user);
    }
    std::printf("Password: ");
    std::fflush(stdout);
    termios old{};
    bool echo_off = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (echo_off) {
      termios quiet = old;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::getline(std::cin, password);
    if (echo_off) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::printf("\n");
    if (user.empty()) return Error::InvalidArgument("Error: Non-null Username Required");
    if (password.empty()) return Error::InvalidArgument("Error: Password Required");
  }
  json body = {{"username", user}, {"password", password}, {"serveraddress", key}};
  std::string answer = BERTH_TRY(
      Call(*env.client, "POST", "/auth", body.dump(), {{"Content-Type", "application/json"}}));
  json cfg = BERTH_TRY(LoadConfig());
  if (!cfg.contains("auths") || !cfg["auths"].is_object()) cfg["auths"] = json::object();
  cfg["auths"][key] = {{"auth", Base64(user + ":" + password, false)}};
  auto a = json::parse(answer, nullptr, false);
  if (a.is_object() && a.contains("IdentityToken") && a["IdentityToken"].is_string() &&
      !a["IdentityToken"].get<std::string>().empty())
    cfg["auths"][key]["identitytoken"] = a["IdentityToken"];
  BERTH_TRY(SaveConfig(cfg));
  std::printf("\nWARNING! Your credentials are stored unencrypted in '%s'.\n\nLogin Succeeded\n",
              ConfigPath().c_str());
  return 0;
}

Result<int> CmdLogout(Env& env) {
  if (env.args.size() > 1)
    return Error::InvalidArgument("\"berth logout\" requires at most 1 argument.");
  std::string key = ServerKey(env.args.empty() ? "" : env.args[0]);
  json cfg = BERTH_TRY(LoadConfig());
  if (!cfg.contains("auths") || !cfg["auths"].is_object() || !cfg["auths"].contains(key)) {
    std::printf("Not logged in to %s\n", key.c_str());
    return 0;
  }
  std::printf("Removing login credentials for %s\n", key.c_str());
  cfg["auths"].erase(key);
  BERTH_TRY(SaveConfig(cfg));
  return 0;
}

}  // namespace berth::cli
