// libFuzzer target for image references: Reference::Parse, ParseNormalized, ParseDockerRef and
// ParseAnyReference on the same bytes. Any input gives a reference or an InvalidArgument error;
// a parsed reference prints back to a string that parses to the same reference.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "oci/reference.h"

namespace {

using berth::oci::Reference;

void CheckError(const berth::Error& e) {
  if (!e.IsInvalidArgument() || e.message().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto plain = Reference::Parse(text);
  if (plain) {
    if (plain->String() != text) std::abort();
  } else {
    CheckError(plain.error());
  }
  auto norm = Reference::ParseNormalized(text);
  if (norm) {
    auto again = Reference::ParseNormalized(norm->String());
    if (!again || !(*again == *norm)) std::abort();
    if (norm->FamiliarString().empty()) std::abort();
  } else {
    CheckError(norm.error());
  }
  auto docker = Reference::ParseDockerRef(text);
  if (docker) {
    if (docker->name_only() || (docker->has_tag() && docker->has_digest())) std::abort();
  } else {
    CheckError(docker.error());
  }
  auto any = berth::oci::ParseAnyReference(text);
  if (any) {
    if (any->named.has_value() == any->id.valid()) std::abort();
  } else {
    CheckError(any.error());
  }
  return 0;
}
