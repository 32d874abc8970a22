// `berth registry serve`: the registry in the foreground until SIGINT or SIGTERM.

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/http/router.h"
#include "api/http/server.h"
#include "registry/auth.h"
#include "registry/registry.h"
#include "registry/storage.h"
#include "util/log.h"

namespace berth::registry {
namespace {

const char kUsage[] =
    "\nUsage:  berth registry serve [OPTIONS]\n\n"
    "Serve an OCI Distribution registry in the foreground\n\n"
    "Options:\n"
    "      --addr string        Address to listen on, HOST:PORT (default \"127.0.0.1:5000\";\n"
    "                           port 0 picks a free one)\n"
    "      --root string        Directory of the registry's storage (default\n"
    "                           \"/var/lib/berth-registry\")\n"
    "      --htpasswd string    Require basic auth against this htpasswd file (bcrypt entries,\n"
    "                           htpasswd -B)\n"
    "      --log-level string   Log level: debug, info, warn, error (default \"info\")\n";

struct Flags {
  std::string addr = "127.0.0.1:5000";
  std::string root = "/var/lib/berth-registry";
  std::string htpasswd;
  std::string log_level = "info";
};

// Parses --flag value and --flag=value; returns false (after printing why) on a bad argument.
bool ParseFlags(const std::vector<std::string>& args, Flags* f) {
  struct Spec {
    const char* name;
    std::string* out;
  };
  Spec specs[] = {{"addr", &f->addr},
                  {"root", &f->root},
                  {"htpasswd", &f->htpasswd},
                  {"log-level", &f->log_level}};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool matched = false;
    for (auto& s : specs) {
      std::string flag = std::string("--") + s.name;
      if (a == flag) {
        if (i + 1 >= args.size()) {
          std::fprintf(stderr, "flag needs an argument: %s\n", flag.c_str());
          return false;
        }
        *s.out = args[++i];
        matched = true;
      } else if (a.rfind(flag + "=", 0) == 0) {
        *s.out = a.substr(flag.size() + 1);
        matched = true;
      }
      if (matched) break;
    }
    if (!matched) {
      std::fprintf(stderr, "unknown flag: %s\nSee 'berth registry serve --help'.\n", a.c_str());
      return false;
    }
  }
  return true;
}

// "127.0.0.1:5000", "[::1]:5000", ":5000" (all addresses).
bool SplitAddr(const std::string& addr, std::string* host, uint16_t* port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return false;
  *host = addr.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']')
    *host = host->substr(1, host->size() - 2);
  if (host->empty()) *host = "0.0.0.0";
  std::string p = addr.substr(colon + 1);
  if (p.empty() || p.size() > 5) return false;
  unsigned long v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

int Serve(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "-h" || a == "--help") {
      std::printf("%s", kUsage);
      return 0;
    }
  }
  Flags flags;
  if (!ParseFlags(args, &flags)) return 125;
  log::Level level;
  if (!log::ParseLevel(flags.log_level, &level)) {
    std::fprintf(stderr, "invalid log level: %s\n", flags.log_level.c_str());
    return 125;
  }
  log::Configure(level, log::Format::kText);
  const auto& logger = log::Get("registry");
  std::string host;
  uint16_t port = 0;
  if (!SplitAddr(flags.addr, &host, &port)) {
    std::fprintf(stderr, "invalid --addr %s: want HOST:PORT\n", flags.addr.c_str());
    return 125;
  }
  auto storage = Storage::Open(flags.root);
  if (!storage) {
    std::fprintf(stderr, "registry storage: %s\n", storage.error().message().c_str());
    return 1;
  }
  std::unique_ptr<Authorizer> auth;
  if (!flags.htpasswd.empty()) {
    auto a = HtpasswdAuthorizer::Load(flags.htpasswd);
    if (!a) {
      std::fprintf(stderr, "htpasswd: %s\n", a.error().message().c_str());
      return 1;
    }
    auth = std::move(*a);
  }
  Registry registry(storage->get(), auth.get());
  api::Router router;
  registry.AddRoutes(&router);

  // Signals are taken by one thread; every other thread (connections) has them blocked.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  api::Server server(router, Registry::ServerOptions());
  auto bound = server.ListenTcp(host, port);
  if (!bound) {
    std::fprintf(stderr, "%s\n", bound.error().message().c_str());
    return 1;
  }
  std::string where = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                      std::to_string(*bound);
  // One line on stdout that scripts wait for (the port, when --addr asked for port 0).
  std::printf("berth registry listening on %s\n", where.c_str());
  std::fflush(stdout);
  logger.Info({{"root", flags.root}, {"addr", where}, {"auth", auth ? "htpasswd" : "none"}},
              "serving the OCI distribution API");
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    logger.Info("received signal {}, shutting down", sig);
    server.Stop();
  });
  server.Serve();
  waiter.join();
  return 0;
}

}  // namespace

int Main(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::printf(
        "\nUsage:  berth registry COMMAND\n\nRun an OCI Distribution registry\n\nCommands:\n"
        "  serve       Serve a registry in the foreground\n");
    return 0;
  }
  if (args[0] == "serve") return Serve(std::vector<std::string>(args.begin() + 1, args.end()));
  std::fprintf(stderr, "berth registry: unknown command \"%s\"\nSee 'berth registry --help'.\n",
               args[0].c_str());
  return 1;
}

}  // namespace berth::registry
