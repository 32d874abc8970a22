// Tx methods for images and tags.

#include <nlohmann/json.hpp>

#include "store/meta/metadata_db.h"
#include "store/meta/sqlite_internal.h"
#include "util/time.h"

namespace berth::store::meta {

using internal::Stmt;

namespace {

const char* StateName(RecordState s) { return s == RecordState::kPending ? "pending" : "complete"; }

std::string LabelsJson(const std::map<std::string, std::string>& labels) {
  return nlohmann::json(labels).dump();
}

Result<std::map<std::string, std::string>> ParseLabels(const std::string& text) {
  try {
    return nlohmann::json::parse(text).get<std::map<std::string, std::string>>();
  } catch (const std::exception& e) {
    return Error::DataLoss(std::string("metadata database: image labels: ") + e.what());
  }
}

constexpr const char* kImageColumns =
    "SELECT id, manifest_digest, media_type, os, architecture, variant, size, created, labels, "
    "state, last_tag_time FROM images";

Result<ImageRecord> ReadImageRow(sqlite3* db, const Stmt& q) {
  ImageRecord im;
  im.id = BERTH_TRY(q.DigestAt(0));
  im.manifest_digest = BERTH_TRY(q.DigestAt(1));
  im.media_type = q.Text(2);
  im.os = q.Text(3);
  im.architecture = q.Text(4);
  im.variant = q.Text(5);
  im.size = q.Int(6);
  im.created = q.Text(7);
  im.labels = BERTH_TRY(ParseLabels(q.Text(8)));
  im.state = q.Text(9) == "pending" ? RecordState::kPending : RecordState::kComplete;
  im.last_tag_time = q.Text(10);
  auto l = BERTH_TRY(Stmt::Prepare(
      db,
      "SELECT chain_id, diff_id, blob_digest FROM image_layers WHERE image_id = ? ORDER BY idx"));
  l.Bind(1, im.id);
  while (BERTH_TRY(l.Step())) {
    ImageLayer layer;
    layer.chain_id = BERTH_TRY(l.DigestAt(0));
    layer.diff_id = BERTH_TRY(l.DigestAt(1));
    layer.blob_digest = BERTH_TRY(l.DigestAt(2));
    im.layers.push_back(std::move(layer));
  }
  auto b = BERTH_TRY(
      Stmt::Prepare(db, "SELECT digest FROM image_blobs WHERE image_id = ? ORDER BY digest"));
  b.Bind(1, im.id);
  while (BERTH_TRY(b.Step())) im.blobs.push_back(BERTH_TRY(b.DigestAt(0)));
  return im;
}

}  // namespace

Result<void> Tx::PutImage(const ImageRecord& im) {
  BERTH_TRY(CheckWritable("put image"));
  if (!im.id.valid()) return Error::InvalidArgument("put image: empty id");
  const std::string ctx = "put image " + im.id.str();
  auto up = BERTH_TRY(Stmt::Prepare(db_, R"sql(
INSERT INTO images (id, manifest_digest, media_type, os, architecture, variant, size, created,
                    labels, state)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET manifest_digest = excluded.manifest_digest,
  media_type = excluded.media_type, os = excluded.os, architecture = excluded.architecture,
  variant = excluded.variant, size = excluded.size, created = excluded.created,
  labels = excluded.labels, state = excluded.state)sql"));
  up.Bind(1, im.id).Bind(2, im.manifest_digest).Bind(3, im.media_type).Bind(4, im.os);
  up.Bind(5, im.architecture).Bind(6, im.variant).Bind(7, im.size).Bind(8, im.created);
  up.Bind(9, LabelsJson(im.labels)).Bind(10, StateName(im.state));
  BERTH_TRY_CTX(up.Run(), ctx);

  for (const char* sql : {"DELETE FROM image_layers WHERE image_id = ?",
                          "DELETE FROM image_blobs WHERE image_id = ?"}) {
    auto del = BERTH_TRY(Stmt::Prepare(db_, sql));
    BERTH_TRY_CTX(del.Bind(1, im.id).Run(), ctx);
  }
  auto il = BERTH_TRY(
      Stmt::Prepare(db_,
                    "INSERT INTO image_layers (image_id, idx, chain_id, diff_id, blob_digest) "
                    "VALUES (?, ?, ?, ?, ?)"));
  for (size_t i = 0; i < im.layers.size(); ++i) {
    const ImageLayer& l = im.layers[i];
    il.Bind(1, im.id).Bind(2, static_cast<int64_t>(i)).Bind(3, l.chain_id).Bind(4, l.diff_id);
    il.Bind(5, l.blob_digest);
    BERTH_TRY_CTX(il.Run(), ctx + ": layer " + l.chain_id.str());
    il.Reset();
  }
  auto ib = BERTH_TRY(
      Stmt::Prepare(db_, "INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)"));
  for (const oci::Digest& d : im.blobs) {
    BERTH_TRY_CTX(ib.Bind(1, im.id).Bind(2, d).Run(), ctx + ": blob " + d.str());
    ib.Reset();
  }
  return {};
}

Result<ImageRecord> Tx::GetImage(const oci::Digest& id) {
  auto q = BERTH_TRY(Stmt::Prepare(db_, std::string(kImageColumns) + " WHERE id = ?"));
  q.Bind(1, id);
  if (!BERTH_TRY(q.Step())) return Error::NotFound("image " + id.str() + ": not found");
  return ReadImageRow(db_, q);
}

Result<std::vector<ImageRecord>> Tx::ListImages() {
  std::vector<ImageRecord> out;
  auto q = BERTH_TRY(Stmt::Prepare(db_, std::string(kImageColumns) + " ORDER BY id"));
  while (BERTH_TRY(q.Step())) out.push_back(BERTH_TRY(ReadImageRow(db_, q)));
  return out;
}

Result<void> Tx::DeleteImage(const oci::Digest& id) {
  BERTH_TRY(CheckWritable("delete image"));
  auto q = BERTH_TRY(Stmt::Prepare(db_, "DELETE FROM images WHERE id = ?"));
  BERTH_TRY_CTX(q.Bind(1, id).Run(), "delete image " + id.str());
  if (sqlite3_changes(db_) == 0) return Error::NotFound("image " + id.str() + ": not found");
  return {};
}

Result<void> Tx::SetImageState(const oci::Digest& id, RecordState state) {
  BERTH_TRY(CheckWritable("set image state"));
  auto q = BERTH_TRY(Stmt::Prepare(db_, "UPDATE images SET state = ? WHERE id = ?"));
  BERTH_TRY(q.Bind(1, StateName(state)).Bind(2, id).Run());
  if (sqlite3_changes(db_) == 0) return Error::NotFound("image " + id.str() + ": not found");
  return {};
}

Result<std::vector<oci::Digest>> Tx::ImagesByLayer(const oci::Digest& chain_id) {
  std::vector<oci::Digest> out;
  auto q = BERTH_TRY(Stmt::Prepare(
      db_, "SELECT DISTINCT image_id FROM image_layers WHERE chain_id = ? ORDER BY image_id"));
  q.Bind(1, chain_id);
  while (BERTH_TRY(q.Step())) out.push_back(BERTH_TRY(q.DigestAt(0)));
  return out;
}

Result<std::optional<oci::Digest>> Tx::SetTag(const std::string& name, const oci::Digest& image) {
  BERTH_TRY(CheckWritable("set tag"));
  if (name.empty()) return Error::InvalidArgument("set tag: empty name");
  std::optional<oci::Digest> previous;
  auto old = ResolveTag(name);
  if (old) {
    if (*old != image) previous = *old;
  } else if (!old.error().IsNotFound()) {
    return std::move(old).error();
  }
  auto exists = BERTH_TRY(Stmt::Prepare(db_, "SELECT 1 FROM images WHERE id = ?"));
  if (!BERTH_TRY(exists.Bind(1, image).Step()))
    return Error::NotFound("tag " + name + ": image " + image.str() + ": not found");
  auto q =
      BERTH_TRY(Stmt::Prepare(db_,
                              "INSERT INTO tags (name, image_id) VALUES (?, ?) "
                              "ON CONFLICT (name) DO UPDATE SET image_id = excluded.image_id"));
  BERTH_TRY_CTX(q.Bind(1, name).Bind(2, image).Run(), "set tag " + name);
  auto t = BERTH_TRY(Stmt::Prepare(db_, "UPDATE images SET last_tag_time = ? WHERE id = ?"));
  BERTH_TRY_CTX(t.Bind(1, NowRfc3339()).Bind(2, image).Run(), "set tag " + name);
  return previous;
}

Result<void> Tx::RemoveTag(const std::string& name) {
  BERTH_TRY(CheckWritable("remove tag"));
  auto q = BERTH_TRY(Stmt::Prepare(db_, "DELETE FROM tags WHERE name = ?"));
  BERTH_TRY_CTX(q.Bind(1, name).Run(), "remove tag " + name);
  if (sqlite3_changes(db_) == 0) return Error::NotFound("tag " + name + ": not found");
  return {};
}

Result<oci::Digest> Tx::ResolveTag(const std::string& name) {
  auto q = BERTH_TRY(Stmt::Prepare(db_, "SELECT image_id FROM tags WHERE name = ?"));
  if (!BERTH_TRY(q.Bind(1, name).Step())) return Error::NotFound("tag " + name + ": not found");
  return q.DigestAt(0);
}

Result<std::vector<std::string>> Tx::TagsOf(const oci::Digest& image) {
  std::vector<std::string> out;
  auto q = BERTH_TRY(Stmt::Prepare(db_, "SELECT name FROM tags WHERE image_id = ? ORDER BY name"));
  q.Bind(1, image);
  while (BERTH_TRY(q.Step())) out.push_back(q.Text(0));
  return out;
}

Result<std::vector<std::pair<std::string, oci::Digest>>> Tx::ListTags() {
  std::vector<std::pair<std::string, oci::Digest>> out;
  auto q = BERTH_TRY(Stmt::Prepare(db_, "SELECT name, image_id FROM tags ORDER BY name"));
  while (BERTH_TRY(q.Step())) out.emplace_back(q.Text(0), BERTH_TRY(q.DigestAt(1)));
  return out;
}

}  // namespace berth::store::meta
