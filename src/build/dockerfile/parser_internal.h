#pragma once

// The two halves of the Dockerfile parser (internal). Lines → RawNodes follows BuildKit's
// parser package (directives, continuations, comments, heredocs, each keyword's argument
// syntax); RawNodes → Instructions follows its instructions package (flags, argument counts,
// per-keyword checks). Docker reports every error of the first half before any of the second.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "build/dockerfile/dockerfile.h"
#include "util/result.h"

namespace berth::build::internal {

struct RawNode {
  std::string command;             // as written ("run")
  std::string original;            // the joined line
  std::vector<std::string> flags;  // "--from=x" as written (quotes removed)
  std::vector<std::string> args;   // per the keyword's syntax
  bool json = false;
  bool legacy_kv = false;         // ENV/LABEL `KEY value` (no '=')
  std::vector<Heredoc> heredocs;  // content not chomped yet
  std::unique_ptr<RawNode> sub;   // ONBUILD's trigger
  int start_line = 0;
  int end_line = 0;
};

struct RawFile {
  std::vector<RawNode> nodes;
  char escape = '\\';
  std::string syntax;
  std::vector<std::string> warnings;
};

/// Errors carry Docker's message only (the caller adds "failed to parse NAME: ").
Result<RawFile> ParseLines(std::string_view text);

/// One RawNode → Instruction, with Docker's per-instruction checks; errors are the bare
/// message (the caller adds "dockerfile parse error on line N: ").
Result<Instruction> ConvertNode(const RawNode& node);

/// Heredoc detection of a single word (BuildKit's ParseHeredoc): nullopt if not a marker.
Result<std::optional<Heredoc>> ParseHeredocWord(std::string_view word);

/// Levenshtein distance, for "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);

/// " (did you mean X?)" when some option is within distance 2 of `value`, else "".
std::string Suggest(std::string_view value, const std::vector<std::string>& options,
                    bool case_sensitive);

}  // namespace berth::build::internal
