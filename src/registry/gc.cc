#include "registry/gc.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "oci/digest.h"
#include "util/fd.h"
#include "util/file.h"
#include "util/log.h"

namespace berth::registry {
namespace {

using nlohmann::json;

const auto& logger = log::Get("registry");

const char* const kAlgorithms[] = {"sha256", "sha512"};

// "alg/hex" of a descriptor's digest, or "" if it has none.
std::string KeyOf(const json& d) {
  if (!d.is_object()) return "";
  auto it = d.find("digest");
  if (it == d.end() || !it->is_string()) return "";
  auto digest = oci::Digest::Parse(it->get<std::string>());
  if (!digest) return "";
  return std::string(digest->algorithm()) + "/" + std::string(digest->hex());
}

bool MTime(const std::string& path, int64_t* mtime) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) return false;
  *mtime = st.st_mtim.tv_sec;
  return true;
}

// Marks every manifest linked in repo and what it names.
void MarkRepository(const std::string& root, const std::string& repo, std::set<std::string>* live,
                    GcStats* stats) {
  std::string dir = root + "/repositories/" + repo + "/_manifests";
  for (const char* alg : kAlgorithms) {
    auto names = ListDir(dir + "/" + alg);
    if (!names) continue;
    for (const auto& hex : *names) {
      if (hex.starts_with(".")) continue;  // a link being written
      std::string key = std::string(alg) + "/" + hex;
      live->insert(key);
      ++stats->manifests;
      auto body = ReadFile(root + "/blobs/" + key, 16u << 20);
      if (!body) continue;
      json m = json::parse(*body, nullptr, false);
      if (!m.is_object()) continue;
      auto mark = [&](const json& d) {
        if (std::string k = KeyOf(d); !k.empty()) live->insert(k);
      };
      if (auto c = m.find("config"); c != m.end()) mark(*c);
      for (const char* list : {"layers", "manifests", "blobs"}) {
        auto l = m.find(list);
        if (l == m.end() || !l->is_array()) continue;
        for (const auto& d : *l) mark(d);
      }
    }
  }
}

// Deletes blob path if still older than cutoff, in two steps (gc.h). True if deleted.
bool DeleteIfOld(const std::string& dir, const std::string& hex, int64_t cutoff) {
  std::string path = dir + "/" + hex;
  std::string doomed = dir + "/.gc-" + hex;
  if (::rename(path.c_str(), doomed.c_str()) < 0) return false;
  int64_t mtime = 0;
  if (!MTime(doomed, &mtime)) return false;
  if (mtime >= cutoff) {
    // Refreshed between the check and the rename: a push named it. Put it back unless a
    // commit of the same bytes has already put a new copy there.
    if (::rename(doomed.c_str(), path.c_str()) < 0) ::unlink(doomed.c_str());
    if (PathExists(path)) ::unlink(doomed.c_str());
    return false;
  }
  return ::unlink(doomed.c_str()) == 0;
}

// Removes the links in every repository to the blobs deleted, when older than cutoff.
size_t RemoveLinks(const std::string& root, const std::vector<std::string>& repos,
                   const std::set<std::string>& deleted, int64_t cutoff) {
  size_t n = 0;
  for (const auto& repo : repos) {
    for (const auto& key : deleted) {
      std::string link = root + "/repositories/" + repo + "/_blobs/" + key;
      int64_t mtime = 0;
      if (!MTime(link, &mtime) || mtime >= cutoff) continue;
      if (PathExists(root + "/blobs/" + key)) continue;  // uploaded again since
      if (::unlink(link.c_str()) == 0) ++n;
    }
  }
  return n;
}

size_t PurgeUploads(const std::string& root, int64_t cutoff, bool dry_run) {
  size_t n = 0;
  auto ids = ListDir(root + "/uploads");
  if (!ids) return 0;
  for (const auto& id : *ids) {
    std::string dir = root + "/uploads/" + id;
    int64_t mtime = 0;
    if (!MTime(dir + "/data", &mtime) && !MTime(dir, &mtime)) continue;
    if (mtime >= cutoff) continue;
    auto fd = Fd::Open(dir + "/data", O_RDONLY);
    if (fd && ::flock(fd->get(), LOCK_EX | LOCK_NB) < 0) continue;  // being written
    if (dry_run || RemoveAll(dir)) ++n;
  }
  return n;
}

}  // namespace

bool ParseDuration(std::string_view text, int64_t* seconds) {
  if (text.empty()) return false;
  int64_t unit = 1;
  switch (text.back()) {
    case 's':
      text.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      text.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      text.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  int64_t v = 0;
  if (text.empty() || text.size() > 9) return false;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v < 0) return false;
  *seconds = v * unit;
  return true;
}

Result<GcStats> CollectGarbage(const Storage& storage, const GcOptions& options) {
  const std::string& root = storage.root();
  int64_t start = std::time(nullptr);
  // The second of slack: the kernel stamps mtimes from a coarse clock that may lag time().
  int64_t cutoff = start - options.grace_seconds - 1;
  GcStats stats;

  std::vector<std::string> repos = BERTH_TRY(storage.Repositories());
  std::set<std::string> live;
  for (const auto& repo : repos) MarkRepository(root, repo, &live, &stats);
  stats.live_blobs = live.size();

  std::set<std::string> deleted;
  for (const char* alg : kAlgorithms) {
    std::string dir = root + "/blobs/" + alg;
    auto names = BERTH_TRY(ListDir(dir));
    for (const auto& name : names) {
      int64_t mtime = 0;
      if (!MTime(dir + "/" + name, &mtime)) continue;
      if (name.starts_with(".")) {
        // A temp file of a write or a .gc- file of a collection that died: old ones go.
        if (mtime < cutoff && !options.dry_run) ::unlink((dir + "/" + name).c_str());
        continue;
      }
      std::string key = std::string(alg) + "/" + name;
      if (live.count(key)) continue;
      if (mtime >= cutoff) {
        ++stats.young;
        continue;
      }
      struct stat st;
      int64_t size = ::lstat((dir + "/" + name).c_str(), &st) == 0 ? st.st_size : 0;
      if (!options.dry_run && !DeleteIfOld(dir, name, cutoff)) {
        ++stats.young;
        continue;
      }
      ++stats.deleted;
      stats.deleted_bytes += size;
      stats.deleted_digests.push_back(std::string(alg) + ":" + name);
      deleted.insert(key);
    }
  }
  std::sort(stats.deleted_digests.begin(), stats.deleted_digests.end());
  if (!options.dry_run) stats.links = RemoveLinks(root, repos, deleted, cutoff);
  stats.uploads = PurgeUploads(root, start - options.upload_expiry_seconds, options.dry_run);
  logger.Info({{"manifests", std::to_string(stats.manifests)},
               {"live", std::to_string(stats.live_blobs)},
               {"deleted", std::to_string(stats.deleted)},
               {"bytes", std::to_string(stats.deleted_bytes)},
               {"young", std::to_string(stats.young)}},
              "garbage collection{}", options.dry_run ? " (dry run)" : "");
  return stats;
}

}  // namespace berth::registry
