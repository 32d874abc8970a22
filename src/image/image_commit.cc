// ImageService::Commit (`docker commit`): the container's upper directory as a layer over its
// image, and an image of them. The layer is stored as Import and Load store theirs (a blob,
// then EnsureLayer: unpacked once per chain id, recorded pending, then complete); the image row
// follows the same pending protocol with its tag.

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>

#include "image/changes.h"
#include "image/image_commit.h"
#include "image/image_internal.h"
#include "image/image_service.h"
#include "oci/media_types.h"
#include "oci/reference.h"
#include "store/archive/write.h"
#include "store/snapshot/snapshotter.h"
#include "util/fd.h"
#include "util/file.h"
#include "util/sha256.h"
#include "util/time.h"

namespace berth::image {
namespace {

using internal::RandomHex;
using store::meta::ImageRecord;
using store::meta::RecordState;
using store::meta::Tx;

std::string MachineArch() {
  struct utsname u;
  if (::uname(&u) != 0) return "amd64";
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

std::string EnvKey(const std::string& kv) { return kv.substr(0, kv.find('=')); }

void MergeSorted(std::vector<std::string>* into, const std::vector<std::string>& from) {
  for (const auto& v : from)
    if (std::find(into->begin(), into->end(), v) == into->end()) into->push_back(v);
  std::sort(into->begin(), into->end());
}

/// Copies the layer bytes into a content writer: from the tar reader, or from the upper
/// directory through a pipe that a thread fills with WriteLayerTar.
Result<void> WriteLayer(const CommitOptions& o, store::content::ContentWriter* w) {
  std::vector<char> buf(1 << 20);
  if (o.layer_tar) {
    for (;;) {
      size_t n = BERTH_TRY_CTX(o.layer_tar(buf.data(), buf.size()), "read layer tar");
      if (n == 0) return {};
      BERTH_TRY(w->Write(std::string_view(buf.data(), n)));
    }
  }
  if (o.upper_dir.empty()) return Error::InvalidArgument("commit: no upper directory or layer");
  Fd upper = BERTH_TRY_CTX(Fd::Open(o.upper_dir, O_RDONLY | O_DIRECTORY), "commit");
  Pipe pipe = BERTH_TRY(Pipe::Make());
  Result<store::archive::WriteResult> written = Error::Internal("layer writer did not run");
  std::thread writer([&] {
    written = store::archive::WriteLayerTar(upper.get(), pipe.write.get());
    pipe.write.Reset();
  });
  // Read to the end even after an error, so that the writer never meets a closed pipe.
  std::optional<Error> error;
  for (;;) {
    ssize_t n = ::read(pipe.read.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (!error) error = Error::FromErrno(errno, "read layer tar");
      break;
    }
    if (n == 0) break;
    if (!error) {
      auto r = w->Write(std::string_view(buf.data(), static_cast<size_t>(n)));
      if (!r) error = std::move(r).error();
    }
  }
  pipe.read.Reset();
  writer.join();
  if (!written) return std::move(written).error().Wrap("commit " + o.upper_dir);
  if (error) return *error;
  return {};
}

}  // namespace

void MergeCommitConfig(oci::ContainerConfig* user, const oci::ContainerConfig& c) {
  if (user->user.empty()) user->user = c.user;
  if (user->exposed_ports.empty()) {
    user->exposed_ports = c.exposed_ports;
  } else {
    MergeSorted(&user->exposed_ports, c.exposed_ports);
  }
  if (user->env.empty()) {
    user->env = c.env;
  } else {
    for (const auto& kv : c.env) {
      bool found = std::any_of(user->env.begin(), user->env.end(),
                               [&](const std::string& u) { return EnvKey(u) == EnvKey(kv); });
      if (!found) user->env.push_back(kv);
    }
  }
  for (const auto& [k, v] : c.labels) user->labels.try_emplace(k, v);
  if (!user->entrypoint || user->entrypoint->empty()) {
    if (!user->cmd || user->cmd->empty()) {
      user->cmd = c.cmd;
      user->args_escaped = c.args_escaped;
    }
    if (!user->entrypoint) user->entrypoint = c.entrypoint;
  }
  if (c.healthcheck) {
    if (!user->healthcheck) {
      user->healthcheck = c.healthcheck;
    } else {
      auto& h = *user->healthcheck;
      if (h.test.empty()) h.test = c.healthcheck->test;
      if (h.interval == 0) h.interval = c.healthcheck->interval;
      if (h.timeout == 0) h.timeout = c.healthcheck->timeout;
      if (h.start_period == 0) h.start_period = c.healthcheck->start_period;
      if (h.start_interval == 0) h.start_interval = c.healthcheck->start_interval;
      if (h.retries == 0) h.retries = c.healthcheck->retries;
    }
  }
  if (user->working_dir.empty()) user->working_dir = c.working_dir;
  if (user->volumes.empty()) {
    user->volumes = c.volumes;
  } else {
    MergeSorted(&user->volumes, c.volumes);
  }
  if (user->stop_signal.empty()) user->stop_signal = c.stop_signal;
}

Result<oci::Digest> ImageService::Commit(const CommitOptions& o) {
  std::optional<oci::Reference> ref;
  if (!o.reference.empty()) {
    ref = BERTH_TRY(oci::Reference::ParseNormalized(o.reference));
    if (ref->has_digest())
      return Error::InvalidArgument("refusing to create a tag with a digest reference");
    ref = ref->WithDefaultTag();
  }
  oci::ContainerConfig cc = o.config ? *o.config : o.container_config;
  if (!o.exact_config) {
    BERTH_TRY(ApplyChanges(o.changes, &cc));
    MergeCommitConfig(&cc, o.container_config);
  }

  std::optional<Image> parent;
  if (o.parent.valid()) parent = BERTH_TRY(Get(o.parent.str()));

  // The layer blob, uncompressed: its digest is its diff id.
  oci::Digest diff_id;
  int64_t layer_size = 0;
  bool empty_layer = o.no_layer;
  if (!o.no_layer) {
    auto w = BERTH_TRY(content_->Writer("berth-commit-" + RandomHex(), std::nullopt));
    if (auto r = WriteLayer(o, w.get()); !r) {
      (void)w->Abort();
      return std::move(r).error();
    }
    diff_id = BERTH_TRY(w->Digest());
    layer_size = w->Offset();
    static const oci::Digest kEmptyTar =
        oci::Digest::Sha256Hex(Sha256Hex(std::string(1024, '\0')).value());
    empty_layer = diff_id == kEmptyTar;
    if (empty_layer) {
      (void)w->Abort();
    } else {
      auto c = w->Commit(layer_size, diff_id);
      if (!c && !c.error().IsAlreadyExists()) return std::move(c).error();
    }
  }

  std::string created = NowRfc3339();
  oci::ImageConfig config;
  std::vector<oci::Descriptor> layer_descs;
  std::string manifest_type = std::string(oci::kDockerManifest);
  std::string config_type = std::string(oci::kDockerConfig);
  std::string layer_type = std::string(oci::kDockerLayerTar);
  ImageRecord image;
  if (parent) {
    const oci::ImageConfig& p = parent->config.config;
    config.architecture = p.architecture;
    config.os = p.os;
    config.variant = p.variant;
    config.os_version = p.os_version;
    config.os_features = p.os_features;
    config.diff_ids = p.diff_ids;
    config.history = p.history;
    image.layers = parent->record.layers;
    image.size = parent->record.size;
    // The parent's layer descriptors, from its manifest of record.
    if (parent->record.manifest_digest.valid()) {
      std::string bytes = BERTH_TRY(
          ReadFile(layout_.BlobPath(parent->record.manifest_digest), oci::kMaxDocumentBytes));
      oci::ImageManifest m = BERTH_TRY(oci::ParseManifest(bytes));
      layer_descs = m.layers;
      if (parent->record.media_type == oci::kOciManifest) {
        manifest_type = std::string(oci::kOciManifest);
        config_type = std::string(oci::kOciConfig);
        layer_type = std::string(oci::kOciLayerTar);
      }
    }
    if (layer_descs.size() != image.layers.size()) {
      layer_descs.clear();
      BERTH_TRY(db_->Read([&](Tx& tx) -> Result<void> {
        for (const auto& l : image.layers) {
          auto row = BERTH_TRY(tx.GetLayer(l.chain_id));
          layer_descs.push_back({row.media_type, l.blob_digest, row.size});
        }
        return {};
      }));
    }
  } else {
    config.architecture = MachineArch();
    config.os = "linux";
  }
  config.created = created;
  config.author = o.author;
  config.config = cc;
  std::string created_by;
  if (o.created_by) {
    created_by = *o.created_by;
  } else if (o.container_config.cmd) {
    for (const auto& a : *o.container_config.cmd) created_by += (created_by.empty() ? "" : " ") + a;
  }
  config.history.push_back({created, created_by, o.author, o.comment, empty_layer});

  oci::Digest parent_chain = image.layers.empty() ? oci::Digest() : image.layers.back().chain_id;
  std::lock_guard lock(mu_);
  if (!empty_layer) {
    std::string chain = BERTH_TRY(
        store::snapshot::ChainId(parent_chain.valid() ? parent_chain.str() : "", diff_id.str()));
    oci::Digest chain_id = BERTH_TRY(oci::Digest::Parse(chain));
    store::meta::LayerRecord layer =
        BERTH_TRY(EnsureLayer(chain_id, parent_chain, diff_id, layer_type, layer_size, diff_id));
    config.diff_ids.push_back(diff_id);
    image.layers.push_back({chain_id, diff_id, diff_id});
    image.size += layer.unpacked_size;
    layer_descs.push_back({layer_type, diff_id, layer_size});
  }

  oci::ConfigBlob blob = BERTH_TRY(oci::MakeConfig(config));
  oci::ImageManifest manifest;
  manifest.media_type = manifest_type;
  manifest.config = {config_type, blob.id, static_cast<int64_t>(blob.bytes.size())};
  manifest.layers = layer_descs;
  std::string manifest_bytes = oci::Serialize(manifest);
  BERTH_TRY(PutBlob(blob.bytes, config_type));
  oci::Digest manifest_digest = BERTH_TRY(PutBlob(manifest_bytes, manifest_type));

  image.id = blob.id;
  image.manifest_digest = manifest_digest;
  image.media_type = manifest_type;
  image.os = config.os;
  image.architecture = config.architecture;
  image.variant = config.variant;
  image.created = created;
  image.labels = cc.labels;
  image.state = RecordState::kPending;
  bool new_image = false;
  BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
    BERTH_TRY(tx.PutBlob(blob.id, static_cast<int64_t>(blob.bytes.size()), config_type));
    BERTH_TRY(
        tx.PutBlob(manifest_digest, static_cast<int64_t>(manifest_bytes.size()), manifest_type));
    auto have = tx.GetImage(image.id);
    if (have && have->state == RecordState::kComplete) return {};
    if (!have && !have.error().IsNotFound()) return std::move(have).error();
    new_image = true;
    return tx.PutImage(image);
  }));
  std::optional<oci::Digest> moved_from;
  BERTH_TRY(db_->Write([&](Tx& tx) -> Result<void> {
    if (new_image) BERTH_TRY(tx.SetImageState(image.id, RecordState::kComplete));
    if (ref) moved_from = BERTH_TRY(tx.SetTag(ref->String(), image.id));
    return {};
  }));
  if (ref) {
    if (moved_from) Emit("untag", *moved_from, ref->FamiliarString());
    Emit("tag", image.id, ref->FamiliarString());
  }
  return image.id;
}

}  // namespace berth::image
