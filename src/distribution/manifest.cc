#include "distribution/manifest.h"

#include <sys/utsname.h>

#include "oci/media_types.h"

namespace berth::distribution {

oci::Platform HostPlatform() {
  oci::Platform p;
  p.os = "linux";
  struct utsname u;
  std::string m = ::uname(&u) == 0 ? u.machine : "x86_64";
  if (m == "x86_64")
    p.architecture = "amd64";
  else if (m == "aarch64")
    p.architecture = "arm64";
  else if (m == "i686" || m == "i386")
    p.architecture = "386";
  else if (m.starts_with("armv7"))
    p.architecture = "arm", p.variant = "v7";
  else
    p.architecture = m;
  return p;
}

Result<oci::Platform> ParsePlatform(std::string_view text) {
  oci::Platform p;
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find('/', i);
    if (j == std::string_view::npos) j = text.size();
    parts.emplace_back(text.substr(i, j - i));
    i = j + 1;
  }
  auto bad = [&] {
    return Error::InvalidArgument("\"" + std::string(text) +
                                  "\": unknown operating system or architecture");
  };
  if (parts.empty() || parts.size() > 3) return bad();
  for (auto& s : parts) {
    if (s.empty()) return bad();
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  p.os = parts[0];
  p.architecture = parts.size() > 1 ? parts[1] : HostPlatform().architecture;
  if (parts.size() > 2) p.variant = parts[2];
  if (p.architecture == "x86_64" || p.architecture == "x86-64") p.architecture = "amd64";
  if (p.architecture == "aarch64") p.architecture = "arm64";
  return p;
}

std::string FormatPlatform(const oci::Platform& p) {
  std::string s = p.os + "/" + p.architecture;
  if (!p.variant.empty()) s += "/" + p.variant;
  return s;
}

Result<oci::Descriptor> SelectManifest(const oci::ImageIndex& index,
                                       const oci::Platform& platform) {
  const oci::Descriptor* loose = nullptr;  // os/arch match, variant unsaid on one side
  for (const auto& d : index.manifests) {
    if (!oci::IsManifest(d.media_type) && !oci::IsIndex(d.media_type)) continue;
    if (!d.platform) continue;
    const oci::Platform& have = *d.platform;
    if (have.os != platform.os || have.architecture != platform.architecture) continue;
    if (have.variant == platform.variant) return d;
    bool arm64_v8 = platform.architecture == "arm64" &&
                    (have.variant.empty() || have.variant == "v8") &&
                    (platform.variant.empty() || platform.variant == "v8");
    if (arm64_v8 || platform.variant.empty() || have.variant.empty()) {
      if (!loose) loose = &d;
    }
  }
  if (loose) return *loose;
  return Error::NotFound("no matching manifest for " + FormatPlatform(platform) +
                         " in the manifest list entries");
}

Result<void> CheckPullable(const oci::ImageManifest& manifest) {
  if (!oci::IsConfig(manifest.config.media_type))
    return Error::InvalidArgument("manifest: config media type " + manifest.config.media_type +
                                  " is not an image config");
  if (!manifest.config.digest.valid())
    return Error::InvalidArgument("manifest: the config has no digest");
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const auto& l = manifest.layers[i];
    std::string what = "manifest: layer " + std::to_string(i);
    if (!oci::IsLayer(l.media_type))
      return Error::InvalidArgument(what + ": unsupported media type " + l.media_type);
    if (oci::IsNondistributableLayer(l.media_type) && !l.urls.empty())
      return Error::NotImplemented(what + ": foreign layers are not supported");
    if (!l.digest.valid()) return Error::InvalidArgument(what + ": no digest");
    if (l.size < 0) return Error::InvalidArgument(what + ": negative size");
  }
  return {};
}

}  // namespace berth::distribution
