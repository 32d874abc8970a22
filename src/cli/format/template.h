#pragma once

// The part of Go's text/template that `docker ... --format` users write, evaluated against
// JSON: {{.Field}}, {{.A.B}}, {{json .}}, {{json .Field}}, {{.Field | json}}, {{upper .X}},
// {{lower .X}}, {{println .X}}, literal text, "\t" and "\n" escapes as the docker CLI accepts
// them, and the "table " prefix (the caller prints a header row). Unknown fields are an error
// naming them, as Go's "can't evaluate field X".

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
  /// The template began with "table ": print a header row made by ExecuteHeader.
  bool is_table() const { return table_; }
  /// The header row of a table: each {{.Field}} becomes its upper-case name with spaces
  /// ("{{.Repository}}\t{{.Tag}}" → "REPOSITORY\tTAG"), or a name given by the caller.
  std::string ExecuteHeader(const std::vector<std::pair<std::string, std::string>>& names) const;

 private:
  struct Piece {
    bool action = false;
    std::string text;                // literal, or the field path ("A.B", "" for ".")
    std::vector<std::string> funcs;  // applied in order: json, upper, lower, println
  };
  std::vector<Piece> pieces_;
  bool table_ = false;
};

}  // namespace berth::cli
