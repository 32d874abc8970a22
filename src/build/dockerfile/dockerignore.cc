#include "build/dockerfile/dockerignore.h"

#include <algorithm>

#include "build/dockerfile/text.h"

namespace berth::build {

std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path[0] == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == ".") {
      // skip
    } else if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
    } else {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k) out += '/';
    out += parts[k];
  }
  if (out.empty()) return ".";
  return out;
}

// A compiled pattern: moby/patternmatcher's match types; the regexp kind as an automaton over
// code points (states = token positions).
struct DockerIgnore::Pattern {
  enum Type { kExact, kPrefix, kSuffix, kRegexp };
  enum Kind : uint8_t { kLit, kAnyInSeg, kStarInSeg, kClass, kDirs, kRest };
  struct Token {
    Kind kind;
    int32_t cp = 0;
    bool negated = false;
    std::vector<std::pair<int32_t, int32_t>> ranges;
  };
  std::string cleaned;
  bool exclusion = false;
  Type type = kExact;
  std::vector<Token> tokens;

  bool TokenTakes(const Token& t, int32_t c) const {
    switch (t.kind) {
      case kLit:
        return c == t.cp;
      case kAnyInSeg:
        return c != '/';
      case kClass: {
        bool in = false;
        for (auto [lo, hi] : t.ranges) in = in || (c >= lo && c <= hi);
        return in != t.negated;
      }
      default:
        return false;
    }
  }

  void Close(std::vector<char>& set) const {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (!set[i]) continue;
      Kind k = tokens[i].kind;
      if (k == kStarInSeg || k == kDirs || k == kRest) set[i + 1] = 1;
    }
  }

  // Runs the automaton over `s`; returns the live states at the end. A `(.*/)?` token has two
  // states: at its start (where it may be skipped) and inside it (only a '/' leaves).
  std::vector<char> Run(std::string_view s) const {
    const size_t n = tokens.size();
    std::vector<char> cur(n + 1, 0), next(n + 1, 0);
    std::vector<char> inside(n, 0), next_inside(n, 0);
    cur[0] = 1;
    Close(cur);
    size_t p = 0;
    while (p < s.size()) {
      int32_t c = DecodeUtf8(s, &p);
      std::fill(next.begin(), next.end(), 0);
      std::fill(next_inside.begin(), next_inside.end(), 0);
      bool any = false;
      for (size_t i = 0; i < n; ++i) {
        const Token& t = tokens[i];
        if (t.kind == kDirs) {
          if (!cur[i] && !inside[i]) continue;
          if (c != '\n') next_inside[i] = 1, any = true;
          if (c == '/') next[i + 1] = 1, any = true;
          continue;
        }
        if (!cur[i]) continue;
        switch (t.kind) {
          case kStarInSeg:
            if (c != '/') next[i] = 1, any = true;
            break;
          case kRest:
            if (c != '\n') next[i] = 1, any = true;
            break;
          default:
            if (TokenTakes(t, c)) next[i + 1] = 1, any = true;
        }
      }
      Close(next);
      cur.swap(next);
      inside.swap(next_inside);
      if (!any) return cur;  // no live state left: nothing longer can match
    }
    for (size_t i = 0; i < n; ++i) cur[i] = cur[i] || inside[i];
    return cur;
  }

  bool Match(std::string_view path) const {
    switch (type) {
      case kExact:
        return path == cleaned;
      case kPrefix:
        return path.substr(0, cleaned.size() - 2) == cleaned.substr(0, cleaned.size() - 2) &&
               path.size() >= cleaned.size() - 2;
      case kSuffix: {
        std::string_view suffix = std::string_view(cleaned).substr(2);
        if (path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix) {
          return true;
        }
        return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
      }
      case kRegexp:
        return Run(path)[tokens.size()] != 0;
    }
    return false;
  }

  // Whether some path below `dir` (or one of its parents below `dir`) could match.
  bool CouldMatchBelow(const std::string& dir) const {
    std::string prefix = dir + "/";
    switch (type) {
      case kExact:
        return cleaned.rfind(prefix, 0) == 0;
      case kPrefix: {
        std::string p = cleaned.substr(0, cleaned.size() - 2);
        return p.rfind(prefix, 0) == 0 || prefix.rfind(p, 0) == 0;
      }
      case kSuffix:
        return true;
      case kRegexp: {
        auto live = Run(prefix);
        return std::any_of(live.begin(), live.end(), [](char c) { return c != 0; });
      }
    }
    return true;
  }
};

namespace {

Error BadPattern() { return Error::InvalidArgument("syntax error in pattern"); }

// Reads a class `[...]` starting after '['; checks it as Go's filepath.Match does.
Result<DockerIgnore::Pattern::Token> ReadClass(const std::vector<int32_t>& cps, size_t* i) {
  DockerIgnore::Pattern::Token t{DockerIgnore::Pattern::kClass};
  size_t k = *i;
  if (k < cps.size() && cps[k] == '^') {
    t.negated = true;
    ++k;
  }
  auto esc = [&](int32_t* out) -> bool {
    if (k >= cps.size() || cps[k] == '-' || cps[k] == ']') return false;
    if (cps[k] == '\\') {
      ++k;
      if (k >= cps.size()) return false;
    }
    *out = cps[k++];
    return true;
  };
  for (;;) {
    if (k < cps.size() && cps[k] == ']' && !t.ranges.empty()) {
      ++k;
      break;
    }
    int32_t lo, hi;
    if (!esc(&lo)) return BadPattern();
    hi = lo;
    if (k < cps.size() && cps[k] == '-') {
      ++k;
      if (!esc(&hi)) return BadPattern();
      if (hi < lo) return BadPattern();
    }
    t.ranges.emplace_back(lo, hi);
  }
  *i = k;
  return t;
}

Result<std::shared_ptr<DockerIgnore::Pattern>> Compile(std::string_view raw) {
  auto p = std::make_shared<DockerIgnore::Pattern>();
  std::string s(raw);
  if (s[0] == '!') {
    if (s.size() == 1) return Error::InvalidArgument("illegal exclusion pattern: \"!\"");
    p->exclusion = true;
    s = s.substr(1);
  }
  p->cleaned = s;
  using P = DockerIgnore::Pattern;
  std::vector<int32_t> cps = DecodeAll(s);
  P::Type type = P::kExact;
  for (size_t i = 0, iter = 0; i < cps.size(); ++iter) {
    int32_t ch = cps[i++];
    if (ch == '*') {
      if (i < cps.size() && cps[i] == '*') {
        ++i;
        if (i < cps.size() && cps[i] == '/') ++i;
        if (i >= cps.size()) {
          if (type == P::kExact) {
            type = P::kPrefix;
          } else {
            type = P::kRegexp;
          }
          p->tokens.push_back({P::kRest});
        } else {
          p->tokens.push_back({P::kDirs});
          type = P::kRegexp;
        }
        if (iter == 0) type = P::kSuffix;
      } else {
        p->tokens.push_back({P::kStarInSeg});
        type = P::kRegexp;
      }
    } else if (ch == '?') {
      p->tokens.push_back({P::kAnyInSeg});
      type = P::kRegexp;
    } else if (ch == '\\') {
      if (i < cps.size()) {
        p->tokens.push_back({P::kLit, cps[i++]});
        type = P::kRegexp;
      } else {
        return BadPattern();  // Go's Match refuses a trailing backslash
      }
    } else if (ch == '[') {
      p->tokens.push_back(BERTH_TRY(ReadClass(cps, &i)));
      type = P::kRegexp;
    } else {
      if (ch == ']') type = P::kRegexp;
      p->tokens.push_back({P::kLit, ch});
    }
  }
  p->type = type;
  return p;
}

std::string_view TrimSpaceAscii(std::string_view s) {
  auto sp = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && sp(s.front())) s.remove_prefix(1);
  while (!s.empty() && sp(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<DockerIgnore> DockerIgnore::Parse(std::string_view text) {
  std::vector<std::string> patterns;
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    first = false;
    if (!line.empty() && line[0] == '#') continue;
    std::string_view pattern = TrimSpaceAscii(line);
    if (pattern.empty()) continue;
    bool invert = pattern[0] == '!';
    if (invert) pattern = TrimSpaceAscii(pattern.substr(1));
    std::string cleaned(pattern);
    if (!cleaned.empty()) {
      cleaned = CleanPath(cleaned);
      if (cleaned.size() > 1 && cleaned[0] == '/') cleaned.erase(0, 1);
    }
    patterns.push_back(invert ? "!" + cleaned : cleaned);
  }
  return FromPatterns(patterns);
}

Result<DockerIgnore> DockerIgnore::FromPatterns(const std::vector<std::string>& patterns) {
  DockerIgnore ig;
  for (const auto& raw : patterns) {
    std::string_view t = TrimSpaceAscii(raw);
    if (t.empty()) continue;
    std::string p = CleanPath(t);
    auto compiled = BERTH_TRY(Compile(p));
    ig.has_exclusions_ = ig.has_exclusions_ || compiled->exclusion;
    ig.patterns_.push_back(std::move(compiled));
  }
  return ig;
}

bool DockerIgnore::Excluded(std::string_view rel_path) const {
  std::string file = CleanPath(rel_path);
  while (file.rfind("/", 0) == 0) file.erase(0, 1);
  if (file.empty() || file == ".") return false;
  // The parent directories, shortest first: "a", "a/b" for "a/b/c".
  std::vector<std::string_view> parents;
  for (size_t i = file.find('/'); i != std::string::npos; i = file.find('/', i + 1)) {
    parents.push_back(std::string_view(file).substr(0, i));
  }
  bool matched = false;
  for (const auto& p : patterns_) {
    if (p->exclusion != matched) continue;
    bool m = p->Match(file);
    for (size_t i = 0; !m && i < parents.size(); ++i) m = p->Match(parents[i]);
    if (m) matched = !p->exclusion;
  }
  return matched;
}

bool DockerIgnore::MayReinclude(std::string_view rel_dir) const {
  if (!has_exclusions_) return false;
  std::string dir = CleanPath(rel_dir);
  while (dir.rfind("/", 0) == 0) dir.erase(0, 1);
  if (dir.empty() || dir == ".") return true;
  for (const auto& p : patterns_) {
    if (p->exclusion && p->CouldMatchBelow(dir)) return true;
  }
  return false;
}

void DockerIgnore::AlwaysInclude(std::string_view rel_path) {
  std::string p = CleanPath(rel_path);
  while (p.rfind("/", 0) == 0) p.erase(0, 1);
  // Literal: the path is not a pattern, whatever characters it holds.
  auto literal = std::make_shared<Pattern>();
  literal->exclusion = true;
  literal->type = Pattern::kExact;
  literal->cleaned = p;
  has_exclusions_ = true;
  patterns_.push_back(std::move(literal));
}

std::vector<std::string> DockerIgnore::Patterns() const {
  std::vector<std::string> out;
  for (const auto& p : patterns_) out.push_back((p->exclusion ? "!" : "") + p->cleaned);
  return out;
}

}  // namespace berth::build
