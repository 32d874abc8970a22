// Path and media type helpers of the archive formats; load and save live in formats/.

#include "image/archive_formats.h"

#include <vector>

#include "image/formats/formats_internal.h"
#include "util/file.h"

namespace berth::image::formats {
namespace {

// Joins components, resolving "." and ".."; false if ".." climbs above the root.
bool Normalise(const std::vector<std::string>& parts, std::string& out) {
  std::vector<std::string> stack;
  for (const auto& p : parts) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (stack.empty()) return false;
      stack.pop_back();
      continue;
    }
    stack.push_back(p);
  }
  out.clear();
  for (const auto& p : stack) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return true;
}

}  // namespace

Result<std::string> CleanArchivePath(std::string_view path) {
  if (path.empty()) return Error::InvalidArgument("empty path");
  if (path.front() == '/')
    return Error::InvalidArgument("path " + std::string(path) + " is absolute");
  std::string out;
  for (const auto& p : Split(path, '/')) {
    if (p == "..")
      return Error::InvalidArgument("path " + std::string(path) + " escapes the archive");
    if (p.empty() || p == ".") continue;
    if (!out.empty()) out += '/';
    out += p;
  }
  if (out.empty()) return Error::InvalidArgument("path " + std::string(path) + " names no file");
  return out;
}

Result<std::string> ResolveLinkTarget(std::string_view from, std::string_view target) {
  if (!target.empty() && target.front() == '/')
    return Error::InvalidArgument("link " + std::string(from) + " -> " + std::string(target) +
                                  " is absolute");
  std::vector<std::string> parts = Split(from, '/');
  if (!parts.empty()) parts.pop_back();  // the directory of the link
  for (auto& p : Split(target, '/')) parts.push_back(std::move(p));
  std::string out;
  if (!Normalise(parts, out) || out.empty())
    return Error::InvalidArgument("link " + std::string(from) + " -> " + std::string(target) +
                                  " escapes the archive");
  return out;
}

std::string_view DockerLayerMediaType(oci::Compression c) {
  switch (c) {
    case oci::Compression::kGzip:
      return oci::kDockerLayerTarGzip;
    case oci::Compression::kZstd:
      return oci::kDockerLayerTarZstd;
    default:
      return oci::kDockerLayerTar;
  }
}

std::string_view OciLayerMediaType(std::string_view media_type) {
  switch (oci::LayerCompression(media_type)) {
    case oci::Compression::kGzip:
      return oci::kOciLayerTarGzip;
    case oci::Compression::kZstd:
      return oci::kOciLayerTarZstd;
    default:
      return oci::kOciLayerTar;
  }
}

}  // namespace berth::image::formats
