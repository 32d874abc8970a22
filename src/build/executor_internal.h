#pragma once

// Pieces of the executor that tests reach: Docker's history strings and the RUN environment.

#include <map>
#include <string>
#include <vector>

namespace berth::build::internal {

/// Go's %q of a string slice joined by spaces in brackets: ["/bin/sh" "-c" "echo hi"].
std::string QuotedList(const std::vector<std::string>& v);
/// Go's %v of a string slice: [/data /logs].
std::string PlainList(const std::vector<std::string>& v);
/// A metadata step's created_by: "/bin/sh -c #(nop)  " + text (two spaces, as Docker).
std::string NopCreatedBy(const std::string& text);
/// RUN's created_by: "|N K=V ... " (sorted build args in scope) + the command.
std::string RunCreatedBy(const std::vector<std::string>& build_env, const std::string& command);
/// The build args a RUN sees: declared ARGs with a value, minus those an ENV of the config
/// overrides, as "K=V", sorted.
std::vector<std::string> RunBuildEnv(const std::map<std::string, std::string>& declared,
                                     const std::vector<std::string>& config_env);

}  // namespace berth::build::internal
