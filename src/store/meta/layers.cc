// Tx methods for layers and blobs.

#include "store/meta/metadata_db.h"
#include "store/meta/sqlite_internal.h"

namespace berth::store::meta {

using internal::Stmt;

namespace {

constexpr const char* kLayerColumns =
    "SELECT chain_id, diff_id, parent_chain_id, blob_digest, media_type, size, unpacked_size, "
    "created, state FROM layers";

Result<LayerRecord> ReadLayerRow(const Stmt& q) {
  LayerRecord l;
  l.chain_id = BERTH_TRY(q.DigestAt(0));
  l.diff_id = BERTH_TRY(q.DigestAt(1));
  l.parent = BERTH_TRY(q.DigestAt(2));
  l.blob_digest = BERTH_TRY(q.DigestAt(3));
  l.media_type = q.Text(4);
  l.size = q.Int(5);
  l.unpacked_size = q.Int(6);
  l.created = q.Text(7);
  l.state = q.Text(8) == "pending" ? RecordState::kPending : RecordState::kComplete;
  return l;
}

}  // namespace

Result<void> Tx::PutLayer(const LayerRecord& l) {
  BERTH_TRY(CheckWritable("put layer"));
  if (!l.chain_id.valid() || !l.diff_id.valid())
    return Error::InvalidArgument("put layer: empty chain id or diff id");
  if (l.parent == l.chain_id)
    return Error::InvalidArgument("put layer " + l.chain_id.str() + ": its own parent");
  auto q = BERTH_TRY(Stmt::Prepare(db_, R"sql(
INSERT INTO layers (chain_id, diff_id, parent_chain_id, blob_digest, media_type, size,
                    unpacked_size, created, state)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (chain_id) DO UPDATE SET diff_id = excluded.diff_id,
  parent_chain_id = excluded.parent_chain_id, blob_digest = excluded.blob_digest,
  media_type = excluded.media_type, size = excluded.size,
  unpacked_size = excluded.unpacked_size, created = excluded.created, state = excluded.state)sql"));
  q.Bind(1, l.chain_id).Bind(2, l.diff_id).Bind(3, l.parent).Bind(4, l.blob_digest);
  q.Bind(5, l.media_type).Bind(6, l.size).Bind(7, l.unpacked_size).Bind(8, l.created);
  q.Bind(9, l.state == RecordState::kPending ? "pending" : "complete");
  BERTH_TRY_CTX(q.Run(), "put layer " + l.chain_id.str());
  return {};
}

Result<LayerRecord> Tx::GetLayer(const oci::Digest& chain_id) {
  auto q = BERTH_TRY(Stmt::Prepare(db_, std::string(kLayerColumns) + " WHERE chain_id = ?"));
  if (!BERTH_TRY(q.Bind(1, chain_id).Step()))
    return Error::NotFound("layer " + chain_id.str() + ": not found");
  return ReadLayerRow(q);
}

Result<std::vector<LayerRecord>> Tx::ListLayers() {
  std::vector<LayerRecord> out;
  auto q = BERTH_TRY(Stmt::Prepare(db_, std::string(kLayerColumns) + " ORDER BY chain_id"));
  while (BERTH_TRY(q.Step())) out.push_back(BERTH_TRY(ReadLayerRow(q)));
  return out;
}

Result<void> Tx::SetLayerState(const oci::Digest& chain_id, RecordState state) {
  BERTH_TRY(CheckWritable("set layer state"));
  auto q = BERTH_TRY(Stmt::Prepare(db_, "UPDATE layers SET state = ? WHERE chain_id = ?"));
  q.Bind(1, state == RecordState::kPending ? "pending" : "complete").Bind(2, chain_id);
  BERTH_TRY(q.Run());
  if (sqlite3_changes(db_) == 0) return Error::NotFound("layer " + chain_id.str() + ": not found");
  return {};
}

Result<void> Tx::DeleteLayer(const oci::Digest& chain_id) {
  BERTH_TRY(CheckWritable("delete layer"));
  LayerRefs refs = BERTH_TRY(LayerReferences(chain_id));
  if (refs.count() > 0)
    return Error::FailedPrecondition("delete layer " + chain_id.str() + ": in use by " +
                                     std::to_string(refs.images.size()) + " images and " +
                                     std::to_string(refs.children.size()) + " layers");
  auto q = BERTH_TRY(Stmt::Prepare(db_, "DELETE FROM layers WHERE chain_id = ?"));
  BERTH_TRY_CTX(q.Bind(1, chain_id).Run(), "delete layer " + chain_id.str());
  if (sqlite3_changes(db_) == 0) return Error::NotFound("layer " + chain_id.str() + ": not found");
  return {};
}

Result<LayerRefs> Tx::LayerReferences(const oci::Digest& chain_id) {
  LayerRefs refs;
  refs.images = BERTH_TRY(ImagesByLayer(chain_id));
  auto q = BERTH_TRY(Stmt::Prepare(
      db_, "SELECT chain_id FROM layers WHERE parent_chain_id = ? ORDER BY chain_id"));
  q.Bind(1, chain_id);
  while (BERTH_TRY(q.Step())) refs.children.push_back(BERTH_TRY(q.DigestAt(0)));
  return refs;
}

Result<void> Tx::PutBlob(const oci::Digest& digest, int64_t size, const std::string& media_type) {
  BERTH_TRY(CheckWritable("put blob"));
  if (!digest.valid()) return Error::InvalidArgument("put blob: empty digest");
  auto q = BERTH_TRY(Stmt::Prepare(db_, R"sql(
INSERT INTO blobs (digest, size, media_type, created) VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ'))
ON CONFLICT (digest) DO UPDATE SET size = excluded.size, media_type = excluded.media_type)sql"));
  BERTH_TRY_CTX(q.Bind(1, digest).Bind(2, size).Bind(3, media_type).Run(),
                "put blob " + digest.str());
  return {};
}

Result<std::vector<oci::Digest>> Tx::ListBlobs() {
  std::vector<oci::Digest> out;
  auto q = BERTH_TRY(Stmt::Prepare(db_, "SELECT digest FROM blobs ORDER BY digest"));
  while (BERTH_TRY(q.Step())) out.push_back(BERTH_TRY(q.DigestAt(0)));
  return out;
}

}  // namespace berth::store::meta
