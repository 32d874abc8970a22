#include "build/copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>

#include "util/fd.h"
#include "util/file.h"
#include "util/sha256.h"

namespace berth::build {
namespace {

bool HasWildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::string Parent(const std::string& p) {
  size_t s = p.rfind('/');
  return s == 0 || s == std::string::npos ? "/" : p.substr(0, s);
}

std::string Base(const std::string& p) { return p.substr(p.rfind('/') + 1); }

/// Expands one source (cleaned, absolute in the tree) with wildcards, component by component.
std::vector<std::string> Glob(const FileTree& tree, const std::string& pattern) {
  std::vector<std::string> parts = Split(pattern, '/', true);
  std::vector<std::string> cur = {"/"};
  for (const auto& part : parts) {
    std::vector<std::string> next;
    for (const auto& dir : cur) {
      if (!HasWildcard(part)) {
        std::string p = JoinPath(dir, part);
        if (tree.Lstat(p)) next.push_back(p);
        continue;
      }
      for (const auto& n : tree.List(dir))
        if (::fnmatch(part.c_str(), n.c_str(), 0) == 0) next.push_back(JoinPath(dir, n));
    }
    cur = std::move(next);
  }
  if (parts.empty()) return {"/"};
  return cur;
}

void AddTree(const FileTree& tree, const std::string& src, const std::string& dest,
             const TreeEntry& e, std::vector<CopyItem>* out) {
  CopyItem item;
  item.dest = dest;
  item.st = e.st;
  item.host_path = e.host_path;
  if (S_ISLNK(e.st.st_mode)) {
    char buf[4096];
    ssize_t n = ::readlink(e.host_path.c_str(), buf, sizeof buf);
    if (n > 0) item.link_target.assign(buf, static_cast<size_t>(n));
  }
  out->push_back(item);
  if (!S_ISDIR(e.st.st_mode)) return;
  for (const auto& n : tree.List(src)) {
    std::string s = JoinPath(src, n);
    auto child = tree.Lstat(s);
    if (child) AddTree(tree, s, JoinPath(dest, n), *child, out);
  }
}

/// The directories on the way to dest, made (0755 root or --chown) or as the image has them.
void AddParents(const FileTree& target, const std::string& dir, const CopyRequest& r,
                std::vector<CopyItem>* parents) {
  std::vector<std::string> chain;
  for (std::string p = dir; p != "/"; p = Parent(p)) chain.push_back(p);
  std::reverse(chain.begin(), chain.end());
  for (const auto& p : chain) {
    if (std::any_of(parents->begin(), parents->end(),
                    [&](const CopyItem& i) { return i.dest == p; }))
      continue;
    CopyItem item;
    item.dest = p;
    auto e = target.Lstat(p);
    if (e && S_ISDIR(e->st.st_mode)) {
      item.st = e->st;
    } else {
      item.st.st_mode = S_IFDIR | 0755;
      item.st.st_uid = r.uid.value_or(0);
      item.st.st_gid = r.gid.value_or(r.uid.value_or(0));
      item.st.st_mtime = std::time(nullptr);
    }
    parents->push_back(item);
  }
}

bool IsDirInImage(const FileTree& target, const std::string& p) {
  auto resolved = ResolveInTree(target, p, true, p);
  if (!resolved) return false;
  auto e = target.Lstat(*resolved);
  return e && S_ISDIR(e->st.st_mode);
}

}  // namespace

Result<CopyPlan> PlanCopy(const FileTree& source, const FileTree& target, const CopyRequest& r) {
  if (r.sources.empty() && r.inline_files.empty())
    return Error::InvalidArgument(r.keyword + " requires at least two arguments");
  std::string dest = r.dest;
  bool dest_dir_syntax = dest.ends_with('/') || dest == "." || dest.ends_with("/.");
  if (dest.empty() || dest[0] != '/')
    dest = JoinPath(r.working_dir.empty() ? "/" : r.working_dir, dest);
  dest = CleanAbs(dest);
  // Resolve the dest's parents through the image's symlinks (/bin → usr/bin).
  {
    std::string parent = BERTH_TRY(ResolveInTree(target, Parent(dest), true, dest));
    dest = dest == "/" ? "/" : JoinPath(parent, Base(dest));
  }
  bool many = r.sources.size() + r.inline_files.size() > 1 ||
              std::any_of(r.sources.begin(), r.sources.end(),
                          [](const std::string& s) { return HasWildcard(s); });
  bool dest_is_dir = dest_dir_syntax || IsDirInImage(target, dest);
  // Into a directory: follow the dest itself too (COPY x /bin/ with /bin → usr/bin).
  if (dest_is_dir) dest = BERTH_TRY(ResolveInTree(target, dest, true, dest));
  if (many && !dest_is_dir)
    return Error::InvalidArgument("When using " + r.keyword +
                                  " with more than one source file, the destination must be a "
                                  "directory and end with a /");
  CopyPlan plan;
  for (const auto& src : r.sources) {
    if (src.starts_with("http://") || src.starts_with("https://")) {
      if (r.keyword == "COPY") return Error::InvalidArgument("source can't be a URL for COPY");
      return Error::Unavailable("ADD " + src +
                                ": fetching remote URLs is not supported by this builder (no "
                                "network access from berthd); download the file into the "
                                "context and ADD it from there");
    }
    // Sources are relative to their root: a leading '/' is the root, `..` may not climb out.
    std::string rel = src;
    std::vector<std::string> depth;
    for (const auto& c : Split(rel, '/', true)) {
      if (c == "..") {
        if (depth.empty() && source.Confined())
          return Error::FailedPrecondition("forbidden path outside the build context: " + src +
                                           " ()");
        if (!depth.empty()) depth.pop_back();
      } else if (c != ".") {
        depth.push_back(c);
      }
    }
    std::string cleaned = CleanAbs("/" + rel);
    std::vector<std::string> matches;
    if (HasWildcard(cleaned)) {
      matches = Glob(source, cleaned);
      if (matches.empty())
        return Error::NotFound(r.keyword + " failed: no source files were specified");
    } else {
      matches = {cleaned};
    }
    for (const auto& m : matches) {
      std::string resolved = BERTH_TRY(ResolveInTree(source, m, true, src));
      auto e = source.Lstat(resolved);
      if (!e)
        return Error::NotFound(r.keyword +
                               " failed: file not found in build context or excluded by "
                               ".dockerignore: stat " +
                               (m == "/" ? std::string(".") : m.substr(1)) +
                               ": file does not exist");
      if (S_ISDIR(e->st.st_mode)) {
        AddParents(target, Parent(dest), r, &plan.parents);
        std::vector<CopyItem> items;
        AddTree(source, resolved, dest, *e, &items);
        // The dest directory keeps the image's metadata when it is there already.
        if (auto have = target.Lstat(dest); have && S_ISDIR(have->st.st_mode)) {
          items.front().st = have->st;
          items.front().host_path.clear();
          items.front().inline_file = false;
          items.front().dest = dest;
          plan.parents.push_back(items.front());
          items.erase(items.begin());
        }
        for (auto& i : items) plan.items.push_back(std::move(i));
        continue;
      }
      std::string to = dest_is_dir ? JoinPath(dest, Base(m)) : dest;
      if (r.extract_archives && S_ISREG(e->st.st_mode) && IsArchive(e->host_path)) {
        AddParents(target, dest, r, &plan.parents);
        CopyItem item;
        item.dest = dest;
        item.st = e->st;
        item.host_path = e->host_path;
        item.archive = true;
        plan.items.push_back(item);
        continue;
      }
      AddParents(target, Parent(to), r, &plan.parents);
      std::vector<CopyItem> items;
      AddTree(source, resolved, to, *e, &items);
      for (auto& i : items) plan.items.push_back(std::move(i));
    }
  }
  for (const auto& [name, content] : r.inline_files) {
    std::string to = dest_is_dir ? JoinPath(dest, name) : dest;
    AddParents(target, Parent(to), r, &plan.parents);
    CopyItem item;
    item.dest = to;
    item.st.st_mode = S_IFREG | 0644;
    item.st.st_size = static_cast<off_t>(content.size());
    item.st.st_mtime = std::time(nullptr);
    item.inline_data = content;
    item.inline_file = true;
    plan.items.push_back(item);
  }
  return plan;
}

Result<std::string> FileHashCache::Digest(const std::string& host_path, const struct stat& st) {
  std::string key = host_path + '\0' + std::to_string(st.st_dev) + ':' + std::to_string(st.st_ino) +
                    ':' + std::to_string(st.st_size) + ':' + std::to_string(st.st_mtim.tv_sec) +
                    '.' + std::to_string(st.st_mtim.tv_nsec) + ':' +
                    std::to_string(st.st_ctim.tv_sec) + '.' + std::to_string(st.st_ctim.tv_nsec);
  {
    std::lock_guard lock(mu_);
    if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
  }
  Fd fd = BERTH_TRY_CTX(Fd::Open(host_path, O_RDONLY | O_NOFOLLOW), "hash");
  Sha256 h = BERTH_TRY(Sha256::New());
  std::vector<char> buf(256 * 1024);
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "read " + host_path);
    if (n == 0) break;
    BERTH_TRY(h.Update(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
  std::string hex = BERTH_TRY(h.HexDigest());
  std::lock_guard lock(mu_);
  if (by_key_.size() > 200000) by_key_.clear();
  by_key_[key] = hex;
  return hex;
}

Result<std::string> SourcesDigest(const CopyPlan& plan, const CopyRequest& r,
                                  FileHashCache* hashes) {
  Sha256 h = BERTH_TRY(Sha256::New());
  auto add = [&](const CopyItem& i, bool parent) -> Result<void> {
    std::string line = (parent ? "P " : "I ") + i.dest + '\0' + std::to_string(i.st.st_mode) + ':' +
                       std::to_string(i.st.st_uid) + ':' + std::to_string(i.st.st_gid) + ':' +
                       i.link_target + '\0';
    if (i.inline_file) {
      line += BERTH_TRY(Sha256Hex(i.inline_data));
    } else if (S_ISREG(i.st.st_mode)) {
      line += BERTH_TRY(hashes->Digest(i.host_path, i.st));
    }
    line += '\n';
    return h.Update(line);
  };
  for (const auto& p : plan.parents) BERTH_TRY(add(p, true));
  for (const auto& i : plan.items) BERTH_TRY(add(i, false));
  (void)r;
  return h.HexDigest();
}

bool IsArchive(const std::string& host_path) {
  auto fd = Fd::Open(host_path, O_RDONLY | O_NOFOLLOW);
  if (!fd) return false;
  unsigned char b[512] = {};
  ssize_t n = ::pread(fd->get(), b, sizeof b, 0);
  if (n < 6) return false;
  if (b[0] == 0x1f && b[1] == 0x8b) return true;               // gzip
  if (b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') return true;  // bzip2
  if (std::memcmp(b,
                  "\xfd"
                  "7zXZ\0",
                  6) == 0)
    return true;                                             // xz
  return n >= 263 && std::memcmp(b + 257, "ustar", 5) == 0;  // tar
}

}  // namespace berth::build

namespace berth::build {
CopyPlan PlanMkdir(const FileTree& target, const std::string& dir) {
  CopyPlan plan;
  auto resolved = ResolveInTree(target, dir, true, dir);
  std::string d = resolved ? *resolved : CleanAbs(dir);
  if (IsDirInImage(target, d) || d == "/") return plan;
  CopyRequest r;
  AddParents(target, d, r, &plan.parents);
  // Keep only what is missing, with the existing parents before it for their metadata.
  bool any_new = false;
  for (const auto& p : plan.parents)
    if (!target.Lstat(p.dest)) any_new = true;
  if (!any_new) plan.parents.clear();
  return plan;
}
}  // namespace berth::build
