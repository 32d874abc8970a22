#include "cli/format/template.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "util/file.h"

namespace berth::cli {

using Value = nlohmann::ordered_json;

namespace {

struct Arg {
  enum Kind { kField, kRoot, kString, kNumber, kFunc } kind;
  std::string text;  // field path without the leading dot ("A.B", "" for "."), literal, name
};
struct Stage {
  std::vector<Arg> args;  // args[0] is a function (kFunc) or a value
};

}  // namespace

struct Template::Node {
  enum Kind { kText, kAction, kRange, kIf, kWith } kind = kText;
  std::string text;
  std::vector<Stage> pipeline;
  std::vector<Node> body, else_body;
};

namespace {

using Node = Template::Node;

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

std::string Plain(const Value& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "<no value>";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  if (v.is_object()) {
    // Go prints a map as map[k:v ...], keys sorted
    std::vector<std::string> keys;
    for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
    std::sort(keys.begin(), keys.end());
    std::string out = "map[";
    for (size_t i = 0; i < keys.size(); ++i)
      out += (i ? " " : "") + keys[i] + ":" + Plain(v[keys[i]]);
    return out + "]";
  }
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + Plain(v[i]);
  return out + "]";
}

bool Truthy(const Value& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get<std::string>().empty();
  return !v.empty();
}

const char* kFuncs[] = {"json",   "upper", "lower", "title", "println",  "print",
                        "printf", "index", "join",  "split", "len",      "eq",
                        "ne",     "not",   "and",   "or",    "truncate", "pad"};

bool IsFunc(std::string_view w) {
  return std::find(std::begin(kFuncs), std::end(kFuncs), w) != std::end(kFuncs);
}

// Splits an action's text into words: "quoted strings", `raw strings`, | and the rest.
Result<std::vector<std::string>> Words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '"' || c == '`') {
      std::string w(1, '"');
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (c == '"' && s[j] == '\\' && j + 1 < s.size()) {
          char e = s[++j];
          w += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        } else {
          w += s[j];
        }
      }
      if (j >= s.size())
        return Error::InvalidArgument("template parsing error: unterminated quoted string");
      out.push_back(std::move(w));
      i = j + 1;
    } else if (c == '|') {
      out.emplace_back("|");
      ++i;
    } else {
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '|') ++j;
      out.emplace_back(s.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

Result<std::vector<Stage>> ParsePipeline(const std::vector<std::string>& words, size_t from) {
  std::vector<Stage> stages(1);
  for (size_t i = from; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "|") {
      if (stages.back().args.empty())
        return Error::InvalidArgument("template parsing error: missing value for command");
      stages.emplace_back();
      continue;
    }
    Arg a{Arg::kField, ""};
    if (w[0] == '"') {
      a = {Arg::kString, w.substr(1)};
    } else if (w[0] == '.') {
      a = {Arg::kField, w.substr(1)};
    } else if (w[0] == '$') {
      a = {Arg::kRoot, w.size() > 1 && w[1] == '.' ? w.substr(2) : ""};
    } else if (std::isdigit(static_cast<unsigned char>(w[0])) || w[0] == '-') {
      a = {Arg::kNumber, w};
    } else if (IsFunc(w)) {
      a = {Arg::kFunc, w};
    } else {
      return Error::InvalidArgument("template parsing error: function \"" + w + "\" not defined");
    }
    stages.back().args.push_back(std::move(a));
  }
  if (stages.back().args.empty())
    return Error::InvalidArgument("template parsing error: empty command");
  return stages;
}

struct Scope {
  const Value* root;
  const Value* hidden;
};

Result<Value> Field(const Value& base, const std::string& path, const Value* hidden) {
  const Value* v = &base;
  bool first = true;
  for (const auto& field : Split(path, '.', true)) {
    if (v->is_object() && v->contains(field)) {
      v = &(*v)[field];
    } else if (first && hidden && hidden->is_object() && hidden->contains(field)) {
      v = &(*hidden)[field];
    } else if (v->is_null() && !first) {
      return Value();  // Go: a field of a nil map is <no value>
    } else {
      return Error::InvalidArgument("template: can't evaluate field " + field);
    }
    first = false;
  }
  return *v;
}

Result<Value> Call(const std::string& f, const std::vector<Value>& a) {
  auto need = [&](size_t n) -> Result<void> {
    if (a.size() < n) return Error::InvalidArgument("template: wrong number of args for " + f);
    return {};
  };
  if (f == "json") {
    BERTH_TRY(need(1));
    return Value(a[0].dump());
  }
  if (f == "upper" || f == "lower" || f == "title") {
    BERTH_TRY(need(1));
    std::string s = Plain(a[0]);
    bool start = true;
    for (auto& c : s) {
      auto u = static_cast<unsigned char>(c);
      if (f == "upper") c = static_cast<char>(std::toupper(u));
      if (f == "lower") c = static_cast<char>(std::tolower(u));
      if (f == "title") {
        if (start) c = static_cast<char>(std::toupper(u));
        start = !std::isalnum(u);
      }
    }
    return Value(s);
  }
  if (f == "println" || f == "print") {
    std::string s;
    for (size_t i = 0; i < a.size(); ++i) {
      // print adds spaces only between operands when neither is a string (Go's Sprint)
      bool sp = f == "println" || (i > 0 && !a[i].is_string() && !a[i - 1].is_string());
      if (i > 0 && sp) s += ' ';
      s += Plain(a[i]);
    }
    if (f == "println") s += "\n";
    return Value(s);
  }
  if (f == "printf") {
    BERTH_TRY(need(1));
    std::string fmt = Plain(a[0]), s;
    size_t next = 1;
    for (size_t i = 0; i < fmt.size(); ++i) {
      if (fmt[i] != '%' || i + 1 >= fmt.size()) {
        s += fmt[i];
      } else if (fmt[++i] == '%') {
        s += '%';
      } else {
        s += next < a.size() ? Plain(a[next++]) : "%!" + std::string(1, fmt[i]) + "(MISSING)";
      }
    }
    return Value(s);
  }
  if (f == "index") {
    BERTH_TRY(need(2));
    Value v = a[0];
    for (size_t i = 1; i < a.size(); ++i) {
      if (v.is_object() && a[i].is_string()) {
        std::string k = a[i].get<std::string>();
        v = v.contains(k) ? Value(v[k]) : Value();
      } else if (v.is_array() && a[i].is_number_integer()) {
        auto n = a[i].get<int64_t>();
        if (n < 0 || static_cast<size_t>(n) >= v.size())
          return Error::InvalidArgument("template: index out of range: " + std::to_string(n));
        v = Value(v[static_cast<size_t>(n)]);
      } else if (v.is_null()) {
        v = Value();
      } else {
        return Error::InvalidArgument("template: can't index item of type " +
                                      std::string(v.type_name()));
      }
    }
    return v;
  }
  if (f == "join") {
    BERTH_TRY(need(2));
    std::string s, sep = Plain(a[1]);
    if (a[0].is_array())
      for (size_t i = 0; i < a[0].size(); ++i) s += (i ? sep : "") + Plain(a[0][i]);
    return Value(s);
  }
  if (f == "split") {
    BERTH_TRY(need(2));
    std::string s = Plain(a[0]), sep = Plain(a[1]);
    Value out = Value::array();
    if (sep.empty()) return out;
    size_t at = 0;
    for (size_t p; (p = s.find(sep, at)) != std::string::npos; at = p + sep.size())
      out.push_back(s.substr(at, p - at));
    out.push_back(s.substr(at));
    return out;
  }
  if (f == "len") {
    BERTH_TRY(need(1));
    if (a[0].is_string()) return Value(a[0].get<std::string>().size());
    if (a[0].is_array() || a[0].is_object()) return Value(a[0].size());
    if (a[0].is_null()) return Value(0);
    return Error::InvalidArgument("template: len of " + std::string(a[0].type_name()));
  }
  if (f == "eq" || f == "ne") {
    BERTH_TRY(need(2));
    bool eq = false;
    for (size_t i = 1; i < a.size(); ++i) eq = eq || a[0] == a[i];
    return Value(f == "eq" ? eq : !eq);
  }
  if (f == "not") {
    BERTH_TRY(need(1));
    return Value(!Truthy(a[0]));
  }
  if (f == "and" || f == "or") {
    BERTH_TRY(need(1));
    for (const auto& v : a)
      if (Truthy(v) == (f == "or")) return v;
    return a.back();
  }
  if (f == "truncate" || f == "pad") {
    BERTH_TRY(need(2));
    std::string s = Plain(a[0]);
    auto n = static_cast<size_t>(std::max<int64_t>(a[1].is_number() ? a[1].get<int64_t>() : 0, 0));
    if (f == "truncate") return Value(s.size() > n ? s.substr(0, n) : s);
    auto m = static_cast<size_t>(a.size() > 2 && a[2].is_number() ? a[2].get<int64_t>() : 0);
    return Value(std::string(n, ' ') + s + std::string(m, ' '));
  }
  return Error::InvalidArgument("template: function \"" + f + "\" not defined");
}

Result<Value> ArgValue(const Arg& a, const Value& dot, const Scope& sc) {
  switch (a.kind) {
    case Arg::kField:
      return Field(dot, a.text, sc.hidden);
    case Arg::kRoot:
      return Field(*sc.root, a.text, sc.hidden);
    case Arg::kString:
      return Value(a.text);
    case Arg::kNumber: {
      auto v = Value::parse(a.text, nullptr, false);
      if (v.is_discarded()) return Error::InvalidArgument("template: bad number syntax: " + a.text);
      return v;
    }
    case Arg::kFunc:
      break;
  }
  return Error::InvalidArgument("template: unexpected function " + a.text);
}

Result<Value> Eval(const std::vector<Stage>& pipeline, const Value& dot, const Scope& sc) {
  Value prev;
  for (size_t s = 0; s < pipeline.size(); ++s) {
    const auto& args = pipeline[s].args;
    if (args[0].kind == Arg::kFunc) {
      std::vector<Value> vals;
      for (size_t i = 1; i < args.size(); ++i)
        vals.push_back(BERTH_TRY(ArgValue(args[i], dot, sc)));
      if (s > 0) vals.push_back(prev);
      prev = BERTH_TRY(Call(args[0].text, vals));
      continue;
    }
    if (s > 0) return Error::InvalidArgument("template: can't give argument to non-function");
    Value v = BERTH_TRY(ArgValue(args[0], dot, sc));
    // .Label "key": a field holding a map, called with a key (docker's context methods)
    for (size_t i = 1; i < args.size(); ++i) {
      Value key = BERTH_TRY(ArgValue(args[i], dot, sc));
      if (!v.is_object() || !key.is_string())
        return Error::InvalidArgument("template: can't give argument to non-function " +
                                      args[0].text);
      std::string k = key.get<std::string>();
      v = v.contains(k) ? Value(v[k]) : Value("");
    }
    prev = std::move(v);
  }
  return prev;
}

Result<void> Run(const std::vector<Node>& nodes, const Value& dot, const Scope& sc,
                 std::string& out) {
  for (const auto& n : nodes) {
    switch (n.kind) {
      case Node::kText:
        out += n.text;
        break;
      case Node::kAction:
        out += Plain(BERTH_TRY(Eval(n.pipeline, dot, sc)));
        break;
      case Node::kIf:
      case Node::kWith: {
        Value v = BERTH_TRY(Eval(n.pipeline, dot, sc));
        if (Truthy(v))
          BERTH_TRY(Run(n.body, n.kind == Node::kWith ? v : dot, sc, out));
        else
          BERTH_TRY(Run(n.else_body, dot, sc, out));
        break;
      }
      case Node::kRange: {
        Value v = BERTH_TRY(Eval(n.pipeline, dot, sc));
        if (!Truthy(v)) {
          BERTH_TRY(Run(n.else_body, dot, sc, out));
        } else if (v.is_array()) {
          for (const auto& e : v) BERTH_TRY(Run(n.body, e, sc, out));
        } else if (v.is_object()) {
          std::vector<std::string> keys;
          for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
          std::sort(keys.begin(), keys.end());
          for (const auto& k : keys) BERTH_TRY(Run(n.body, v[k], sc, out));
        } else {
          return Error::InvalidArgument("template: range can't iterate over " + Plain(v));
        }
        break;
      }
    }
  }
  return {};
}

// The field a header cell names: the first field of the action's pipeline.
std::string HeaderField(const Node& n) {
  for (const auto& st : n.pipeline)
    for (const auto& a : st.args)
      if (a.kind == Arg::kField) return a.text;
  return "";
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
  std::vector<Node> top;
  // open blocks: the node being built and whether it is in its else part
  std::vector<std::pair<Node, bool>> stack;
  auto sink = [&]() -> std::vector<Node>& {
    if (stack.empty()) return top;
    return stack.back().second ? stack.back().first.else_body : stack.back().first.body;
  };
  bool trim_next = false;
  while (!s.empty()) {
    size_t open = s.find("{{");
    std::string_view lit = s.substr(0, open);
    bool trim_prev = open != std::string_view::npos && s.substr(open, 4) == "{{- ";
    if (trim_next)
      while (!lit.empty() && std::isspace(static_cast<unsigned char>(lit.front())))
        lit.remove_prefix(1);
    if (trim_prev)
      while (!lit.empty() && std::isspace(static_cast<unsigned char>(lit.back())))
        lit.remove_suffix(1);
    if (!lit.empty()) sink().push_back({Node::kText, Unescape(lit), {}, {}, {}});
    if (open == std::string_view::npos) break;
    size_t close = s.find("}}", open);
    if (close == std::string_view::npos)
      return Error::InvalidArgument("template parsing error: unclosed action");
    std::string_view body = s.substr(open + 2, close - open - 2);
    if (trim_prev) body.remove_prefix(2);
    trim_next = body.size() >= 2 && body.substr(body.size() - 2) == " -";
    if (trim_next) body.remove_suffix(2);
    s.remove_prefix(close + 2);
    auto words = BERTH_TRY(Words(Trim(body)));
    if (words.empty())
      return Error::InvalidArgument("template parsing error: missing value for command");
    const std::string& w0 = words[0];
    if (w0 == "range" || w0 == "if" || w0 == "with") {
      Node n;
      n.kind = w0 == "range" ? Node::kRange : w0 == "if" ? Node::kIf : Node::kWith;
      n.pipeline = BERTH_TRY(ParsePipeline(words, 1));
      stack.emplace_back(std::move(n), false);
    } else if (w0 == "else") {
      if (stack.empty() || stack.back().second)
        return Error::InvalidArgument("template parsing error: unexpected {{else}}");
      stack.back().second = true;
      if (words.size() > 1 && words[1] == "if") {
        // {{else if X}}: a nested if that the same {{end}} closes
        Node n;
        n.kind = Node::kIf;
        n.pipeline = BERTH_TRY(ParsePipeline(words, 2));
        n.text = "elseif";
        stack.emplace_back(std::move(n), false);
      }
    } else if (w0 == "end") {
      if (stack.empty())
        return Error::InvalidArgument("template parsing error: unexpected {{end}}");
      bool chained = true;
      while (chained) {
        Node n = std::move(stack.back().first);
        stack.pop_back();
        chained = n.text == "elseif";
        n.text.clear();
        sink().push_back(std::move(n));
      }
    } else {
      Node n;
      n.kind = Node::kAction;
      n.pipeline = BERTH_TRY(ParsePipeline(words, 0));
      sink().push_back(std::move(n));
    }
  }
  if (!stack.empty()) return Error::InvalidArgument("template parsing error: unexpected EOF");
  t.nodes_ = std::make_shared<const std::vector<Node>>(std::move(top));
  return t;
}

Result<std::string> Template::Execute(const nlohmann::json& data) const {
  return Execute(data, nlohmann::json());
}

Result<std::string> Template::Execute(const nlohmann::json& data,
                                      const nlohmann::json& hidden) const {
  Value d = data, h = hidden;
  std::string out;
  Scope sc{&d, &h};
  if (nodes_) BERTH_TRY(Run(*nodes_, d, sc, out));
  return out;
}

Result<std::string> Template::ExecuteOrdered(const nlohmann::ordered_json& data) const {
  Value h;
  std::string out;
  Scope sc{&data, &h};
  if (nodes_) BERTH_TRY(Run(*nodes_, data, sc, out));
  return out;
}

std::string Template::ExecuteHeader(
    const std::vector<std::pair<std::string, std::string>>& names) const {
  std::string out;
  if (!nodes_) return out;
  for (const auto& n : *nodes_) {
    if (n.kind == Node::kText) {
      out += n.text;
      continue;
    }
    std::string field = HeaderField(n), header;
    for (const auto& [f, name] : names)
      if (f == field) header = name;
    // {{.Label "com.example"}}: the key is the header, as docker prints it
    if (!n.pipeline.empty() && n.pipeline[0].args.size() > 1 &&
        n.pipeline[0].args[0].kind == Arg::kField && n.pipeline[0].args[1].kind == Arg::kString)
      header = n.pipeline[0].args[1].text;
    if (header.empty()) {
      // "CreatedSince" → "CREATED SINCE"
      for (size_t i = 0; i < field.size(); ++i) {
        char c = field[i];
        if (i > 0 && std::isupper(static_cast<unsigned char>(c)) &&
            std::islower(static_cast<unsigned char>(field[i - 1])))
          header += ' ';
        header += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
    }
    out += header;
  }
  return out;
}

}  // namespace berth::cli
