#pragma once

// Content digests ("sha256:<64 lowercase hex>", "sha512:<128 hex>") and descriptors, as the OCI
// image spec defines them (descriptor.md). A Digest is always valid: make one with Parse or
// FromHex.

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::oci {

class Digest {
 public:
  Digest() = default;  // empty: no digest; valid() is false

  /// "sha256:…" or "sha512:…" with lowercase hex of the right length; anything else is an
  /// InvalidArgument error ("invalid digest \"x\"").
  static Result<Digest> Parse(std::string_view text);
  /// From an algorithm and its hex. REQUIRES: hex of the right length, lowercase.
  static Digest FromHex(std::string_view algorithm, std::string_view hex);
  static Digest Sha256Hex(std::string_view hex) { return FromHex("sha256", hex); }

  bool valid() const { return !text_.empty(); }
  std::string_view algorithm() const;
  std::string_view hex() const;
  /// The 12 first hex digits, as docker prints image ids.
  std::string_view short_hex() const { return hex().substr(0, 12); }
  const std::string& str() const { return text_; }

  auto operator<=>(const Digest&) const = default;

 private:
  std::string text_;
  size_t colon_ = 0;
};

struct Platform {
  std::string architecture;  // amd64
  std::string os;            // linux
  std::string os_version;
  std::vector<std::string> os_features;
  std::string variant;
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::string artifact_type;
};

}  // namespace berth::oci
