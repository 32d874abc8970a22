#include "build/dockerfile/text.h"

#include <algorithm>
#include <cstdio>

namespace berth::build {

int32_t DecodeUtf8(std::string_view s, size_t* pos) {
  size_t i = *pos;
  auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *pos = i + 1;
    return b0;
  }
  int len = 0;
  int32_t cp = 0;
  int32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  }
  if (len == 0 || i + len > s.size()) {
    *pos = i + 1;
    return kRawByteBase + b0;
  }
  for (int k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      *pos = i + 1;
      return kRawByteBase + b0;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *pos = i + 1;
    return kRawByteBase + b0;
  }
  *pos = i + len;
  return cp;
}

void AppendUtf8(std::string& out, int32_t cp) {
  if (cp >= kRawByteBase) {
    out.push_back(static_cast<char>(cp - kRawByteBase));
  } else if (cp < 0) {
    return;
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::vector<int32_t> DecodeAll(std::string_view s) {
  std::vector<int32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) out.push_back(DecodeUtf8(s, &i));
  return out;
}

std::string EncodeAll(const std::vector<int32_t>& cps, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) AppendUtf8(out, cps[i]);
  return out;
}

bool IsUnicodeSpace(int32_t cp) {
  switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool IsUnicodeDigit(int32_t cp) { return cp >= '0' && cp <= '9'; }

bool IsUnicodeLetter(int32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (cp >= kRawByteBase) return false;
  if (IsUnicodeSpace(cp)) return false;
  if (cp < 0xC0) return cp == 0xAA || cp == 0xB5 || cp == 0xBA;
  if (cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, symbols, arrows, boxes
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK symbols and punctuation
  if (cp >= 0xFE30 && cp <= 0xFE6F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF20) return false;
  if (cp >= 0xD800 && cp <= 0xF8FF) return false;  // surrogates, private use
  return true;
}

std::string GoQuoteInner(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    int32_t cp = DecodeUtf8(s, &i);
    char buf[16];
    switch (cp) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\v':
        out += "\\v";
        continue;
      default:
        break;
    }
    if (cp >= kRawByteBase) {
      std::snprintf(buf, sizeof buf, "\\x%02x", cp - kRawByteBase);
      out += buf;
    } else if (cp < 0x20 || cp == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", cp);
      out += buf;
    } else if (cp >= 0x80 && cp < 0xA0) {
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      out += buf;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  return out;
}

std::string GoQuote(std::string_view s) { return "\"" + GoQuoteInner(s) + "\""; }

Result<ShellPattern> ShellPattern::Compile(std::string_view pattern) {
  ShellPattern p;
  std::vector<int32_t> cps = DecodeAll(pattern);
  for (size_t i = 0; i < cps.size(); ++i) {
    int32_t c = cps[i];
    if (c == '*') {
      p.tokens_.push_back({kStar, 0});
    } else if (c == '?') {
      p.tokens_.push_back({kAny, 0});
    } else if (c == '\\') {
      if (i + 1 < cps.size() && (cps[i + 1] == '}' || cps[i + 1] == '/')) continue;
      if (i + 1 >= cps.size() || (cps[i + 1] != '*' && cps[i + 1] != '?' && cps[i + 1] != '\\')) {
        std::string bad;
        if (i + 1 < cps.size()) AppendUtf8(bad, cps[i + 1]);
        return Error::InvalidArgument("invalid pattern (" + std::string(pattern) +
                                      ") in substitution: invalid escape '\\" + bad + "'");
      }
      p.tokens_.push_back({kLit, cps[++i]});
    } else {
      p.tokens_.push_back({kLit, c});
    }
  }
  return p;
}

namespace {

using Tokens = std::vector<ShellPattern::Token>;

// The automaton's states are token positions 0..n; a star loops and may be skipped.
void Close(const Tokens& t, std::vector<char>& set) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (set[i] && t[i].kind == ShellPattern::kStar) set[i + 1] = 1;
  }
}

// Length of the shortest (greedy: longest) prefix of v[from..] matched by t, or -1.
long PrefixMatch(const Tokens& t, const std::vector<int32_t>& v, size_t from, bool greedy) {
  const size_t n = t.size();
  std::vector<char> cur(n + 1, 0), next(n + 1, 0);
  cur[0] = 1;
  Close(t, cur);
  long best = -1;
  for (size_t k = from;; ++k) {
    if (cur[n]) {
      best = static_cast<long>(k - from);
      if (!greedy) return best;
    }
    if (k == v.size()) break;
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    for (size_t i = 0; i < n; ++i) {
      if (!cur[i]) continue;
      const auto& tok = t[i];
      if (tok.kind == ShellPattern::kStar) {
        next[i] = 1, any = true;
      } else if (tok.kind == ShellPattern::kAny || tok.cp == v[k]) {
        next[i + 1] = 1, any = true;
      }
    }
    if (!any) break;
    Close(t, next);
    cur.swap(next);
  }
  return best;
}

// Leftmost-longest match in v[from..]: {start, end} or {-1, -1}.
std::pair<long, long> FindMatch(const Tokens& t, const std::vector<int32_t>& v, size_t from) {
  const size_t n = t.size();
  // For each state, the earliest start of a thread in it (-1: none).
  std::vector<long> cur(n + 1, -1), next(n + 1, -1);
  long best_start = -1, best_end = -1;
  auto add = [&](std::vector<long>& set, size_t i, long start) {
    if (set[i] == -1 || start < set[i]) set[i] = start;
  };
  auto close = [&](std::vector<long>& set) {
    for (size_t i = 0; i < n; ++i) {
      if (set[i] != -1 && t[i].kind == ShellPattern::kStar) add(set, i + 1, set[i]);
    }
  };
  for (size_t k = from;; ++k) {
    if (best_start == -1) {
      add(cur, 0, static_cast<long>(k));
      close(cur);
    }
    if (cur[n] != -1 && (best_start == -1 || cur[n] <= best_start)) {
      best_start = cur[n];
      best_end = static_cast<long>(k);
    }
    if (k == v.size()) break;
    std::fill(next.begin(), next.end(), -1);
    bool any = false;
    for (size_t i = 0; i < n; ++i) {
      long s = cur[i];
      if (s == -1 || (best_start != -1 && s > best_start)) continue;
      const auto& tok = t[i];
      if (tok.kind == ShellPattern::kStar) {
        add(next, i, s), any = true;
      } else if (tok.kind == ShellPattern::kAny || tok.cp == v[k]) {
        add(next, i + 1, s), any = true;
      }
    }
    if (!any && best_start != -1) break;
    close(next);
    cur.swap(next);
  }
  return {best_start, best_end};
}

}  // namespace

std::string ShellPattern::TrimPrefix(std::string_view value, bool greedy) const {
  auto v = DecodeAll(value);
  long len = PrefixMatch(tokens_, v, 0, greedy);
  if (len <= 0) return std::string(value);
  return EncodeAll(v, static_cast<size_t>(len), v.size());
}

std::string ShellPattern::TrimSuffix(std::string_view value, bool greedy) const {
  auto v = DecodeAll(value);
  std::reverse(v.begin(), v.end());
  Tokens rev(tokens_.rbegin(), tokens_.rend());
  long len = PrefixMatch(rev, v, 0, greedy);
  if (len <= 0) return std::string(value);
  std::reverse(v.begin(), v.end());
  return EncodeAll(v, 0, v.size() - static_cast<size_t>(len));
}

std::string ShellPattern::Replace(std::string_view value, std::string_view replacement,
                                  bool all) const {
  auto v = DecodeAll(value);
  std::string out;
  size_t pos = 0;
  long prev_end = -1;
  while (pos <= v.size()) {
    auto [s, e] = FindMatch(tokens_, v, pos);
    if (s < 0) break;
    if (s == e && s == prev_end) {  // an empty match right after the previous one: skip
      if (static_cast<size_t>(s) >= v.size()) break;
      out += EncodeAll(v, pos, static_cast<size_t>(s) + 1);
      pos = static_cast<size_t>(s) + 1;
      continue;
    }
    out += EncodeAll(v, pos, static_cast<size_t>(s));
    out += replacement;
    prev_end = e;
    if (!all) {
      pos = static_cast<size_t>(e);
      break;
    }
    if (e == s) {
      if (static_cast<size_t>(e) >= v.size()) {
        pos = v.size();
        break;
      }
      out += EncodeAll(v, static_cast<size_t>(e), static_cast<size_t>(e) + 1);
      pos = static_cast<size_t>(e) + 1;
    } else {
      pos = static_cast<size_t>(e);
    }
  }
  if (pos < v.size()) out += EncodeAll(v, pos, v.size());
  return out;
}

}  // namespace berth::build
