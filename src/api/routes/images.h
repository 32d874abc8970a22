#pragma once

// The image routes of the Engine API: /images/json, /images/{name}/json, /history, /tag,
// DELETE /images/{name}, /images/create (fromSrc=- and fromImage=), /images/{name}/push,
// POST /auth, /images/prune, /system/df, /images/load, /images/{name}/get and
// /images/get?names=, with Docker's
// JSON shapes (api/types/image). The routes know nothing of the stores: they speak to an
// ImageBackend, which berthd implements over the image service.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http/router.h"

namespace berth::api::routes {

/// ImageSummary (GET /images/json, /system/df).
struct ImageSummary {
  std::string id;  // "sha256:…"
  std::string parent_id;
  std::vector<std::string> repo_tags;  // familiar: "busybox:latest"
  std::vector<std::string> repo_digests;
  int64_t created = 0;  // unix seconds
  int64_t size = 0;
  int64_t shared_size = -1;
  std::map<std::string, std::string> labels;
  int64_t containers = -1;
};

/// ImageInspect (GET /images/{name}/json).
struct ImageInspect {
  std::string id;
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  std::string parent;
  std::string comment;
  std::string created;  // RFC 3339 with nanoseconds, as in the config
  std::string author;
  std::string config_json;  // the config's "config" object as stored ("null" if none)
  std::string architecture;
  std::string variant;
  std::string os;
  int64_t size = 0;
  std::map<std::string, std::string> graph_driver_data;
  std::vector<std::string> layers;  // diff ids
  std::string last_tag_time;        // empty: Go's zero time
};

struct ImageHistoryItem {
  std::string id;
  int64_t created = 0;
  std::string created_by;
  std::vector<std::string> tags;
  int64_t size = 0;
  std::string comment;
};

struct ImageFilters {
  bool all = false;
  std::optional<bool> dangling;
  std::vector<std::string> references;
  std::vector<std::string> labels;
};

/// One line of a delete or prune answer: exactly one of the two is set.
struct ImageDeleteItem {
  std::string untagged;
  std::string deleted;
};

/// POST /images/create?fromImage=NAME&tag=T: a pull from a registry.
struct PullRequest {
  std::string image;          // fromImage: "127.0.0.1:5000/busybox", may carry :tag or @digest
  std::string tag;            // tag or digest ("sha256:…"); empty: the one in image, or latest
  std::string platform;       // "os/arch[/variant]" or empty
  std::string registry_auth;  // the X-Registry-Auth header as sent
};

/// One of Docker's progress messages of a pull (current < 0: no progressDetail numbers;
/// detail: a progressDetail object at all).
struct PullMessage {
  std::string id;
  std::string status;
  int64_t current = -1;
  int64_t total = 0;
  bool detail = false;
};

/// POST /images/{name}/push?tag=T.
struct PushRequest {
  std::string name;           // "127.0.0.1:5000/app"
  std::string tag;            // empty: every tag of the repository
  std::string registry_auth;  // the X-Registry-Auth header as sent
};

/// One of Docker's progress messages of a push: a status line as PullMessage's, or (aux_size
/// >= 0) the closing {"aux":{"Tag","Digest","Size"}}.
struct PushMessage {
  std::string id;
  std::string status;
  int64_t current = -1;
  int64_t total = 0;
  bool detail = false;
  std::string aux_tag;
  std::string aux_digest;
  int64_t aux_size = -1;
};

/// POST /auth: the AuthConfig body.
struct AuthRequest {
  std::string username;
  std::string password;
  std::string server_address;  // "127.0.0.1:5000", "http://127.0.0.1:5000/v2/", or empty
  std::string identity_token;
};

struct ImportRequest {
  std::string reference;  // repo[:tag] or empty
  std::vector<std::string> changes;
  std::string message;
  std::string source;  // "-" for the request body
};

/// What the image routes need. Errors carry the codes the HTTP statuses come from
/// (NotFound 404, Conflict 409, InvalidArgument 400) and Docker's messages.
class ImageBackend {
 public:
  virtual ~ImageBackend() = default;
  virtual Result<std::vector<ImageSummary>> ListImages(const ImageFilters& filters) = 0;
  virtual Result<ImageInspect> InspectImage(const std::string& name) = 0;
  virtual Result<std::vector<ImageHistoryItem>> ImageHistory(const std::string& name) = 0;
  virtual Result<void> TagImage(const std::string& source, const std::string& target) = 0;
  virtual Result<std::vector<ImageDeleteItem>> DeleteImage(const std::string& name, bool force,
                                                           bool noprune) = 0;
  /// Reads the rootfs tarball with read (0 at its end); returns the new image id.
  virtual Result<std::string> ImportImage(const std::function<Result<size_t>(char*, size_t)>& read,
                                          const ImportRequest& request) = 0;
  /// Pulls an image, reporting progress as it goes (from any thread, one call at a time).
  virtual Result<void> PullImage(const PullRequest& request,
                                 const std::function<void(const PullMessage&)>& progress) {
    (void)request, (void)progress;
    return Error::NotImplemented("pulling images (fromImage) is not supported");
  }
  /// Pushes an image's tags to their registry, reporting progress as it goes.
  virtual Result<void> PushImage(const PushRequest& request,
                                 const std::function<void(const PushMessage&)>& progress) {
    (void)request, (void)progress;
    return Error::NotImplemented("pushing images is not supported");
  }
  /// Checks credentials against a registry (docker login); returns an identity token or "".
  /// PermissionDenied (401) with the registry's refusal.
  virtual Result<std::string> Login(const AuthRequest& request) {
    (void)request;
    return Error::NotImplemented("login is not supported");
  }
  /// Returns the deleted items and the bytes reclaimed.
  virtual Result<std::pair<std::vector<ImageDeleteItem>, int64_t>> PruneImages(
      const ImageFilters& filters) = 0;
  /// `docker load`: reads an image archive with read (0 at its end); returns Docker's lines
  /// ("Loaded image: busybox:latest", "Loaded image ID: sha256:…").
  virtual Result<std::vector<std::string>> LoadImages(
      const std::function<Result<size_t>(char*, size_t)>& read) = 0;
  /// The same, reporting each layer's bytes as they arrive (Docker's "Loading layer" progress).
  /// The default reports nothing.
  using LoadProgress = std::function<void(const std::string& id, int64_t current, int64_t total)>;
  virtual Result<std::vector<std::string>> LoadImagesWithProgress(
      const std::function<Result<size_t>(char*, size_t)>& read, const LoadProgress& progress) {
    (void)progress;
    return LoadImages(read);
  }
  /// `docker save`: writes the images names names as one tar to output_fd (a pipe). An error
  /// before the first byte becomes the HTTP error; after it, the response is cut.
  virtual Result<void> SaveImages(const std::vector<std::string>& names, int output_fd) = 0;
  /// LayersSize and the images with SharedSize and Containers filled in.
  virtual Result<std::pair<int64_t, std::vector<ImageSummary>>> ImageDiskUsage() = 0;
};

struct ImageRouteOptions {
  /// POST /images/load answers while it reads the archive, so "Loading layer" progress and a
  /// mid-stream error reach the client as they happen. Needs a server that keeps the request
  /// body readable while the response streams; off: the same messages, sent once the archive
  /// is read.
  bool live_load = false;
  /// GET /system/df's "Containers" and "Volumes": JSON arrays (Docker's container summaries
  /// with SizeRw and SizeRootFs; volumes with UsageData). Unset: empty arrays.
  std::function<Result<std::string>()> container_usage;
  std::function<Result<std::string>()> volume_usage;
  /// GET /system/df's "BuildCache": a JSON array of Docker's BuildCache records (api_build's
  /// BuildCacheJson). Unset: an empty array.
  std::function<Result<std::string>()> build_cache_usage;
};

void AddImageRoutes(Router* router, ImageBackend* backend, const ImageRouteOptions& options = {});

/// Docker's JSON messages (pkg/jsonmessage): a progress line {"status","progressDetail",
/// "progress","id"}, a stream line {"stream"} and an error {"errorDetail":{"message"},"error"},
/// each ending in "\r\n".
std::string ProgressMessage(std::string_view status, const std::string& id, int64_t current,
                            int64_t total);
std::string StreamMessage(std::string_view text);
/// A status line: {"status"} with "progressDetail":{} when detail and "id" when not empty.
std::string StatusMessage(std::string_view status, const std::string& id, bool detail);
std::string ErrorMessage(std::string_view message);
/// {"progressDetail":{},"aux":{"Tag","Digest","Size"}}: the end of a pushed tag.
std::string PushAuxMessage(const std::string& tag, const std::string& digest, int64_t size);

/// Docker's `filters` query value: {"key":["v",…]} or the older {"key":{"v":true}}. An
/// InvalidArgument error for malformed JSON.
Result<std::map<std::string, std::vector<std::string>>> ParseFilters(const std::string& text);

}  // namespace berth::api::routes
