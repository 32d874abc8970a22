#include "cmd/image_backend.h"

#include <nlohmann/json.hpp>

#include "distribution/manifest.h"
#include "distribution/pull.h"
#include "distribution/push.h"
#include "distribution/registry_client.h"

namespace berth::cmd {
namespace {

namespace routes = api::routes;

routes::ImageSummary Summary(const image::Image& img) {
  routes::ImageSummary s;
  s.id = img.record.id.str();
  for (const auto& t : img.tags) s.repo_tags.push_back(image::FamiliarTag(t));
  for (const auto& d : img.repo_digests) s.repo_digests.push_back(image::FamiliarTag(d));
  s.created = image::UnixSeconds(img.config.config.created);
  s.size = img.record.size;
  if (img.config.config.config) s.labels = img.config.config.config->labels;
  return s;
}

std::vector<routes::ImageDeleteItem> Items(const std::vector<image::DeleteItem>& items) {
  std::vector<routes::ImageDeleteItem> out;
  for (const auto& i : items) out.push_back({i.untagged, i.deleted});
  return out;
}

}  // namespace

Result<std::vector<routes::ImageSummary>> DaemonImages::ListImages(const routes::ImageFilters& f) {
  image::ListOptions o{f.all, f.dangling, f.references, f.labels};
  std::vector<routes::ImageSummary> out;
  for (const auto& img : BERTH_TRY(service_->List(o))) out.push_back(Summary(img));
  return out;
}

Result<routes::ImageInspect> DaemonImages::InspectImage(const std::string& name) {
  image::Image img = BERTH_TRY(service_->Get(name));
  routes::ImageInspect i;
  i.id = img.record.id.str();
  for (const auto& t : img.tags) i.repo_tags.push_back(image::FamiliarTag(t));
  for (const auto& d : img.repo_digests) i.repo_digests.push_back(image::FamiliarTag(d));
  const oci::ImageConfig& c = img.config.config;
  i.created = c.created;
  i.author = c.author;
  i.architecture = c.architecture;
  i.variant = c.variant;
  i.os = c.os;
  i.size = img.record.size;
  for (const auto& d : c.diff_ids) i.layers.push_back(d.str());
  // Comment and Config as the config blob holds them: Docker's own field names.
  auto j = nlohmann::json::parse(img.config.bytes, nullptr, false);
  i.config_json = "null";
  if (j.is_object()) {
    if (auto it = j.find("comment"); it != j.end() && it->is_string()) i.comment = *it;
    if (auto it = j.find("config"); it != j.end()) i.config_json = it->dump();
  }
  i.last_tag_time = img.last_tag_time;
  return i;
}

Result<std::vector<routes::ImageHistoryItem>> DaemonImages::ImageHistory(const std::string& name) {
  std::vector<routes::ImageHistoryItem> out;
  for (const auto& h : BERTH_TRY(service_->History(name)))
    out.push_back({h.id, h.created, h.created_by, h.tags, h.size, h.comment});
  return out;
}

Result<void> DaemonImages::TagImage(const std::string& source, const std::string& target) {
  return service_->Tag(source, target);
}

Result<std::vector<routes::ImageDeleteItem>> DaemonImages::DeleteImage(const std::string& name,
                                                                       bool force, bool noprune) {
  return Items(BERTH_TRY(service_->Delete(name, {force, noprune})));
}

Result<std::string> DaemonImages::ImportImage(
    const std::function<Result<size_t>(char*, size_t)>& read,
    const routes::ImportRequest& request) {
  image::ImportOptions o;
  o.reference = request.reference;
  o.changes = request.changes;
  o.message = request.message;
  o.source = request.source;
  oci::Digest id = BERTH_TRY(service_->Import(read, o));
  return id.str();
}

Result<void> DaemonImages::PullImage(
    const routes::PullRequest& request,
    const std::function<void(const routes::PullMessage&)>& progress) {
  distribution::PullRequest pr;
  pr.reference = request.image;
  if (!request.tag.empty())
    pr.reference += (request.tag.find(':') != std::string::npos ? "@" : ":") + request.tag;
  if (!request.platform.empty())
    pr.platform = BERTH_TRY(distribution::ParsePlatform(request.platform));
  pr.registry.credentials = BERTH_TRY(distribution::DecodeRegistryAuth(request.registry_auth));
  pr.registry.insecure_registries = insecure_registries_;
  BERTH_TRY(distribution::Pull(*service_, pr, [&](const distribution::PullEvent& e) {
    progress({e.id, e.status, e.current, e.total, e.detail});
  }));
  return {};
}

Result<void> DaemonImages::PushImage(
    const routes::PushRequest& request,
    const std::function<void(const routes::PushMessage&)>& progress) {
  distribution::PushRequest pr;
  pr.reference = request.tag.empty() ? request.name : request.name + ":" + request.tag;
  pr.registry.credentials = BERTH_TRY(distribution::DecodeRegistryAuth(request.registry_auth));
  pr.registry.insecure_registries = insecure_registries_;
  BERTH_TRY(distribution::Push(*service_, pr, [&](const distribution::PushEvent& e) {
    progress({e.id, e.status, e.current, e.total, e.detail, e.aux_tag, e.aux_digest, e.aux_size});
  }));
  return {};
}

Result<std::string> DaemonImages::Login(const routes::AuthRequest& request) {
  // "http://127.0.0.1:5000/v2/", "127.0.0.1:5000", "https://index.docker.io/v1/" → the domain.
  std::string address = request.server_address;
  if (auto scheme = address.find("://"); scheme != std::string::npos)
    address = address.substr(scheme + 3);
  address = address.substr(0, address.find('/'));
  if (address.empty() || address == "index.docker.io") address = "docker.io";
  distribution::RegistryOptions o;
  o.credentials.username = request.username;
  o.credentials.password = request.password;
  o.credentials.identity_token = request.identity_token;
  o.insecure_registries = insecure_registries_;
  auto reg = BERTH_TRY(distribution::RegistryClient::Create(address, "", o));
  BERTH_TRY(reg->Ping());
  return std::string();
}

Result<std::pair<std::vector<routes::ImageDeleteItem>, int64_t>> DaemonImages::PruneImages(
    const routes::ImageFilters& f) {
  bool all = f.dangling.has_value() && !*f.dangling;
  image::PruneReport r = BERTH_TRY(service_->Prune(all, f.labels));
  return std::pair{Items(r.deleted), r.space_reclaimed};
}

Result<std::pair<int64_t, std::vector<routes::ImageSummary>>> DaemonImages::ImageDiskUsage() {
  image::DiskUsageReport r = BERTH_TRY(service_->DiskUsage());
  std::vector<routes::ImageSummary> images;
  for (const auto& e : r.images) {
    routes::ImageSummary s = Summary(e.image);
    s.shared_size = e.shared_size;
    s.containers = static_cast<int64_t>(service_->ContainersUsing(e.image.record.id).size());
    images.push_back(std::move(s));
  }
  return std::pair{r.layers_size, std::move(images)};
}

}  // namespace berth::cmd
