#include "oci/digest.h"

namespace berth::oci {
namespace {

bool LowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view text) {
  auto bad = [&] { return Error::InvalidArgument("invalid digest \"" + std::string(text) + "\""); };
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad();
  std::string_view alg = text.substr(0, colon), hex = text.substr(colon + 1);
  size_t want = alg == "sha256" ? 64 : alg == "sha512" ? 128 : 0;
  if (want == 0) {
    return Error::InvalidArgument("unsupported digest algorithm \"" + std::string(alg) + "\"");
  }
  if (hex.size() != want || !LowerHex(hex)) return bad();
  Digest d;
  d.text_ = std::string(text);
  d.colon_ = colon;
  return d;
}

Digest Digest::FromHex(std::string_view algorithm, std::string_view hex) {
  Digest d;
  d.text_ = std::string(algorithm) + ":" + std::string(hex);
  d.colon_ = algorithm.size();
  return d;
}

std::string_view Digest::algorithm() const { return std::string_view(text_).substr(0, colon_); }

std::string_view Digest::hex() const {
  return text_.empty() ? std::string_view() : std::string_view(text_).substr(colon_ + 1);
}

}  // namespace berth::oci
