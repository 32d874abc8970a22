#pragma once

// .dockerignore: which paths of a build context are left out, with Docker's rules
// (moby/patternmatcher and its ignorefile reader):
//   - one pattern a line; lines starting with '#' are comments; blank lines skipped; spaces
//     around a pattern trimmed; a UTF-8 BOM on the first line dropped;
//   - each pattern is cleaned as Go's filepath.Clean (`./a//b/` → `a/b`, `a/../b` → `b`) and a
//     leading '/' dropped, so patterns are relative to the context root;
//   - `*` any run of characters but '/', `?` one character but '/', `[a-z]`, `[^a]` classes,
//     `\x` the character x, `**` any number of directories (`**/x`, `a/**`, `a/**/b`);
//   - `!pattern` re-includes what earlier patterns excluded; the last matching pattern wins;
//   - a pattern that matches a directory excludes everything below it (unless re-included).
//
//   DockerIgnore ig = BERTH_TRY(DockerIgnore::Parse(text));
//   ig.AlwaysInclude("Dockerfile");   // as the docker CLI: the Dockerfile and .dockerignore
//   ig.AlwaysInclude(".dockerignore"); // are sent even if a pattern names them
//   if (ig.Excluded("src/a.o")) ...
//   if (ig.Excluded(dir) && !ig.MayReinclude(dir)) prune(dir);
//
// Matching is linear in path × pattern length (no backtracking); immutable after setup, so
// one object may be shared by threads that only call the const members.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth::build {

class DockerIgnore {
 public:
  /// Reads a .dockerignore file's text. Errors (InvalidArgument) for a lone "!" and for a
  /// malformed pattern (unclosed '['), as Docker's "syntax error in pattern".
  static Result<DockerIgnore> Parse(std::string_view text);

  /// From patterns already split (as the ignorefile reader gives them).
  static Result<DockerIgnore> FromPatterns(const std::vector<std::string>& patterns);

  DockerIgnore() = default;

  /// Whether `rel_path` (relative to the context root, '/'-separated; "./x" and "x/" are
  /// cleaned) is left out: the last pattern that matches it or one of its parent directories
  /// decides. The context root itself ("." or "") is never excluded.
  bool Excluded(std::string_view rel_path) const;

  /// For a directory that is Excluded: whether some `!` pattern could re-include a path below
  /// it, so a walker must still descend into it. False means the whole subtree is out.
  bool MayReinclude(std::string_view rel_dir) const;

  /// Appends `!path`, so the file is never excluded (the docker CLI does this for the
  /// Dockerfile and .dockerignore when a pattern would exclude them).
  void AlwaysInclude(std::string_view rel_path);

  /// The cleaned patterns, `!` kept in front of exceptions.
  std::vector<std::string> Patterns() const;
  bool empty() const { return patterns_.empty(); }

  struct Pattern;  // compiled form, in dockerignore.cc

 private:
  std::vector<std::shared_ptr<const Pattern>> patterns_;
  bool has_exclusions_ = false;
};

/// Go's filepath.Clean on a '/'-separated path ("" → ".").
std::string CleanPath(std::string_view path);

}  // namespace berth::build
