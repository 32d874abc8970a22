#include "registry/names.h"

#include <charconv>

namespace berth::registry {
namespace {

bool Alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool ValidComponent(std::string_view c) {
  if (c.empty() || !Alnum(c.front()) || !Alnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (Alnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !Alnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

bool ValidRepositoryName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  size_t start = 0;
  for (;;) {
    size_t slash = name.find('/', start);
    std::string_view c =
        name.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (!ValidComponent(c)) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool ValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  if (!word(tag[0])) return false;
  for (char c : tag)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

std::optional<ByteSpan> ParseContentRange(std::string_view v) {
  if (v.starts_with("bytes=")) v.remove_prefix(6);
  if (v.starts_with("bytes ")) v.remove_prefix(6);
  if (auto slash = v.find('/'); slash != std::string_view::npos) v = v.substr(0, slash);
  size_t dash = v.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  ByteSpan s;
  if (!ParseInt(v.substr(0, dash), &s.start) || !ParseInt(v.substr(dash + 1), &s.end))
    return std::nullopt;
  if (s.end < s.start) return std::nullopt;
  return s;
}

std::optional<ByteSpan> ParseRange(std::string_view v, int64_t size) {
  if (!v.starts_with("bytes=")) return std::nullopt;
  v.remove_prefix(6);
  if (v.find(',') != std::string_view::npos) return std::nullopt;  // one range only
  size_t dash = v.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view a = v.substr(0, dash), b = v.substr(dash + 1);
  ByteSpan s;
  if (a.empty()) {  // the last N bytes
    int64_t n;
    if (!ParseInt(b, &n) || n == 0 || size == 0) return std::nullopt;
    s.start = n >= size ? 0 : size - n;
    s.end = size - 1;
    return s;
  }
  if (!ParseInt(a, &s.start) || s.start >= size) return std::nullopt;
  if (b.empty()) {
    s.end = size - 1;
  } else {
    if (!ParseInt(b, &s.end) || s.end < s.start) return std::nullopt;
    if (s.end >= size) s.end = size - 1;
  }
  return s;
}

bool ValidUploadId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return false;
  return true;
}

}  // namespace berth::registry
