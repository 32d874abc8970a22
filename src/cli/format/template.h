#pragma once

// The part of Go's text/template that `docker ... --format` users write, evaluated against
// JSON: {{.Field}}, {{.A.B}}, {{json .}}, {{json .Field}}, {{.Field | json}}, {{upper .X}},
// {{lower .X}}, {{title .X}}, {{println .X}}, {{index .Map "key"}}, {{join .List ", "}},
// {{split .S ","}}, {{len .X}}, {{.Label "key"}} (a field holding a map, called with a key, as
// docker's ps and volume contexts do), {{range .X}}…{{end}}, {{if .X}}…{{else}}…{{end}},
// {{with .X}}…{{end}}, $ for the top value, literal text, "\t" and "\n" escapes as the docker CLI
// accepts them, and the "table " prefix (the caller prints a header row). Unknown fields are an
// error naming them, as Go's "can't evaluate field X".

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace berth::cli {

class Template {
 public:
  static Result<Template> Parse(std::string_view text);
  Result<std::string> Execute(const nlohmann::json& data) const;
  /// As Execute; a top-level field missing from data is looked up in hidden (values a --format
  /// can reach that {{json .}} does not print, such as ps's Label map).
  Result<std::string> Execute(const nlohmann::json& data, const nlohmann::json& hidden) const;
  /// As Execute, keeping the order of data's keys in {{json}} (docker inspect's field order).
  Result<std::string> ExecuteOrdered(const nlohmann::ordered_json& data) const;
  /// The template began with "table ": print a header row made by ExecuteHeader.
  bool is_table() const { return table_; }
  /// The header row of a table: each {{.Field}} becomes its upper-case name with spaces
  /// ("{{.Repository}}\t{{.Tag}}" → "REPOSITORY\tTAG"), or a name given by the caller.
  std::string ExecuteHeader(const std::vector<std::pair<std::string, std::string>>& names) const;

  struct Node;

 private:
  std::shared_ptr<const std::vector<Node>> nodes_;
  bool table_ = false;
};

}  // namespace berth::cli
