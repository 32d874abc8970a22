#include "build/file_tree.h"

#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "util/file.h"

namespace berth::build {
namespace {

bool IsWhiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

bool IsOpaque(const std::string& host_dir) {
  char v[2];
  ssize_t n = ::lgetxattr(host_dir.c_str(), "trusted.overlay.opaque", v, sizeof v);
  return n == 1 && v[0] == 'y';
}

std::vector<std::string> Components(const std::string& path) { return Split(path, '/', true); }

std::vector<std::string> ReadNames(const std::string& dir) {
  auto names = ListDir(dir);
  return names ? *names : std::vector<std::string>{};
}

}  // namespace

std::string CleanAbs(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& c : Components(path)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(c);
  }
  std::string s;
  for (const auto& c : out) s += "/" + c;
  return s.empty() ? "/" : s;
}

bool DirTree::Ignored(const std::string& path) const {
  return ignore_ && path != "/" && ignore_->Excluded(path.substr(1));
}

std::optional<TreeEntry> DirTree::Lstat(const std::string& path) const {
  if (Ignored(path)) return std::nullopt;
  TreeEntry e;
  e.host_path = path == "/" ? root_ : root_ + path;
  if (::lstat(e.host_path.c_str(), &e.st) != 0) return std::nullopt;
  return e;
}

std::vector<std::string> DirTree::List(const std::string& dir) const {
  std::vector<std::string> names = ReadNames(dir == "/" ? root_ : root_ + dir);
  std::vector<std::string> out;
  for (auto& n : names)
    if (!Ignored(JoinPath(dir, n))) out.push_back(std::move(n));
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<TreeEntry> LayerTree::Lstat(const std::string& path) const {
  std::vector<std::string> parts = Components(path);
  for (const auto& layer : layers_) {
    // A whiteout or a non-directory on the way hides the path from here down; an opaque
    // directory on the way hides the layers below.
    std::string host = layer;
    bool hidden = false, opaque = false, missing = false;
    for (size_t i = 0; i < parts.size(); ++i) {
      host += "/" + parts[i];
      struct stat st;
      if (::lstat(host.c_str(), &st) != 0) {
        missing = true;
        break;
      }
      if (IsWhiteout(st)) {
        hidden = true;
        break;
      }
      if (i + 1 < parts.size()) {
        if (!S_ISDIR(st.st_mode)) {
          hidden = true;
          break;
        }
        if (IsOpaque(host)) opaque = true;
      }
    }
    if (hidden) return std::nullopt;
    if (!missing) {
      TreeEntry e;
      e.host_path = parts.empty() ? layer : host;
      if (::lstat(e.host_path.c_str(), &e.st) != 0) return std::nullopt;
      return e;
    }
    if (opaque) return std::nullopt;
  }
  if (parts.empty()) {  // the root of an empty tree
    TreeEntry e;
    e.st.st_mode = S_IFDIR | 0755;
    e.host_path = "";
    return e;
  }
  return std::nullopt;
}

std::vector<std::string> LayerTree::List(const std::string& dir) const {
  std::set<std::string> names, hidden;
  std::string rel = dir == "/" ? "" : dir;
  for (const auto& layer : layers_) {
    std::string host = layer + rel;
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) continue;
    if (!S_ISDIR(st.st_mode)) break;
    for (const auto& n : ReadNames(host)) {
      if (hidden.count(n) || names.count(n)) continue;
      struct stat s;
      if (::lstat((host + "/" + n).c_str(), &s) == 0 && IsWhiteout(s)) {
        hidden.insert(n);
      } else {
        names.insert(n);
      }
    }
    if (IsOpaque(host)) break;
  }
  return {names.begin(), names.end()};
}

Result<std::string> ResolveInTree(const FileTree& tree, const std::string& path, bool follow_last,
                                  const std::string& original) {
  auto forbidden = [&] {
    return Error::FailedPrecondition("forbidden path outside the build context: " + original +
                                     " ()");
  };
  std::vector<std::string> todo = Components(path);
  std::reverse(todo.begin(), todo.end());
  std::vector<std::string> done;
  int links = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.back());
    todo.pop_back();
    if (c == ".") continue;
    if (c == "..") {
      if (done.empty()) {
        if (tree.Confined()) return forbidden();
        continue;
      }
      done.pop_back();
      continue;
    }
    done.push_back(c);
    if (todo.empty() && !follow_last) break;
    std::string cur;
    for (const auto& d : done) cur += "/" + d;
    auto e = tree.Lstat(cur);
    if (!e || !S_ISLNK(e->st.st_mode)) continue;
    if (++links > 40)
      return Error::InvalidArgument("too many levels of symbolic links: " + original);
    char buf[4096];
    ssize_t n = ::readlink(e->host_path.c_str(), buf, sizeof buf);
    if (n < 0) return Error::FromErrno(errno, "readlink " + original);
    std::string target(buf, static_cast<size_t>(n));
    done.pop_back();
    if (!target.empty() && target[0] == '/') {
      if (tree.Confined()) return forbidden();
      done.clear();
    }
    std::vector<std::string> t = Components(target);
    for (auto it = t.rbegin(); it != t.rend(); ++it) todo.push_back(*it);
  }
  std::string s;
  for (const auto& d : done) s += "/" + d;
  return s.empty() ? std::string("/") : s;
}

std::optional<std::string> ReadTreeFile(const FileTree& tree, const std::string& path,
                                        size_t max_bytes) {
  auto resolved = ResolveInTree(tree, path, true, path);
  if (!resolved) return std::nullopt;
  auto e = tree.Lstat(*resolved);
  if (!e || !S_ISREG(e->st.st_mode)) return std::nullopt;
  auto text = ReadFile(e->host_path, max_bytes);
  if (!text) return std::nullopt;
  return *text;
}

}  // namespace berth::build
