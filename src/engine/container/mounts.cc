// -v strings, --mount objects and --tmpfs entries → MountSpec, checked as Docker's linux volume
// parser checks them (moby volume/mounts/linux_parser.go), with its messages.

#include <cctype>
#include <set>

#include "engine/container/config.h"
#include "engine/container/config_internal.h"
#include "util/file.h"

namespace berth::engine {
namespace internal {
namespace {

const std::set<std::string, std::less<>> kPropagations = {"private", "rprivate", "shared",
                                                          "rshared", "slave",    "rslave"};

Error MountConfigError(const MountSpec& m, std::string_view what) {
  return Error::InvalidArgument("invalid mount config for type \"" + m.type +
                                "\": " + std::string(what));
}

Result<void> CheckTarget(std::string_view target) {
  if (target.empty() || target[0] != '/')
    return Error::InvalidArgument("invalid mount path: '" + std::string(target) +
                                  "' mount path must be absolute");
  if (CleanPath(target) == "/")
    return Error::InvalidArgument("invalid specification: destination can't be '/'");
  return {};
}

// The local volume driver's rule for names (moby volume/local).
Result<void> CheckVolumeName(const std::string& name) {
  if (name.size() == 1)
    return Error::InvalidArgument(
        "volume name is too short, names should be at least two alphanumeric characters");
  bool ok = !name.empty() && std::isalnum(uint8_t(name[0]));
  for (char c : name) ok = ok && (std::isalnum(uint8_t(c)) || c == '_' || c == '.' || c == '-');
  if (!ok)
    return Error::InvalidArgument("create " + name + ": \"" + name +
                                  "\" includes invalid characters for a local volume name, only "
                                  "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to "
                                  "pass a host directory, use absolute path");
  return {};
}

// One option of a -v mode list: its class, or "" if unknown.
std::string_view ModeClass(std::string_view o) {
  if (o == "rw" || o == "ro") return "rw";
  if (o == "z" || o == "Z") return "label";
  if (kPropagations.count(o)) return "propagation";
  if (o == "nocopy") return "copy";
  if (o == "consistent" || o == "cached" || o == "delegated") return "consistency";
  return "";
}

bool ValidMode(std::string_view mode) {
  if (mode.empty()) return true;
  std::set<std::string_view> seen;  // one option of each class at most
  for (const auto& o : Split(mode, ',')) {
    std::string_view cls = ModeClass(o);
    if (cls.empty() || !seen.insert(cls).second) return false;
  }
  return true;
}

}  // namespace

std::string CleanPath(std::string_view path) {
  std::vector<std::string> out;
  for (auto& part : Split(path, '/', /*skip_empty=*/true)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(std::move(part));
  }
  std::string clean;
  for (const auto& part : out) clean += "/" + part;
  return clean.empty() ? "/" : clean;
}

Result<void> ValidateMount(const MountSpec& m, bool has_bind_options, bool has_volume_options,
                           bool has_tmpfs_options) {
  if (m.type != "bind" && m.type != "volume" && m.type != "tmpfs")
    return MountConfigError(m, "mount type unknown");
  if (m.target.empty()) return MountConfigError(m, "field Target must not be empty");
  if (auto r = CheckTarget(m.target); !r) return MountConfigError(m, r.error().message());
  auto extra = [&](std::string_view field) {
    return MountConfigError(m, "field " + std::string(field) + " must not be specified");
  };
  if (m.type == "bind") {
    if (m.source.empty()) return MountConfigError(m, "field Source must not be empty");
    if (!m.propagation.empty() && !kPropagations.count(m.propagation))
      return MountConfigError(m, "invalid propagation mode: " + m.propagation);
    if (has_volume_options) return extra("VolumeOptions");
    if (has_tmpfs_options) return extra("TmpfsOptions");
    if (m.source[0] != '/')
      return MountConfigError(m,
                              "invalid mount path: '" + m.source + "' mount path must be absolute");
  } else if (m.type == "volume") {
    if (has_bind_options) return extra("BindOptions");
    if (has_tmpfs_options) return extra("TmpfsOptions");
    if (m.read_only && m.source.empty())
      return MountConfigError(m, "must not set ReadOnly mode when using anonymous volumes");
    if (!m.source.empty()) BERTH_TRY(CheckVolumeName(m.source));
  } else {
    if (has_bind_options) return extra("BindOptions");
    if (has_volume_options) return extra("VolumeOptions");
    if (!m.source.empty()) return extra("Source");
    if (m.tmpfs_size < 0) return MountConfigError(m, "invalid tmpfs size: negative");
    if (m.tmpfs_mode > 07777) return MountConfigError(m, "invalid tmpfs mode");
  }
  return {};
}

Result<MountSpec> ParseMountJson(const Json& value) {
  Fields f = BERTH_TRY(Fields::Of(value, "Mount"));
  MountSpec m;
  m.type = BERTH_TRY(f.String("Type"));
  m.source = BERTH_TRY(f.String("Source"));
  m.target = BERTH_TRY(f.String("Target"));
  m.read_only = BERTH_TRY(f.Bool("ReadOnly"));
  const Json* bind = BERTH_TRY(f.Object("BindOptions"));
  const Json* vol = BERTH_TRY(f.Object("VolumeOptions"));
  const Json* tmp = BERTH_TRY(f.Object("TmpfsOptions"));
  if (bind) {
    Fields b = BERTH_TRY(Fields::Of(*bind, "BindOptions"));
    m.propagation = BERTH_TRY(b.String("Propagation"));
    m.non_recursive = BERTH_TRY(b.Bool("NonRecursive"));
    m.create_mountpoint = BERTH_TRY(b.Bool("CreateMountpoint"));
  }
  if (vol) {
    Fields v = BERTH_TRY(Fields::Of(*vol, "VolumeOptions"));
    m.no_copy = BERTH_TRY(v.Bool("NoCopy"));
    m.volume_labels = BERTH_TRY(v.StringMap("Labels"));
  }
  if (tmp) {
    Fields t = BERTH_TRY(Fields::Of(*tmp, "TmpfsOptions"));
    m.tmpfs_size = BERTH_TRY(t.Int("SizeBytes"));
    int64_t mode = BERTH_TRY(t.Int("Mode", "fs.FileMode"));
    if (mode < 0 || mode > 07777) return MountConfigError(m, "invalid tmpfs mode");
    m.tmpfs_mode = static_cast<uint32_t>(mode);
    if (const Json* opts = BERTH_TRY(t.Array("Options"))) {
      // [["nr_inodes", "1024"], ["exec"]]: key or key=value pairs.
      for (const auto& o : *opts) {
        if (!o.is_array() || o.empty() || o.size() > 2 || !o[0].is_string() ||
            (o.size() == 2 && !o[1].is_string()))
          return MountConfigError(m, "invalid tmpfs option");
        std::string opt = o[0].get<std::string>();
        if (o.size() == 2) opt += "=" + o[1].get<std::string>();
        if (opt.find(',') != std::string::npos)
          return MountConfigError(m, "invalid tmpfs option: " + opt);
        m.tmpfs_options += (m.tmpfs_options.empty() ? "" : ",") + opt;
      }
    }
  }
  BERTH_TRY(ValidateMount(m, bind != nullptr, vol != nullptr, tmp != nullptr));
  m.target = CleanPath(m.target);
  if (m.type == "bind") m.source = CleanPath(m.source);
  return m;
}

Result<MountSpec> TmpfsMount(const std::string& target, const std::string& options) {
  BERTH_TRY(CheckTarget(target));
  MountSpec m;
  m.type = "tmpfs";
  m.target = CleanPath(target);
  m.tmpfs_options = options;
  m.from_tmpfs = true;
  for (const auto& o : Split(options, ',')) {
    if (o == "ro") m.read_only = true;
    if (o == "rw") m.read_only = false;
  }
  return m;
}

}  // namespace internal

Result<MountSpec> ParseBind(std::string_view bind) {
  std::string raw(bind);
  auto invalid = [&] {
    return Error::InvalidArgument("invalid volume specification: '" + raw + "'");
  };
  std::vector<std::string> arr = Split(raw, ':');
  if (arr.empty() || arr[0].empty()) return invalid();
  MountSpec m;
  std::string mode;
  switch (arr.size()) {
    case 1:
      m.target = arr[0];
      break;
    case 2:
      if (!arr[1].empty() && internal::ValidMode(arr[1])) return invalid();  // "/foo:rw": no source
      m.source = arr[0];
      m.target = arr[1];
      break;
    case 3:
      m.source = arr[0];
      m.target = arr[1];
      mode = arr[2];
      break;
    default:
      return invalid();
  }
  if (!internal::ValidMode(mode)) return Error::InvalidArgument("invalid mode: " + mode);
  m.type = !m.source.empty() && m.source[0] == '/' ? "bind" : "volume";
  bool has_volume_options = false, has_bind_options = false;
  for (const auto& o : Split(mode, ',', /*skip_empty=*/true)) {
    if (o == "ro") m.read_only = true;
    if (o == "nocopy") {
      m.no_copy = true;
      has_volume_options = true;
    }
    if (internal::kPropagations.count(o)) {
      m.propagation = o;
      has_bind_options = true;
    }
  }
  m.from_bind_string = true;
  if (auto r = internal::ValidateMount(m, has_bind_options, has_volume_options, false); !r)
    return Error::InvalidArgument("invalid volume specification: '" + raw +
                                  "': " + r.error().message());
  m.target = internal::CleanPath(m.target);
  if (m.type == "bind") m.source = internal::CleanPath(m.source);
  return m;
}

}  // namespace berth::engine
