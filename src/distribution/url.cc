#include "distribution/url.h"

#include <arpa/inet.h>

#include <cctype>

namespace berth::distribution {
namespace {

// "host:port" / "[v6]:port" / "host" → host (brackets kept) and port (may be empty).
bool SplitHostPort(std::string_view hp, std::string* host, std::string* port) {
  if (hp.empty()) return false;
  if (hp[0] == '[') {
    size_t close = hp.find(']');
    if (close == std::string_view::npos) return false;
    *host = std::string(hp.substr(0, close + 1));
    std::string_view rest = hp.substr(close + 1);
    if (rest.empty()) return true;
    if (rest[0] != ':') return false;
    *port = std::string(rest.substr(1));
  } else {
    size_t colon = hp.rfind(':');
    *host = std::string(hp.substr(0, colon));
    if (colon != std::string_view::npos) *port = std::string(hp.substr(colon + 1));
  }
  for (char c : *port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return !host->empty() && (port->empty() || (port->size() <= 5 && std::stoi(*port) <= 65535));
}

}  // namespace

std::string Url::Authority() const {
  bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  return default_port ? host : host + ":" + port;
}

Result<Url> ParseUrl(std::string_view text) {
  auto bad = [&] { return Error::InvalidArgument("invalid URL \"" + std::string(text) + "\""); };
  Url u;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return bad();
  u.scheme = std::string(text.substr(0, sep));
  for (auto& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.scheme != "http" && u.scheme != "https") return bad();
  std::string_view rest = text.substr(sep + 3);
  size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) return bad();  // no userinfo
  if (!SplitHostPort(authority, &u.host, &u.port)) return bad();
  if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (auto hash = u.target.find('#'); hash != std::string::npos) u.target.resize(hash);
  if (u.target.empty() || u.target[0] == '?') u.target = "/" + u.target;
  return u;
}

Result<Url> ResolveUrl(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) return ParseUrl(location);
  if (location.starts_with("//")) return ParseUrl(base.scheme + ":" + std::string(location));
  Url u = base;
  if (location.starts_with("/")) {
    u.target = std::string(location);
  } else {  // relative to the base's directory
    std::string dir = base.target.substr(0, base.target.find('?'));
    dir.resize(dir.rfind('/') + 1);
    u.target = dir + std::string(location);
  }
  return u;
}

std::string QueryEscape(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool IsLoopbackHost(std::string_view host_port) {
  std::string host, port;
  if (!SplitHostPort(host_port, &host, &port)) return false;
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "localhost") return true;
  if (host.front() == '[') {
    struct in6_addr a6;
    std::string inner = host.substr(1, host.size() - 2);
    return ::inet_pton(AF_INET6, inner.c_str(), &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
  }
  struct in_addr a4;
  if (::inet_pton(AF_INET, host.c_str(), &a4) != 1) return false;
  return (ntohl(a4.s_addr) >> 24) == 127;
}

}  // namespace berth::distribution
