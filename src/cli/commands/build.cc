// berth build and berth builder prune: a client of POST /build and POST
// /build/prune, as `DOCKER_BUILDKIT=0 docker build` (docker CLI 28's classic
// builder path) is.

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "build/dockerfile/dockerignore.h"
#include "cli/cli.h"
#include "cli/commands/build_context.h"
#include "cli/commands/build_progress.h"
#include "cli/commands/container_internal.h"
#include "cli/commands/flags.h"
#include "cli/format/units.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::cli {
namespace {

using json = nlohmann::json;

constexpr const char* kBuildUsage =
    "\nSee 'berth build --help'.\n\nUsage:  "
    "berth build [OPTIONS] PATH | URL | -\n\n"
    "Build an image from a Dockerfile";

struct BuildFlags {
  std::vector<std::string> tags, build_args, labels;
  std::string file, target, progress = "auto", network, platform, iidfile;
  std::vector<std::string> cache_from;
  bool no_cache = false, quiet = false, pull = false, rm = true, force_rm = false;
  bool help = false;
};

Result<size_t> ReadFd(int fd, char* buf, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd, buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return Error::FromErrno(errno, "read");
  }
}

Result<std::string> ReadAllFd(int fd, size_t max) {
  std::string out;
  char buf[65536];
  for (;;) {
    size_t n = BERTH_TRY(ReadFd(fd, buf, sizeof buf));
    if (n == 0) return out;
    out.append(buf, n);
    if (out.size() > max) return Error::InvalidArgument("input too large");
  }
}

std::string RandomHex(size_t n) {
  std::string out;
  const char* hex = "0123456789abcdef";
  while (out.size() < n) {
    unsigned char b[16];
    if (::getrandom(b, sizeof b, 0) != sizeof b) std::memset(b, 0x5a ^ out.size(), sizeof b);
    for (unsigned char c : b) out += hex[c & 15];
  }
  return out.substr(0, n);
}

// Absolute and without "." or ".." components (filepath.Abs + Clean), no
// symlinks resolved.
std::string AbsClean(const std::string& path) {
  std::string p = path;
  if (p.empty() || p[0] != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd)) p = std::string(cwd) + "/" + p;
  }
  std::vector<std::string> parts;
  for (const auto& s : Split(p, '/', true)) {
    if (s == ".") continue;
    if (s == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(s);
  }
  std::string out;
  for (const auto& s : parts) out += "/" + s;
  return out.empty() ? "/" : out;
}

// filepath.Rel for clean absolute paths.
std::string RelPath(const std::string& base, const std::string& target) {
  auto b = Split(base, '/', true), t = Split(target, '/', true);
  size_t i = 0;
  while (i < b.size() && i < t.size() && b[i] == t[i]) ++i;
  std::string out;
  for (size_t k = i; k < b.size(); ++k) out += out.empty() ? ".." : "/..";
  for (size_t k = i; k < t.size(); ++k) out += (out.empty() ? "" : "/") + t[k];
  return out.empty() ? "." : out;
}

// A tar (maybe compressed) or a plain Dockerfile on stdin, told apart as the
// docker CLI does.
bool LooksLikeArchive(std::string_view head) {
  auto starts = [&](std::string_view m) { return head.substr(0, m.size()) == m; };
  if (starts("\x1f\x8b") || starts("BZh") ||
      starts(std::string_view("\xfd"
                              "7zXZ\x00",
                              6)) ||
      starts("\x28\xb5\x2f\xfd"))
    return true;
  return head.size() >= 262 && head.substr(257, 5) == "ustar";
}

Result<std::string> BuildQuery(const BuildFlags& f, const std::string& dockerfile) {
  std::string q = "/build?";
  auto add = [&](const std::string& k, const std::string& v) {
    if (q.back() != '?') q += '&';
    q += k + "=" + QueryEscape(v);
  };
  for (const auto& t : f.tags) add("t", t);
  if (f.quiet) add("q", "1");
  if (f.no_cache) add("nocache", "1");
  add("rm", f.rm ? "1" : "0");
  if (f.force_rm) add("forcerm", "1");
  if (f.pull) add("pull", "1");
  if (!f.network.empty()) add("networkmode", f.network);
  json args = json::object();
  for (const auto& a : f.build_args) {
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      args[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (const char* v = ::getenv(a.c_str())) {
      args[a] = v;
    } else {
      args[a] = nullptr;  // docker sends an unset variable as null: the ARG's
                          // default holds
    }
  }
  add("buildargs", args.dump());
  json labels = json::object();
  for (const auto& l : f.labels) {
    auto eq = l.find('=');
    labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  add("labels", labels.dump());
  if (!f.cache_from.empty()) add("cachefrom", json(f.cache_from).dump());
  if (!f.target.empty()) add("target", f.target);
  if (!f.platform.empty()) add("platform", f.platform);
  add("dockerfile", dockerfile);
  add("version", "1");
  return q;
}

Result<BuildFlags> ParseBuildFlags(const std::vector<std::string>& args,
                                   std::vector<std::string>* positional) {
  BuildFlags f;
  FlagSet fs;
  fs.List("tag", 't', &f.tags);
  fs.String("file", 'f', &f.file);
  fs.List("build-arg", 0, &f.build_args);
  fs.List("label", 0, &f.labels);
  fs.String("target", 0, &f.target);
  fs.Bool("no-cache", 0, &f.no_cache);
  fs.Bool("quiet", 'q', &f.quiet);
  fs.Bool("pull", 0, &f.pull);
  fs.Bool("rm", 0, &f.rm);
  fs.Bool("force-rm", 0, &f.force_rm);
  fs.String("progress", 0, &f.progress);
  fs.String("network", 0, &f.network);
  fs.String("platform", 0, &f.platform);
  fs.String("iidfile", 0, &f.iidfile);
  fs.List("cache-from", 0, &f.cache_from);
  fs.Bool("help", 0, &f.help);
  auto pos = fs.Parse(args, true);
  if (!pos) return Error::InvalidArgument(pos.error().message() + kBuildUsage);
  *positional = std::move(*pos);
  if (f.progress != "auto" && f.progress != "plain" && f.progress != "tty")
    return Error::InvalidArgument("invalid value for --progress: " + f.progress +
                                  " (auto, plain or tty)");
  return f;
}

struct Context {
  std::unique_ptr<ContextTar> tar;  // a local directory
  std::string head;                 // stdin: bytes already read, sent first
  bool from_stdin = false;
  std::string dockerfile;  // the dockerfile parameter
};

Result<Context> PrepareContext(const BuildFlags& f, const std::string& path) {
  Context c;
  std::optional<std::string> stdin_dockerfile;
  if (path == "-") {
    if (f.file == "-")
      return Error::InvalidArgument(
          "invalid argument: can't use stdin for "
          "both build context and dockerfile");
    // Up to 262 bytes tell a tar ("ustar" at 257) from a Dockerfile.
    std::string head(262, '\0');
    size_t got = 0;
    while (got < head.size()) {
      size_t n = BERTH_TRY(ReadFd(STDIN_FILENO, head.data() + got, head.size() - got));
      if (n == 0) break;
      got += n;
    }
    head.resize(got);
    if (LooksLikeArchive(head)) {
      c.from_stdin = true;
      c.head = std::move(head);
      c.dockerfile = f.file.empty() ? "Dockerfile" : f.file;
      return c;
    }
    std::string text = head + BERTH_TRY(ReadAllFd(STDIN_FILENO, size_t{64} << 20));
    // A Dockerfile alone: the context is that one file.
    char tmpl[] = "/tmp/berth-build-XXXXXX";
    if (!::mkdtemp(tmpl)) return Error::FromErrno(errno, "mkdtemp");
    std::string dir = tmpl;
    auto cleanup = [dir] { (void)RemoveAll(dir); };
    auto wrote = WriteFile(JoinPath(dir, "Dockerfile"), text, 0600);
    if (!wrote) {
      cleanup();
      return std::move(wrote).error();
    }
    auto tar = ContextTar::Open(dir, {}, {});
    if (!tar) {
      cleanup();
      return std::move(tar).error();
    }
    c.tar = std::move(*tar);
    c.tar->ReplaceFile("Dockerfile",
                       text);  // content held, so the directory can go now
    cleanup();
    c.dockerfile = "Dockerfile";
    return c;
  }
  if (path.find("://") != std::string::npos || path.rfind("git@", 0) == 0)
    return Error::NotImplemented("unable to prepare context: remote build contexts (" + path +
                                 ") are not supported");
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return Error::NotFound("unable to prepare context: path \"" + path + "\" not found");
  if (!S_ISDIR(st.st_mode))
    return Error::InvalidArgument("unable to prepare context: context must be a directory: " +
                                  AbsClean(path));
  std::string dir = AbsClean(path);
  std::string rel = "Dockerfile";
  if (f.file == "-") {
    stdin_dockerfile = BERTH_TRY(ReadAllFd(STDIN_FILENO, size_t{64} << 20));
  } else {
    std::string df = f.file.empty() ? JoinPath(dir, "Dockerfile") : AbsClean(f.file);
    struct stat dst;
    if (::lstat(df.c_str(), &dst) != 0)
      return Error::FromErrno(errno,
                              "unable to prepare context: unable to evaluate "
                              "symlinks in Dockerfile path: lstat " +
                                  df);
    rel = RelPath(dir, df);
    if (rel == ".." || rel.rfind("../", 0) == 0) {
      // Outside the context: sent as a hidden file of it, as docker does.
      Fd fd = BERTH_TRY(Fd::Open(df, O_RDONLY));
      stdin_dockerfile = BERTH_TRY(ReadAllFd(fd.get(), size_t{64} << 20));
    }
  }
  std::string ignore_text;
  if (auto t = ReadFile(JoinPath(dir, ".dockerignore"), 64 << 20); t) ignore_text = *t;
  auto ignore =
      std::make_shared<build::DockerIgnore>(BERTH_TRY(build::DockerIgnore::Parse(ignore_text)));
  ContextTar::Filter filter;
  filter.excluded = [ignore](const std::string& p) { return ignore->Excluded(p); };
  filter.walk_excluded_dir = [ignore](const std::string& p) { return ignore->MayReinclude(p); };
  std::vector<std::string> always = {".dockerignore"};
  if (!stdin_dockerfile) always.push_back(rel);
  c.tar = BERTH_TRY(ContextTar::Open(dir, filter, always));
  if (stdin_dockerfile) {
    std::string name = ".dockerfile." + RandomHex(20);
    c.tar->AddFile(name, *stdin_dockerfile);
    // The daemon drops it from the context through .dockerignore, as docker's
    // does.
    c.tar->ReplaceFile(".dockerignore", ignore_text + "\n" + name + "\n");
    rel = name;
  }
  c.dockerfile = rel;
  return c;
}

}  // namespace

Result<int> CmdBuild(Env& env) {
  std::vector<std::string> pos;
  BuildFlags f = BERTH_TRY(ParseBuildFlags(env.args, &pos));
  if (f.help) {
    std::printf(
        "Usage:  berth build [OPTIONS] PATH | -\n\nBuild an image from a "
        "Dockerfile\n\n"
        "Options:\n"
        "      --build-arg list      Set build-time variables\n"
        "  -f, --file string         Name of the Dockerfile (default: "
        "\"PATH/Dockerfile\")\n"
        "      --label list          Set metadata for an image\n"
        "      --no-cache            Do not use cache when building the image\n"
        "      --progress string     auto, plain or tty (default \"auto\")\n"
        "  -q, --quiet               Suppress the build output and print image "
        "ID on success\n"
        "  -t, --tag list            Name and optionally a tag in the "
        "\"name:tag\" format\n"
        "      --target string       Set the target build stage to build\n");
    return 0;
  }
  if (pos.size() != 1)
    return Error::InvalidArgument("\"berth build\" requires exactly 1 argument." +
                                  std::string(kBuildUsage));
  Context ctx = BERTH_TRY(PrepareContext(f, pos[0]));
  std::string path = BERTH_TRY(BuildQuery(f, ctx.dockerfile));

  bool tty = f.progress == "tty" || (f.progress == "auto" && ::isatty(STDOUT_FILENO));
  uint64_t sent = 0;
  size_t head_pos = 0;
  auto read = [&](char* buf, size_t n) -> Result<size_t> {
    size_t got = 0;
    if (ctx.tar) {
      got = BERTH_TRY(ctx.tar->Read(buf, n));
    } else if (head_pos < ctx.head.size()) {
      got = std::min(n, ctx.head.size() - head_pos);
      std::memcpy(buf, ctx.head.data() + head_pos, got);
      head_pos += got;
    } else {
      got = BERTH_TRY(ReadFd(STDIN_FILENO, buf, n));
    }
    sent += got;
    if (tty && !f.quiet && got > 0)
      std::fprintf(stdout, "\rSending build context to Docker daemon  %s",
                   HumanSize(static_cast<double>(sent), 4).c_str());
    return got;
  };
  ::signal(SIGPIPE, SIG_IGN);
  auto pending = BERTH_TRY(env.client->SendStream(
      "POST", ApiPrefix() + path, read,
      {{"Content-Type", "application/x-tar"}, {"X-Registry-Config", "e30="}}));
  if (!f.quiet) {
    std::fprintf(stdout, "%sSending build context to Docker daemon  %s\n", tty ? "\r" : "",
                 HumanSize(static_cast<double>(sent), 4).c_str());
    if (tty) std::fputs("\n", stdout);
  }
  if (pending->status() / 100 != 2) {
    std::string body = BERTH_TRY(pending->ReadBody());
    return DaemonError(pending->status(), body);
  }
  BuildProgress progress(stdout, tty, f.quiet);
  std::string chunk;
  for (;;) {
    chunk.clear();
    bool more = BERTH_TRY(pending->ReadSome(&chunk));
    if (!more) break;
    progress.Feed(chunk);
  }
  progress.Finish();
  if (progress.error()) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s\n", progress.error()->c_str());
    return progress.error_code();
  }
  if (f.quiet) std::fputs(progress.quiet_text().c_str(), stdout);
  if (!f.iidfile.empty() && !progress.image_id().empty())
    BERTH_TRY(WriteFile(f.iidfile, progress.image_id(), 0644));
  return 0;
}

// berth builder prune [-a] [-f] [--filter K=V]: POST /build/prune.
Result<int> CmdBuilder(Env& env) {
  if (env.args.empty() || env.args[0] != "prune")
    return Error::InvalidArgument(
        "Usage:  berth builder prune [OPTIONS]\n\nManage builds\n\nCommands:\n"
        "  prune       Remove build cache");
  bool all = false, force = false;
  std::vector<std::string> filters;
  FlagSet fs;
  fs.Bool("all", 'a', &all);
  fs.Bool("force", 'f', &force);
  fs.List("filter", 0, &filters);
  auto pos = fs.Parse(std::vector<std::string>(env.args.begin() + 1, env.args.end()), true);
  if (!pos)
    return Error::InvalidArgument(pos.error().message() + "\nSee 'berth builder prune --help'.");
  if (!pos->empty()) return Error::InvalidArgument("\"berth builder prune\" accepts no arguments.");
  if (!force) {
    std::printf(
        "WARNING! This will remove all %sbuild cache. Are you sure you "
        "want to continue? [y/N] ",
        all ? "" : "dangling ");
    std::fflush(stdout);
    char line[64] = {};
    if (!std::fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y')) return 0;
  }
  std::string path = "/build/prune";
  std::string sep = "?";
  if (all) path += sep + "all=1", sep = "&";
  if (!filters.empty()) {
    json fj = json::object();
    for (const auto& flt : filters) {
      auto eq = flt.find('=');
      if (eq == std::string::npos)
        return Error::InvalidArgument("bad format of filter (expected name=value)");
      fj[flt.substr(0, eq)][flt.substr(eq + 1)] = true;
    }
    path += sep + "filters=" + QueryEscape(fj.dump());
  }
  std::string body = BERTH_TRY(Call(*env.client, "POST", path));
  auto j = json::parse(body, nullptr, false);
  int64_t reclaimed = 0;
  if (j.is_object()) {
    if (auto d = j.find("CachesDeleted"); d != j.end() && d->is_array() && !d->empty()) {
      std::printf("Deleted build cache objects:\n");
      for (const auto& id : *d)
        if (id.is_string()) std::printf("%s\n", id.get<std::string>().c_str());
      std::printf("\n");
    }
    if (auto r = j.find("SpaceReclaimed"); r != j.end() && r->is_number())
      reclaimed = r->get<int64_t>();
  }
  std::printf("Total reclaimed space: %s\n", HumanSize(static_cast<double>(reclaimed)).c_str());
  return 0;
}

}  // namespace berth::cli
