// `berth registry serve`: the registry in the foreground until SIGINT or SIGTERM.

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/http/router.h"
#include "api/http/server.h"
#include "registry/auth.h"
#include "registry/gc.h"
#include "registry/registry.h"
#include "registry/storage.h"
#include "registry/tls.h"
#include "registry/token.h"
#include "util/file.h"
#include "util/log.h"

namespace berth::registry {
namespace {

const char kUsage[] =
    "\nUsage:  berth registry serve [OPTIONS]\n\n"
    "Serve an OCI Distribution registry in the foreground\n\n"
    "Options:\n"
    "      --addr string            Address to listen on, HOST:PORT (default \"127.0.0.1:5000\"; "
    "port\n"
    "                               0 picks a free one)\n"
    "      --root string            Directory of the registry's storage (default\n"
    "                               \"/var/lib/berth-registry\")\n"
    "      --tls-cert string        Serve HTTPS with this PEM certificate (chain, leaf first)\n"
    "      --tls-key string         The PEM private key of --tls-cert\n"
    "      --htpasswd string        Require basic auth against this htpasswd file (bcrypt "
    "entries,\n"
    "                               htpasswd -B)\n"
    "      --token-realm string     Require bearer tokens (Docker's token spec); clients get them "
    "at\n"
    "                               this URL. A path (\"/token\") is served by the registry "
    "itself,\n"
    "                               issuing tokens to the users of --htpasswd\n"
    "      --token-service string   The service tokens are for, their aud (default "
    "\"berth-registry\")\n"
    "      --token-issuer string    The issuer of tokens, their iss (default \"berth-registry\")\n"
    "      --token-key string       PEM key of tokens: a private key (EC P-256: ES256, RSA: "
    "RS256)\n"
    "                               signs and verifies; a public key or certificate only verifies "
    "an\n"
    "                               outside issuer's tokens (default: a fresh P-256 key at each\n"
    "                               start)\n"
    "      --token-expiry int       Seconds a token issued here lasts (default 300)\n"
    "      --gc-interval string     Collect garbage while serving, at this interval (\"30m\", "
    "\"6h\";\n"
    "                               default 0: never; see 'berth registry gc')\n"
    "      --gc-grace string        Spare unreferenced blobs younger than this (default \"2h\")\n"
    "      --log-level string       Log level: debug, info, warn, error (default \"info\")\n";

const char kGcUsage[] =
    "\nUsage:  berth registry gc [OPTIONS]\n\n"
    "Delete the blobs no manifest of any repository references; safe while a registry\n"
    "serves the same root\n\n"
    "Options:\n"
    "      --root string        Directory of the registry's storage (default\n"
    "                           \"/var/lib/berth-registry\")\n"
    "      --grace string       Spare unreferenced blobs younger than this: pushes in\n"
    "                           progress (default \"2h\")\n"
    "      --dry-run            Print what would be deleted, delete nothing\n";

struct Flags {
  std::string addr = "127.0.0.1:5000";
  std::string root = "/var/lib/berth-registry";
  std::string htpasswd;
  std::string log_level = "info";
  std::string token_realm;
  std::string token_service = "berth-registry";
  std::string token_issuer = "berth-registry";
  std::string token_key;
  std::string token_expiry = "300";
  std::string gc_interval = "0";
  std::string gc_grace = "2h";
  std::string tls_cert;
  std::string tls_key;
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
                  {"log-level", &f->log_level},
                  {"token-realm", &f->token_realm},
                  {"token-service", &f->token_service},
                  {"token-issuer", &f->token_issuer},
                  {"token-key", &f->token_key},
                  {"token-expiry", &f->token_expiry},
                  {"gc-interval", &f->gc_interval},
                  {"gc-grace", &f->gc_grace},
                  {"tls-cert", &f->tls_cert},
                  {"tls-key", &f->tls_key}};
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

// The authorizer the flags ask for: none, htpasswd basic auth, or bearer tokens (issued here to
// the htpasswd users, or by an outside issuer whose key is --token-key).
Result<std::unique_ptr<Authorizer>> MakeAuthorizer(const Flags& flags) {
  std::unique_ptr<HtpasswdAuthorizer> users;
  if (!flags.htpasswd.empty()) {
    auto a = HtpasswdAuthorizer::Load(flags.htpasswd);
    if (!a) return Error(a.error().code(), "htpasswd: " + a.error().message());
    users = std::move(*a);
  }
  if (flags.token_realm.empty()) return std::unique_ptr<Authorizer>(std::move(users));
  TokenOptions o;
  o.realm = flags.token_realm;
  o.service = flags.token_service;
  o.issuer = flags.token_issuer;
  o.tls = !flags.tls_cert.empty();
  char* end = nullptr;
  long long expiry = std::strtoll(flags.token_expiry.c_str(), &end, 10);
  if (flags.token_expiry.empty() || *end || expiry <= 0 || expiry > 86400)
    return Error::InvalidArgument("invalid --token-expiry " + flags.token_expiry +
                                  ": want seconds, 1 to 86400");
  o.expires_in = expiry;
  auto key = flags.token_key.empty() ? TokenKey::Generate() : TokenKey::Load(flags.token_key);
  if (!key) return Error(key.error().code(), "token key: " + key.error().message());
  if (o.realm.starts_with("/") && (!users || !(*key)->can_sign()))
    return Error::InvalidArgument(
        "--token-realm " + o.realm +
        " is served here: it needs --htpasswd (the users) and a --token-key that signs");
  if (!users && flags.token_key.empty())
    return Error::InvalidArgument("--token-realm of an outside issuer needs its --token-key");
  return std::unique_ptr<Authorizer>(new TokenAuthorizer(o, std::move(*key), std::move(users)));
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
  int64_t gc_interval = 0, gc_grace = 0;
  if (!ParseDuration(flags.gc_interval, &gc_interval) ||
      !ParseDuration(flags.gc_grace, &gc_grace)) {
    std::fprintf(stderr, "invalid --gc-interval or --gc-grace: want a duration (90s, 15m, 2h)\n");
    return 125;
  }
  auto storage = Storage::Open(flags.root);
  if (!storage) {
    std::fprintf(stderr, "registry storage: %s\n", storage.error().message().c_str());
    return 1;
  }
  auto auth = MakeAuthorizer(flags);
  if (!auth) {
    std::fprintf(stderr, "%s\n", auth.error().message().c_str());
    return 1;
  }
  Registry registry(storage->get(), auth->get());
  api::Router router;
  registry.AddRoutes(&router);

  // Signals are taken by one thread; every other thread (connections) has them blocked.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    std::fprintf(stderr, "--tls-cert and --tls-key go together\n");
    return 125;
  }
  api::Server server(router, Registry::ServerOptions());
  std::unique_ptr<TlsFront> tls;
  if (!flags.tls_cert.empty()) {
    auto t = TlsFront::Create(flags.tls_cert, flags.tls_key);
    if (!t) {
      std::fprintf(stderr, "%s\n", t.error().message().c_str());
      return 1;
    }
    tls = std::move(*t);
  }
  auto bound = tls ? tls->Listen(host, port) : server.ListenTcp(host, port);
  if (!bound) {
    std::fprintf(stderr, "%s\n", bound.error().message().c_str());
    return 1;
  }
  std::string where = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                      std::to_string(*bound);
  // One line on stdout that scripts wait for (the port, when --addr asked for port 0).
  std::printf("berth registry listening on %s\n", where.c_str());
  std::fflush(stdout);
  logger.Info({{"root", flags.root},
               {"addr", where},
               {"tls", tls ? "yes" : "no"},
               {"auth", !flags.token_realm.empty() ? "token"
                        : !flags.htpasswd.empty()  ? "htpasswd"
                                                   : "none"}},
              "serving the OCI distribution API");
  // Online garbage collection: a thread of its own; the server goes on serving (gc.h).
  std::mutex gc_mu;
  std::condition_variable gc_cv;
  bool done = false;
  std::thread collector;
  if (gc_interval > 0) {
    collector = std::thread([&] {
      std::unique_lock<std::mutex> lock(gc_mu);
      while (!gc_cv.wait_for(lock, std::chrono::seconds(gc_interval), [&] { return done; })) {
        lock.unlock();
        GcOptions o;
        o.grace_seconds = gc_grace;
        if (auto r = CollectGarbage(**storage, o); !r)
          logger.Error("garbage collection: {}", r.error().message());
        lock.lock();
      }
    });
  }
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    logger.Info("received signal {}, shutting down", sig);
    if (tls) tls->Stop();
    server.Stop();
  });
  if (tls)
    tls->Serve(server);
  else
    server.Serve();
  waiter.join();
  {
    std::lock_guard<std::mutex> lock(gc_mu);
    done = true;
  }
  gc_cv.notify_all();
  if (collector.joinable()) collector.join();
  return 0;
}

int Gc(const std::vector<std::string>& args) {
  std::string root = "/var/lib/berth-registry", grace = "2h";
  GcOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const char* name, std::string* out) {
      std::string flag = std::string("--") + name;
      if (a == flag && i + 1 < args.size()) {
        *out = args[++i];
        return true;
      }
      if (a.rfind(flag + "=", 0) == 0) {
        *out = a.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    if (a == "-h" || a == "--help") {
      std::printf("%s", kGcUsage);
      return 0;
    } else if (a == "--dry-run") {
      o.dry_run = true;
    } else if (!value("root", &root) && !value("grace", &grace)) {
      std::fprintf(stderr, "unknown flag: %s\nSee 'berth registry gc --help'.\n", a.c_str());
      return 125;
    }
  }
  if (!ParseDuration(grace, &o.grace_seconds)) {
    std::fprintf(stderr, "invalid --grace %s: want a duration (90s, 15m, 2h)\n", grace.c_str());
    return 125;
  }
  log::Configure(log::Level::kWarn, log::Format::kText);
  if (!PathExists(root + "/blobs")) {
    std::fprintf(stderr, "%s: not a registry root\n", root.c_str());
    return 1;
  }
  auto storage = Storage::Open(root);
  if (!storage) {
    std::fprintf(stderr, "registry storage: %s\n", storage.error().message().c_str());
    return 1;
  }
  auto stats = CollectGarbage(**storage, o);
  if (!stats) {
    std::fprintf(stderr, "garbage collection: %s\n", stats.error().message().c_str());
    return 1;
  }
  for (const auto& d : stats->deleted_digests)
    std::printf("%s%s\n", o.dry_run ? "would delete " : "deleted ", d.c_str());
  std::printf(
      "%zu manifests, %zu blobs in use; %s %zu blobs (%lld bytes); kept %zu younger than "
      "the grace period; %zu stale uploads removed\n",
      stats->manifests, stats->live_blobs, o.dry_run ? "would delete" : "deleted", stats->deleted,
      static_cast<long long>(stats->deleted_bytes), stats->young, stats->uploads);
  return 0;
}

}  // namespace

int Main(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    std::printf(
        "\nUsage:  berth registry COMMAND\n\nRun an OCI Distribution registry\n\nCommands:\n"
        "  gc          Delete blobs no manifest references (safe while serving)\n"
        "  serve       Serve a registry in the foreground\n");
    return 0;
  }
  if (args[0] == "serve") return Serve(std::vector<std::string>(args.begin() + 1, args.end()));
  if (args[0] == "gc") return Gc(std::vector<std::string>(args.begin() + 1, args.end()));
  std::fprintf(stderr, "berth registry: unknown command \"%s\"\nSee 'berth registry --help'.\n",
               args[0].c_str());
  return 1;
}

}  // namespace berth::registry
