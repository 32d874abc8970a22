#include "api/build/build_routes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/build/context.h"
#include "api/routes/images.h"
#include "build/dockerfile/dockerfile.h"
#include "build/dockerfile/dockerignore.h"
#include "runtime/rootfs/rootfs.h"
#include "util/fd.h"
#include "util/file.h"
#include "util/log.h"

namespace berth::api::build {
namespace {

using nlohmann::ordered_json;
namespace bld = berth::build;

// A build's output as Docker's JSON message stream. Writes come from the
// builder's threads one at a time; a failed write means the client went away:
// nothing more is sent.
class JsonStream : public bld::BuildOutput {
 public:
  JsonStream(BodyWriter& out, bool quiet) : out_(out), quiet_(quiet) {}
  void Stream(std::string_view text) override {
    if (!quiet_) Send(routes::StreamMessage(text));
  }
  void Aux(const nlohmann::json& aux) override {
    if (quiet_) return;  // dockerd's quiet build sends only the id line at the end
    Send(ordered_json({{"aux", aux}}).dump() + "\r\n");
  }
  void Send(const std::string& line) {
    std::lock_guard lock(mu_);
    if (gone_) return;
    if (auto w = out_.Write(line); !w) gone_ = true;
  }
  bool gone() {
    std::lock_guard lock(mu_);
    return gone_ || out_.ClientGone();
  }

 private:
  BodyWriter& out_;
  bool quiet_;
  std::mutex mu_;
  bool gone_ = false;
};

std::string ErrorLine(const Error& e) {
  ordered_json detail = ordered_json::object();
  if (int code = ErrorExitCode(e.message()); code != 0) detail["code"] = code;
  detail["message"] = e.message();
  return ordered_json({{"errorDetail", detail}, {"error", e.message()}}).dump() + "\r\n";
}

// A JSON object of strings ({"K":"V"}); null values are left out (buildargs: a
// --build-arg K whose K is not set on the client: the ARG's default stands).
Result<std::map<std::string, std::string>> StringMap(const std::string& text, const char* what) {
  std::map<std::string, std::string> out;
  if (text.empty()) return out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_null()) return out;
  if (!j.is_object()) return Error::InvalidArgument(std::string("invalid ") + what + ": " + text);
  for (const auto& [k, v] : j.items()) {
    if (v.is_null()) continue;
    if (!v.is_string()) return Error::InvalidArgument(std::string("invalid ") + what + ": " + text);
    out[k] = v.get<std::string>();
  }
  return out;
}

std::string HostArch() {
  struct utsname u;
  if (::uname(&u) != 0) return "amd64";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

Result<void> CheckPlatform(const std::string& p) {
  if (p.empty() || p == "linux" || p == "linux/" + HostArch()) return {};
  return Error::InvalidArgument("platform " + p + " is not supported: this daemon builds linux/" +
                                HostArch() + " only");
}

struct Prepared {
  bld::BuildOptions options;
  std::string registry_config;
};

Result<Prepared> ParseQuery(const Request& req) {
  Prepared p;
  auto& o = p.options;
  std::string version = req.Query("version");
  if (version == "2") return Error::InvalidArgument("buildkit not supported by daemon");
  if (!version.empty() && version != "1")
    return Error::InvalidArgument("invalid version \"" + version + "\"");
  if (!req.Query("remote").empty())
    return Error::NotImplemented("remote build contexts (remote=) are not supported");
  auto tags = req.query.equal_range("t");
  for (auto it = tags.first; it != tags.second; ++it)
    if (!it->second.empty()) o.tags.push_back(it->second);
  o.dockerfile = req.Query("dockerfile", "Dockerfile");
  if (o.dockerfile.empty()) o.dockerfile = "Dockerfile";
  o.build_args = BERTH_TRY(StringMap(req.Query("buildargs"), "build args"));
  o.labels = BERTH_TRY(StringMap(req.Query("labels"), "labels"));
  o.target = req.Query("target");
  o.no_cache = req.QueryBool("nocache");
  o.quiet = req.QueryBool("q");
  o.force_remove = req.QueryBool("forcerm");
  // dockerd: forcerm implies rm; rm unset means rm
  o.remove_intermediate = o.force_remove || req.Query("rm").empty() || req.QueryBool("rm");
  o.network_mode = req.Query("networkmode");
  if (o.network_mode == "default") o.network_mode.clear();
  BERTH_TRY(CheckPlatform(req.Query("platform")));
  p.registry_config = req.Header("X-Registry-Config");
  return p;
}

// The Dockerfile's text, the path resolved inside the context as dockerd does
// (symlinks followed, but never out of it).
Result<std::string> ReadDockerfile(const std::string& context, const std::string& name) {
  Fd root = BERTH_TRY(Fd::Open(context, O_RDONLY | O_DIRECTORY));
  auto fd = runtime::rootfs::OpenInRoot(root.get(), name, O_RDONLY);
  if (!fd) return Error::NotFound("Cannot locate specified Dockerfile: " + name);
  struct stat st;
  if (::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode))
    return Error::NotFound("Cannot locate specified Dockerfile: " + name);
  if (st.st_size > (16 << 20))
    return Error::InvalidArgument("Dockerfile " + name + " is larger than 16 MiB");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t r = ::read(fd->get(), text.data() + got, text.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  text.resize(got);
  return text;
}

// .dockerignore that names itself or the Dockerfile: dockerd removes them from
// the context (the docker CLI sends both anyway), so a COPY . does not take
// them.
Result<void> DropIgnoredBuildFiles(const std::string& context, const std::string& dockerfile) {
  auto text = ReadFile(JoinPath(context, ".dockerignore"), 16 << 20);
  if (!text) return {};  // none (or not a regular file): nothing is dropped
  auto ignore = bld::DockerIgnore::Parse(*text);
  if (!ignore) return std::move(ignore).error().Wrap("parse .dockerignore");
  Fd root = BERTH_TRY(Fd::Open(context, O_RDONLY | O_DIRECTORY));
  for (const std::string& name : {std::string(".dockerignore"), bld::CleanPath(dockerfile)}) {
    if (name.empty() || name == "." || name.find("..") != std::string::npos) continue;
    if (!ignore->Excluded(name)) continue;
    if (::unlinkat(root.get(), name.c_str(), 0) != 0 && errno != ENOENT)
      return Error::FromErrno(errno, "remove " + name + " from the build context");
  }
  return {};
}

Response ErrorWithStatus(const Error& e, int status) {
  Response r = ErrorResponse(e);
  r.status = status;
  return r;
}

Response PostBuild(bld::Builder* builder, const BuildRouteOptions& opts, Request& req) {
  auto prepared = ParseQuery(req);
  if (!prepared) return ErrorResponse(prepared.error());
  auto dir = ContextDir::Make(opts.tmp_dir);
  if (!dir) return ErrorResponse(dir.error());
  auto ctx = std::make_shared<ContextDir>(std::move(*dir));
  auto read = [&req](char* buf, size_t n) -> Result<size_t> {
    if (req.body_stream) return req.body_stream->Read(buf, n);
    return size_t{0};
  };
  auto extracted = ExtractContext(read, ctx->path());
  if (!extracted) {
    // dockerd answers 500 for a body that is not a tar ("unexpected EOF");
    // escapes are 400
    return ErrorWithStatus(extracted.error(), extracted.error().IsInvalidArgument() ? 400 : 500);
  }
  bld::BuildOptions options = std::move(prepared->options);
  options.context_dir = ctx->path();
  auto text = ReadDockerfile(ctx->path(), options.dockerfile);
  if (!text) return ErrorWithStatus(text.error(), text.error().IsNotFound() ? 500 : 400);
  // A Dockerfile that does not parse fails before anything runs: 400, as
  // dockerd.
  if (auto parsed = bld::ParseDockerfile(*text, options.dockerfile); !parsed)
    return ErrorWithStatus(parsed.error(), 400);
  if (auto r = DropIgnoredBuildFiles(ctx->path(), options.dockerfile); !r)
    return ErrorWithStatus(r.error(), 400);
  log::Get("build").Info({{"context_entries", std::to_string(extracted->entries)},
                          {"context_bytes", std::to_string(extracted->bytes)}},
                         "build context received");

  Response res;
  res.Header("Content-Type", "application/json");
  std::string registry_config = prepared->registry_config;
  res.stream = [builder, opts, ctx, options, registry_config](BodyWriter& w) -> Result<void> {
    JsonStream out(w, options.quiet);
    bld::BuildOptions o = options;
    if (opts.pull) {
      o.pull = [&opts, &out, registry_config](const std::string& ref,
                                              bld::BuildOutput&) -> Result<void> {
        return opts.pull(ref, registry_config, [&out](const std::string& l) { out.Send(l); });
      };
    }
    auto id = builder->Build(o, out);
    if (!id) {
      log::Get("build").Info("build failed: {}", id.error().message());
      out.Send(ErrorLine(id.error()));
    } else if (options.quiet) {
      out.Send(routes::StreamMessage(id->str() + "\n"));
    }
    if (out.gone()) log::Get("build").Info("build client went away");
    return {};
  };
  return res;
}

Response PruneBuild(bld::Builder* builder, Request& req) {
  bld::CachePruneOptions o;
  o.all = req.QueryBool("all");
  if (std::string k = req.Query("keep-storage"); !k.empty()) {
    try {
      o.keep_storage = std::stoll(k);
    } catch (const std::exception&) {
      return ErrorResponse(Error::InvalidArgument("invalid keep-storage: " + k));
    }
  }
  auto filters = routes::ParseFilters(req.Query("filters"));
  if (!filters) return ErrorResponse(filters.error());
  for (const auto& [key, values] : *filters) {
    if (key == "until" || key == "unused-for") {
      for (const auto& v : values) {
        // a duration as Go writes it (24h, 90m, 30s) or a unix time
        int64_t secs = 0;
        char unit = 0;
        if (std::sscanf(v.c_str(), "%ld%c", &secs, &unit) < 1)
          return ErrorResponse(Error::InvalidArgument("invalid filter 'until=" + v + "'"));
        int64_t mult = unit == 'h' ? 3600 : unit == 'm' ? 60 : 1;
        o.until = unit == 0 && secs > 1000000000 ? secs : ::time(nullptr) - secs * mult;
      }
    } else {
      return ErrorResponse(Error::InvalidArgument("invalid filter '" + key + "'"));
    }
  }
  auto report = builder->PruneCache(o);
  if (!report) return ErrorResponse(report.error());
  ordered_json j = {{"CachesDeleted", report->deleted.empty() ? ordered_json(nullptr)
                                                              : ordered_json(report->deleted)},
                    {"SpaceReclaimed", report->space_reclaimed}};
  return JsonResponse(200, j.dump());
}

std::string Rfc3339(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int ErrorExitCode(std::string_view message) {
  constexpr std::string_view kMarker = "returned a non-zero code: ";
  auto pos = message.rfind(kMarker);
  if (pos == std::string_view::npos) return 0;
  int code = 0;
  for (char c : message.substr(pos + kMarker.size())) {
    if (c < '0' || c > '9') return 0;
    code = code * 10 + (c - '0');
    if (code > 100000) return 0;
  }
  return code;
}

std::string BuildCacheJson(const std::vector<bld::CacheRecord>& records) {
  ordered_json a = ordered_json::array();
  for (const auto& r : records) {
    a.push_back({{"ID", r.id},
                 {"Parent", r.parent},
                 {"Type", "regular"},
                 {"Description", r.description},
                 {"InUse", r.in_use},
                 {"Shared", r.shared},
                 {"Size", r.size},
                 {"CreatedAt", Rfc3339(r.created_at)},
                 {"LastUsedAt", Rfc3339(r.last_used_at)},
                 {"UsageCount", r.usage_count}});
  }
  return a.dump();
}

void AddBuildRoutes(Router* router, bld::Builder* builder, const BuildRouteOptions& options) {
  router->Add(
      "POST", "/build",
      [builder, options](Request& req) { return PostBuild(builder, options, req); },
      /*stream_body=*/true);
  router->Add("POST", "/build/prune", [builder](Request& req) { return PruneBuild(builder, req); });
  router->Add("GET", "/build/prune", [builder](Request& req) { return PruneBuild(builder, req); });
}

}  // namespace berth::api::build
