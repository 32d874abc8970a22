#include <set>

#include "oci/json_reader_internal.h"

namespace berth::oci::internal {

size_t NestingDepth(std::string_view text, size_t limit) {
  size_t depth = 0, max = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size() && max <= limit; ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max = std::max(max, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max;
}

Result<json> ParseJsonObject(std::string_view text, std::string_view what,
                             const JsonLimits& limits) {
  std::string w(what);
  if (text.size() > limits.max_bytes)
    return Error::InvalidArgument(w + ": larger than " + std::to_string(limits.max_bytes) +
                                  " bytes");
  // nlohmann's parser does not recurse, but copying, comparing and dumping a value do.
  if (NestingDepth(text, limits.max_depth) > limits.max_depth)
    return Error::InvalidArgument(w + ": nested deeper than " + std::to_string(limits.max_depth) +
                                  " levels");
  // Duplicate keys are refused: two readers taking different copies of one key is how a
  // document means one thing to a verifier and another to its user.
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    if (!limits.reject_duplicate_keys) return true;
    if (event == json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (event == json::parse_event_t::key && !keys.empty() && parsed.is_string()) {
      if (!keys.back().insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json j = json::parse(text, callback, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error::InvalidArgument(w + ": invalid JSON");
  if (!duplicate.empty())
    return Error::InvalidArgument(w + ": duplicate key \"" + duplicate + "\"");
  if (!j.is_object()) return Error::InvalidArgument(w + ": expected an object");
  return j;
}

}  // namespace berth::oci::internal
