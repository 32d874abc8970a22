#pragma once

// Internal to src/oci: the strict JSON reading shared by the runtime-spec and image-spec
// parsers. Only .cc files of src/oci include it (it brings nlohmann/json.hpp).

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "util/result.h"

namespace berth::oci::internal {

using nlohmann::json;

// Reads typed fields out of one JSON object, naming the property path in its errors
// ("linux.resources.memory.limit: expected integer").
class Reader {
 public:
  Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::string Child(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  const json* Find(std::string_view key) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  Error TypeError(std::string_view key, std::string_view want) const {
    return Error::InvalidArgument(Child(key) + ": expected " + std::string(want));
  }

  Result<void> String(std::string_view key, std::string* out) const {
    const json* v = Find(key);
    if (!v) return {};
    if (!v->is_string()) return TypeError(key, "string");
    *out = v->get<std::string>();
    return {};
  }
  Result<void> Bool(std::string_view key, bool* out) const {
    const json* v = Find(key);
    if (!v) return {};
    if (!v->is_boolean()) return TypeError(key, "boolean");
    *out = v->get<bool>();
    return {};
  }
  template <typename T>
  Result<void> Int(std::string_view key, T* out) const {
    const json* v = Find(key);
    if (!v) return {};
    return IntValue(*v, Child(key), out);
  }
  template <typename T>
  Result<void> OptInt(std::string_view key, std::optional<T>* out) const {
    const json* v = Find(key);
    if (!v) return {};
    T value{};
    BERTH_TRY(IntValue(*v, Child(key), &value));
    *out = value;
    return {};
  }
  Result<void> OptBool(std::string_view key, std::optional<bool>* out) const {
    const json* v = Find(key);
    if (!v) return {};
    if (!v->is_boolean()) return TypeError(key, "boolean");
    *out = v->get<bool>();
    return {};
  }
  Result<void> Strings(std::string_view key, std::vector<std::string>* out) const {
    const json* v = Find(key);
    if (!v) return {};
    if (!v->is_array()) return TypeError(key, "array of strings");
    out->clear();
    for (const auto& e : *v) {
      if (!e.is_string()) return TypeError(key, "array of strings");
      out->push_back(e.get<std::string>());
    }
    return {};
  }
  Result<void> StringMap(std::string_view key, std::map<std::string, std::string>* out) const {
    const json* v = Find(key);
    if (!v) return {};
    if (!v->is_object()) return TypeError(key, "object of strings");
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (!it.value().is_string()) return TypeError(std::string(key) + "." + it.key(), "string");
      (*out)[it.key()] = it.value().get<std::string>();
    }
    return {};
  }
  // Calls fn(Reader) for the object at key, if present.
  template <typename F>
  Result<void> Object(std::string_view key, F&& fn) const {
    const json* v = Find(key);
    if (!v) return {};
    if (!v->is_object()) return TypeError(key, "object");
    return fn(Reader(*v, Child(key)));
  }
  // Calls fn(Reader) for each object of the array at key.
  template <typename F>
  Result<void> Array(std::string_view key, F&& fn) const {
    const json* v = Find(key);
    if (!v) return {};
    if (!v->is_array()) return TypeError(key, "array");
    size_t i = 0;
    for (const auto& e : *v) {
      std::string p = Child(key) + "[" + std::to_string(i++) + "]";
      if (!e.is_object()) return Error::InvalidArgument(p + ": expected object");
      BERTH_TRY(fn(Reader(e, p)));
    }
    return {};
  }

  bool Has(std::string_view key) const { return j_.contains(key); }
  Error Fail(std::string_view key, std::string_view what) const {
    return Error::InvalidArgument(Child(key) + ": " + std::string(what));
  }
  Result<const json*> Required(std::string_view key) const {
    const json* v = Find(key);
    if (!v) return Fail(key, "must be set");
    return v;
  }
  Result<void> RequiredString(std::string_view key, std::string* out) const {
    BERTH_TRY(Required(key));
    BERTH_TRY(String(key, out));
    if (out->empty()) return Fail(key, "must not be empty");
    return {};
  }
  Result<void> Size(std::string_view key, int64_t* out) const {
    BERTH_TRY(Required(key));
    BERTH_TRY(Int(key, out));
    if (*out < 0) return Fail(key, "must not be negative");
    return {};
  }
  // Docker's strslice: an array of strings, or one string; null stays unset.
  Result<void> StrSlice(std::string_view key, std::optional<std::vector<std::string>>* out) const {
    const json* v = Find(key);
    if (!v) return {};
    if (v->is_string()) {
      *out = std::vector<std::string>{v->get<std::string>()};
      return {};
    }
    std::vector<std::string> list;
    BERTH_TRY(Strings(key, &list));
    *out = std::move(list);
    return {};
  }
  // Go's map[string]struct{}: {"80/tcp": {}}; the keys, sorted.
  Result<void> KeySet(std::string_view key, std::vector<std::string>* out) const {
    const json* v = Find(key);
    if (!v) return {};
    if (!v->is_object()) return TypeError(key, "object");
    out->clear();
    for (auto it = v->begin(); it != v->end(); ++it) {
      if (!it.value().is_object() && !it.value().is_null())
        return TypeError(std::string(key) + "." + it.key(), "object");
      out->push_back(it.key());
    }
    return {};
  }

  template <typename T>
  static Result<void> IntValue(const json& v, const std::string& path, T* out) {
    if (v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
        return Error::InvalidArgument(path + ": value out of range");
      *out = static_cast<T>(u);
      return {};
    }
    if (v.is_number_integer()) {
      int64_t s = v.get<int64_t>();
      if constexpr (std::is_unsigned_v<T>) {
        if (s < 0) return Error::InvalidArgument(path + ": value out of range");
        if (static_cast<uint64_t>(s) > static_cast<uint64_t>(std::numeric_limits<T>::max()))
          return Error::InvalidArgument(path + ": value out of range");
      } else {
        if (s < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
            s > static_cast<int64_t>(std::numeric_limits<T>::max()))
          return Error::InvalidArgument(path + ": value out of range");
      }
      *out = static_cast<T>(s);
      return {};
    }
    return Error::InvalidArgument(path + ": expected integer");
  }

 private:
  const json& j_;
  std::string path_;
};

// The deepest nesting of arrays and objects, counting brackets outside strings; stops past
// limit. Malformed text gives some number: the parser rejects it afterwards.

/// The deepest nesting of arrays and objects, counting brackets outside strings; stops past
/// limit. Malformed text gives some number: the parser rejects it afterwards.
size_t NestingDepth(std::string_view text, size_t limit);

struct JsonLimits {
  size_t max_bytes = 0;
  size_t max_depth = 0;
  /// Refuse a key given twice in one object (image documents: two readers taking different
  /// copies of a key is how a document means one thing to a verifier and another to its user).
  bool reject_duplicate_keys = false;
};

/// Parses a document that must be a JSON object, within limits; errors are InvalidArgument
/// and start with `what` ("config.json: invalid JSON").
Result<json> ParseJsonObject(std::string_view text, std::string_view what,
                             const JsonLimits& limits);

}  // namespace berth::oci::internal
