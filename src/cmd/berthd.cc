// berthd: the Berth daemon. Wires the stores and the API routes together and serves the Docker
// Engine API on a unix socket. Nothing else in the tree knows all the parts.

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "api/build/build_routes.h"
#include "api/build/context.h"
#include "api/containers/container_routes.h"
#include "api/containers/fs_routes.h"
#include "api/events/event_bus.h"
#include "api/http/server.h"
#include "api/routes/events.h"
#include "api/routes/images.h"
#include "api/routes/system.h"
#include "api/volumes/volume_routes.h"
#include "build/builder.h"
#include "cmd/image_backend.h"
#include "cmd/runtime/flags.h"
#include "engine/build/container_step_runner.h"
#include "engine/container_service.h"
#include "engine/fs/disk_usage.h"
#include "engine/monitor/spawner.h"
#include "engine/volume/volume_service.h"
#include "image/image_service.h"
#include "store/content/local_content_store.h"
#include "store/layout.h"
#include "store/meta/metadata_db.h"
#include "store/snapshot/overlay.h"
#include "util/fd.h"
#include "util/file.h"
#include "util/log.h"

namespace berth {
namespace {

constexpr const char* kUsage =
    "Usage: berthd [OPTIONS]\n\n"
    "The Berth daemon: serves the Docker Engine API.\n\n"
    "Options:\n"
    "  --root DIR          root of persistent state (default /var/lib/berth)\n"
    "  -H, --host ADDR     socket to listen on (default unix:///run/berth/berth.sock)\n"
    "  --exec-root DIR     root of the containers' runtime state (default /run/berth)\n"
    "  -l, --log-level L   debug, info, warn, error (default info)\n"
    "  --log-format F      text or json (default text)\n"
    "  --insecure-registry HOST[:PORT]\n"
    "                      a registry spoken to over plain HTTP (repeatable; loopback ones are)\n"
    "  -v, --version       print the version\n";

class DaemonSystem : public api::routes::SystemBackend {
 public:
  DaemonSystem(std::string root, std::string id, image::ImageService* images,
               engine::ContainerService* containers)
      : root_(std::move(root)), id_(std::move(id)), images_(images), containers_(containers) {}
  Counts GetCounts() override {
    Counts c;
    c.images = images_->Count();
    for (const auto& ct : containers_->List()) {
      ++c.containers;
      if (ct.state.paused)
        ++c.paused;
      else if (ct.state.running)
        ++c.running;
      else
        ++c.stopped;
    }
    return c;
  }
  std::string RootDir() override { return root_; }
  std::string DaemonId() override { return id_; }

 private:
  std::string root_, id_;
  image::ImageService* images_;
  engine::ContainerService* containers_;
};

// The stores under the root, opened and recovered before the API serves.
struct Stores {
  std::unique_ptr<store::content::LocalContentStore> content;
  std::unique_ptr<store::meta::MetadataDb> db;
  std::unique_ptr<store::snapshot::OverlaySnapshotter> snapshots;
  std::unique_ptr<image::ImageService> images;
};

Result<Stores> OpenStores(const std::string& root) {
  store::Layout layout(root);
  BERTH_TRY(layout.Create());
  Stores s;
  s.content = BERTH_TRY(store::content::LocalContentStore::Open(layout));
  s.db = BERTH_TRY(store::meta::MetadataDb::Open(layout.DbPath()));
  s.snapshots = BERTH_TRY(store::snapshot::OverlaySnapshotter::Open(layout.LayersRoot()));
  s.images =
      std::make_unique<image::ImageService>(layout, s.content.get(), s.db.get(), s.snapshots.get());
  BERTH_TRY_CTX(s.images->Recover(), "recover the image store");
  BERTH_TRY(s.content->CleanIngests(std::chrono::hours(24)));
  return s;
}

// A stable id for this daemon's root, made once (docker's engine ID).
Result<std::string> EngineId(const std::string& root) {
  std::string path = JoinPath(root, "engine-id");
  if (auto id = ReadFile(path, 256); id) return std::string(Trim(*id));
  std::random_device rd;
  std::string id;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) id += '-';
    id += hex[rd() % 16];
  }
  BERTH_TRY(WriteFileAtomic(path, id + "\n", 0600));
  return id;
}

// One daemon per root: an exclusive flock held for the process's life.
Result<Fd> LockRoot(const std::string& root) {
  Fd fd = BERTH_TRY(Fd::Open(JoinPath(root, "berthd.lock"), O_RDWR | O_CREAT, 0600));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno == EWOULDBLOCK)
      return Error::AlreadyExists("another berthd is running with root " + root);
    return Error::FromErrno(errno, "lock " + root);
  }
  return fd;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  auto flags = cmd::ParseFlags(args, 1,
                               {{"root", "", true},
                                {"host", "H", true},
                                {"exec-root", "", true},
                                {"log-level", "l", true},
                                {"log-format", "", true},
                                {"insecure-registry", "", true},
                                {"version", "v", false},
                                {"help", "h", false}});
  if (!flags) {
    std::fprintf(stderr, "berthd: %s\n%s", flags.error().message().c_str(), kUsage);
    return 2;
  }
  if (flags->Bool("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (flags->Bool("version")) {
    std::printf("Berth version %s, API %s\n", api::routes::kEngineVersion,
                api::routes::kApiVersion);
    return 0;
  }
  if (!flags->args.empty()) {
    std::fprintf(stderr, "berthd: unexpected argument %s\n%s", flags->args[0].c_str(), kUsage);
    return 2;
  }
  log::Level level;
  if (!log::ParseLevel(flags->Get("log-level", "info"), &level)) {
    std::fprintf(stderr, "berthd: invalid log level %s\n", flags->Get("log-level").c_str());
    return 2;
  }
  log::Configure(
      level, flags->Get("log-format", "text") == "json" ? log::Format::kJson : log::Format::kText);
  const auto& logger = log::Get("daemon");

  std::string root = flags->Get("root", "/var/lib/berth");
  std::string host = flags->Get("host", "unix:///run/berth/berth.sock");
  if (host.rfind("unix://", 0) != 0) {
    logger.Error("unsupported --host {}: only unix:// sockets (TCP needs TLS, not yet)", host);
    return 2;
  }
  std::string socket_path = host.substr(7);
  std::string exec_root = flags->Get("exec-root", "/run/berth");

  // The monitors' spawner is forked now, while berthd has one thread and no file open but
  // its stdio (engine/monitor/spawner.h).
  auto spawner = engine::monitor::Spawner::Start();
  if (!spawner) {
    logger.Error("{}", spawner.error().message());
    return 1;
  }

  // SIGTERM and SIGINT are taken by a thread with sigwait: block them in every thread first.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (auto r = MkdirAll(root, 0711); !r) {
    logger.Error("{}", r.error().message());
    return 1;
  }
  auto lock = LockRoot(root);
  if (!lock) {
    logger.Error("{}", lock.error().message());
    return 1;
  }
  auto id = EngineId(root);
  if (!id) {
    logger.Error("{}", id.error().message());
    return 1;
  }
  if (auto slash = socket_path.rfind('/'); slash != std::string::npos && slash > 0) {
    if (auto r = MkdirAll(socket_path.substr(0, slash), 0755); !r) {
      logger.Error("{}", r.error().message());
      return 1;
    }
  }

  auto stores = OpenStores(root);
  if (!stores) {
    logger.Error("{}", stores.error().message());
    return 1;
  }
  // Image events (import, load, tag, untag, delete) for GET /events.
  api::events::EventBus bus;
  stores->images->SetEventSink(
      [&bus](std::string_view action, std::string_view id, std::string_view name) {
        api::events::Event e{.type = "image", .action = std::string(action), .id = std::string(id)};
        e.attributes["name"] = name.empty() ? std::string(id) : std::string(name);
        bus.Publish(std::move(e));
      });
  engine::VolumeService volumes(store::Layout(root).VolumesRoot());
  if (auto r = volumes.Load(); !r) {
    logger.Error("{}", r.error().message());
    return 1;
  }
  std::string init_path;
  if (char self[4096]; ::readlink("/proc/self/exe", self, sizeof self - 1) > 0) {
    self[sizeof self - 1] = 0;
    std::string exe(self, ::strnlen(self, sizeof self - 1));
    init_path = exe.substr(0, exe.rfind('/')) + "/berth-init";
  }
  engine::ContainerService containers({.root = root,
                                       .exec_root = exec_root,
                                       .spawner = spawner->get(),
                                       .images = stores->images.get(),
                                       .snapshots = stores->snapshots.get(),
                                       .volumes = &volumes,
                                       .init_path = init_path});
  volumes.SetUsers([&containers](const std::string& v) { return containers.UsersOfVolume(v); });
  volumes.SetEventSink([&bus](std::string_view action, std::string_view name) {
    api::events::Event e{.type = "volume", .action = std::string(action), .id = std::string(name)};
    e.attributes["driver"] = "local";
    bus.Publish(std::move(e));
  });
  containers.SetEventSink([&bus](std::string_view action, const engine::Container& c,
                                 const std::map<std::string, std::string>& extra) {
    api::events::Event e{.type = "container", .action = std::string(action), .id = c.id};
    e.attributes["name"] = c.name;
    e.attributes["image"] = c.request.config.image;
    for (const auto& [k, v] : c.request.config.labels) e.attributes[k] = v;
    for (const auto& [k, v] : extra) e.attributes[k] = v;
    bus.Publish(std::move(e));
  });
  stores->images->SetContainerUsers(
      [&containers](const oci::Digest& image) { return containers.UsersOfImage(image.str()); });
  if (auto r = containers.Restore(); !r) {
    logger.Error("restore containers: {}", r.error().message());
    return 1;
  }
  DaemonSystem system(root, *id, stores->images.get(), &containers);
  cmd::DaemonImages images(stores->images.get());
  images.SetInsecureRegistries(flags->All("insecure-registry"));
  api::Router router;
  api::routes::AddSystemRoutes(&router, &system);
  api::routes::ImageRouteOptions image_options;
  image_options.container_usage = [&containers]() -> Result<std::string> {
    std::string out = "[";
    for (const auto& c : containers.List()) {
      auto j = nlohmann::ordered_json::parse(api::containers::SummaryJson(c));
      auto sizes = engine::fs::SizesOf(c.upper_dir, c.lower_dirs);
      j["SizeRw"] = sizes ? sizes->rw : 0;
      j["SizeRootFs"] = sizes ? sizes->rootfs : 0;
      out += (out.size() > 1 ? "," : "") + j.dump();
    }
    return out + "]";
  };
  image_options.volume_usage = [&volumes, &containers]() -> Result<std::string> {
    std::string out = "[";
    for (const auto& v : BERTH_TRY(volumes.List())) {
      int64_t size = volumes.Size(v.name).value_or(-1);
      auto refs = static_cast<int64_t>(containers.UsersOfVolume(v.name).size());
      out += (out.size() > 1 ? "," : "") + api::volumes::VolumeJson(v, size, refs);
    }
    return out + "]";
  };
  // Builds: RUN steps as this engine's containers; contexts unpacked under <root>/tmp.
  engine::build::ContainerStepRunner step_runner(&containers, stores->images.get());
  build::Builder builder(*stores->images, step_runner, JoinPath(root, "builder"));
  std::string build_tmp = store::Layout(root).TmpDir();
  api::build::ContextDir::RemoveStale(build_tmp);
  image_options.build_cache_usage = [&builder]() -> Result<std::string> {
    return api::build::BuildCacheJson(BERTH_TRY(builder.CacheUsage()));
  };
  api::build::BuildRouteOptions build_options{.tmp_dir = build_tmp};
  build_options.pull = [&images](const std::string& ref, const std::string&,
                                 const std::function<void(const std::string&)>& emit) {
    api::routes::PullRequest pr{.image = ref};
    return images.PullImage(pr, [&emit](const api::routes::PullMessage& m) {
      emit(m.current >= 0 ? api::routes::ProgressMessage(m.status, m.id, m.current, m.total)
                          : api::routes::StatusMessage(m.status, m.id, m.detail));
    });
  };
  api::build::AddBuildRoutes(&router, &builder, build_options);
  api::routes::AddImageRoutes(&router, &images, image_options);
  api::routes::AddEventRoutes(&router, &bus);
  api::containers::AddContainerRoutes(&router, &containers);
  api::containers::AddContainerFsRoutes(
      &router, &containers, stores->images.get(),
      [&bus](const engine::Container& c, const std::string& image_id, const std::string& ref) {
        api::events::Event e{.type = "container", .action = "commit", .id = c.id};
        e.attributes["name"] = c.name;
        e.attributes["image"] = c.request.config.image;
        if (!ref.empty()) e.attributes["imageRef"] = ref;
        e.attributes["imageID"] = image_id;
        bus.Publish(std::move(e));
      });
  api::volumes::AddVolumeRoutes(&router, &volumes);
  api::ServerOptions options;
  options.common_headers = api::routes::CommonHeaders();
  api::Server server(router, options);
  if (auto r = server.ListenUnix(socket_path, 0660); !r) {
    logger.Error("{}", r.error().message());
    return 1;
  }
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    logger.Info("received signal {}, shutting down", sig);
    bus.Close();  // ends the event streams
    server.Stop();
  });
  logger.Info({{"root", root}, {"socket", socket_path}}, "berthd {} serving API {}",
              api::routes::kEngineVersion, api::routes::kApiVersion);
  server.Serve();
  signals.join();
  containers.Shutdown();
  // Requests still running (attach, logs --follow, stats streams) hold the services: give them
  // a moment, then leave without destroying what they use. Containers outlive berthd anyway.
  for (int i = 0; i < 100 && server.active_connections() > 0; ++i) ::usleep(20000);
  if (size_t n = server.active_connections(); n > 0) {
    logger.Info("stopped with {} connection(s) open", n);
    std::fflush(nullptr);
    ::_exit(0);
  }
  logger.Info("stopped");
  return 0;
}

}  // namespace
}  // namespace berth

int main(int argc, char** argv) { return berth::Main(argc, argv); }
