#pragma once

// Helpers of the engine/fs tests: a temporary directory removed even on failure (with every
// overlay mounted below it unmounted first), small file writers, and a tree listing to compare
// two views of a filesystem. Only for *_test.cc.

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "util/fd.h"
#include "util/file.h"

namespace berth::engine::fs::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/berth-fs-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    if (path_.empty()) return;
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it)
      ::umount2(it->c_str(), MNT_DETACH);  // mounts a failed test left behind
    (void)RemoveAll(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& rel) const { return JoinPath(path_, rel); }
  /// Makes dir below the temp dir and returns its path.
  std::string Dir(const std::string& rel) const {
    std::string p = Sub(rel);
    (void)MkdirAll(p);
    return p;
  }
  /// Remembers a mount point to detach in the destructor.
  void WillMount(const std::string& target) { mounts_.push_back(target); }

 private:
  std::string path_;
  std::vector<std::string> mounts_;
};

inline void Write(const std::string& path, const std::string& data, mode_t mode = 0644) {
  (void)MkdirAll(path.substr(0, path.rfind('/')));
  ASSERT_TRUE(WriteFile(path, data, mode)) << path;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

inline std::string Read(const std::string& path) {
  auto r = ReadFile(path);
  return r ? *r : "<missing>";
}

inline bool Exists(const std::string& path) { return PathExists(path); }

/// Every entry below dir: "path type[ data|target]" lines, sorted (type: d, f, l, c, p).
inline void ListTree(const std::string& dir, const std::string& prefix,
                     std::vector<std::string>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    std::string p = dir + "/" + n, rel = prefix + "/" + n;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      out->push_back(rel + " d");
      ListTree(p, rel, out);
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t k = ::readlink(p.c_str(), buf, sizeof buf);
      out->push_back(rel + " l " + std::string(buf, k > 0 ? static_cast<size_t>(k) : 0));
    } else if (S_ISREG(st.st_mode)) {
      out->push_back(rel + " f " + Read(p));
    } else {
      out->push_back(rel + (S_ISCHR(st.st_mode) ? " c" : " p"));
    }
  }
}

inline std::vector<std::string> Tree(const std::string& dir) {
  std::vector<std::string> out;
  ListTree(dir, "", &out);
  return out;
}

/// A reader over a string, as the API hands request bodies over.
inline auto StringReader(const std::string& data) {
  return [&data, off = size_t{0}](char* buf, size_t n) mutable -> Result<size_t> {
    size_t k = std::min(n, data.size() - off);
    std::memcpy(buf, data.data() + off, k);
    off += k;
    return k;
  };
}

/// A memfd's whole content.
inline std::string ReadBack(int fd) {
  ::lseek(fd, 0, SEEK_SET);
  auto r = ReadAll(fd, size_t{1} << 30);
  return r ? *r : "";
}

}  // namespace berth::engine::fs::testing
