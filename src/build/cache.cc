#include "build/cache.h"

#include <unistd.h>

#include <ctime>

#include "util/file.h"
#include "util/log.h"
#include "util/sha256.h"

namespace berth::build {
namespace {

using nlohmann::json;

void Field(std::string* out, std::string_view v) {
  *out += std::to_string(v.size());
  *out += ':';
  *out += v;
  *out += ',';
}

json ToJson(const CacheRecord& r) {
  return {{"id", r.id},
          {"parent", r.parent},
          {"description", r.description},
          {"image", r.image_id},
          {"size", r.size},
          {"created_at", r.created_at},
          {"last_used_at", r.last_used_at},
          {"usage_count", r.usage_count}};
}

std::optional<CacheRecord> FromJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    CacheRecord r;
    r.id = j.at("id").get<std::string>();
    r.parent = j.value("parent", "");
    r.description = j.value("description", "");
    r.image_id = j.at("image").get<std::string>();
    r.size = j.value("size", int64_t{0});
    r.created_at = j.value("created_at", int64_t{0});
    r.last_used_at = j.value("last_used_at", int64_t{0});
    r.usage_count = j.value("usage_count", int64_t{0});
    return r;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

bool IsHexKey(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

std::string CacheKey(const CacheKeyInput& in) {
  std::string s = "berth-build-cache-v1,";
  Field(&s, in.parent);
  Field(&s, in.instruction);
  Field(&s, std::to_string(in.env.size()));
  for (const auto& e : in.env) Field(&s, e);
  Field(&s, in.sources);
  Field(&s, in.platform);
  return Sha256Hex(s).value_or(std::string());
}

BuildCache::BuildCache(std::string dir) : dir_(std::move(dir)) {
  std::string entries = dir_ + "/entries";
  if (auto r = MkdirAll(entries, 0700); !r) {
    log::Get("build").Warn("build cache {}: {}", entries, r.error().message());
    return;
  }
  auto names = ListDir(entries);
  if (!names) return;
  for (const auto& name : *names) {
    std::string path = entries + "/" + name;
    if (name.size() != 69 || name.substr(64) != ".json" || !IsHexKey(name.substr(0, 64))) {
      if (name.find(".tmp") != std::string::npos) ::unlink(path.c_str());  // a crash's leftover
      continue;
    }
    auto text = ReadFile(path, 1 << 20);
    if (!text) continue;
    auto r = FromJson(*text);
    if (!r || r->id != name.substr(0, 64)) continue;
    records_[r->id] = std::move(*r);
  }
}

std::optional<CacheRecord> BuildCache::Lookup(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

void BuildCache::Touch(const std::string& key) {
  CacheRecord copy;
  {
    std::lock_guard lock(mu_);
    auto it = records_.find(key);
    if (it == records_.end()) return;
    it->second.last_used_at = std::time(nullptr);
    ++it->second.usage_count;
    copy = it->second;
  }
  (void)Write(copy, false);
}

Result<void> BuildCache::Put(CacheRecord r) {
  if (!IsHexKey(r.id)) return Error::InvalidArgument("build cache: bad key " + r.id);
  int64_t now = std::time(nullptr);
  if (r.created_at == 0) r.created_at = now;
  if (r.last_used_at == 0) r.last_used_at = now;
  BERTH_TRY(Write(r, true));
  std::lock_guard lock(mu_);
  records_[r.id] = std::move(r);
  return {};
}

Result<void> BuildCache::Remove(const std::string& key) {
  if (!IsHexKey(key)) return Error::InvalidArgument("build cache: bad key " + key);
  {
    std::lock_guard lock(mu_);
    records_.erase(key);
  }
  std::string path = dir_ + "/entries/" + key + ".json";
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return Error::FromErrno(errno, "remove " + path);
  return {};
}

std::vector<CacheRecord> BuildCache::All() {
  std::lock_guard lock(mu_);
  std::vector<CacheRecord> out;
  out.reserve(records_.size());
  for (const auto& [k, r] : records_) out.push_back(r);
  return out;
}

Result<void> BuildCache::Write(const CacheRecord& r, bool durable) {
  std::string path = dir_ + "/entries/" + r.id + ".json";
  std::string text = ToJson(r).dump();
  if (durable) return WriteFileAtomic(path, text, 0600);
  return WriteFileReplace(path, text, 0600);
}

}  // namespace berth::build
