#pragma once

// The Dockerfile parse tree and its parser: text in, stages of instructions out, every
// instruction and flag checked as Docker checks them before a build starts. No I/O, no
// variable substitution (that depends on the step's environment: see expand.h; the executor
// expands each step's words with the env in force at that step).
//
//   auto df = BERTH_TRY(ParseDockerfile(text));
//   for (const Stage& stage : df.stages)
//     for (const Instruction& ins : stage.instructions)
//       if (ins.keyword == "RUN") Run(ins.json_form ? ins.args : Shell(ins.args[0]), ...);
//
// What `args` holds, per keyword (words are as written: quotes and escapes still in unless
// said otherwise; expand them with ExpandWord):
//   RUN, CMD, ENTRYPOINT   json_form ? the array's strings (already unquoted, never
//                          expanded) : one string, the command line as written.
//                          An invalid JSON array (`CMD [ "a", ]`) is shell form, as Docker.
//   SHELL                  the JSON array (shell form is an error).
//   ENV, LABEL             key, value, key, value... (`K=V K2="a b"` and legacy `K the rest`;
//                          quotes still in: ExpandWord each key and value).
//   ARG                    the words `name` or `name=default` (see SplitArg).
//   ADD, COPY              sources..., dest (JSON array or words). A source that is a
//                          heredoc marker (`<<EOF`) names one of `heredocs` (HeredocFor).
//   FROM                   base, or base "AS" name; see Stage for the parsed view.
//   HEALTHCHECK            "NONE", or "CMD" then (json_form ? the array : one string);
//                          `healthcheck` holds the checked, parsed values.
//   EXPOSE, VOLUME (words or JSON), WORKDIR, USER, STOPSIGNAL, MAINTAINER (one string: the
//                          rest of the line), ONBUILD (one string: the trigger; `onbuild`
//                          holds it parsed).
// Flags are only those Docker accepts for the instruction (below); bool flags are normalised to
// "true"/"false"; string flags keep the text after `=` as written (not yet substituted).
//   RUN         --mount=SPEC (repeatable; ParseRunMount), --network=default|none|host,
//               --security=sandbox|insecure, --device=NAME (repeatable)
//   COPY        --from --chown --chmod --link --parents --exclude (repeatable)
//   ADD         --chown --chmod --link --keep-git-dir --checksum --unpack --exclude
//   FROM        --platform
//   HEALTHCHECK --interval --timeout --start-period --start-interval --retries
//
// Errors are Docker's (InvalidArgument): an instruction's as "dockerfile parse error on line
// N: MESSAGE" (N the instruction's first line, MESSAGE Docker's own, e.g. "unknown
// instruction: RUNN (did you mean RUN?)", "unknown flag: --frm (did you mean from?)"), a
// file-level one (found while reading lines, before any instruction is checked) as "failed
// to parse Dockerfile: MESSAGE" ("file with no instructions", "unterminated heredoc").

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace berth::build {

/// A here-document attached to RUN, COPY or ADD (`<<EOF` ... `EOF`).
struct Heredoc {
  std::string name;         ///< the delimiter, quotes removed: `<<"EOF"` → EOF
  std::string content;      ///< the lines between, each with its '\n'; tabs stripped if chomp
  bool expand = true;       ///< false when the delimiter was quoted: no substitution in content
  bool chomp_tabs = false;  ///< `<<-EOF`: leading tabs were removed from each line
  int fd = 0;               ///< `3<<EOF`: the file descriptor named (0: none given)
};

/// `--name=value` (or `--name` alone) on an instruction.
struct Flag {
  std::string name;   ///< without the leading "--"
  std::string value;  ///< as written; bool flags "true" or "false"
  bool has_value = false;
};

/// HEALTHCHECK's options, checked and parsed (durations in nanoseconds; 0 = default).
struct Healthcheck {
  std::vector<std::string> test;  ///< {"NONE"} | {"CMD", args...} | {"CMD-SHELL", cmd}
  int64_t interval_ns = 0;
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 0;
  int retries = 0;
};

/// One instruction, continuation lines joined.
struct Instruction {
  std::string keyword;   ///< upper-case: "RUN"
  std::string original;  ///< the source text, continuations joined and trimmed, as Docker
                         ///< shows it in history (created_by) and errors
  int line = 0;          ///< 1-based first line
  int end_line = 0;      ///< 1-based last line (heredoc bodies included)
  std::vector<Flag> flags;
  std::vector<std::string> args;
  bool json_form = false;  ///< exec form: args came from a JSON array
  std::vector<Heredoc> heredocs;
  std::shared_ptr<const Instruction> onbuild;  ///< ONBUILD's trigger, parsed
  std::optional<Healthcheck> healthcheck;      ///< HEALTHCHECK's parsed view

  /// The flag's value (last one given), or nullptr when the flag was not given.
  const Flag* FindFlag(std::string_view name) const;
  /// Every value given for a repeatable flag (--mount, --exclude), in order.
  std::vector<std::string> FlagValues(std::string_view name) const;
  /// A bool flag's value: true only when given as --x or --x=true.
  bool FlagTrue(std::string_view name) const;
};

/// ARG's `name[=default]`, split at the first '=' (not yet substituted).
struct ArgDef {
  std::string name;
  std::optional<std::string> default_value;
};
std::vector<ArgDef> SplitArgs(const Instruction& arg);

/// The heredoc that a COPY/ADD source word (`<<EOF`, `<<-"EOF"`) names, or nullptr when the
/// word is not a heredoc marker.
const Heredoc* HeredocFor(const Instruction& ins, std::string_view word);

/// Whether a word is a heredoc marker (`<<EOF`, `<<-EOF`, `3<<'EOF'`): Docker refuses one as a
/// COPY/ADD destination.
bool IsHeredocMarker(std::string_view word);

/// One build stage: a FROM and what follows it up to the next FROM.
struct Stage {
  int index = 0;         ///< 0-based position in the file
  std::string name;      ///< `AS name`, lower-cased; "" when unnamed
  std::string base;      ///< the image as written (may hold $META_ARG; "scratch" = none)
  std::string platform;  ///< --platform as written, or ""
  Instruction from;
  std::vector<Instruction> instructions;
};

struct Dockerfile {
  std::vector<Instruction> meta_args;  ///< ARGs before the first FROM
  std::vector<Stage> stages;           ///< at least one
  char escape = '\\';                  ///< `# escape=` directive: '\\' or '`'
  std::string syntax;                  ///< `# syntax=` directive's value, or ""
  std::vector<std::string> warnings;   ///< Docker's parser warnings (empty continuation lines)
};

/// Parses a whole Dockerfile. `file_name` names it in file-level errors ("failed to parse
/// NAME: ..."). Linear in the size of the text.
Result<Dockerfile> ParseDockerfile(std::string_view text,
                                   std::string_view file_name = "Dockerfile");

/// Parses one instruction line as an ONBUILD trigger or a `docker commit --change` does
/// (no FROM allowed; ARG/ENV/... as usual). `escape` as the file's.
Result<Instruction> ParseInstructionLine(std::string_view line, char escape = '\\');

/// A RUN --mount value, parsed as Docker parses it.
struct RunMount {
  std::string type = "bind";  ///< bind | cache | tmpfs | secret | ssh
  std::string from;           ///< stage name or index, or image; "" = the build context
  std::string source;
  std::string target;
  bool read_only = true;           ///< default: false for cache and tmpfs
  int64_t size_limit = 0;          ///< tmpfs size=, bytes
  std::string id;                  ///< cache id
  std::string sharing;             ///< shared | private | locked; "" = shared
  bool required = false;           ///< secret, ssh
  std::optional<std::string> env;  ///< secret env=
  std::optional<uint32_t> mode, uid, gid;
};

/// Parses `type=cache,target=/root/.cache,...` (CSV, keys case-insensitive). With `expand`, each
/// value is substituted through it first (the executor passes the step's env); without, the
/// spec is checked as at parse time (values not substituted are not checked, as Docker).
Result<RunMount> ParseRunMount(
    std::string_view spec,
    const std::function<Result<std::string>(std::string_view)>* expand = nullptr);

}  // namespace berth::build
