#pragma once

// Helpers shared by config.cc, mounts.cc and config_json.cc: typed reads of Docker's JSON with
// Go's decoding errors ("json: cannot unmarshal string into Go struct field Config.Tty of type
// bool"), null read as the zero value, and the mount checks of Docker's volume parser.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/container/config.h"
#include "util/result.h"

namespace berth::engine::internal {

using Json = nlohmann::json;

/// The members of one JSON object (or of null: every field absent), read by Go's rules.
class Fields {
 public:
  /// InvalidArgument unless `value` is an object or null.
  static Result<Fields> Of(const Json& value, std::string_view go_struct);

  bool Has(std::string_view key) const;  // present and not null
  Result<std::string> String(std::string_view key) const;
  Result<bool> Bool(std::string_view key) const;
  Result<std::optional<bool>> OptBool(std::string_view key) const;
  Result<int64_t> Int(std::string_view key, std::string_view go_type = "int64") const;
  Result<std::optional<int64_t>> OptInt(std::string_view key) const;
  /// []string: an array of strings.
  Result<std::vector<std::string>> Strings(std::string_view key) const;
  /// StrSlice: a string or an array of strings; nullopt when absent or null.
  Result<std::optional<std::vector<std::string>>> StrSlice(std::string_view key) const;
  Result<std::map<std::string, std::string>> StringMap(std::string_view key) const;
  /// map[string]struct{}: the keys of an object.
  Result<std::vector<std::string>> Keys(std::string_view key) const;
  /// The member when it is an object (nullptr when absent or null).
  Result<const Json*> Object(std::string_view key) const;
  /// The member when it is an array (nullptr when absent or null).
  Result<const Json*> Array(std::string_view key) const;

  Error TypeError(std::string_view key, const Json& got, std::string_view go_type) const;

 private:
  const Json* Get(std::string_view key) const;
  const Json* obj_ = nullptr;
  std::string struct_;
};

/// Parses JSON text; InvalidArgument naming the parse error.
Result<Json> ParseJson(std::string_view text, std::string_view what);

/// Docker's checks of one mount (daemon/volume/mounts, linux parser): target absolute and not
/// "/", per type the fields that must and must not be given. Does not touch the filesystem.
Result<void> ValidateMount(const MountSpec& m, bool has_bind_options, bool has_volume_options,
                           bool has_tmpfs_options);
/// A --mount entry (api/types/mount.Mount).
Result<MountSpec> ParseMountJson(const Json& value);
/// A HostConfig.Tmpfs entry: path → options.
Result<MountSpec> TmpfsMount(const std::string& target, const std::string& options);
/// "/a/../b//c" → "/b/c" (lexical, as Go's path.Clean for absolute paths).
std::string CleanPath(std::string_view path);

inline constexpr int64_t kDefaultShmSize = 64 << 20;

}  // namespace berth::engine::internal
