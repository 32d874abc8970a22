// Lines → RawNodes, as BuildKit's frontend/dockerfile/parser: directives at the top,
// continuation lines joined, comments dropped, each keyword's arguments split by its own rule,
// heredoc bodies attached.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <set>

#include "build/dockerfile/expand.h"
#include "build/dockerfile/parser_internal.h"
#include "build/dockerfile/text.h"

namespace berth::build::internal {
namespace {

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

// Go's strings.TrimSpace / TrimLeftFunc(unicode.IsSpace) on UTF-8 text.
std::string_view TrimLeftSpace(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t p = i;
    if (!IsUnicodeSpace(DecodeUtf8(s, &p))) break;
    i = p;
  }
  return s.substr(i);
}
std::string_view TrimSpace(std::string_view s) {
  s = TrimLeftSpace(s);
  // Trailing: walk forward remembering where the last non-space ended.
  size_t end = 0, i = 0;
  while (i < s.size()) {
    int32_t cp = DecodeUtf8(s, &i);
    if (!IsUnicodeSpace(cp)) end = i;
  }
  return s.substr(0, end);
}

std::string_view TrimNewline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool IsComment(std::string_view line) {
  line = TrimLeftSpace(line);
  return !line.empty() && line[0] == '#';
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits on runs of [\t\v\f\r ] (BuildKit's reWhitespace); n = 2 keeps the rest whole.
std::vector<std::string> SplitWhitespace(std::string_view s, int n) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    if (n > 0 && static_cast<int>(out.size()) == n - 1) {
      out.emplace_back(s.substr(i));
      return out;
    }
    size_t j = i;
    while (j < s.size() && !IsAsciiSpace(s[j])) ++j;
    out.emplace_back(s.substr(i, j - i));
    if (j == s.size()) return out;
    while (j < s.size() && IsAsciiSpace(s[j])) ++j;
    i = j;
  }
}

// The `# name=value` parser directives; only before anything else.
class Directives {
 public:
  char escape() const { return escape_; }
  const std::string& syntax() const { return syntax_; }

  // Returns whether the line was a directive.
  Result<bool> Line(std::string_view line) {
    if (done_) return false;
    if (line.empty() || line[0] != '#') {
      done_ = true;
      return false;
    }
    std::string_view rest = TrimLeftSpace(line.substr(1));
    // ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
    size_t i = 0;
    if (rest.empty() || !std::isalpha(static_cast<unsigned char>(rest[0]))) {
      done_ = true;
      return false;
    }
    while (i < rest.size() && std::isalnum(static_cast<unsigned char>(rest[i]))) ++i;
    std::string name = ToLower(rest.substr(0, i));
    auto is_re_space = [](char c) {
      return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
    };
    while (i < rest.size() && is_re_space(rest[i])) ++i;
    if (i >= rest.size() || rest[i] != '=') {
      done_ = true;
      return false;
    }
    ++i;
    while (i < rest.size() && is_re_space(rest[i])) ++i;
    std::string_view value = rest.substr(i);
    while (!value.empty() && is_re_space(value.back())) value.remove_suffix(1);
    if (value.empty()) {
      done_ = true;
      return false;
    }
    if (name != "syntax" && name != "escape" && name != "check") {
      done_ = true;
      return false;
    }
    if (!seen_.insert(name).second) {
      return Error::InvalidArgument("only one " + name + " parser directive can be used");
    }
    if (name == "escape") {
      if (value != "`" && value != "\\") {
        return Error::InvalidArgument("invalid escape token '" + std::string(value) +
                                      "' does not match ` or \\");
      }
      escape_ = value[0];
    } else if (name == "syntax") {
      syntax_ = std::string(value);
    }
    return true;
  }

 private:
  bool done_ = false;
  char escape_ = '\\';
  std::string syntax_;
  std::set<std::string> seen_;
};

// BuildKit's trimContinuationCharacter: the escape char, then only blanks, at the end of the
// line, not itself escaped (the char before it is not the escape char).
bool TrimContinuation(std::string& line, char escape) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end == 0 || line[end - 1] != escape) return true;
  if (end >= 2 && line[end - 2] == escape) return true;
  line.resize(end - 1);
  return false;
}

// BuildKit's parseWords: words keep their quotes and escapes; used by ENV, LABEL, ARG.
std::vector<std::string> ParseWords(std::string_view rest, char escape) {
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  std::vector<std::string> words;
  int32_t quote = 0;
  bool blank_ok = false;
  std::string buf;
  size_t pos = 0;
  while (true) {
    bool at_end = pos >= rest.size();
    size_t next = pos;
    int32_t ch = at_end ? 0 : DecodeUtf8(rest, &next);
    if (phase == kSpaces) {
      if (at_end) break;
      if (IsUnicodeSpace(ch)) {
        pos = next;
        continue;
      }
      phase = kWord;
    }
    if (at_end) {
      if (blank_ok || !buf.empty()) words.push_back(buf);
      break;
    }
    if (phase == kWord) {
      if (IsUnicodeSpace(ch)) {
        phase = kSpaces;
        if (blank_ok || !buf.empty()) words.push_back(buf);
        buf.clear();
        blank_ok = false;
        pos = next;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
      }
      if (ch == escape) {
        if (next == rest.size()) {
          pos = next;
          continue;  // an escape at the very end is dropped
        }
        AppendUtf8(buf, ch);
        ch = DecodeUtf8(rest, &next);
      }
      AppendUtf8(buf, ch);
      pos = next;
      continue;
    }
    // kQuote
    if (ch == quote) phase = kWord;
    if (ch == escape && quote != '\'') {
      if (next == rest.size()) {
        phase = kWord;
        pos = next;
        continue;
      }
      AppendUtf8(buf, ch);
      ch = DecodeUtf8(rest, &next);
    }
    AppendUtf8(buf, ch);
    pos = next;
  }
  return words;
}

// BuildKit's extractBuilderFlags: leading `--words` (quotes removed) and the rest of the line.
void ExtractFlags(std::string_view line, char escape, std::vector<std::string>* flags,
                  std::string* rest) {
  enum { kSpaces, kWord, kQuote } phase = kSpaces;
  std::string buf;
  char quote = 0;
  bool blank_ok = false;
  for (size_t pos = 0; pos <= line.size(); ++pos) {
    char ch = pos < line.size() ? line[pos] : 0;
    if (phase == kSpaces) {
      if (pos == line.size()) break;
      if (IsUnicodeSpace(static_cast<unsigned char>(ch))) continue;
      if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') {
        *rest = std::string(line.substr(pos));
        return;
      }
      phase = kWord;
    }
    if (pos == line.size()) {
      if (buf != "--" && (blank_ok || !buf.empty())) flags->push_back(buf);
      break;
    }
    if (phase == kWord) {
      if (IsUnicodeSpace(static_cast<unsigned char>(ch))) {
        phase = kSpaces;
        if (buf == "--") {
          *rest = std::string(line.substr(pos));
          return;
        }
        if (blank_ok || !buf.empty()) flags->push_back(buf);
        buf.clear();
        blank_ok = false;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        quote = ch;
        blank_ok = true;
        phase = kQuote;
        continue;
      }
      if (ch == escape) {
        if (pos + 1 == line.size()) continue;
        ch = line[++pos];
      }
      buf.push_back(ch);
      continue;
    }
    if (ch == quote) {
      phase = kWord;
      continue;
    }
    if (ch == escape) {
      if (pos + 1 == line.size()) {
        phase = kWord;
        continue;
      }
      ch = line[++pos];
    }
    buf.push_back(ch);
  }
  rest->clear();
}

const char kNotStringArray[] =
    "when using JSON array syntax, arrays must be comprised of strings only";

// nullopt: not a JSON array (shell form); an error for a JSON array of non-strings.
Result<std::optional<std::vector<std::string>>> ParseJsonArray(std::string_view rest) {
  rest = TrimLeftSpace(rest);
  if (rest.empty() || rest[0] != '[') return std::optional<std::vector<std::string>>();
  nlohmann::json j = nlohmann::json::parse(rest.begin(), rest.end(), nullptr, false);
  if (j.is_discarded() || !j.is_array()) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  for (const auto& e : j) {
    if (!e.is_string()) return Error::InvalidArgument(kNotStringArray);
    out.push_back(e.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<void> MaybeJson(std::string_view rest, RawNode* n) {
  if (rest.empty()) return {};
  auto arr = BERTH_TRY(ParseJsonArray(rest));
  if (arr) {
    n->args = std::move(*arr);
    n->json = true;
    return {};
  }
  n->args = {std::string(rest)};
  return {};
}

Result<void> MaybeJsonToList(std::string_view rest, RawNode* n) {
  auto arr = BERTH_TRY(ParseJsonArray(rest));
  if (arr) {
    n->args = std::move(*arr);
    n->json = true;
    return {};
  }
  if (!rest.empty()) n->args = SplitWhitespace(rest, -1);
  return {};
}

Result<void> NameVal(std::string_view rest, std::string_view key, char escape, RawNode* n) {
  std::vector<std::string> words = ParseWords(rest, escape);
  if (words.empty()) return {};
  if (words[0].find('=') == std::string::npos) {
    auto parts = SplitWhitespace(rest, 2);
    if (parts.size() < 2) {
      return Error::InvalidArgument(std::string(key) + " must have two arguments");
    }
    n->args = {parts[0], parts[1]};
    n->legacy_kv = true;
    return {};
  }
  for (const auto& w : words) {
    auto eq = w.find('=');
    if (eq == std::string::npos) {
      return Error::InvalidArgument("Syntax error - can't find = in " + GoQuote(w) +
                                    ". Must be of the form: name=value");
    }
    n->args.push_back(w.substr(0, eq));
    n->args.push_back(w.substr(eq + 1));
  }
  return {};
}

Result<RawNode> NodeFromLine(std::string_view line, char escape, int depth);

Result<void> Dispatch(const std::string& cmd, std::string_view rest, char escape, int depth,
                      RawNode* n) {
  if (cmd == "add" || cmd == "copy" || cmd == "volume") return MaybeJsonToList(rest, n);
  if (cmd == "run" || cmd == "cmd" || cmd == "entrypoint" || cmd == "shell") {
    return MaybeJson(rest, n);
  }
  if (cmd == "env") return NameVal(rest, "ENV", escape, n);
  if (cmd == "label") return NameVal(rest, "LABEL", escape, n);
  if (cmd == "arg") {
    n->args = ParseWords(rest, escape);
    return {};
  }
  if (cmd == "expose" || cmd == "from") {
    if (!rest.empty()) n->args = SplitWhitespace(rest, -1);
    return {};
  }
  if (cmd == "maintainer" || cmd == "stopsignal" || cmd == "user" || cmd == "workdir") {
    if (!rest.empty()) n->args = {std::string(rest)};
    return {};
  }
  if (cmd == "healthcheck") {
    size_t sep = 0;
    while (sep < rest.size() && !IsUnicodeSpace(static_cast<unsigned char>(rest[sep]))) ++sep;
    size_t next = sep;
    while (next < rest.size() && IsUnicodeSpace(static_cast<unsigned char>(rest[next]))) ++next;
    if (sep == 0) return {};
    RawNode cmdnode;
    BERTH_TRY(MaybeJson(rest.substr(next), &cmdnode));
    n->args.emplace_back(rest.substr(0, sep));
    for (auto& a : cmdnode.args) n->args.push_back(std::move(a));
    n->json = cmdnode.json;
    return {};
  }
  if (cmd == "onbuild") {
    if (rest.empty()) return {};
    // Docker refuses ONBUILD ONBUILD later; parsing deeper would only recurse on hostile input.
    if (depth > 0) return {};
    auto sub = BERTH_TRY(NodeFromLine(rest, escape, depth + 1));
    n->sub = std::make_unique<RawNode>(std::move(sub));
    return {};
  }
  return {};  // unknown instructions are refused by ConvertNode, after every line is read
}

Result<RawNode> NodeFromLine(std::string_view line, char escape, int depth) {
  RawNode n;
  n.original = std::string(line);
  auto cmdline = SplitWhitespace(TrimSpace(line), 2);
  n.command = cmdline[0];
  std::string rest;
  if (cmdline.size() == 2) ExtractFlags(cmdline[1], escape, &n.flags, &rest);
  std::string_view args = TrimSpace(rest);
  BERTH_TRY(Dispatch(ToLower(n.command), args, escape, depth, &n));
  return n;
}

bool CanContainHeredoc(const RawNode& n) {
  const RawNode* node = &n;
  if (ToLower(node->command) == "onbuild" && node->sub) node = node->sub.get();
  std::string c = ToLower(node->command);
  if (c != "add" && c != "copy" && c != "run") return false;
  return !node->json;
}

Result<std::vector<Heredoc>> HeredocsFromLine(std::string_view line) {
  LexOptions o;
  o.raw_quotes = true;
  o.raw_escapes = true;
  o.skip_unset = true;
  auto words = ExpandWordsWith(line, nullptr, o);
  std::vector<Heredoc> docs;
  if (!words) return docs;  // as BuildKit: a line the lexer refuses has no heredocs
  for (const auto& w : *words) {
    auto h = BERTH_TRY(ParseHeredocWord(w));
    if (h) docs.push_back(std::move(*h));
  }
  return docs;
}

// Lines with their endings, as BuildKit's scanLines.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  bool Next(std::string_view* line) {
    if (pos_ >= text_.size()) return false;
    size_t nl = text_.find('\n', pos_);
    size_t end = nl == std::string_view::npos ? text_.size() : nl + 1;
    *line = text_.substr(pos_, end - pos_);
    pos_ = end;
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::optional<Heredoc>> ParseHeredocWord(std::string_view src) {
  // ^(\d*)<<(-?)\s*([^<]*)$
  size_t i = 0;
  while (i < src.size() && src[i] >= '0' && src[i] <= '9') ++i;
  std::string_view digits = src.substr(0, i);
  if (src.substr(i, 2) != "<<") return std::optional<Heredoc>();
  i += 2;
  bool chomp = false;
  if (i < src.size() && src[i] == '-') {
    chomp = true;
    ++i;
  }
  while (i < src.size() &&
         (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\f' || src[i] == '\r')) {
    ++i;
  }
  std::string_view rest = src.substr(i);
  if (rest.find('<') != std::string_view::npos) return std::optional<Heredoc>();
  if (rest.empty()) return std::optional<Heredoc>();
  LexOptions o;
  o.skip_unset = true;
  auto words = BERTH_TRY(ExpandWordsWith(rest, nullptr, o));
  if (words.size() != 1) return std::optional<Heredoc>();
  o.raw_quotes = true;
  auto raw = BERTH_TRY(ExpandWordsWith(rest, nullptr, o));
  if (raw.size() != words.size()) {
    return Error::InvalidArgument("internal lexing of heredoc produced inconsistent results: " +
                                  std::string(rest));
  }
  auto quotes = [](const std::string& s) {
    return std::count(s.begin(), s.end(), '\'') + std::count(s.begin(), s.end(), '"');
  };
  Heredoc h;
  h.name = words[0];
  h.expand = quotes(words[0]) == quotes(raw[0]);
  h.chomp_tabs = chomp;
  int fd = 0;
  for (char c : digits) {
    fd = fd * 10 + (c - '0');
    if (fd > 1 << 20) fd = 1 << 20;
  }
  h.fd = fd;
  return std::optional<Heredoc>(std::move(h));
}

Result<RawFile> ParseLines(std::string_view text) {
  RawFile file;
  Directives directives;
  LineReader reader(text);
  int current = 0;
  std::string_view raw;
  auto process = [&](std::string_view token, bool strip_left) -> Result<std::string> {
    token = TrimNewline(token);
    if (strip_left) token = TrimLeftSpace(token);
    BERTH_TRY(directives.Line(token));
    if (IsComment(token)) return std::string();
    return std::string(token);
  };
  while (reader.Next(&raw)) {
    if (current == 0 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
    auto first = process(raw, true);
    if (!first) return std::move(first).error();
    ++current;
    int start = current;
    std::string line = std::move(*first);
    bool eol = TrimContinuation(line, directives.escape());
    if (eol && line.empty()) continue;
    bool empty_continuation = false;
    while (!eol && reader.Next(&raw)) {
      auto more = process(raw, false);
      if (!more) return std::move(more).error();
      ++current;
      if (IsComment(raw)) continue;
      if (TrimLeftSpace(TrimNewline(*more)).empty()) {
        empty_continuation = true;
        continue;
      }
      eol = TrimContinuation(*more, directives.escape());
      line += *more;
    }
    if (empty_continuation) file.warnings.push_back("Empty continuation line found in: " + line);
    auto node = NodeFromLine(line, directives.escape(), 0);
    if (!node) return std::move(node).error();
    if (CanContainHeredoc(*node) && line.find("<<") != std::string::npos) {
      auto docs = HeredocsFromLine(line);
      if (!docs) return std::move(docs).error();
      for (auto& doc : *docs) {
        bool terminated = false;
        std::string content;
        while (reader.Next(&raw)) {
          ++current;
          std::string_view term = TrimNewline(raw);
          if (doc.chomp_tabs) {
            while (!term.empty() && term[0] == '\t') term.remove_prefix(1);
          }
          if (term == doc.name) {
            terminated = true;
            break;
          }
          content += raw;
        }
        if (!terminated) return Error::InvalidArgument("unterminated heredoc");
        doc.content = std::move(content);
        node->heredocs.push_back(std::move(doc));
      }
    }
    node->start_line = start;
    node->end_line = current;
    file.nodes.push_back(std::move(*node));
  }
  if (file.nodes.empty()) return Error::InvalidArgument("file with no instructions");
  file.escape = directives.escape();
  file.syntax = directives.syntax();
  return file;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    prev.swap(cur);
  }
  return prev[b.size()];
}

std::string Suggest(std::string_view value, const std::vector<std::string>& options,
                    bool case_sensitive) {
  std::string val = case_sensitive ? std::string(value) : ToLower(value);
  // Long values cannot be within distance 2 of a short option; skip the quadratic work.
  std::string match;
  size_t best = 3;
  for (const auto& o : options) {
    std::string opt = case_sensitive ? o : ToLower(o);
    if (val == opt) return "";
    if (val.size() > opt.size() + 2) continue;
    size_t d = EditDistance(val, opt);
    if (d < best) {
      best = d;
      match = opt;
    }
  }
  if (match.empty()) return "";
  if (!case_sensitive) {  // BuildKit's matchCase: follow the input's case when it has one
    std::string upper = match;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string value_upper(value);
    for (char& c : value_upper) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (value != ToLower(value) && value == value_upper) match = upper;
  }
  return " (did you mean " + match + "?)";
}

}  // namespace berth::build::internal
