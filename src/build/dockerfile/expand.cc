#include "build/dockerfile/expand.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "build/dockerfile/text.h"

namespace berth::build {
namespace {

constexpr int32_t kEof = -1;

// Collects ProcessWords' words as BuildKit's wordsStruct does: unquoted whitespace (including
// whitespace inside an unquoted variable's value) separates words; quoted text never does.
class Words {
 public:
  void AddChar(int32_t ch) {
    if (IsUnicodeSpace(ch)) {
      if (in_word_ && !buf_.empty()) {
        words_.push_back(std::move(buf_));
        buf_.clear();
        in_word_ = false;
      }
      return;
    }
    AddRawChar(ch);
  }
  void AddRawChar(int32_t ch) {
    AppendUtf8(buf_, ch);
    in_word_ = true;
  }
  void AddString(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) AddChar(DecodeUtf8(s, &i));
  }
  void AddRawString(std::string_view s) {
    buf_ += s;
    in_word_ = true;
  }
  std::vector<std::string> Take() {
    if (!buf_.empty()) words_.push_back(std::move(buf_));
    buf_.clear();
    in_word_ = false;
    return std::move(words_);
  }

 private:
  std::string buf_;
  std::vector<std::string> words_;
  bool in_word_ = false;
};

struct Processed {
  std::string word;
  std::vector<std::string> words;
};

class Lexer {
 public:
  Lexer(std::string_view in, const EnvLookup& lookup, const LexOptions& options)
      : in_(in), lookup_(lookup), opt_(options), raw_escapes_(options.raw_escapes) {}

  Result<Processed> Run() { return StopOn(kEof, raw_escapes_, 0); }

 private:
  // Nesting of ${...} is bounded so that a hostile word cannot exhaust the stack.
  static constexpr int kMaxDepth = 100;

  int32_t Peek() const {
    if (pos_ >= in_.size()) return kEof;
    size_t p = pos_;
    return DecodeUtf8(in_, &p);
  }
  int32_t Next() {
    if (pos_ >= in_.size()) return kEof;
    return DecodeUtf8(in_, &pos_);
  }

  std::optional<std::string> Get(std::string_view name) {
    if (!lookup_) return std::nullopt;
    return lookup_(name);
  }

  Result<Processed> StopOn(int32_t stop, bool raw_escapes, int depth) {
    if (depth > kMaxDepth) return Error::InvalidArgument("substitutions nested too deeply");
    bool saved = raw_escapes_;
    raw_escapes_ = raw_escapes;
    auto r = StopOnInner(stop, depth);
    raw_escapes_ = saved;
    return r;
  }

  Result<Processed> StopOnInner(int32_t stop, int depth) {
    std::string result;
    Words words;
    while (Peek() != kEof) {
      int32_t ch = Peek();
      if (stop != kEof && ch == stop) {
        Next();
        return Processed{std::move(result), words.Take()};
      }
      bool quote = !opt_.skip_process_quotes && (ch == '\'' || ch == '"');
      if (ch == '$' || ch == '<' || quote) {
        std::string tmp;
        if (ch == '$') {
          tmp = BERTH_TRY(Dollar(depth));
        } else if (ch == '<') {
          tmp = PossibleHeredoc();
        } else if (ch == '\'') {
          tmp = BERTH_TRY(SingleQuote());
        } else {
          tmp = BERTH_TRY(DoubleQuote(depth));
        }
        result += tmp;
        if (ch == '$') {
          words.AddString(tmp);
        } else {
          words.AddRawString(tmp);
        }
        continue;
      }
      ch = Next();
      if (ch == opt_.escape) {
        if (raw_escapes_) {
          words.AddRawChar(ch);
          AppendUtf8(result, ch);
        }
        ch = Next();
        if (ch == kEof) break;
        words.AddRawChar(ch);
      } else {
        words.AddChar(ch);
      }
      AppendUtf8(result, ch);
    }
    if (stop != kEof) {
      std::string s;
      AppendUtf8(s, stop);
      return Error::InvalidArgument("unexpected end of statement while looking for matching " + s);
    }
    return Processed{std::move(result), words.Take()};
  }

  Result<std::string> SingleQuote() {
    std::string result;
    int32_t ch = Next();
    if (opt_.raw_quotes) AppendUtf8(result, ch);
    for (;;) {
      ch = Next();
      if (ch == kEof) {
        return Error::InvalidArgument(
            "unexpected end of statement while looking for matching single-quote");
      }
      if (ch == '\'') {
        if (opt_.raw_quotes) AppendUtf8(result, ch);
        return result;
      }
      AppendUtf8(result, ch);
    }
  }

  Result<std::string> DoubleQuote(int depth) {
    std::string result;
    int32_t ch = Next();
    if (opt_.raw_quotes) AppendUtf8(result, ch);
    for (;;) {
      int32_t p = Peek();
      if (p == kEof) {
        return Error::InvalidArgument(
            "unexpected end of statement while looking for matching double-quote");
      }
      if (p == '"') {
        ch = Next();
        if (opt_.raw_quotes) AppendUtf8(result, ch);
        return result;
      }
      if (p == '$') {
        result += BERTH_TRY(Dollar(depth));
        continue;
      }
      ch = Next();
      if (ch == opt_.escape) {
        if (raw_escapes_) AppendUtf8(result, ch);
        int32_t after = Peek();
        if (after == kEof) continue;
        if (after == '"' || after == '$' || after == opt_.escape) ch = Next();
      }
      AppendUtf8(result, ch);
    }
  }

  std::string PossibleHeredoc() {
    Next();
    if (Peek() != '<') return "<";
    Next();
    std::string result = "<<";
    while (Peek() == ' ' || Peek() == '\t' || Peek() == '\r') AppendUtf8(result, Next());
    return result;
  }

  std::string Name() {
    std::string name;
    while (Peek() != kEof) {
      int32_t ch = Peek();
      if (name.empty() && IsUnicodeDigit(ch)) {
        while (Peek() != kEof && IsUnicodeDigit(Peek())) AppendUtf8(name, Next());
        return name;
      }
      if (name.empty() && IsSpecialParam(ch)) {
        AppendUtf8(name, Next());
        return name;
      }
      if (!IsUnicodeLetter(ch) && !IsUnicodeDigit(ch) && ch != '_') break;
      AppendUtf8(name, Next());
    }
    return name;
  }

  static bool IsSpecialParam(int32_t ch) {
    switch (ch) {
      case '@':
      case '*':
      case '#':
      case '?':
      case '-':
      case '$':
      case '!':
      case '0':
        return true;
      default:
        return false;
    }
  }

  static std::string RuneString(int32_t ch) {
    std::string s;
    AppendUtf8(s, ch == kEof ? 0xFFFD : ch);
    return s;
  }

  Result<std::string> Dollar(int depth) {
    Next();  // '$'
    if (Peek() != '{') {
      std::string name = Name();
      if (name.empty()) return std::string("$");
      auto v = Get(name);
      if (!v && opt_.skip_unset) return "$" + name;
      return v.value_or("");
    }
    Next();  // '{'
    int32_t p = Peek();
    if (p == kEof) return Error::InvalidArgument("syntax error: missing '}'");
    if (p == '{' || p == '}' || p == ':') {
      return Error::InvalidArgument("syntax error: bad substitution");
    }
    std::string name = Name();
    int32_t ch = Next();
    std::string chs = RuneString(ch);
    bool null_is_unset = false;
    switch (ch) {
      case '}': {
        auto v = Get(name);
        if (!v && opt_.skip_unset) return "${" + name + "}";
        return v.value_or("");
      }
      case ':':
        null_is_unset = true;
        ch = Next();
        chs += RuneString(ch);
        [[fallthrough]];
      case '+':
      case '-':
      case '?':
      case '#':
      case '%':
        return Modifier(name, ch, chs, null_is_unset, depth);
      case '/':
        return Replace(name, depth);
      default:
        return Error::InvalidArgument("unsupported modifier (" + chs + ") in substitution");
    }
  }

  Result<std::string> Modifier(const std::string& name, int32_t ch, const std::string& chs,
                               bool null_is_unset, int depth) {
    bool raw = ch == '#' || ch == '%';
    if (null_is_unset && raw) {
      return Error::InvalidArgument("unsupported modifier (" + chs + ") in substitution");
    }
    auto inner = StopOn('}', raw, depth + 1);
    if (!inner) {
      if (Peek() == kEof) return Error::InvalidArgument("syntax error: missing '}'");
      return std::move(inner).error();
    }
    std::string word = std::move(inner->word);
    auto v = Get(name);
    bool set = v.has_value();
    std::string value = v.value_or("");
    if (opt_.skip_unset && !set) return "${" + name + chs + word + "}";
    switch (ch) {
      case '-':
        if (!set || (null_is_unset && value.empty())) return word;
        return value;
      case '+':
        if (!set || (null_is_unset && value.empty())) return std::string();
        return word;
      case '?':
        if (!set) {
          return Error::InvalidArgument(name + ": " +
                                        (word.empty() ? "is not allowed to be unset" : word));
        }
        if (null_is_unset && value.empty()) {
          return Error::InvalidArgument(name + ": " +
                                        (word.empty() ? "is not allowed to be empty" : word));
        }
        return value;
      case '#':
      case '%': {
        bool greedy = false;
        if (!word.empty() && word[0] == static_cast<char>(ch)) {
          greedy = true;
          word.erase(0, 1);
        }
        auto pattern = BERTH_TRY(ShellPattern::Compile(word));
        if (ch == '#') return pattern.TrimPrefix(value, greedy);
        return pattern.TrimSuffix(value, greedy);
      }
      default:
        return Error::InvalidArgument("unsupported modifier (" + chs + ") in substitution");
    }
  }

  Result<std::string> Replace(const std::string& name, int depth) {
    bool all = Peek() == '/';
    if (all) Next();
    auto pat = StopOn('/', true, depth + 1);
    if (!pat) {
      if (Peek() == kEof) return Error::InvalidArgument("syntax error: missing '/' in ${}");
      return std::move(pat).error();
    }
    auto rep = StopOn('}', true, depth + 1);
    if (!rep) {
      if (Peek() == kEof) return Error::InvalidArgument("syntax error: missing '}'");
      return std::move(rep).error();
    }
    auto v = Get(name);
    if (opt_.skip_unset && !v) return "${" + name + "/" + pat->word + "/" + rep->word + "}";
    auto pattern = BERTH_TRY(ShellPattern::Compile(pat->word));
    return pattern.Replace(v.value_or(""), rep->word, all);
  }

  std::string_view in_;
  size_t pos_ = 0;
  const EnvLookup& lookup_;
  const LexOptions& opt_;
  bool raw_escapes_;
};

Result<Processed> Process(std::string_view text, const EnvLookup& lookup,
                          const LexOptions& options) {
  Lexer lexer(text, lookup, options);
  auto r = lexer.Run();
  if (!r) {
    return Error::InvalidArgument("failed to process \"" + GoQuoteInner(text) +
                                  "\": " + r.error().message());
  }
  return r;
}

}  // namespace

Result<std::string> ExpandWordWith(std::string_view word, const EnvLookup& lookup,
                                   const LexOptions& options) {
  auto r = BERTH_TRY(Process(word, lookup, options));
  return std::move(r.word);
}

Result<std::vector<std::string>> ExpandWordsWith(std::string_view text, const EnvLookup& lookup,
                                                 const LexOptions& options) {
  auto r = BERTH_TRY(Process(text, lookup, options));
  return std::move(r.words);
}

Result<std::string> ExpandWord(std::string_view word, const EnvLookup& lookup, char escape) {
  LexOptions o;
  o.escape = escape;
  return ExpandWordWith(word, lookup, o);
}

Result<std::vector<std::string>> ExpandWords(std::string_view text, const EnvLookup& lookup,
                                             char escape) {
  LexOptions o;
  o.escape = escape;
  return ExpandWordsWith(text, lookup, o);
}

Result<std::string> ExpandHeredoc(std::string_view content, const EnvLookup& lookup) {
  LexOptions o;
  o.skip_process_quotes = true;
  return ExpandWordWith(content, lookup, o);
}

bool SubstitutesVariables(std::string_view keyword) {
  static constexpr std::string_view kKeywords[] = {"ADD",    "ARG",    "COPY",    "ENV",
                                                   "EXPOSE", "FROM",   "LABEL",   "STOPSIGNAL",
                                                   "USER",   "VOLUME", "WORKDIR", "RUN"};
  for (auto k : kKeywords) {
    if (k == keyword) return true;
  }
  return false;
}

EnvLookup LookupFromEnvList(const std::vector<std::string>& env) {
  auto map = std::make_shared<std::map<std::string, std::string, std::less<>>>();
  for (const auto& e : env) {
    auto eq = e.find('=');
    (*map)[e.substr(0, eq)] = eq == std::string::npos ? "" : e.substr(eq + 1);
  }
  return [map](std::string_view name) -> std::optional<std::string> {
    auto it = map->find(name);
    if (it == map->end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace berth::build
