// libFuzzer target for the image documents: ParseManifest, ParseIndex, ParseConfig,
// ParseDescriptor and DetectManifestMediaType on the same bytes. Any input gives a value or an
// InvalidArgument error; a parsed document serialises to bytes that parse and serialise again
// to the same bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "oci/image.h"

namespace {

template <typename T>
void Check(const berth::Result<T>& r) {
  if (!r && (!r.error().IsInvalidArgument() || r.error().message().empty())) std::abort();
}

template <typename T, typename Parse>
void RoundTrip(const berth::Result<T>& r, Parse parse) {
  Check(r);
  if (!r) return;
  std::string once = berth::oci::Serialize(*r);
  auto again = parse(once);
  if (!again) std::abort();
  if (berth::oci::Serialize(*again) != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  RoundTrip(berth::oci::ParseManifest(text),
            [](std::string_view s) { return berth::oci::ParseManifest(s); });
  RoundTrip(berth::oci::ParseIndex(text),
            [](std::string_view s) { return berth::oci::ParseIndex(s); });
  RoundTrip(berth::oci::ParseConfig(text),
            [](std::string_view s) { return berth::oci::ParseConfig(s); });
  RoundTrip(berth::oci::ParseDescriptor(text),
            [](std::string_view s) { return berth::oci::ParseDescriptor(s); });
  Check(berth::oci::DetectManifestMediaType(text));
  return 0;
}
