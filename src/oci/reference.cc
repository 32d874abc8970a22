#include "oci/reference.h"

namespace berth::oci {
namespace {

constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr std::string_view kLocalhost = "localhost";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
bool IsXDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
bool MatchComponent(std::string_view s) {
  size_t i = 0, n = s.size();
  auto alnum_run = [&] {
    size_t start = i;
    while (i < n && IsLowerAlnum(s[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < n) {
    size_t start = i;
    while (i < n && (s[i] == '.' || s[i] == '_' || s[i] == '-')) ++i;
    std::string_view sep = s.substr(start, i - start);
    bool ok = sep == "." || sep == "_" || sep == "__" ||
              (!sep.empty() && sep.find_first_not_of('-') == std::string_view::npos);
    if (!ok || !alnum_run()) return false;
  }
  return true;
}

// path := component ( "/" component )*
bool MatchPath(std::string_view s) {
  while (true) {
    size_t slash = s.find('/');
    if (!MatchComponent(s.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    s.remove_prefix(slash + 1);
  }
}

// A DNS label: [A-Za-z0-9] or [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9].
bool MatchLabel(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s)
    if (!IsAlnum(c) && c != '-') return false;
  return true;
}

// domain := ( label ( "." label )* | "[" [A-Fa-f0-9:]+ "]" ) [ ":" [0-9]+ ]
bool MatchDomain(std::string_view s) {
  std::string_view rest;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : s.substr(1, close - 1))
      if (!IsXDigit(c) && c != ':') return false;
    rest = s.substr(close + 1);
  } else {
    size_t colon = s.find(':');
    std::string_view host = s.substr(0, colon);
    if (colon != std::string_view::npos) rest = s.substr(colon);
    while (true) {
      size_t dot = host.find('.');
      if (!MatchLabel(host.substr(0, dot))) return false;
      if (dot == std::string_view::npos) break;
      host.remove_prefix(dot + 1);
    }
  }
  if (rest.empty()) return true;
  if (rest.front() != ':' || rest.size() < 2) return false;
  for (char c : rest.substr(1))
    if (!IsDigit(c)) return false;
  return true;
}

// algorithm ":" hex, with algorithm := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
// and hex := [0-9A-Fa-f]{32,}: the shape the reference grammar accepts; go-digest's checks
// come after.
bool MatchDigestShape(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view alg = s.substr(0, colon), hex = s.substr(colon + 1);
  bool want_alpha = true;
  for (char c : alg) {
    if (want_alpha) {
      if (!IsAlpha(c)) return false;
      want_alpha = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      want_alpha = true;
    } else if (!IsAlnum(c)) {
      return false;
    }
  }
  if (want_alpha) return false;  // empty, or ends with a separator
  if (hex.size() < 32) return false;
  for (char c : hex)
    if (!IsXDigit(c)) return false;
  return true;
}

struct Parts {
  std::string_view domain, path, tag, digest;
};

// The whole-string match of the reference grammar; nullopt if it does not match.
std::optional<Parts> Match(std::string_view text) {
  Parts p;
  std::string_view left = text;
  if (size_t at = text.find('@'); at != std::string_view::npos) {
    p.digest = text.substr(at + 1);
    if (!MatchDigestShape(p.digest)) return std::nullopt;
    left = text.substr(0, at);
  }
  size_t slash = left.rfind('/'), colon = left.rfind(':');
  std::string_view name = left;
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    p.tag = left.substr(colon + 1);
    if (!IsValidTag(p.tag)) return std::nullopt;
    name = left.substr(0, colon);
  }
  // A domain is taken when the first component can be one (the grammar's optional domain is
  // tried first); otherwise the whole name is the path.
  if (size_t first = name.find('/'); first != std::string_view::npos &&
                                     MatchDomain(name.substr(0, first)) &&
                                     MatchPath(name.substr(first + 1))) {
    p.domain = name.substr(0, first);
    p.path = name.substr(first + 1);
    return p;
  }
  if (!MatchPath(name)) return std::nullopt;
  p.path = name;
  return p;
}

// go-digest's checks on a digest of the right shape, with its messages.
Result<Digest> ParseReferenceDigest(std::string_view text) {
  size_t colon = text.find(':');
  std::string_view alg = text.substr(0, colon), hex = text.substr(colon + 1);
  size_t want = alg == "sha256" ? 64 : alg == "sha512" ? 128 : 0;
  if (want == 0) {
    // go-digest: an algorithm it does not know is "unsupported" if well-formed (lowercase).
    for (char c : alg)
      if (c >= 'A' && c <= 'Z') return Error::InvalidArgument("invalid checksum digest format");
    return Error::InvalidArgument("unsupported digest algorithm");
  }
  if (hex.size() != want) return Error::InvalidArgument("invalid checksum digest length");
  for (char c : hex)
    if (!IsLowerHex(c)) return Error::InvalidArgument("invalid checksum digest format");
  return Digest::FromHex(alg, hex);
}

// The docker CLI's split of a familiar name into domain and remainder (splitDockerDomain).
std::pair<std::string, std::string> SplitDockerDomain(std::string_view name) {
  size_t slash = name.find('/');
  if (slash == std::string_view::npos)
    return {std::string(kDefaultDomain), std::string(kOfficialPrefix) + std::string(name)};
  std::string_view first = name.substr(0, slash), rest = name.substr(slash + 1);
  std::string domain, remainder;
  if (first == kLocalhost || first.find_first_of(".:") != std::string_view::npos ||
      ToLower(first) != first) {
    domain = first == kLegacyDefaultDomain ? std::string(kDefaultDomain) : std::string(first);
    remainder = std::string(rest);
  } else {
    domain = std::string(kDefaultDomain);
    remainder = std::string(name);
  }
  if (domain == kDefaultDomain && remainder.find('/') == std::string::npos)
    remainder = std::string(kOfficialPrefix) + remainder;
  return {domain, remainder};
}

}  // namespace

bool IsImageIdLike(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!IsLowerHex(c)) return false;
  return true;
}

bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !IsWord(tag.front())) return false;
  for (char c : tag)
    if (!IsWord(c) && c != '.' && c != '-') return false;
  return true;
}

Result<Reference> Reference::Parse(std::string_view text) {
  if (text.empty())
    return Error::InvalidArgument("repository name must have at least one component");
  std::optional<Parts> parts = Match(text);
  if (!parts) {
    std::string lower = ToLower(text);
    if (lower != text && Match(lower))
      return Error::InvalidArgument("repository name must be lowercase");
    return Error::InvalidArgument("invalid reference format");
  }
  if (parts->path.size() > kMaxRepositoryPath)
    return Error::InvalidArgument("repository name must not be more than " +
                                  std::to_string(kMaxRepositoryPath) + " characters");
  Reference ref;
  ref.domain_ = std::string(parts->domain);
  ref.path_ = std::string(parts->path);
  ref.tag_ = std::string(parts->tag);
  if (!parts->digest.empty()) ref.digest_ = BERTH_TRY(ParseReferenceDigest(parts->digest));
  return ref;
}

Result<Reference> Reference::ParseNormalized(std::string_view text) {
  if (IsImageIdLike(text))
    return Error::InvalidArgument("invalid repository name (" + std::string(text) +
                                  "), cannot specify 64-byte hexadecimal strings");
  auto [domain, remainder] = SplitDockerDomain(text);
  std::string_view remote = std::string_view(remainder).substr(0, remainder.find(':'));
  if (ToLower(remote) != remote)
    return Error::InvalidArgument("invalid reference format: repository name (" +
                                  std::string(remote) + ") must be lowercase");
  return Parse(domain + "/" + remainder);
}

Result<Reference> Reference::ParseDockerRef(std::string_view text) {
  Reference ref = BERTH_TRY(ParseNormalized(text));
  if (ref.has_tag() && ref.has_digest()) ref.tag_.clear();
  return ref.WithDefaultTag();
}

std::string Reference::Name() const { return domain_.empty() ? path_ : domain_ + "/" + path_; }

Reference Reference::WithDefaultTag() const {
  Reference r = *this;
  if (r.name_only()) r.tag_ = std::string(kDefaultTag);
  return r;
}

Result<Reference> Reference::WithTag(std::string_view tag) const {
  if (!IsValidTag(tag)) return Error::InvalidArgument("invalid tag format");
  Reference r = *this;
  r.tag_ = std::string(tag);
  return r;
}

Reference Reference::WithDigest(const Digest& digest) const {
  Reference r = *this;
  r.digest_ = digest;
  return r;
}

Reference Reference::NameOnly() const {
  Reference r;
  r.domain_ = domain_;
  r.path_ = path_;
  return r;
}

std::string Reference::String() const {
  std::string s = Name();
  if (has_tag()) s += ":" + tag_;
  if (has_digest()) s += "@" + digest_.str();
  return s;
}

std::string Reference::FamiliarName() const {
  if (domain_ != kDefaultDomain) return Name();
  std::string_view path = path_;
  if (path.starts_with(kOfficialPrefix)) {
    std::string_view rest = path.substr(kOfficialPrefix.size());
    if (rest.find('/') == std::string_view::npos) return std::string(rest);
  }
  return path_;
}

std::string Reference::FamiliarString() const {
  std::string s = FamiliarName();
  if (has_tag()) s += ":" + tag_;
  if (has_digest()) s += "@" + digest_.str();
  return s;
}

Result<AnyReference> ParseAnyReference(std::string_view text) {
  AnyReference any;
  if (IsImageIdLike(text)) {
    any.id = Digest::Sha256Hex(text);
    return any;
  }
  if (auto d = Digest::Parse(text)) {
    any.id = *d;
    return any;
  }
  any.named = BERTH_TRY(Reference::ParseNormalized(text));
  return any;
}

}  // namespace berth::oci
