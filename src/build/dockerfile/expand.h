#pragma once

// Docker's variable substitution in Dockerfiles (BuildKit's "shell lexer"): what
// `ENV`, `COPY`, `WORKDIR`, ... do to their words before they act. Not a shell: no globbing,
// no command substitution; quotes group and are removed, the escape character escapes.
//
//   auto env = [&](std::string_view k) -> std::optional<std::string> { ... };
//   std::string dir = BERTH_TRY(ExpandWord("${HOME:-/root}/src", env));
//   std::vector<std::string> ports = BERTH_TRY(ExpandWords("$PORT 443/tcp", env));
//
// Supported, as Docker: $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word},
// ${VAR:?msg}, ${VAR?msg}, ${VAR#pat}, ${VAR##pat}, ${VAR%pat}, ${VAR%%pat}, ${VAR/pat/rep},
// ${VAR//pat/rep} (pat: `*`, `?`, literal, `\` escapes), positional and special names ($1, $@,
// ...: looked up like any other name, so normally empty), '...' (literal), "..." (only $, the
// escape char before `"`, `$` or itself), and the escape char before any character outside
// quotes. Errors carry Docker's text: `failed to process "${A": syntax error: missing '}'`.
//
// Pure functions, no I/O; linear in the input except ${VAR/pat/rep} (value × pattern).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::build {

/// The value of a variable, or nullopt when it is not set. Names are case-sensitive.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// Knobs of the lexer (BuildKit's Lex fields), for the parser's and executor's special uses.
struct LexOptions {
  char escape = '\\';
  bool raw_quotes = false;           ///< keep the quote characters in the output
  bool raw_escapes = false;          ///< keep the escape characters in the output
  bool skip_process_quotes = false;  ///< quotes are ordinary characters (heredoc contents)
  bool skip_unset = false;           ///< leave `$X`/`${X...}` as written when X is unset
};

/// One word, quotes removed and variables substituted (BuildKit's ProcessWord): whitespace is
/// kept as it is ("a  b" → "a  b").
Result<std::string> ExpandWord(std::string_view word, const EnvLookup& lookup, char escape = '\\');

/// The words of `text` after substitution (BuildKit's ProcessWords): split on unquoted
/// whitespace, including whitespace that a variable's value brings ("$A" with A="x y" stays
/// one word, $A gives two).
Result<std::vector<std::string>> ExpandWords(std::string_view text, const EnvLookup& lookup,
                                             char escape = '\\');

/// Either of the above with explicit options; `words` picks ProcessWords.
Result<std::string> ExpandWordWith(std::string_view word, const EnvLookup& lookup,
                                   const LexOptions& options);
Result<std::vector<std::string>> ExpandWordsWith(std::string_view text, const EnvLookup& lookup,
                                                 const LexOptions& options);

/// The contents of a heredoc whose delimiter was not quoted (`COPY <<EOF` with expansion):
/// only `$` substitutions and `\` escapes, quotes stay (BuildKit's ExpandRaw).
Result<std::string> ExpandHeredoc(std::string_view content, const EnvLookup& lookup);

/// Whether Docker substitutes variables in the arguments of this instruction (upper-case
/// keyword): ADD, ARG, COPY, ENV, EXPOSE, FROM (meta args only), LABEL, STOPSIGNAL, USER,
/// VOLUME, WORKDIR, and RUN's --mount values. What of each:
///   ENV, LABEL:  each key and each value, ExpandWord;   ARG: name and default, ExpandWord;
///   ADD, COPY:   each source and the destination, --chown, --chmod (ADD: --checksum),
///                ExpandWord; never --from (Docker refuses a `$` there);
///   EXPOSE:      each argument through ExpandWords;     FROM: base and --platform with the
///                meta args only (ARGs before the first FROM and build args);
///   USER, WORKDIR, STOPSIGNAL, VOLUME entries: ExpandWord;
///   RUN:         the values of --mount (ParseRunMount does it); the command itself is the
///                shell's business; CMD, ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER:
///                nothing.
bool SubstitutesVariables(std::string_view keyword);

/// A lookup over "K=V" strings (a config's Env), last one wins.
EnvLookup LookupFromEnvList(const std::vector<std::string>& env);

}  // namespace berth::build
