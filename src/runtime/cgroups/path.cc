#include "runtime/cgroups/cgroups_internal.h"
#include "util/file.h"

namespace berth::runtime::cgroups::internal {

Result<std::string> CleanPath(const std::string& path) {
  if (path.empty()) return Error::InvalidArgument("cgroup path: empty");
  bool absolute = path.front() == '/';
  std::string out = absolute ? "/" : "";
  for (const auto& part : Split(path, '/', true)) {
    if (part == ".") continue;
    if (part == "..")
      return Error::InvalidArgument("cgroup path " + path + ": \"..\" is not allowed");
    if (!out.empty() && out.back() != '/') out += '/';
    out += part;
  }
  if (out.empty() || out == "/")
    return Error::InvalidArgument("cgroup path " + path + ": names no cgroup below the root");
  return out;
}

std::map<std::string, std::string> ParseProcCgroup(std::string_view text) {
  // "hierarchy-id:controller-list:path" (proc(5), /proc/pid/cgroup); v2 is "0::path".
  std::map<std::string, std::string> out;
  for (const auto& line : Split(text, '\n', true)) {
    auto c1 = line.find(':');
    if (c1 == std::string::npos) continue;
    auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    std::string controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string cgpath = line.substr(c2 + 1);
    if (controllers.empty()) {
      if (line.compare(0, c1, "0") == 0) out[""] = cgpath;
      continue;
    }
    for (const auto& c : Split(controllers, ',', true)) out[c] = cgpath;
  }
  return out;
}

std::string PathInHierarchy(const std::string& clean_path,
                            const std::map<std::string, std::string>* own, const std::string& key) {
  if (!clean_path.empty() && clean_path.front() == '/') return clean_path;
  std::string base = "/";
  if (own) {
    if (auto it = own->find(key); it != own->end() && !it->second.empty()) base = it->second;
  }
  return JoinPath(base, clean_path);
}

}  // namespace berth::runtime::cgroups::internal
