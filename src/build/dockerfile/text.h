#pragma once

// Text helpers of the Dockerfile front end (internal): UTF-8 decoding that keeps invalid
// bytes, the few Unicode classes Go's lexer uses, Go's %q quoting for messages, and the shell
// patterns of ${VAR#pat}, ${VAR%pat}, ${VAR/pat/rep}.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::build {

/// The code point at *pos (advancing it). An invalid byte decodes to kRawByteBase + byte, so
/// that AppendUtf8 writes it back unchanged (Go would turn it into U+FFFD).
inline constexpr int32_t kRawByteBase = 0x110000;
int32_t DecodeUtf8(std::string_view s, size_t* pos);
void AppendUtf8(std::string& out, int32_t cp);
std::vector<int32_t> DecodeAll(std::string_view s);
std::string EncodeAll(const std::vector<int32_t>& cps, size_t from, size_t to);

/// Go's unicode.IsSpace (exact).
bool IsUnicodeSpace(int32_t cp);
/// Go's unicode.IsDigit and IsLetter: exact for ASCII; other code points count as letters
/// unless they are spaces or punctuation/symbol blocks (an approximation of the tables).
bool IsUnicodeDigit(int32_t cp);
bool IsUnicodeLetter(int32_t cp);

/// What Go's %q puts between the quotes: `"` and `\` escaped, control bytes as \n, \x01...
std::string GoQuoteInner(std::string_view s);
/// Go's %q: GoQuoteInner within double quotes.
std::string GoQuote(std::string_view s);

/// A shell pattern as BuildKit turns it into a regexp: `*` any run, `?` any character,
/// `\*` `\?` `\\` literal, `\}` `\/` the character; anything else literal. Matching simulates
/// the automaton (no backtracking): O(value × pattern).
class ShellPattern {
 public:
  /// Errors: "invalid pattern (PAT) in substitution: invalid escape '\x'".
  static Result<ShellPattern> Compile(std::string_view pattern);

  /// The value without its shortest (greedy: longest) prefix that the pattern matches.
  std::string TrimPrefix(std::string_view value, bool greedy) const;
  /// The value without its shortest (greedy: longest) matching suffix.
  std::string TrimSuffix(std::string_view value, bool greedy) const;
  /// The value with its leftmost-longest match (all: every non-overlapping match) replaced.
  std::string Replace(std::string_view value, std::string_view replacement, bool all) const;

  enum Kind : uint8_t { kLit, kAny, kStar };
  struct Token {
    Kind kind;
    int32_t cp;
  };

 private:
  std::vector<Token> tokens_;
};

}  // namespace berth::build
