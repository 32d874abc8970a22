#pragma once

// Base64 (RFC 4648) in the three flavours Berth meets:
//   Base64Encode("user:pass")            → "dXNlcjpwYXNz"    standard alphabet, padded
//   Base64UrlEncode("\xfb\xff")          → "-_8"             URL alphabet, no padding (JWT)
//   Base64Decode(text, Base64::kStrict)  HTTP Basic: standard alphabet, padding required
//   Base64Decode(text, Base64::kUrl)     JWT parts: URL alphabet, trailing '=' tolerated
//   Base64Decode(text, Base64::kLenient) X-Registry-Auth, X-Docker-Container-Path-Stat: either
//                                        alphabet, padding optional, CR/LF ignored
// A decode returns nullopt on malformed input (a character outside the alphabet, data after
// padding, a length no encoder makes); it never reads past the text.

#include <optional>
#include <string>
#include <string_view>

namespace berth {

enum class Base64 { kStrict, kUrl, kLenient };

std::string Base64Encode(std::string_view data);
std::string Base64UrlEncode(std::string_view data);
std::optional<std::string> Base64Decode(std::string_view text, Base64 mode);

}  // namespace berth
