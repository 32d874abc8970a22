#pragma once

// What the container, volume and system commands share: docker's flag syntax (pflag: -aq, -n=3,
// --flag=value, --), its usage errors, the loop over several names that reports each failure
// and exits 1 at the end, tables through --format, and container fields as ps prints them.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "util/result.h"

namespace berth::cli {

using Json = nlohmann::json;

/// "name[:tag|@digest]" → (name, tag or digest); the tag is "latest" when none is given and
/// default_latest is set. A colon before the last "/" is a registry's port, not a tag.
std::pair<std::string, std::string> SplitRef(const std::string& image, bool default_latest);

struct Flags {
  std::vector<std::string> args;                           // positional, in order
  std::map<std::string, std::vector<std::string>> values;  // long name → every value given
  bool Has(const std::string& k) const { return values.contains(k); }
  /// A bool flag: given and not "=false".
  bool On(const std::string& k) const;
  /// The last value given ("" if none).
  std::string Get(const std::string& k) const;
  const std::vector<std::string>& All(const std::string& k) const;
};

struct FlagSpec {
  const char* usage;  // "berth stop [OPTIONS] CONTAINER [CONTAINER...]" without "berth "
  std::vector<std::pair<std::string, std::string>> bools;   // {"-a", "all"}, {"--all", "all"}
  std::vector<std::pair<std::string, std::string>> valued;  // {"-t", "time"}, {"--time", "time"}
  /// Stop at the first positional argument (docker top, whose ps options follow the name).
  bool stop_at_positional = false;
};

/// Parses args as pflag does. An unknown flag or a missing value is a usage error (exit 125).
Result<Flags> ParseFlags(const std::vector<std::string>& args, const FlagSpec& spec);

/// cobra's argument-count errors (exit 1): "berth: 'berth stop' requires at least 1 argument".
Result<void> NeedArgs(const Flags& f, const FlagSpec& spec, size_t min, size_t max = SIZE_MAX);

/// Wraps a command: usage errors (InvalidArgument from ParseFlags) are printed and exit 125,
/// any other error goes back to Main (exit 1).
Result<int> UsageExit(Result<int> r);

/// Runs op for each name; prints the name on success when print_name. Errors are collected and
/// printed after the loop, as docker's errors.Join; the result is 1 if any failed.
int ForEachName(const std::vector<std::string>& names,
                const std::function<Result<void>(const std::string&)>& op, bool print_name = true);

/// "k=v" filter flags as the Engine API's filters JSON ({"k":["v"]}); "" if none.
Result<std::string> FiltersJson(const std::vector<std::string>& kvs);

/// Prints rows through a --format template or the default table, as docker's formatter does:
/// "table ..." gets a header row and aligned columns, "json" one JSON object per line.
/// hidden: per-row values a template may reach that are not fields (ps's .Label map).
Result<void> PrintRows(const std::string& format, const std::string& default_table,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::vector<Json>& rows, const std::vector<Json>& hidden = {});

/// Go's tabwriter.NewWriter(w, minwidth, 1, 3, ' ', 0), counting runes, not bytes.
std::string Tabulate(const std::vector<std::string>& lines, size_t minwidth = 10);

std::string Str(const Json& j, const char* key);
int64_t Int(const Json& j, const char* key);
/// The first 12 hex digits of an id (without "sha256:"), or all of it with no_trunc.
std::string ShortId(const std::string& id, bool no_trunc = false);
/// Cuts s to n runes, the last one "…" (docker's formatter.Ellipsis).
std::string Ellipsis(const std::string& s, size_t n);
/// Go's strconv.Quote for the printable text docker shows ("sh -c 'x'" → "\"sh -c 'x'\"").
std::string GoQuote(const std::string& s);
/// Go's time.Time.String() of a unix time in UTC: "2026-12-01 22:22:14 +0000 UTC".
std::string GoTime(int64_t unix_seconds);
/// An RFC 3339 time ("2026-12-01T22:22:14.123Z") as unix seconds (0 if unparsable or zero).
int64_t ParseRfc3339(const std::string& s);
/// docker's --since/--until value: RFC 3339, unix seconds ("1700000000.5") or a duration before
/// now ("10m", "1h30m"), as the unix-seconds string the API takes.
Result<std::string> TimestampArg(const std::string& value);
/// A GET path's answer as JSON (a non-JSON answer is an error naming the path).
Result<Json> GetJsonValue(api::Client& client, const std::string& path);

/// The ps row of one /containers/json entry (docker's container formatting context).
Json ContainerRow(const Json& c, bool no_trunc);
/// The published ports of a /containers/json entry as ps prints them ("0.0.0.0:80->80/tcp").
std::string DisplayPorts(const Json& ports);

/// Prints the objects named (one JSON array, or the template once per object) and then the
/// errors of the missing ones; kinds ("container", "image", "volume", "network") are tried in
/// order for each name. any_kind: a name none of them has is "Error: No such object: NAME"
/// (docker inspect); otherwise the daemon's own error. 1 if any was missing.
Result<int> InspectObjects(Env& env, const std::vector<std::string>& names,
                           const std::vector<std::string>& kinds, const std::string& format,
                           bool size, bool any_kind);
/// POST /volumes/prune: appends the "Deleted Volumes:" section to out; the bytes freed.
Result<int64_t> PruneVolumes(api::Client& client, const std::string& filters_json,
                             std::string& out);

/// go-units' BytesSize: binary units, 4 significant digits ("320KiB", "23.54GiB").
std::string BytesSize(double bytes);
/// One /containers/{id}/stats sample as the row docker stats prints (CPU % from cpu_stats and
/// precpu_stats times the online CPUs; memory less the inactive file cache). container: the
/// name as the user gave it; id: the full id.
Json StatsRow(const Json& sample, const std::string& container, const std::string& id,
              bool no_trunc);

}  // namespace berth::cli
