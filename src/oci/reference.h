#pragma once

// Image references, by the grammar of distribution/reference (what the docker CLI and daemon
// use):
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] path
//   domain     := host [ ":" port ]       host: dns labels joined by ".", or "[" ipv6 "]"
//   path       := component ( "/" component )*
//   component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//   tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//   digest     := algorithm ":" hex       (sha256 or sha512, lowercase hex)
//
// and Docker's normalisation: "busybox" is docker.io/library/busybox, "user/app" is
// docker.io/user/app, "index.docker.io" is docker.io, and a first component with a "." or a
// ":", or "localhost", or an uppercase letter, is a domain. Matching is by hand and linear in
// the input: no regular expression sees hostile text.

#include <optional>
#include <string>
#include <string_view>

#include "oci/digest.h"
#include "util/result.h"

namespace berth::oci {

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kDefaultTag = "latest";
/// The longest path (the name without its domain) a reference may have.
inline constexpr size_t kMaxRepositoryPath = 255;

class Reference {
 public:
  /// A reference as written, without normalisation (distribution's reference.Parse): "foo/bar"
  /// has domain "foo". Errors (InvalidArgument) carry Docker's messages: "invalid reference
  /// format", "repository name must be lowercase", "repository name must have at least one
  /// component", "repository name must not be more than 255 characters", and go-digest's
  /// "invalid checksum digest length", "invalid checksum digest format", "unsupported digest
  /// algorithm".
  static Result<Reference> Parse(std::string_view text);

  /// As the docker CLI reads a name (ParseNormalizedNamed): "busybox" gives
  /// docker.io/library/busybox (no tag added; see WithDefaultTag). A 64-hex string is refused
  /// ("invalid repository name (…), cannot specify 64-byte hexadecimal strings"); an uppercase
  /// path gives "invalid reference format: repository name (library/Busybox) must be lowercase".
  static Result<Reference> ParseNormalized(std::string_view text);

  /// ParseNormalized, then what docker pull and containerd do (ParseDockerRef): a name alone
  /// gets the tag "latest"; a name with a tag and a digest keeps only the digest.
  static Result<Reference> ParseDockerRef(std::string_view text);

  /// The domain ("docker.io", "localhost:5000", "[::1]:5000"); empty if Parse found none.
  const std::string& domain() const { return domain_; }
  /// The path ("library/busybox").
  const std::string& path() const { return path_; }
  /// domain/path, or path alone if there is no domain.
  std::string Name() const;
  /// Empty if none.
  const std::string& tag() const { return tag_; }
  /// Invalid (valid() false) if none.
  const Digest& digest() const { return digest_; }
  bool has_tag() const { return !tag_.empty(); }
  bool has_digest() const { return digest_.valid(); }
  bool name_only() const { return tag_.empty() && !digest_.valid(); }

  /// The same reference with tag "latest" if it had neither tag nor digest (TagNameOnly).
  Reference WithDefaultTag() const;
  /// The same name with this tag (an existing tag is replaced; the digest kept). "invalid tag
  /// format" if the tag does not match the grammar.
  Result<Reference> WithTag(std::string_view tag) const;
  /// The same name and tag with this digest. REQUIRES: digest.valid().
  Reference WithDigest(const Digest& digest) const;
  /// The name alone.
  Reference NameOnly() const;

  /// The full form: "docker.io/library/busybox:latest@sha256:…".
  std::string String() const;
  /// The name as docker prints it: "busybox", "user/app", "localhost:5000/x".
  std::string FamiliarName() const;
  /// FamiliarName plus ":tag" and "@digest" when present: "busybox:latest".
  std::string FamiliarString() const;

  bool operator==(const Reference&) const = default;

 private:
  std::string domain_;
  std::string path_;
  std::string tag_;
  Digest digest_;
};

/// Exactly 64 lowercase hex digits: an image id (or its digest's hex), never a name.
bool IsImageIdLike(std::string_view text);
/// A valid tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool IsValidTag(std::string_view tag);

/// What docker accepts where an image is named (ParseAnyReference): a 64-hex id, a digest
/// alone ("sha256:…"), or a name parsed with ParseNormalized.
struct AnyReference {
  std::optional<Reference> named;  // set for a name
  Digest id;                       // set (valid) for an id or a bare digest
};
Result<AnyReference> ParseAnyReference(std::string_view text);

}  // namespace berth::oci
