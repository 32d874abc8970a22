#include "registry/storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <vector>

#include "oci/media_types.h"
#include "registry/digester.h"
#include "registry/names.h"
#include "util/file.h"

namespace berth::registry {
namespace {

using nlohmann::json;

Result<std::string> NewUploadId() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = ::getrandom(b + got, sizeof b - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "getrandom");
    }
    got += static_cast<size_t>(n);
  }
  b[6] = (b[6] & 0x0f) | 0x40;  // uuid version 4
  b[8] = (b[8] & 0x3f) | 0x80;
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (size_t i = 0; i < sizeof b; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[b[i] >> 4];
    id += kHex[b[i] & 15];
  }
  return id;
}

Result<void> FsyncDir(const std::string& dir) {
  Fd fd = BERTH_TRY(Fd::Open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) < 0) return Error::FromErrno(errno, "fsync " + dir);
  return {};
}

std::string Parent(const std::string& path) { return path.substr(0, path.rfind('/')); }

// Writes path durably by rename of a temp file beside it whose name starts with '.', which no
// tag, digest link or referrer entry does: listings skip it.
Result<void> WriteDurable(const std::string& path, std::string_view data) {
  std::string dir = Parent(path);
  std::string tmp = dir + "/.tmp-" + BERTH_TRY(NewUploadId());
  {
    Fd fd = BERTH_TRY(Fd::Open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644));
    auto r = WriteAll(fd.get(), data);
    if (!r || ::fsync(fd.get()) < 0) {
      int err = r ? errno : r.error().sys_errno();
      ::unlink(tmp.c_str());
      return Error::FromErrno(err, "write " + tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::FromErrno(err, "rename into " + path);
  }
  return FsyncDir(dir);
}

// Sets a blob's mtime to now; false if it is not there. Garbage collection spares blobs
// refreshed after it started, and every path that comes to rely on a blob (a commit, a mount, a
// manifest naming it) refreshes it before checking it is there (gc.h).
bool Refresh(const std::string& path) {
  return ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0) == 0;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A descriptor's digest, checked: the manifest's own fields are hostile input.
Result<oci::Digest> DescriptorDigest(const json& d) {
  if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string())
    return Error::InvalidArgument("descriptor without a digest");
  return oci::Digest::Parse(d["digest"].get<std::string>());
}

std::string StringField(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

}  // namespace

bool KnownManifestType(std::string_view t) { return oci::IsManifest(t) || oci::IsIndex(t); }

Result<std::unique_ptr<Storage>> Storage::Open(const std::string& root) {
  for (const char* d : {"blobs/sha256", "blobs/sha512", "uploads", "repositories"})
    BERTH_TRY(MkdirAll(JoinPath(root, d), 0755));
  return std::unique_ptr<Storage>(new Storage(root));
}

std::string Storage::BlobPath(const oci::Digest& d) const {
  return root_ + "/blobs/" + std::string(d.algorithm()) + "/" + std::string(d.hex());
}

std::string Storage::RepoPath(std::string_view repo) const {
  return root_ + "/repositories/" + std::string(repo);
}

std::string Storage::UploadDir(std::string_view id) const {
  return root_ + "/uploads/" + std::string(id);
}

Result<void> Storage::Link(const std::string& path, std::string_view content) {
  BERTH_TRY(MkdirAll(Parent(path), 0755));
  return WriteDurable(path, content);
}

// Blobs.

Result<int64_t> Storage::BlobSize(std::string_view repo, const oci::Digest& digest) const {
  std::string link = RepoPath(repo) + "/_blobs/" + std::string(digest.algorithm()) + "/" +
                     std::string(digest.hex());
  std::string mlink = RepoPath(repo) + "/_manifests/" + std::string(digest.algorithm()) + "/" +
                      std::string(digest.hex());
  if (!PathExists(link) && !PathExists(mlink))
    return Error::NotFound("blob unknown to registry: " + digest.str());
  struct stat st;
  if (::stat(BlobPath(digest).c_str(), &st) < 0)
    return Error::NotFound("blob unknown to registry: " + digest.str());
  return static_cast<int64_t>(st.st_size);
}

Result<Fd> Storage::OpenBlob(std::string_view repo, const oci::Digest& digest) const {
  BERTH_TRY(BlobSize(repo, digest));
  auto fd = Fd::Open(BlobPath(digest), O_RDONLY);
  if (!fd && fd.error().IsNotFound())
    return Error::NotFound("blob unknown to registry: " + digest.str());
  return fd;
}

Result<void> Storage::DeleteBlob(std::string_view repo, const oci::Digest& digest) {
  std::string link = RepoPath(repo) + "/_blobs/" + std::string(digest.algorithm()) + "/" +
                     std::string(digest.hex());
  if (::unlink(link.c_str()) < 0) {
    if (errno == ENOENT) return Error::NotFound("blob unknown to registry: " + digest.str());
    return Error::FromErrno(errno, "unlink " + link);
  }
  return {};
}

Result<void> Storage::MountBlob(std::string_view repo, std::string_view from,
                                const oci::Digest& digest) {
  std::string link = RepoPath(from) + "/_blobs/" + std::string(digest.algorithm()) + "/" +
                     std::string(digest.hex());
  if (!PathExists(link) || !Refresh(BlobPath(digest)))
    return Error::NotFound("blob unknown to repository " + std::string(from));
  return Link(RepoPath(repo) + "/_blobs/" + std::string(digest.algorithm()) + "/" +
                  std::string(digest.hex()),
              "");
}

Result<void> Storage::PutBlobBytes(std::string_view repo, const oci::Digest& digest,
                                   std::string_view bytes, bool link_blob) {
  std::string path = BlobPath(digest);
  if (!Refresh(path)) BERTH_TRY(WriteDurable(path, bytes));
  if (link_blob)
    BERTH_TRY(Link(RepoPath(repo) + "/_blobs/" + std::string(digest.algorithm()) + "/" +
                       std::string(digest.hex()),
                   ""));
  return {};
}

// Uploads.

Result<std::string> Storage::StartUpload(std::string_view repo) {
  std::string id = BERTH_TRY(NewUploadId());
  std::string dir = UploadDir(id);
  if (::mkdir(dir.c_str(), 0755) < 0) return Error::FromErrno(errno, "mkdir " + dir);
  BERTH_TRY(WriteFile(dir + "/repository", repo));
  Fd fd = BERTH_TRY(Fd::Open(dir + "/data", O_WRONLY | O_CREAT | O_EXCL, 0644));
  return id;
}

Result<Fd> Storage::OpenUpload(std::string_view repo, std::string_view id, int flags) const {
  auto unknown = [&] { return Error::NotFound("blob upload unknown: " + std::string(id)); };
  if (!ValidUploadId(id)) return unknown();
  std::string dir = UploadDir(id);
  auto owner = ReadFile(dir + "/repository", 4096);
  if (!owner || *owner != repo) return unknown();
  auto fd = Fd::Open(dir + "/data", flags);
  if (!fd) return unknown();
  return fd;
}

Result<int64_t> Storage::UploadSize(std::string_view repo, std::string_view id) const {
  Fd fd = BERTH_TRY(OpenUpload(repo, id, O_RDONLY));
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return Error::FromErrno(errno, "stat upload");
  return static_cast<int64_t>(st.st_size);
}

Result<int64_t> Storage::AppendUpload(std::string_view repo, std::string_view id,
                                      std::optional<int64_t> start, const Source& source) {
  Fd fd = BERTH_TRY(OpenUpload(repo, id, O_WRONLY | O_APPEND));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0)
    return Error::Unavailable("blob upload " + std::string(id) + " is being written");
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return Error::FromErrno(errno, "stat upload");
  int64_t size = st.st_size;
  if (start && *start != size)
    return Error::Conflict("chunk starts at " + std::to_string(*start) + ", upload has " +
                           std::to_string(size) + " bytes");
  std::vector<char> buf(1 << 20);
  for (;;) {
    size_t n = BERTH_TRY(source(buf.data(), buf.size()));
    if (n == 0) break;
    BERTH_TRY(WriteAll(fd.get(), std::string_view(buf.data(), n)));
    size += static_cast<int64_t>(n);
  }
  return size;
}

Result<void> Storage::CommitUpload(std::string_view repo, std::string_view id,
                                   const oci::Digest& digest) {
  std::string dir = UploadDir(id);
  {
    Fd fd = BERTH_TRY(OpenUpload(repo, id, O_RDWR));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0)
      return Error::Unavailable("blob upload " + std::string(id) + " is being written");
    oci::Digest got = BERTH_TRY(DigestOfFd(digest.algorithm(), fd.get()));
    if (got != digest) {
      BERTH_TRY(RemoveAll(dir));
      return Error::InvalidArgument("digest mismatch: expected " + digest.str() + ", got " +
                                    got.str());
    }
    if (::fsync(fd.get()) < 0) return Error::FromErrno(errno, "fsync upload");
    std::string path = BlobPath(digest);
    std::string data = dir + "/data";
    if (::rename(data.c_str(), path.c_str()) < 0)
      return Error::FromErrno(errno, "rename into " + path);
    (void)Refresh(path);
    BERTH_TRY(FsyncDir(Parent(path)));
  }
  BERTH_TRY(Link(RepoPath(repo) + "/_blobs/" + std::string(digest.algorithm()) + "/" +
                     std::string(digest.hex()),
                 ""));
  return RemoveAll(dir);
}

Result<void> Storage::CancelUpload(std::string_view repo, std::string_view id) {
  BERTH_TRY(OpenUpload(repo, id, O_RDONLY));
  return RemoveAll(UploadDir(id));
}

// Manifests.

Result<PutManifestResult> Storage::PutManifest(std::string_view repo, std::string_view reference,
                                               std::string_view media_type, std::string_view body) {
  json m = json::parse(body, nullptr, false);
  if (m.is_discarded() || !m.is_object()) return Error::InvalidArgument("manifest is not JSON");
  if (!m.contains("schemaVersion") || m["schemaVersion"] != 2)
    return Error::InvalidArgument("manifest schemaVersion must be 2");
  std::string own = StringField(m, "mediaType");
  std::string type = media_type.empty() ? own : std::string(media_type);
  if (type.empty() || !KnownManifestType(type))
    return Error::InvalidArgument("unsupported manifest media type \"" + type + "\"");
  if (!own.empty() && own != type)
    return Error::InvalidArgument("manifest mediaType \"" + own +
                                  "\" differs from Content-Type \"" + type + "\"");

  // What the manifest references must be in the repository.
  auto missing = [&](const oci::Digest& d) {
    return Error::FailedPrecondition("blob unknown to registry: " + d.str());
  };
  std::string rp = RepoPath(repo);
  if (oci::IsManifest(type)) {
    if (!m.contains("config")) return Error::InvalidArgument("manifest has no config");
    oci::Digest c = BERTH_TRY(DescriptorDigest(m["config"]));
    if (!PathExists(rp + "/_blobs/" + std::string(c.algorithm()) + "/" + std::string(c.hex())) ||
        !Refresh(BlobPath(c)))
      return missing(c);
    if (!m.contains("layers") || !m["layers"].is_array())
      return Error::InvalidArgument("manifest has no layers array");
    for (const auto& l : m["layers"]) {
      oci::Digest d = BERTH_TRY(DescriptorDigest(l));
      if (oci::IsNondistributableLayer(StringField(l, "mediaType"))) continue;
      if (!PathExists(rp + "/_blobs/" + std::string(d.algorithm()) + "/" + std::string(d.hex())) ||
          !Refresh(BlobPath(d)))
        return missing(d);
    }
  } else {
    if (!m.contains("manifests") || !m["manifests"].is_array())
      return Error::InvalidArgument("index has no manifests array");
    for (const auto& c : m["manifests"]) {
      oci::Digest d = BERTH_TRY(DescriptorDigest(c));
      if (!PathExists(rp + "/_manifests/" + std::string(d.algorithm()) + "/" +
                      std::string(d.hex())) ||
          !Refresh(BlobPath(d)))
        return missing(d);
    }
  }
  PutManifestResult out;
  if (m.contains("subject")) out.subject = BERTH_TRY(DescriptorDigest(m["subject"]));

  bool by_digest = reference.find(':') != std::string_view::npos;
  if (by_digest) {
    oci::Digest want = BERTH_TRY(oci::Digest::Parse(reference));
    out.digest = BERTH_TRY(DigestOf(want.algorithm(), body));
    if (out.digest != want)
      return Error::Conflict("manifest digest " + out.digest.str() + " is not " + want.str());
  } else {
    if (!ValidTag(reference)) return Error::InvalidArgument("invalid tag");
    out.digest = BERTH_TRY(DigestOf("sha256", body));
  }
  BERTH_TRY(PutBlobBytes(repo, out.digest, body, false));
  BERTH_TRY(Link(rp + "/_manifests/" + std::string(out.digest.algorithm()) + "/" +
                     std::string(out.digest.hex()),
                 type));
  if (out.subject.valid()) {
    json d = {{"mediaType", type}, {"digest", out.digest.str()}, {"size", body.size()}};
    std::string artifact = StringField(m, "artifactType");
    if (artifact.empty() && oci::IsManifest(type)) artifact = StringField(m["config"], "mediaType");
    if (!artifact.empty()) d["artifactType"] = artifact;
    if (m.contains("annotations") && m["annotations"].is_object())
      d["annotations"] = m["annotations"];
    BERTH_TRY(Link(rp + "/_referrers/" + std::string(out.subject.algorithm()) + "/" +
                       std::string(out.subject.hex()) + "/" + std::string(out.digest.algorithm()) +
                       "-" + std::string(out.digest.hex()),
                   d.dump()));
  }
  if (!by_digest) BERTH_TRY(Link(rp + "/_tags/" + std::string(reference), out.digest.str()));
  return out;
}

Result<Manifest> Storage::GetManifest(std::string_view repo, std::string_view reference) const {
  auto unknown = [&] {
    return Error::NotFound("manifest unknown: " + std::string(repo) + ":" + std::string(reference));
  };
  std::string rp = RepoPath(repo);
  Manifest out;
  if (reference.find(':') != std::string_view::npos) {
    out.digest = BERTH_TRY(oci::Digest::Parse(reference));
  } else {
    if (!ValidTag(reference)) return unknown();
    auto text = ReadFile(rp + "/_tags/" + std::string(reference), 4096);
    if (!text) return unknown();
    auto d = oci::Digest::Parse(Trim(*text));
    if (!d) return unknown();
    out.digest = *d;
  }
  auto type = ReadFile(rp + "/_manifests/" + std::string(out.digest.algorithm()) + "/" +
                           std::string(out.digest.hex()),
                       4096);
  if (!type) return unknown();
  out.media_type = *type;
  auto body = ReadFile(BlobPath(out.digest), 16u << 20);
  if (!body) return unknown();
  out.body = std::move(*body);
  return out;
}

Result<void> Storage::DeleteManifest(std::string_view repo, std::string_view reference) {
  std::string rp = RepoPath(repo);
  if (reference.find(':') == std::string_view::npos) {
    std::string tag = rp + "/_tags/" + std::string(reference);
    if (!ValidTag(reference) || ::unlink(tag.c_str()) < 0)
      return Error::NotFound("manifest unknown: " + std::string(repo) + ":" +
                             std::string(reference));
    return {};
  }
  Manifest m = BERTH_TRY(GetManifest(repo, reference));
  std::string link =
      rp + "/_manifests/" + std::string(m.digest.algorithm()) + "/" + std::string(m.digest.hex());
  if (::unlink(link.c_str()) < 0) return Error::FromErrno(errno, "unlink " + link);
  if (auto tags = ListDir(rp + "/_tags"); tags) {
    for (const auto& t : *tags) {
      if (t.starts_with(".")) continue;  // a tag being written
      auto text = ReadFile(rp + "/_tags/" + t, 4096);
      if (text && Trim(*text) == m.digest.str()) ::unlink((rp + "/_tags/" + t).c_str());
    }
  }
  json j = json::parse(m.body, nullptr, false);
  if (j.is_object() && j.contains("subject")) {
    if (auto s = DescriptorDigest(j["subject"]); s) {
      std::string entry = rp + "/_referrers/" + std::string(s->algorithm()) + "/" +
                          std::string(s->hex()) + "/" + std::string(m.digest.algorithm()) + "-" +
                          std::string(m.digest.hex());
      ::unlink(entry.c_str());
    }
  }
  return {};
}

// Listing.

bool Storage::RepositoryExists(std::string_view repo) const {
  std::string rp = RepoPath(repo);
  return IsDir(rp + "/_manifests") || IsDir(rp + "/_blobs") || IsDir(rp + "/_tags");
}

Result<std::vector<std::string>> Storage::Tags(std::string_view repo) const {
  if (!RepositoryExists(repo))
    return Error::NotFound("repository name not known to registry: " + std::string(repo));
  std::vector<std::string> tags;
  if (auto names = ListDir(RepoPath(repo) + "/_tags"); names) {
    for (auto& n : *names)
      if (ValidTag(n)) tags.push_back(std::move(n));  // not ".tmp-…"
  }
  std::sort(tags.begin(), tags.end());
  return tags;
}

Result<std::vector<std::string>> Storage::Repositories() const {
  std::vector<std::string> out;
  std::vector<std::string> pending = {""};
  std::string base = root_ + "/repositories";
  while (!pending.empty()) {
    std::string rel = std::move(pending.back());
    pending.pop_back();
    auto names = ListDir(rel.empty() ? base : base + "/" + rel);
    if (!names) continue;
    for (const auto& n : *names) {
      if (n.empty() || n[0] == '_') continue;
      std::string child = rel.empty() ? n : rel + "/" + n;
      if (!IsDir(base + "/" + child) || !ValidRepositoryName(child)) continue;
      if (RepositoryExists(child)) out.push_back(child);
      pending.push_back(child);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> Storage::Referrers(std::string_view repo,
                                                    const oci::Digest& digest,
                                                    std::string_view artifact_type) const {
  std::string dir = RepoPath(repo) + "/_referrers/" + std::string(digest.algorithm()) + "/" +
                    std::string(digest.hex());
  std::vector<std::string> out;
  auto names = ListDir(dir);
  if (!names) return out;
  std::sort(names->begin(), names->end());
  for (const auto& n : *names) {
    if (n.starts_with(".")) continue;  // a link being written
    auto text = ReadFile(dir + "/" + n, 1 << 20);
    if (!text) continue;
    if (!artifact_type.empty()) {
      json d = json::parse(*text, nullptr, false);
      if (StringField(d, "artifactType") != artifact_type) continue;
    }
    out.push_back(std::move(*text));
  }
  return out;
}

}  // namespace berth::registry
