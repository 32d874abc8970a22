#include "engine/volume/volume_service.h"

#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "engine/volume/volume_internal.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::engine {
namespace {

using nlohmann::json;
namespace vi = volume_internal;

constexpr std::string_view kRemovingPrefix = ".removing-";
constexpr char kMetaFile[] = "volume.json";

std::string RandomHex64() {
  unsigned char b[32];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = getrandom(b + got, sizeof b - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) out += {kHex[c >> 4], kHex[c & 15]};
  return out;
}

std::string Rfc3339Seconds(time_t t) {
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string ToJson(const Volume& v) {
  json j = {{"Name", v.name},       {"Driver", v.driver},        {"Labels", v.labels},
            {"Options", v.options}, {"CreatedAt", v.created_at}, {"Anonymous", v.anonymous}};
  return j.dump(2) + "\n";
}

// volume.json as written by ToJson; missing fields keep their defaults.
bool FromJson(const std::string& text, Volume* v) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return false;
  auto str = [&](const char* key, std::string* out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) *out = it->get<std::string>();
  };
  auto map = [&](const char* key, std::map<std::string, std::string>* out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_object()) return;
    for (const auto& [k, val] : it->items())
      if (val.is_string()) (*out)[k] = val.get<std::string>();
  };
  str("Driver", &v->driver);
  str("CreatedAt", &v->created_at);
  map("Labels", &v->labels);
  map("Options", &v->options);
  if (auto it = j.find("Anonymous"); it != j.end() && it->is_boolean()) v->anonymous = *it;
  return true;
}

bool LabelMatches(const std::map<std::string, std::string>& labels, const std::string& filter) {
  size_t eq = filter.find('=');
  if (eq == std::string::npos) return labels.count(filter) > 0;
  auto it = labels.find(filter.substr(0, eq));
  return it != labels.end() && it->second == filter.substr(eq + 1);
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ", ") + id;
  return s;
}

}  // namespace

VolumeService::VolumeService(std::string volumes_root) : root_(std::move(volumes_root)) {}

void VolumeService::SetUsers(UsersFn users) { users_ = std::move(users); }
void VolumeService::SetEventSink(EventSink sink) { sink_ = std::move(sink); }

std::string VolumeService::DataDir(const std::string& name) const {
  return JoinPath(JoinPath(root_, name), "_data");
}

void VolumeService::Emit(std::string_view action, const std::string& name) const {
  if (sink_) sink_(action, name);
}

std::vector<std::string> VolumeService::UsersOf(const std::string& name) const {
  return users_ ? users_(name) : std::vector<std::string>{};
}

Result<void> VolumeService::ValidateName(const std::string& name) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  bool ok = name.size() >= 2 && alnum(name[0]);
  for (size_t i = 1; ok && i < name.size(); i++)
    ok = alnum(name[i]) || name[i] == '_' || name[i] == '.' || name[i] == '-';
  if (ok) return {};
  return Error::InvalidArgument("create " + name + ": \"" + name +
                                "\" includes invalid characters for a local volume name, only "
                                "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to "
                                "pass a host directory, use absolute path");
}

Result<void> VolumeService::Load() {
  BERTH_TRY(MkdirAll(root_, 0701));
  auto names = BERTH_TRY(ListDir(root_));
  std::map<std::string, Entry> found;
  for (const auto& name : names) {
    std::string dir = JoinPath(root_, name);
    if (name.starts_with(kRemovingPrefix)) {
      BERTH_TRY(RemoveAll(dir));
      continue;
    }
    struct stat st;
    if (!ValidateName(name) || lstat(dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) continue;
    Entry e;
    e.volume.name = name;
    e.volume.mountpoint = DataDir(name);
    std::string meta = JoinPath(dir, kMetaFile);
    auto text = ReadFile(meta, 1 << 20);
    if (!text || !FromJson(*text, &e.volume)) e.volume.created_at = Rfc3339Seconds(st.st_mtime);
    e.volume.anonymous =
        e.volume.anonymous || e.volume.labels.count(std::string(kAnonymousVolumeLabel)) > 0;
    if (!PathExists(e.volume.mountpoint)) BERTH_TRY(MkdirAll(e.volume.mountpoint, 0755));
    // Temp files of a volume.json replace a crash interrupted.
    for (const auto& f : ListDir(dir).value_or(std::vector<std::string>{}))
      if (f.starts_with(std::string(kMetaFile) + ".tmp-")) ::unlink(JoinPath(dir, f).c_str());
    found.emplace(name, std::move(e));
  }
  std::lock_guard lock(mu_);
  volumes_ = std::move(found);
  return {};
}

Result<Volume> VolumeService::Create(std::string name, std::map<std::string, std::string> labels,
                                     std::map<std::string, std::string> driver_opts, bool anonymous,
                                     const std::string& driver) {
  if (!driver.empty() && driver != "local")
    return Error::NotFound("error looking up volume plugin " + driver + ": plugin \"" + driver +
                           "\" not found");
  if (name.empty()) name = RandomHex64();
  BERTH_TRY(ValidateName(name));
  Volume v;
  {
    std::lock_guard lock(mu_);
    if (auto it = volumes_.find(name); it != volumes_.end()) return it->second.volume;
    BERTH_TRY_CTX(vi::ValidateDriverOptions(driver_opts), "create " + name);
    v.name = name;
    v.mountpoint = DataDir(name);
    v.created_at = Rfc3339Seconds(time(nullptr));
    v.labels = std::move(labels);
    if (anonymous) v.labels.emplace(kAnonymousVolumeLabel, "");
    v.anonymous = anonymous;
    v.options = std::move(driver_opts);
    std::string dir = JoinPath(root_, name);
    BERTH_TRY(MkdirAll(root_, 0701));
    if (::mkdir(dir.c_str(), 0755) < 0) return Error::FromErrno(errno, "create " + name);
    auto undo = [&] { (void)RemoveAll(dir); };
    if (::mkdir(v.mountpoint.c_str(), 0755) < 0) {
      int err = errno;
      undo();
      return Error::FromErrno(err, "create " + name);
    }
    if (auto r = WriteFileAtomic(JoinPath(dir, kMetaFile), ToJson(v), 0600); !r) {
      undo();
      return std::move(r).error().Wrap("create " + name);
    }
    volumes_.emplace(name, Entry{v, {}, false});
  }
  Emit("create", name);
  return v;
}

Result<Volume> VolumeService::Get(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return Error::NotFound("get " + name + ": no such volume");
  return it->second.volume;
}

Result<std::vector<Volume>> VolumeService::List(const VolumeFilters& f) const {
  std::vector<Volume> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, e] : volumes_) all.push_back(e.volume);
  }
  std::vector<Volume> out;
  for (auto& v : all) {
    if (!f.names.empty()) {
      bool any = false;
      for (const auto& n : f.names) any = any || v.name.find(n) != std::string::npos;
      if (!any) continue;
    }
    if (!f.drivers.empty()) {
      bool any = false;
      for (const auto& d : f.drivers) any = any || v.driver == d;
      if (!any) continue;
    }
    bool labels_ok = true;
    for (const auto& l : f.labels) labels_ok = labels_ok && LabelMatches(v.labels, l);
    if (!labels_ok) continue;
    if (f.dangling && UsersOf(v.name).empty() != *f.dangling) continue;
    out.push_back(std::move(v));
  }
  return out;
}

Result<void> VolumeService::RemoveLocked(const std::string& name) {
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return {};
  Entry& e = it->second;
  if (!e.mount_refs.empty()) {
    std::vector<std::string> refs(e.mount_refs.begin(), e.mount_refs.end());
    return Error::Conflict("remove " + name + ": volume is in use - [" + JoinIds(refs) + "]");
  }
  if (e.mounted_by_us || (!e.volume.options.empty() && vi::IsMountPoint(e.volume.mountpoint)))
    BERTH_TRY_CTX(vi::UnmountPath(e.volume.mountpoint), "remove " + name);
  // Renamed first: the volume is gone at once, and a crash leaves a directory Load removes.
  std::string dir = JoinPath(root_, name);
  std::string gone =
      JoinPath(root_, std::string(kRemovingPrefix) + name + "-" + RandomHex64().substr(0, 8));
  if (::rename(dir.c_str(), gone.c_str()) < 0 && errno != ENOENT)
    return Error::FromErrno(errno, "remove " + name);
  volumes_.erase(it);
  BERTH_TRY_CTX(RemoveAll(gone), "remove " + name);
  return {};
}

Result<void> VolumeService::Remove(const std::string& name, bool force) {
  {
    std::lock_guard lock(mu_);
    if (!volumes_.count(name)) {
      if (force) return {};
      return Error::NotFound("get " + name + ": no such volume");
    }
  }
  auto users = UsersOf(name);
  if (!users.empty())
    return Error::Conflict("remove " + name + ": volume is in use - [" + JoinIds(users) + "]");
  {
    std::lock_guard lock(mu_);
    BERTH_TRY(RemoveLocked(name));
  }
  Emit("destroy", name);
  return {};
}

Result<PruneReport> VolumeService::Prune(const std::vector<std::string>& labels, bool all,
                                         const std::vector<std::string>& not_labels) {
  std::vector<Volume> candidates;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, e] : volumes_) {
      const Volume& v = e.volume;
      if (!all && !v.labels.count(std::string(kAnonymousVolumeLabel))) continue;
      bool ok = true;
      for (const auto& l : labels) ok = ok && LabelMatches(v.labels, l);
      for (const auto& l : not_labels) ok = ok && !LabelMatches(v.labels, l);
      if (ok) candidates.push_back(v);
    }
  }
  PruneReport report;
  for (const auto& v : candidates) {
    if (!UsersOf(v.name).empty()) continue;
    int64_t size = vi::DirSize(v.mountpoint).value_or(0);
    {
      std::lock_guard lock(mu_);
      auto it = volumes_.find(v.name);
      if (it == volumes_.end() || !it->second.mount_refs.empty()) continue;
      auto r = RemoveLocked(v.name);
      if (!r) continue;  // Docker skips volumes it cannot remove
    }
    Emit("destroy", v.name);
    report.deleted.push_back(v.name);
    report.space_reclaimed += size;
  }
  return report;
}

Result<int64_t> VolumeService::Size(const std::string& name) const {
  std::string data = BERTH_TRY(Get(name)).mountpoint;
  return vi::DirSize(data);
}

Result<std::string> VolumeService::Mount(const std::string& name, const std::string& ref) {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return Error::NotFound("get " + name + ": no such volume");
  Entry& e = it->second;
  if (e.mount_refs.empty() && !e.volume.options.empty() && !vi::IsMountPoint(e.volume.mountpoint))
    e.mounted_by_us = BERTH_TRY_CTX(vi::MountOptions(e.volume.options, e.volume.mountpoint),
                                    "error while mounting volume '" + e.volume.mountpoint + "'");
  e.mount_refs.insert(ref);
  return e.volume.mountpoint;
}

Result<void> VolumeService::Unmount(const std::string& name, const std::string& ref) {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return {};
  Entry& e = it->second;
  e.mount_refs.erase(ref);
  if (e.mount_refs.empty() && !e.volume.options.empty() && vi::IsMountPoint(e.volume.mountpoint)) {
    BERTH_TRY_CTX(vi::UnmountPath(e.volume.mountpoint), "unmount volume " + name);
    e.mounted_by_us = false;
  }
  return {};
}

Result<void> VolumeService::CopyUp(const std::string& name, const std::string& src_dir) {
  Fd src = BERTH_TRY_CTX(Fd::Open(src_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW),
                         "copy up into volume " + name);
  return CopyUp(name, src.get());
}

Result<void> VolumeService::CopyUp(const std::string& name, int src_dir_fd) {
  std::string data = BERTH_TRY(Get(name)).mountpoint;
  Fd dst = BERTH_TRY_CTX(Fd::Open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW),
                         "copy up into volume " + name);
  if (!BERTH_TRY(vi::DirIsEmpty(dst.get()))) return {};
  BERTH_TRY_CTX(vi::CopyTree(src_dir_fd, dst.get()), "copy up into volume " + name);
  return {};
}

}  // namespace berth::engine
