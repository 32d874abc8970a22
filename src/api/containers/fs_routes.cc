#include "api/containers/fs_routes.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/routes/fd_response.h"
#include "engine/container/spec_internal.h"
#include "engine/fs/copy.h"
#include "engine/fs/export.h"
#include "image/image_commit.h"
#include "util/file.h"

namespace berth::api::containers {
namespace {

using engine::Container;
using nlohmann::ordered_json;

Result<oci::ContainerConfig> ParseDockerConfig(std::string_view json_text) {
  // Docker's Config is the "config" object of an image config: read it with that parser.
  std::string wrapped =
      R"({"rootfs":{"type":"layers","diff_ids":[]},"config":)" + std::string(json_text) + "}";
  oci::ImageConfig ic = BERTH_TRY_CTX(oci::ParseConfig(wrapped), "commit config");
  return ic.config ? *ic.config : oci::ContainerConfig{};
}

// The image's own container config, if it has one.
std::optional<oci::ContainerConfig> ImageDefaults(image::ImageService* images, const Container& c) {
  if (c.image_id.empty()) return std::nullopt;
  auto img = images->Get(c.image_id);
  if (!img || !img->config.config.config) return std::nullopt;
  return *img->config.config.config;
}

oci::ContainerConfig ContainerEffectiveConfig(image::ImageService* images, const Container& c) {
  auto defaults = ImageDefaults(images, c);
  return EffectiveConfig(c.request.config, defaults ? &*defaults : nullptr);
}

Result<std::string> RequiredPath(const Request& req) {
  std::string path = req.Query("path");
  if (path.empty()) return Error::InvalidArgument("bad parameter: 'path' cannot be empty");
  return path;
}

// The stat of a GET archive, handed from the producer thread to the handler.
struct StatSlot {
  std::mutex mu;
  std::optional<engine::fs::PathStat> stat;
};

Response ChangesRoute(engine::ContainerService* svc, Request& req) {
  auto c = svc->Get(req.params["name"]);
  if (!c) return ErrorResponse(c.error());
  auto changes = engine::fs::Changes(c->lower_dirs, c->upper_dir);
  if (!changes) return ErrorResponse(changes.error());
  return JsonResponse(200, ChangesJson(WithoutInitPaths(std::move(*changes))));
}

Response ExportRoute(engine::ContainerService* svc, Request& req) {
  std::string name = req.params["name"];
  if (auto c = svc->Get(name); !c) return ErrorResponse(c.error());
  return routes::FdStreamResponse(
      [svc, name](int fd) -> Result<void> {
        return svc->WithRootfs(
            name, [fd](const Container& c) { return engine::fs::ExportRootfs(c.rootfs, fd); });
      },
      "application/x-tar");
}

Response GetArchiveRoute(engine::ContainerService* svc, Request& req) {
  std::string name = req.params["name"];
  auto path = RequiredPath(req);
  if (!path) return ErrorResponse(path.error());
  if (auto c = svc->Get(name); !c) return ErrorResponse(c.error());
  if (req.method == "HEAD") {
    engine::fs::PathStat stat;
    auto r = svc->WithRootfs(name, [&](const Container& c) -> Result<void> {
      stat = BERTH_TRY(engine::fs::StatPath(c.rootfs, *path, name));
      return {};
    });
    if (!r) return ErrorResponse(r.error());
    Response res;
    res.Header("X-Docker-Container-Path-Stat", engine::fs::PathStatHeader(stat));
    res.Header("Content-Type", "application/json");
    return res;
  }
  auto slot = std::make_shared<StatSlot>();
  Response res = routes::FdStreamResponse(
      [svc, name, p = *path, slot](int fd) -> Result<void> {
        return svc->WithRootfs(name, [&](const Container& c) -> Result<void> {
          auto archive = BERTH_TRY(engine::fs::PathArchive::Open(c.rootfs, p, name));
          {
            std::lock_guard lock(slot->mu);
            slot->stat = archive.stat();
          }
          return archive.WriteTo(fd);
        });
      },
      "application/x-tar");
  std::lock_guard lock(slot->mu);
  if (res.status == 200 && slot->stat)
    res.Header("X-Docker-Container-Path-Stat", engine::fs::PathStatHeader(*slot->stat));
  return res;
}

Response PutArchiveRoute(engine::ContainerService* svc, image::ImageService* images, Request& req) {
  std::string name = req.params["name"];
  auto path = RequiredPath(req);
  if (!path) return ErrorResponse(path.error());
  auto c = svc->Get(name);
  if (!c) return ErrorResponse(c.error());
  if (c->request.host_config.read_only_rootfs)
    return ErrorResponse(Error::PermissionDenied("container rootfs is marked read-only"));
  if (!req.body_stream) return ErrorResponse(Error::InvalidArgument("no archive in the request"));
  engine::fs::ExtractOptions options;
  options.no_overwrite_dir_non_dir = req.QueryBool("noOverwriteDirNonDir");
  std::string user;
  if (req.QueryBool("copyUIDGID")) user = ContainerEffectiveConfig(images, *c).user;
  BodyReader* body = req.body_stream;
  auto r = svc->WithRootfs(name, [&](const Container& view) -> Result<void> {
    if (!user.empty()) {
      auto u = BERTH_TRY(engine::internal::ResolveUser(view.rootfs, user, {}));
      options.owner = engine::fs::Owner{u.uid, u.gid};
    }
    return engine::fs::ExtractArchive(
        view.rootfs, *path, name, [body](char* buf, size_t n) { return body->Read(buf, n); },
        options);
  });
  if (!r) return ErrorResponse(r.error());
  return Response{};
}

Response CommitRoute(engine::ContainerService* svc, image::ImageService* images,
                     const CommitHook& on_commit, Request& req) {
  std::string name = req.Query("container");
  auto c = svc->Get(name);
  if (!c) return ErrorResponse(c.error());
  image::CommitOptions o;
  if (!c->image_id.empty()) {
    auto parent = oci::Digest::Parse(c->image_id);
    if (!parent) return ErrorResponse(parent.error());
    o.parent = *parent;
  }
  o.upper_dir = c->upper_dir;
  std::string repo = req.Query("repo"), tag = req.Query("tag");
  if (!repo.empty()) o.reference = tag.empty() ? repo : repo + ":" + tag;
  o.author = req.Query("author");
  o.comment = req.Query("comment");
  for (auto [it, end] = req.query.equal_range("changes"); it != end; ++it)
    if (!it->second.empty()) o.changes.push_back(it->second);
  o.container_config = ContainerEffectiveConfig(images, *c);
  std::string_view body = Trim(req.body);
  if (!body.empty() && body != "null") {
    auto config = ParseDockerConfig(body);
    if (!config) return ErrorResponse(config.error());
    o.config = std::move(*config);
  }
  bool pause = req.QueryBool("pause", true) && c->state.running && !c->state.paused;
  if (pause) {
    if (auto p = svc->Pause(name); !p) return ErrorResponse(p.error());
  }
  auto id = images->Commit(o);
  if (pause) (void)svc->Unpause(name);
  if (!id) return ErrorResponse(id.error());
  if (on_commit) on_commit(*c, id->str(), o.reference);
  return JsonResponse(201, ordered_json{{"Id", id->str()}}.dump());
}

}  // namespace

oci::ContainerConfig EffectiveConfig(const engine::ContainerConfig& in,
                                     const oci::ContainerConfig* image) {
  oci::ContainerConfig c;
  c.user = in.user;
  c.exposed_ports = in.exposed_ports;
  std::sort(c.exposed_ports.begin(), c.exposed_ports.end());
  c.exposed_ports.erase(std::unique(c.exposed_ports.begin(), c.exposed_ports.end()),
                        c.exposed_ports.end());
  c.env = in.env;
  if (in.entrypoint_set) {
    c.entrypoint = in.entrypoint;
    if (in.entrypoint.size() == 1 && in.entrypoint[0].empty()) c.entrypoint->clear();
  }
  if (in.cmd_set) c.cmd = in.cmd;
  for (const auto& [path, _] : in.volumes) c.volumes.push_back(path);
  c.working_dir = in.working_dir;
  c.labels = in.labels;
  c.stop_signal = in.stop_signal;
  c.shell = in.shell;
  c.hostname = in.hostname;
  c.domainname = in.domainname;
  c.attach_stdin = in.attach_stdin;
  c.attach_stdout = in.attach_stdout;
  c.attach_stderr = in.attach_stderr;
  c.tty = in.tty;
  c.open_stdin = in.open_stdin;
  c.stdin_once = in.stdin_once;
  c.image = in.image;
  c.network_disabled = in.network_disabled;
  if (in.stop_timeout) c.stop_timeout = *in.stop_timeout;
  if (!in.healthcheck_json.empty()) {
    if (auto h = ParseDockerConfig(R"({"Healthcheck":)" + in.healthcheck_json + "}"); h)
      c.healthcheck = h->healthcheck;
  }
  if (image) {
    image::MergeCommitConfig(&c, *image);
    if (c.shell.empty()) c.shell = image->shell;
    if (c.on_build.empty()) c.on_build = image->on_build;
  }
  return c;
}

std::vector<engine::fs::Change> WithoutInitPaths(std::vector<engine::fs::Change> changes) {
  static const char* const kInit[] = {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf",
                                      "/etc/mtab",  "/dev/console",  "/.dockerenv"};
  auto is_init = [](const engine::fs::Change& ch) {
    return ch.kind == engine::fs::ChangeKind::kAdded &&
           std::find(std::begin(kInit), std::end(kInit), ch.path) != std::end(kInit);
  };
  std::vector<std::string> dropped;
  for (const auto& ch : changes)
    if (is_init(ch)) dropped.push_back(ch.path);
  if (dropped.empty()) return changes;
  std::erase_if(changes, is_init);
  auto below = [](const std::string& dir, const std::string& path) {
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           (dir == "/" || path[dir.size()] == '/');
  };
  // A parent shown only because of a dropped placeholder goes too.
  std::erase_if(changes, [&](const engine::fs::Change& ch) {
    if (ch.kind != engine::fs::ChangeKind::kModified) return false;
    bool parent_of_dropped = std::any_of(dropped.begin(), dropped.end(),
                                         [&](const std::string& d) { return below(ch.path, d); });
    if (!parent_of_dropped) return false;
    return std::none_of(changes.begin(), changes.end(),
                        [&](const engine::fs::Change& o) { return below(ch.path, o.path); });
  });
  return changes;
}

std::string ChangesJson(const std::vector<engine::fs::Change>& changes) {
  if (changes.empty()) return "null";
  ordered_json a = ordered_json::array();
  for (const auto& ch : changes)
    a.push_back({{"Path", ch.path}, {"Kind", static_cast<int>(ch.kind)}});
  return a.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

void AddContainerFsRoutes(Router* router, engine::ContainerService* svc,
                          image::ImageService* images, CommitHook on_commit) {
  router->Add("GET", "/containers/{name}/changes",
              [svc](Request& req) { return ChangesRoute(svc, req); });
  router->Add("GET", "/containers/{name}/export",
              [svc](Request& req) { return ExportRoute(svc, req); });
  router->Add("GET", "/containers/{name}/archive",
              [svc](Request& req) { return GetArchiveRoute(svc, req); });
  router->Add(
      "PUT", "/containers/{name}/archive",
      [svc, images](Request& req) { return PutArchiveRoute(svc, images, req); },
      /*stream_body=*/true);
  router->Add("POST", "/commit", [svc, images, on_commit](Request& req) {
    return CommitRoute(svc, images, on_commit, req);
  });
}

}  // namespace berth::api::containers
