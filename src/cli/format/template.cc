#include "cli/format/template.h"

#include <algorithm>
#include <cctype>

#include "util/file.h"

namespace berth::cli {
namespace {

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 't' || s[i + 1] == 'n')) {
      out += s[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string Plain(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<no value>";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  if (v.is_object()) {
    // Go prints a map as map[k:v ...]
    std::string out = "map[";
    bool first = true;
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += (first ? "" : " ") + it.key() + ":" + Plain(it.value());
      first = false;
    }
    return out + "]";
  }
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + Plain(v[i]);
  return out + "]";
}

}  // namespace

Result<Template> Template::Parse(std::string_view text) {
  Template t;
  std::string_view s = text;
  if (s.substr(0, 6) == "table ") {
    t.table_ = true;
    s.remove_prefix(6);
  } else if (s == "table") {
    t.table_ = true;
    s = {};
  }
  while (!s.empty()) {
    size_t open = s.find("{{");
    if (open == std::string_view::npos) {
      t.pieces_.push_back({false, Unescape(s), {}});
      break;
    }
    if (open > 0) t.pieces_.push_back({false, Unescape(s.substr(0, open)), {}});
    size_t close = s.find("}}", open);
    if (close == std::string_view::npos)
      return Error::InvalidArgument("template parsing error: unclosed action");
    std::string_view body = Trim(s.substr(open + 2, close - open - 2));
    Piece p{true, "", {}};
    // "json .X", ".X | json", "upper .X"
    std::vector<std::string> stages = Split(body, '|');
    for (size_t i = 0; i < stages.size(); ++i) {
      auto words = Split(Trim(stages[i]), ' ', true);
      if (words.empty()) return Error::InvalidArgument("template parsing error: empty command");
      for (const auto& w : words) {
        if (w[0] == '.') {
          p.text = w.substr(1);
        } else if (w == "json" || w == "upper" || w == "lower" || w == "println" || w == "title") {
          p.funcs.push_back(w);
        } else {
          return Error::InvalidArgument("template parsing error: function \"" + w +
                                        "\" not defined");
        }
      }
    }
    // Functions written before the argument apply after it is read: keep order.
    t.pieces_.push_back(std::move(p));
    s.remove_prefix(close + 2);
  }
  return t;
}

Result<std::string> Template::Execute(const nlohmann::json& data) const {
  std::string out;
  for (const auto& p : pieces_) {
    if (!p.action) {
      out += p.text;
      continue;
    }
    const nlohmann::json* v = &data;
    if (!p.text.empty()) {
      for (const auto& field : Split(p.text, '.', true)) {
        if (!v->is_object() || !v->contains(field))
          return Error::InvalidArgument("template: can't evaluate field " + field);
        v = &(*v)[field];
      }
    }
    std::string s;
    bool done = false;
    for (const auto& f : p.funcs) {
      if (f == "json") {
        s = v->dump();
        done = true;
      }
    }
    if (!done) s = Plain(*v);
    for (const auto& f : p.funcs) {
      if (f == "upper")
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return std::toupper(c); });
      if (f == "lower")
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return std::tolower(c); });
      if (f == "println") s += "\n";
    }
    out += s;
  }
  return out;
}

std::string Template::ExecuteHeader(
    const std::vector<std::pair<std::string, std::string>>& names) const {
  std::string out;
  for (const auto& p : pieces_) {
    if (!p.action) {
      out += p.text;
      continue;
    }
    std::string header;
    for (const auto& [field, name] : names)
      if (field == p.text) header = name;
    if (header.empty()) {
      // "CreatedSince" → "CREATED SINCE"
      for (size_t i = 0; i < p.text.size(); ++i) {
        char c = p.text[i];
        if (i > 0 && std::isupper(static_cast<unsigned char>(c)) &&
            std::islower(static_cast<unsigned char>(p.text[i - 1])))
          header += ' ';
        header += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
    out += header;
  }
  return out;
}

}  // namespace berth::cli
