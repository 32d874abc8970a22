#include "api/http/router.h"

#include "util/file.h"

namespace berth::api {
namespace {

std::vector<std::string> Segments(std::string_view path) { return Split(path, '/', true); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool MatchFrom(const std::vector<std::string>& pattern, size_t pi,
               const std::vector<std::string>& path, size_t si,
               std::map<std::string, std::string>* params) {
  if (pi == pattern.size()) return si == path.size();
  const std::string& p = pattern[pi];
  bool param = p.size() > 2 && p.front() == '{' && p.back() == '}';
  if (!param) {
    return si < path.size() && path[si] == p && MatchFrom(pattern, pi + 1, path, si + 1, params);
  }
  bool greedy = p[p.size() - 2] == '*';
  std::string name = p.substr(1, p.size() - (greedy ? 3 : 2));
  if (si >= path.size()) return false;
  if (!greedy) {
    (*params)[name] = path[si];
    return MatchFrom(pattern, pi + 1, path, si + 1, params);
  }
  // Longest first, as a ".*" route variable matches.
  for (size_t end = path.size(); end > si; --end) {
    if (MatchFrom(pattern, pi + 1, path, end, params)) {
      std::string joined;
      for (size_t i = si; i < end; ++i) joined += (i > si ? "/" : "") + path[i];
      (*params)[name] = joined;
      return true;
    }
  }
  return false;
}

}  // namespace

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      *out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      *out += ' ';
    } else {
      *out += c;
    }
  }
  return true;
}

bool Router::ParseTarget(std::string_view target, Request* r) {
  std::string_view raw_path = target, raw_query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    raw_path = target.substr(0, q);
    raw_query = target.substr(q + 1);
  }
  if (raw_path.empty() || raw_path[0] != '/') return false;
  std::string path;
  if (!PercentDecode(raw_path, false, &path)) return false;
  // /v1.44/images/json → version 1.44, path /images/json
  r->api_version.clear();
  if (path.size() > 3 && path[1] == 'v' && path[2] >= '0' && path[2] <= '9') {
    size_t slash = path.find('/', 1);
    std::string_view v = std::string_view(path).substr(
        2, slash == std::string::npos ? std::string::npos : slash - 2);
    bool ok = !v.empty();
    for (char c : v) ok &= (c >= '0' && c <= '9') || c == '.';
    if (ok) {
      r->api_version = std::string(v);
      path = slash == std::string::npos ? "/" : path.substr(slash);
    }
  }
  r->path = path;
  r->query.clear();
  for (const auto& pair : Split(raw_query, '&', true)) {
    std::string key, value;
    auto eq = pair.find('=');
    if (!PercentDecode(std::string_view(pair).substr(0, eq), true, &key)) return false;
    if (eq != std::string::npos &&
        !PercentDecode(std::string_view(pair).substr(eq + 1), true, &value))
      return false;
    r->query.emplace(std::move(key), std::move(value));
  }
  return true;
}

void Router::Add(std::string method, std::string pattern, Handler handler, bool stream_body) {
  routes_.push_back({std::move(method), Segments(pattern), std::move(handler), stream_body});
}

bool Router::MatchRoute(const Route& route, const std::vector<std::string>& segments,
                        std::map<std::string, std::string>* params) {
  params->clear();
  return MatchFrom(route.segments, 0, segments, 0, params);
}

Router::Match Router::Find(Request& request) const {
  Match m;
  auto segments = Segments(request.path);
  std::map<std::string, std::string> params;
  for (const auto& route : routes_) {
    if (!MatchRoute(route, segments, &params)) continue;
    m.path_known = true;
    bool method_ok =
        route.method == request.method || (route.method == "GET" && request.method == "HEAD");
    if (!method_ok) continue;
    request.params = params;
    m.handler = &route.handler;
    m.stream_body = route.stream_body;
    return m;
  }
  return m;
}

}  // namespace berth::api
