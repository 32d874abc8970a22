#pragma once

// URLs as the registry client meets them: the registry's base, a token realm, a redirect's
// Location. Only http and https, with a host (name, IPv4 or [IPv6]) and an optional port.

#include <string>
#include <string_view>

#include "util/result.h"

namespace berth::distribution {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // as written, IPv6 with its brackets: "[::1]"
  std::string port;    // "5000", or the scheme's default
  std::string target;  // path and query: "/v2/", "/token?service=x"

  /// host, plus ":port" unless it is the scheme's default: the Host header.
  std::string Authority() const;
  std::string String() const { return scheme + "://" + Authority() + target; }
};

/// InvalidArgument for anything but an absolute http(s) URL.
Result<Url> ParseUrl(std::string_view text);
/// A Location header: absolute, or relative to base (path-absolute "/x" or scheme-relative).
Result<Url> ResolveUrl(const Url& base, std::string_view location);

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
std::string QueryEscape(std::string_view s);

/// Whether a registry host ("127.0.0.1:5000", "localhost", "[::1]:5000") is on this machine:
/// such a registry is spoken to over plain HTTP, as Docker allows for 127.0.0.0/8 and ::1.
bool IsLoopbackHost(std::string_view host_port);

}  // namespace berth::distribution
