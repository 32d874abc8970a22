// berth cp / container cp: both ways through /containers/{id}/archive (HEAD to stat, GET to
// read, PUT to write), "-" for a tar on stdin or stdout, -a (keep uid and gid), -L (follow a
// symlink at the source), and docker's rules for a file or directory onto a file or directory.

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "cli/cli.h"
#include "cli/commands/container_util.h"
#include "cli/commands/cp_tar.h"
#include "cli/format/units.h"
#include "util/base64.h"
#include "util/fd.h"

namespace berth::cli {
namespace {

struct PathStat {
  bool exists = false, is_dir = false, is_link = false;
  std::string link_target;
};

// Go's os.FileMode bits in the stat header
constexpr uint64_t kModeDir = 1ull << 31;
constexpr uint64_t kModeSymlink = 1ull << 27;

std::string ArchivePath(const std::string& container, const std::string& path) {
  return "/containers/" + QueryEscape(container) + "/archive?path=" + QueryEscape(path);
}

// HEAD the path in the container. A missing path is exists=false; a missing container the
// daemon's error.
Result<PathStat> StatInContainer(api::Client& client, const std::string& container,
                                 const std::string& path) {
  auto r = BERTH_TRY(client.Do("HEAD", ApiPrefix() + ArchivePath(container, path)));
  PathStat st;
  if (r.status == 404) {
    BERTH_TRY(GetJson(client, "/containers/" + QueryEscape(container) + "/json"));
    return st;
  }
  if (r.status / 100 != 2) {
    // the HEAD answer has no body: ask again with GET for the daemon's message
    BERTH_TRY(GetJson(client, ArchivePath(container, path)));
    return Error::Internal("Error response from daemon: stat " + path + ": status " +
                           std::to_string(r.status));
  }
  st.exists = true;
  auto it = r.headers.find("x-docker-container-path-stat");
  if (it != r.headers.end()) {
    Json j = Json::parse(Base64Decode(it->second, Base64::kLenient).value_or(""), nullptr, false);
    uint64_t mode = j.is_object() && j["mode"].is_number() ? j["mode"].get<uint64_t>() : 0;
    st.is_dir = (mode & kModeDir) != 0;
    st.is_link = (mode & kModeSymlink) != 0;
    st.link_target = Str(j, "linkTarget");
  }
  return st;
}

std::string Dirname(const std::string& p) {
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  auto slash = s.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return s.substr(0, slash);
}

std::string Basename(const std::string& p) {
  if (p.size() >= 2 && p.compare(p.size() - 2, 2, "/.") == 0) return ".";
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  auto slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

bool AssertsDir(const std::string& p) {
  return !p.empty() && (p.back() == '/' || Basename(p) == ".");
}

void Report(bool quiet, uint64_t bytes, const std::string& dst) {
  if (quiet || !::isatty(STDERR_FILENO)) return;
  std::fprintf(stderr, "Successfully copied %s to %s\n",
               HumanSize(static_cast<double>(bytes)).c_str(), dst.c_str());
}

Result<int> FromContainer(Env& env, const std::string& container, std::string src,
                          const std::string& dst, bool follow, bool quiet) {
  api::Client& client = *env.client;
  PathStat st = BERTH_TRY(StatInContainer(client, container, src));
  if (!st.exists) {
    BERTH_TRY(GetJson(client, ArchivePath(container, src)));  // the daemon's "Could not find"
    return Error::NotFound("Error response from daemon: Could not find the file " + src +
                           " in container " + container);
  }
  std::string rebase;
  if (follow && st.is_link) {
    std::string target = st.link_target;
    if (target.empty() || target[0] != '/') target = Dirname(src) + "/" + target;
    rebase = Basename(src);
    src = target;
    st = BERTH_TRY(StatInContainer(client, container, src));
  }
  if (dst == "-") {
    Result<void> w;
    auto r = BERTH_TRY(client.Do("GET", ApiPrefix() + ArchivePath(container, src), {}, {},
                                 [&](std::string_view c) {
                                   w = WriteAll(STDOUT_FILENO, c);
                                   return bool(w);
                                 }));
    BERTH_TRY(w);
    if (r.status / 100 != 2)
      return Error::Internal("Error response from daemon: copy failed with status " +
                             std::to_string(r.status));
    return 0;
  }
  // where the archive goes, and under which name (docker's PrepareArchiveCopy)
  std::string src_base = Basename(src), dir, from, to;
  struct stat local;
  bool exists = ::stat(dst.c_str(), &local) == 0;
  if (exists && S_ISDIR(local.st_mode)) {
    dir = dst;
    if (!rebase.empty()) {
      from = src_base;
      to = rebase;
    } else if (src_base == ".") {
      from = ".";
      to = ".";
    }
  } else if (exists) {
    if (st.is_dir) return Error::Internal("cannot copy directory");
    dir = Dirname(dst);
    from = src_base;
    to = Basename(dst);
  } else {
    if (AssertsDir(dst) && !st.is_dir)
      return Error::Internal("destination directory " + dst + " does not exist");
    struct stat parent;
    if (::stat(Dirname(dst).c_str(), &parent) < 0 || !S_ISDIR(parent.st_mode))
      return Error::NotFound("lstat " + Dirname(dst) + ": no such file or directory");
    dir = Dirname(dst);
    from = src_base;
    to = Basename(dst);
  }
  if (to == "." || to.empty()) to = ".";
  TarExtractor x(dir, from, to);
  Result<void> fed;
  uint64_t bytes = 0;
  auto r = BERTH_TRY(
      client.Do("GET", ApiPrefix() + ArchivePath(container, src), {}, {}, [&](std::string_view c) {
        bytes += c.size();
        fed = x.Feed(c);
        return bool(fed);
      }));
  BERTH_TRY(fed);
  if (r.status / 100 != 2)
    return Error::Internal("Error response from daemon: copy failed with status " +
                           std::to_string(r.status));
  BERTH_TRY(x.Finish());
  Report(quiet, bytes, dst);
  return 0;
}

Result<int> ToContainer(Env& env, const std::string& src, const std::string& container,
                        std::string dst, bool follow, bool archive, bool quiet) {
  api::Client& client = *env.client;
  PathStat st = BERTH_TRY(StatInContainer(client, container, dst));
  if (st.exists && st.is_link) {
    std::string target = st.link_target;
    if (target.empty() || target[0] != '/') target = Dirname(dst) + "/" + target;
    dst = target;
    st = BERTH_TRY(StatInContainer(client, container, dst));
  }
  std::string body, put_dir;
  if (src == "-") {
    if (!st.exists || !st.is_dir)
      return Error::Internal("destination \"" + container + ":" + dst + "\" must be a directory");
    body = BERTH_TRY(ReadAll(STDIN_FILENO, size_t{16} << 30));
    put_dir = dst;
  } else {
    struct stat local;
    if ((follow ? ::stat(src.c_str(), &local) : ::lstat(src.c_str(), &local)) < 0)
      return Error::NotFound("lstat " + src + ": no such file or directory");
    bool src_dir = S_ISDIR(local.st_mode);
    std::string root;
    if (st.exists && st.is_dir) {
      put_dir = dst;
      root = Basename(src);
    } else if (st.exists) {
      if (src_dir) return Error::Internal("cannot copy directory");
      put_dir = Dirname(dst);
      root = Basename(dst);
    } else {
      if (AssertsDir(dst) && !src_dir)
        return Error::Internal("destination directory " + container + ":" + dst +
                               " does not exist");
      put_dir = Dirname(dst);
      root = Basename(dst);
    }
    std::string path = src;
    if (Basename(src) == "." && src.size() >= 2) path = src.substr(0, src.size() - 2);
    BERTH_TRY(TarPath(path.empty() ? "/" : path, root, follow, body));
  }
  std::string q = ArchivePath(container, put_dir) + "&noOverwriteDirNonDir=true";
  if (archive) q += "&copyUIDGID=true";
  BERTH_TRY(Call(client, "PUT", q, body, {{"Content-Type", "application/x-tar"}}));
  Report(quiet, body.size(), container + ":" + dst);
  return 0;
}

// docker's splitCpArg: "name:path" is in a container unless it starts as a local path does.
bool SplitArg(const std::string& arg, std::string& container, std::string& path) {
  if (!arg.empty() && (arg[0] == '/' || arg[0] == '.')) {
    path = arg;
    return false;
  }
  auto colon = arg.find(':');
  if (colon == std::string::npos || colon == 0) {
    path = arg;
    return false;
  }
  container = arg.substr(0, colon);
  path = arg.substr(colon + 1);
  return true;
}

Result<int> Cp(Env& env) {
  static const FlagSpec spec = {"cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-",
                                {{"-a", "archive"},
                                 {"--archive", "archive"},
                                 {"-L", "follow-link"},
                                 {"--follow-link", "follow-link"},
                                 {"-q", "quiet"},
                                 {"--quiet", "quiet"}},
                                {}};
  Flags f = BERTH_TRY(ParseFlags(env.args, spec));
  BERTH_TRY(NeedArgs(f, spec, 2, 2));
  std::string src_c, src_p, dst_c, dst_p;
  bool from = SplitArg(f.args[0], src_c, src_p), to = SplitArg(f.args[1], dst_c, dst_p);
  if (from && to) return Error::Internal("copying between containers is not supported");
  if (!from && !to) return Error::Internal("must specify at least one container source");
  if (from && src_p.empty()) return Error::Internal("filepath is empty");
  if (to && dst_p.empty()) return Error::Internal("filepath is empty");
  if (from) return FromContainer(env, src_c, src_p, dst_p, f.On("follow-link"), f.On("quiet"));
  return ToContainer(env, src_p, dst_c, dst_p, f.On("follow-link"), f.On("archive"), f.On("quiet"));
}

}  // namespace

Result<int> CmdCp(Env& env) { return UsageExit(Cp(env)); }

}  // namespace berth::cli
