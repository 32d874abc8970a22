#include "store/layout.h"

#include "util/file.h"
#include "util/sha256.h"

namespace berth::store {

Result<void> Layout::Create() const {
  for (const std::string& dir :
       {root_, BlobsDir(), IngestRoot(), LayersRoot(), ContainersRoot(), VolumesRoot(), TmpDir()}) {
    BERTH_TRY_CTX(MkdirAll(dir, 0711), "create store layout");
  }
  return {};
}

std::string Layout::BlobsRoot() const { return JoinPath(root_, "blobs"); }

std::string Layout::BlobsDir(std::string_view algorithm) const {
  return JoinPath(BlobsRoot(), algorithm);
}

std::string Layout::BlobPath(const oci::Digest& digest) const {
  return JoinPath(BlobsDir(digest.algorithm()), digest.hex());
}

std::string Layout::IngestRoot() const { return JoinPath(root_, "ingest"); }

Result<std::string> Layout::IngestKey(std::string_view ref) { return Sha256Hex(ref); }

std::string Layout::IngestDir(std::string_view key) const { return JoinPath(IngestRoot(), key); }

std::string Layout::IngestDataPath(std::string_view key) const {
  return JoinPath(IngestDir(key), "data");
}

std::string Layout::IngestRefPath(std::string_view key) const {
  return JoinPath(IngestDir(key), "ref");
}

std::string Layout::IngestStartedPath(std::string_view key) const {
  return JoinPath(IngestDir(key), "started");
}

std::string Layout::LayersRoot() const { return JoinPath(root_, "layers"); }

std::string Layout::LayerDir(const oci::Digest& chain_id) const {
  return JoinPath(LayersRoot(), chain_id.hex());
}

std::string Layout::ContainersRoot() const { return JoinPath(root_, "containers"); }

std::string Layout::ContainerDir(std::string_view id) const {
  return JoinPath(ContainersRoot(), id);
}

std::string Layout::VolumesRoot() const { return JoinPath(root_, "volumes"); }

std::string Layout::VolumeDir(std::string_view name) const { return JoinPath(VolumesRoot(), name); }

std::string Layout::VolumeDataDir(std::string_view name) const {
  return JoinPath(VolumeDir(name), "_data");
}

std::string Layout::TmpDir() const { return JoinPath(root_, "tmp"); }

std::string Layout::DbPath() const { return JoinPath(root_, "berth.db"); }

}  // namespace berth::store
