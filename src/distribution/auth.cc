#include "distribution/auth.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

#include "distribution/url.h"
#include "util/base64.h"

namespace berth::distribution {
namespace {

bool IsTokenChar(char c) {
  // RFC 7230 tchar
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() { return (SkipSpace(), pos_ >= s_.size()); }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  char Peek() { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool Consume(char c) {
    SkipSpace();
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  std::string Token() {
    SkipSpace();
    size_t start = pos_;
    while (pos_ < s_.size() && IsTokenChar(s_[pos_])) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  // A token or a quoted-string (with \-escapes); nullopt for an unterminated quote.
  std::optional<std::string> Value() {
    SkipSpace();
    if (Peek() != '"') return Token();
    ++pos_;
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return out;
      if (c == '\\' && pos_ < s_.size()) c = s_[pos_++];
      out += c;
    }
    return std::nullopt;
  }
  size_t pos() const { return pos_; }
  void set_pos(size_t p) { pos_ = p; }
  // Skips to just past the next comma (or the end).
  void SkipPastComma() {
    bool quoted = false;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') quoted = !quoted;
      if (c == '\\' && quoted && pos_ < s_.size()) ++pos_;
      if (c == ',' && !quoted) return;
    }
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::string Challenge::Param(std::string_view name) const {
  auto it = params.find(Lower(name));
  return it == params.end() ? "" : it->second;
}

std::vector<Challenge> ParseWwwAuthenticate(std::string_view header) {
  std::vector<Challenge> out;
  Scanner sc(header);
  while (!sc.done()) {
    if (sc.Consume(',')) continue;
    std::string scheme = sc.Token();
    if (scheme.empty()) {
      sc.SkipPastComma();
      continue;
    }
    Challenge ch;
    ch.scheme = Lower(scheme);
    // auth-params: name=value, separated by commas; a name not followed by '=' starts the
    // next challenge.
    for (;;) {
      size_t before = sc.pos();
      while (sc.Consume(',')) {
      }
      if (sc.done()) break;
      std::string name = sc.Token();
      if (name.empty()) {  // a token68 or junk: skip it
        sc.SkipPastComma();
        continue;
      }
      if (!sc.Consume('=')) {
        sc.set_pos(before);  // the next challenge's scheme
        break;
      }
      if (sc.Peek() == '=' || sc.Peek() == ',' || sc.done()) {  // token68 padding "abc=="
        while (sc.Consume('=')) {
        }
        continue;
      }
      auto value = sc.Value();
      if (!value) break;  // unterminated quote: the rest is unreadable
      ch.params[Lower(name)] = *value;
    }
    out.push_back(std::move(ch));
  }
  return out;
}

Result<Credentials> DecodeRegistryAuth(std::string_view header) {
  Credentials c;
  if (header.empty()) return c;
  auto bad = [] { return Error::InvalidArgument("invalid X-Registry-Auth header"); };
  auto decoded = Base64Decode(header, Base64::kLenient);
  if (!decoded) return bad();
  auto j = nlohmann::json::parse(*decoded, nullptr, false);
  if (j.is_null() || j.empty()) return c;  // "{}" or "null": anonymous
  if (!j.is_object()) return bad();
  auto str = [&](const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  c.username = str("username");
  c.password = str("password");
  c.identity_token = str("identitytoken");
  c.registry_token = str("registrytoken");
  if (std::string auth = str("auth"); !auth.empty() && c.username.empty()) {
    auto up = Base64Decode(auth, Base64::kLenient);
    if (!up) return bad();
    auto colon = up->find(':');
    if (colon == std::string::npos) return bad();
    c.username = up->substr(0, colon);
    c.password = up->substr(colon + 1);
  }
  return c;
}

std::string BasicAuthorization(const Credentials& credentials) {
  return "Basic " + Base64Encode(credentials.username + ":" + credentials.password);
}

Result<std::string> TokenUrl(const Challenge& challenge, const std::vector<std::string>& scopes) {
  std::string realm = challenge.Param("realm");
  if (realm.empty()) return Error::InvalidArgument("bearer challenge without a realm");
  std::string url = realm;
  char sep = realm.find('?') == std::string::npos ? '?' : '&';
  if (std::string service = challenge.Param("service"); !service.empty()) {
    url += sep + std::string("service=") + QueryEscape(service);
    sep = '&';
  }
  std::vector<std::string> all = scopes;
  for (std::string_view s : {challenge.Param("scope")}) {
    // the challenge may name several scopes separated by spaces
    size_t i = 0;
    while (i < s.size()) {
      size_t j = s.find(' ', i);
      if (j == std::string_view::npos) j = s.size();
      if (j > i) all.emplace_back(s.substr(i, j - i));
      i = j + 1;
    }
  }
  std::vector<std::string> seen;
  for (const auto& s : all) {
    if (std::find(seen.begin(), seen.end(), s) != seen.end()) continue;
    seen.push_back(s);
    url += sep + std::string("scope=") + QueryEscape(s);
    sep = '&';
  }
  return url;
}

Result<std::string> ParseTokenResponse(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      auto it = j.find(key);
      if (it != j.end() && it->is_string() && !it->get<std::string>().empty())
        return it->get<std::string>();
    }
  }
  return Error::InvalidArgument("the token server's answer has no token");
}

}  // namespace berth::distribution
