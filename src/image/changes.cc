#include "image/changes.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "util/file.h"

namespace berth::image {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The JSON form ["a", "b"], if the text is one; else nullopt.
std::optional<std::vector<std::string>> JsonArray(std::string_view text) {
  if (text.empty() || text.front() != '[') return std::nullopt;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& e : j) {
    if (!e.is_string()) return std::nullopt;
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<std::string> Command(std::string_view rest) {
  if (auto a = JsonArray(rest)) return *a;
  return {"/bin/sh", "-c", std::string(rest)};
}

std::string Unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return std::string(v.substr(1, v.size() - 2));
  return std::string(v);
}

// "k=v k2=v2" or the legacy "k v" form.
Result<std::vector<std::pair<std::string, std::string>>> KeyValues(std::string_view rest,
                                                                   const std::string& what) {
  std::vector<std::pair<std::string, std::string>> out;
  if (rest.find('=') == std::string_view::npos) {
    auto sp = rest.find_first_of(" \t");
    if (sp == std::string_view::npos)
      return Error::InvalidArgument(what + " requires two arguments");
    out.emplace_back(std::string(rest.substr(0, sp)), std::string(Trim(rest.substr(sp + 1))));
    return out;
  }
  for (const auto& word : Split(rest, ' ', true)) {
    auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error::InvalidArgument(what + " names can not be blank: " + word);
    out.emplace_back(Unquote(word.substr(0, eq)), Unquote(word.substr(eq + 1)));
  }
  return out;
}

void SetEnv(oci::ContainerConfig* c, const std::string& key, const std::string& value) {
  std::string kv = key + "=" + value;
  for (auto& e : c->env) {
    if (e.rfind(key + "=", 0) == 0) {
      e = kv;
      return;
    }
  }
  c->env.push_back(kv);
}

void AddSorted(std::vector<std::string>* v, std::string item) {
  if (std::find(v->begin(), v->end(), item) == v->end()) v->push_back(std::move(item));
  std::sort(v->begin(), v->end());
}

Result<void> ApplyOne(std::string_view line, oci::ContainerConfig* c) {
  line = Trim(line);
  auto sp = line.find_first_of(" \t");
  std::string cmd = Upper(line.substr(0, sp));
  std::string_view rest = sp == std::string_view::npos ? "" : Trim(line.substr(sp));
  if (cmd == "CMD") {
    c->cmd = Command(rest);
  } else if (cmd == "ENTRYPOINT") {
    c->entrypoint = Command(rest);
  } else if (cmd == "ENV") {
    for (auto& [k, v] : BERTH_TRY(KeyValues(rest, "ENV"))) SetEnv(c, k, v);
  } else if (cmd == "LABEL") {
    for (auto& [k, v] : BERTH_TRY(KeyValues(rest, "LABEL"))) c->labels[k] = v;
  } else if (cmd == "WORKDIR") {
    c->working_dir = std::string(rest);
  } else if (cmd == "USER") {
    c->user = std::string(rest);
  } else if (cmd == "STOPSIGNAL") {
    c->stop_signal = std::string(rest);
  } else if (cmd == "EXPOSE") {
    for (const auto& p : Split(rest, ' ', true))
      AddSorted(&c->exposed_ports, p.find('/') == std::string::npos ? p + "/tcp" : p);
  } else if (cmd == "VOLUME") {
    auto a = JsonArray(rest);
    for (const auto& v : a ? *a : Split(rest, ' ', true)) AddSorted(&c->volumes, v);
  } else if (cmd == "ONBUILD") {
    c->on_build.emplace_back(rest);
  } else {
    return Error::InvalidArgument(cmd + " is not a valid change command");
  }
  if (rest.empty() && cmd != "CMD" && cmd != "ENTRYPOINT")
    return Error::InvalidArgument(cmd + " requires at least one argument");
  return {};
}

}  // namespace

Result<void> ApplyChanges(const std::vector<std::string>& changes, oci::ContainerConfig* config) {
  for (const auto& change : changes) {
    // One --change may hold several lines.
    for (const auto& line : Split(change, '\n', true)) {
      if (Trim(line).empty()) continue;
      BERTH_TRY(ApplyOne(line, config));
    }
  }
  return {};
}

}  // namespace berth::image
