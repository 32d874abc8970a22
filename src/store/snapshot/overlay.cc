#include "store/snapshot/overlay.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "util/fd.h"
#include "util/file.h"

namespace berth::store::snapshot {
namespace {

constexpr int kMetadataVersion = 1;

int64_t NowNano() {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

Result<Kind> ParseKind(const std::string& s) {
  if (s == "view") return Kind::kView;
  if (s == "active") return Kind::kActive;
  if (s == "committed") return Kind::kCommitted;
  return Error::DataLoss("unknown snapshot kind \"" + s + "\"");
}

// Adds up the blocks and inodes under dir_fd, not following symlinks nor crossing mounts.
Result<void> Du(int dir_fd, dev_t dev, std::set<std::pair<dev_t, ino_t>>& seen, DiskUsage& u) {
  int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return Error::FromErrno(errno, "open directory");
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return Error::FromErrno(errno, "open directory");
  }
  Result<void> r;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (st.st_dev != dev) continue;
    if (seen.insert({st.st_dev, st.st_ino}).second) {
      u.size += int64_t{st.st_blocks} * 512;
      u.inodes += 1;
    }
    if (S_ISDIR(st.st_mode)) {
      int fd = ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) continue;
      Fd sub(fd);
      r = Du(sub.get(), dev, seen, u);
      if (!r) break;
    }
  }
  ::closedir(d);
  return r;
}

Result<DiskUsage> DiskUsageOf(const std::string& dir) {
  Fd fd = BERTH_TRY(Fd::Open(dir, O_RDONLY | O_DIRECTORY));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::FromErrno(errno, "stat " + dir);
  DiskUsage u;
  std::set<std::pair<dev_t, ino_t>> seen;
  BERTH_TRY_CTX(Du(fd.get(), st.st_dev, seen, u), "usage of " + dir);
  return u;
}

bool IsId(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<std::unique_ptr<OverlaySnapshotter>> OverlaySnapshotter::Open(const std::string& root) {
  BERTH_TRY(MkdirAll(JoinPath(root, "snapshots"), 0700));
  auto s = std::unique_ptr<OverlaySnapshotter>(new OverlaySnapshotter(root));
  BERTH_TRY(s->Load());
  BERTH_TRY(s->Recover());
  return s;
}

std::string OverlaySnapshotter::SnapshotDir(const std::string& id) const {
  return JoinPath(JoinPath(root_, "snapshots"), id);
}

Result<void> OverlaySnapshotter::Load() {
  std::string path = JoinPath(root_, "metadata.json");
  if (!PathExists(path)) return {};
  std::string text = BERTH_TRY(ReadFile(path));
  std::lock_guard lock(mu_);
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("version", 0) != kMetadataVersion)
      return Error::FailedPrecondition("snapshot metadata " + path + ": unknown version");
    next_id_ = j.at("next_id").get<uint64_t>();
    for (const auto& s : j.at("snapshots")) {
      Record r;
      r.id = s.at("id").get<std::string>();
      r.kind = BERTH_TRY(ParseKind(s.at("kind").get<std::string>()));
      r.parent = s.value("parent", "");
      r.labels = s.value("labels", Labels{});
      r.created = s.value("created", int64_t{0});
      r.updated = s.value("updated", int64_t{0});
      r.usage.size = s.value("size", int64_t{0});
      r.usage.inodes = s.value("inodes", int64_t{0});
      if (!IsId(r.id)) return Error::DataLoss("snapshot metadata " + path + ": bad id " + r.id);
      records_.emplace(s.at("key").get<std::string>(), std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    return Error::DataLoss("snapshot metadata " + path + ": " + e.what());
  }
  return {};
}

Result<void> OverlaySnapshotter::Save() {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [key, r] : records_) {
    list.push_back({{"key", key},
                    {"id", r.id},
                    {"kind", std::string(KindName(r.kind))},
                    {"parent", r.parent},
                    {"labels", r.labels},
                    {"created", r.created},
                    {"updated", r.updated},
                    {"size", r.usage.size},
                    {"inodes", r.usage.inodes}});
  }
  nlohmann::json j = {{"version", kMetadataVersion}, {"next_id", next_id_}, {"snapshots", list}};
  return WriteFileAtomic(JoinPath(root_, "metadata.json"), j.dump(), 0600);
}

Result<void> OverlaySnapshotter::Recover() {
  std::lock_guard lock(mu_);
  return RecoverLocked();
}

Result<void> OverlaySnapshotter::RecoverLocked() {
  std::set<std::string> ids;
  for (const auto& [key, r] : records_) ids.insert(r.id);
  std::string dir = JoinPath(root_, "snapshots");
  for (const auto& name : BERTH_TRY(ListDir(dir)))
    if (!ids.contains(name)) BERTH_TRY(RemoveAll(JoinPath(dir, name)));
  bool changed = false;
  for (auto it = records_.begin(); it != records_.end();) {
    if (!PathExists(JoinPath(SnapshotDir(it->second.id), "fs"))) {
      it = records_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) BERTH_TRY(Save());
  return {};
}

Result<Info> OverlaySnapshotter::Stat(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return Error::NotFound("snapshot " + key + ": not found");
  const Record& r = it->second;
  return Info{key, r.parent, r.kind, r.labels, r.created, r.updated};
}

Result<DiskUsage> OverlaySnapshotter::Usage(const std::string& key) {
  std::string fs;
  {
    std::lock_guard lock(mu_);
    auto it = records_.find(key);
    if (it == records_.end()) return Error::NotFound("snapshot " + key + ": not found");
    if (it->second.kind == Kind::kCommitted) return it->second.usage;
    fs = JoinPath(SnapshotDir(it->second.id), "fs");
  }
  return DiskUsageOf(fs);
}

Result<std::string> OverlaySnapshotter::FsDir(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return Error::NotFound("snapshot " + key + ": not found");
  return JoinPath(SnapshotDir(it->second.id), "fs");
}

Result<std::vector<Mount>> OverlaySnapshotter::Mounts(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return Error::NotFound("snapshot " + key + ": not found");
  return MountsLocked(key, it->second);
}

Result<std::vector<Mount>> OverlaySnapshotter::MountsLocked(const std::string& key,
                                                            const Record& r) {
  if (r.kind == Kind::kCommitted)
    return Error::FailedPrecondition("snapshot " + key + ": committed snapshots have no mounts");
  std::vector<std::string> lowers;  // nearest parent first
  for (std::string p = r.parent; !p.empty();) {
    auto it = records_.find(p);
    if (it == records_.end()) return Error::DataLoss("snapshot " + key + ": parent " + p + " lost");
    lowers.push_back(JoinPath(SnapshotDir(it->second.id), "fs"));
    p = it->second.parent;
    if (lowers.size() > records_.size())
      return Error::DataLoss("snapshot " + key + ": parent loop");
  }
  std::string dir = SnapshotDir(r.id);
  if (lowers.empty()) {
    return std::vector<Mount>{
        {"bind", JoinPath(dir, "fs"), "", {r.kind == Kind::kActive ? "rw" : "ro", "rbind"}}};
  }
  if (r.kind == Kind::kView && lowers.size() == 1)
    return std::vector<Mount>{{"bind", lowers[0], "", {"ro", "rbind"}}};
  std::string lowerdir = "lowerdir=";
  for (size_t i = 0; i < lowers.size(); ++i) lowerdir += (i ? ":" : "") + lowers[i];
  Mount m{"overlay", "overlay", "", {}};
  if (r.kind == Kind::kActive) {
    // index=off: the same lower directories are shared by many overlays (containerd does the
    // same where the kernel has the option).
    m.options = {"index=off", "workdir=" + JoinPath(dir, "work"), "upperdir=" + JoinPath(dir, "fs"),
                 lowerdir};
  } else {
    m.options = {lowerdir};
  }
  return std::vector<Mount>{m};
}

Result<std::vector<Mount>> OverlaySnapshotter::Create(Kind kind, const std::string& key,
                                                      const std::string& parent,
                                                      const Labels& labels) {
  if (key.empty()) return Error::InvalidArgument("snapshot key is empty");
  std::lock_guard lock(mu_);
  if (records_.contains(key)) return Error::AlreadyExists("snapshot " + key + ": already exists");
  if (!parent.empty()) {
    auto it = records_.find(parent);
    if (it == records_.end()) return Error::NotFound("parent snapshot " + parent + ": not found");
    if (it->second.kind != Kind::kCommitted)
      return Error::FailedPrecondition("parent snapshot " + parent + ": not committed");
  }
  Record r;
  r.id = std::to_string(next_id_++);
  r.kind = kind;
  r.parent = parent;
  r.labels = labels;
  r.created = r.updated = NowNano();
  std::string dir = SnapshotDir(r.id);
  BERTH_TRY(RemoveAll(dir));  // a leftover of a crash that reused this id
  auto made = [&]() -> Result<void> {
    if (::mkdir(dir.c_str(), 0700) != 0) return Error::FromErrno(errno, "mkdir " + dir);
    std::string fs = JoinPath(dir, "fs");
    if (::mkdir(fs.c_str(), 0755) != 0) return Error::FromErrno(errno, "mkdir " + fs);
    if (kind == Kind::kActive) {
      std::string work = JoinPath(dir, "work");
      if (::mkdir(work.c_str(), 0700) != 0) return Error::FromErrno(errno, "mkdir " + work);
    }
    return {};
  }();
  if (made) {
    records_.emplace(key, r);
    made = Save();
    if (!made) records_.erase(key);
  }
  if (!made) {
    (void)RemoveAll(dir);
    return std::move(made).error().Wrap("create snapshot " + key);
  }
  return MountsLocked(key, r);
}

Result<std::vector<Mount>> OverlaySnapshotter::Prepare(const std::string& key,
                                                       const std::string& parent,
                                                       const Labels& labels) {
  return Create(Kind::kActive, key, parent, labels);
}

Result<std::vector<Mount>> OverlaySnapshotter::View(const std::string& key,
                                                    const std::string& parent,
                                                    const Labels& labels) {
  return Create(Kind::kView, key, parent, labels);
}

Result<void> OverlaySnapshotter::Commit(const std::string& name, const std::string& key,
                                        const Labels& labels) {
  if (name.empty()) return Error::InvalidArgument("snapshot name is empty");
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return Error::NotFound("snapshot " + key + ": not found");
  if (it->second.kind != Kind::kActive)
    return Error::FailedPrecondition("snapshot " + key + ": " +
                                     std::string(KindName(it->second.kind)) +
                                     " snapshots cannot be committed");
  if (records_.contains(name)) return Error::AlreadyExists("snapshot " + name + ": already exists");
  Record r = it->second;
  r.usage = BERTH_TRY(DiskUsageOf(JoinPath(SnapshotDir(r.id), "fs")));
  r.kind = Kind::kCommitted;
  for (const auto& [k, v] : labels) r.labels[k] = v;
  r.updated = NowNano();
  Record old = it->second;
  records_.erase(it);
  records_.emplace(name, r);
  auto saved = Save();
  if (!saved) {
    records_.erase(name);
    records_.emplace(key, std::move(old));
    return std::move(saved).error().Wrap("commit snapshot " + key);
  }
  // The workdir is only for the overlay of an active snapshot.
  (void)RemoveAll(JoinPath(SnapshotDir(r.id), "work"));
  return {};
}

Result<void> OverlaySnapshotter::Rebase(const std::string& key, const std::string& parent) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return Error::NotFound("snapshot " + key + ": not found");
  if (it->second.kind != Kind::kActive)
    return Error::FailedPrecondition("snapshot " + key + ": not active");
  if (it->second.parent == parent) return {};
  if (!parent.empty()) {
    auto p = records_.find(parent);
    if (p == records_.end()) return Error::NotFound("parent snapshot " + parent + ": not found");
    if (p->second.kind != Kind::kCommitted)
      return Error::FailedPrecondition("parent snapshot " + parent + ": not committed");
  }
  for (const auto& [k, r] : records_)
    if (r.parent == key) return Error::FailedPrecondition("snapshot " + key + ": has child " + k);
  std::string old = it->second.parent;
  it->second.parent = parent;
  if (auto saved = Save(); !saved) {
    it->second.parent = old;
    return std::move(saved).error().Wrap("rebase snapshot " + key);
  }
  return {};
}

Result<void> OverlaySnapshotter::Remove(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return Error::NotFound("snapshot " + key + ": not found");
  for (const auto& [k, r] : records_)
    if (r.parent == key) return Error::FailedPrecondition("snapshot " + key + ": has child " + k);
  Record old = it->second;
  records_.erase(it);
  auto saved = Save();
  if (!saved) {
    records_.emplace(key, std::move(old));
    return std::move(saved).error().Wrap("remove snapshot " + key);
  }
  // Dropped from the metadata first: a crash here leaves an unnamed directory for Recover.
  BERTH_TRY_CTX(RemoveAll(SnapshotDir(old.id)), "remove snapshot " + key);
  return {};
}

Result<void> OverlaySnapshotter::Walk(const std::function<Result<void>(const Info&)>& fn) {
  std::vector<Info> infos;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, r] : records_)
      infos.push_back(Info{key, r.parent, r.kind, r.labels, r.created, r.updated});
  }
  for (const auto& i : infos) BERTH_TRY(fn(i));
  return {};
}

}  // namespace berth::store::snapshot
