#include "api/http/http.h"

#include <strings.h>

#include "util/log.h"

namespace berth::api {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  size_t n = std::min(a.size(), b.size());
  int c = ::strncasecmp(a.data(), b.data(), n);
  return c < 0 || (c == 0 && a.size() < b.size());
}

std::string Request::Query(std::string_view key, std::string def) const {
  auto range = query.equal_range(std::string(key));
  if (range.first == range.second) return def;
  return std::prev(range.second)->second;
}

bool Request::QueryBool(std::string_view key, bool def) const {
  auto range = query.equal_range(std::string(key));
  if (range.first == range.second) return def;
  const std::string& v = std::prev(range.second)->second;
  return !(v.empty() || v == "0" || v == "false" || v == "False" || v == "FALSE");
}

std::string Request::Header(std::string_view key) const {
  auto it = headers.find(key);
  return it == headers.end() ? "" : it->second;
}

Response JsonResponse(int status, std::string json) {
  Response r;
  r.status = status;
  r.body = std::move(json);
  r.body += "\n";
  r.Header("Content-Type", "application/json");
  return r;
}

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kConflict:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotImplemented:
      return 501;
    case ErrorCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

Response ErrorResponse(const Error& error) {
  std::string body = "{\"message\":\"";
  log::AppendJsonEscaped(&body, error.message());
  body += "\"}";
  return JsonResponse(HttpStatus(error.code()), std::move(body));
}

}  // namespace berth::api
