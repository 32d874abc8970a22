#include "util/base64.h"

#include <cstdint>

namespace berth {
namespace {

const char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(in[k])); };
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    for (int s : {18, 12, 6, 0}) out += alphabet[(n >> s) & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 0) return out;
  uint32_t n = at(i) << 16;
  if (rest == 2) n |= at(i + 1) << 8;
  out += alphabet[(n >> 18) & 63];
  out += alphabet[(n >> 12) & 63];
  if (rest == 2) out += alphabet[(n >> 6) & 63];
  if (pad) out.append(3 - rest, '=');
  return out;
}

// The value of c in the mode's alphabet, or -1.
int Value(char c, Base64 mode) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  bool std_ok = mode != Base64::kUrl, url_ok = mode != Base64::kStrict;
  if ((c == '+' && std_ok) || (c == '-' && url_ok)) return 62;
  if ((c == '/' && std_ok) || (c == '_' && url_ok)) return 63;
  return -1;
}

}  // namespace

std::string Base64Encode(std::string_view data) { return Encode(data, kStd, true); }
std::string Base64UrlEncode(std::string_view data) { return Encode(data, kUrl, false); }

std::optional<std::string> Base64Decode(std::string_view text, Base64 mode) {
  if (mode == Base64::kStrict && text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t digits = 0, pads = 0;
  for (char c : text) {
    if (mode == Base64::kLenient && (c == '\n' || c == '\r')) continue;
    if (c == '=') {
      ++pads;
      continue;
    }
    if (pads) return std::nullopt;  // data after padding
    int v = Value(c, mode);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    ++digits;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // One digit alone in the last group holds no whole byte: no encoder writes that.
  if (digits % 4 == 1 || pads > 2) return std::nullopt;
  if (mode == Base64::kStrict && pads != (4 - digits % 4) % 4) return std::nullopt;
  return out;
}

}  // namespace berth
