// libFuzzer target for the config.json parser: oci::ParseSpec, ParseProcess and ParseResources
// on the same bytes. Any input must give a value or an InvalidArgument error: never a crash,
// an exception, undefined behaviour or another error class.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/runtime_spec.h"

namespace {

template <typename T>
void Check(const berth::Result<T>& r) {
  if (!r && !r.error().IsInvalidArgument()) std::abort();
  if (!r && r.error().message().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = berth::oci::ParseSpec(text);
  Check(spec);
  if (spec) {
    // What callers do next: look namespaces up, read the major version again.
    if (spec->linux) (void)spec->linux->FindNamespace("user");
    if (!berth::oci::CheckOciVersion(spec->oci_version)) std::abort();
  }
  Check(berth::oci::ParseProcess(text));
  Check(berth::oci::ParseResources(text));
  return 0;
}
