#pragma once

// The grammar of the OCI Distribution Specification: repository names, tags, and the ranges of
// chunked uploads and ranged blob reads.

#include <cstdint>
#include <optional>
#include <string_view>

namespace berth::registry {

/// A repository name: path components of [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* joined by '/', at
/// most 255 characters. Such a name cannot hold "..", an empty component, a leading '/' or a
/// component that starts with '_' (the storage's own directories).
bool ValidRepositoryName(std::string_view name);
/// A tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
bool ValidTag(std::string_view tag);

/// "START-END" of a PATCH's Content-Range (inclusive; distribution's clients also send
/// "bytes START-END" and "bytes=START-END", accepted too).
struct ByteSpan {
  int64_t start = 0;
  int64_t end = 0;  // inclusive
};
std::optional<ByteSpan> ParseContentRange(std::string_view value);

/// The span a GET's Range header ("bytes=A-B", "bytes=A-", "bytes=-N") selects in a blob of
/// size bytes. nullopt: unsatisfiable or malformed (416).
std::optional<ByteSpan> ParseRange(std::string_view value, int64_t size);

/// An upload id as the registry makes them (a uuid: hex and dashes).
bool ValidUploadId(std::string_view id);

}  // namespace berth::registry
