#pragma once

// Private to runtime/seccomp: the name tables shared by Compile() and the Supported*() lists,
// and the canonical form of a profile that keys the cache.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "oci/runtime_spec.h"

namespace berth::runtime::seccomp::internal {

/// An OCI action name and its libseccomp value; takes_errno: the value is OR-ed with errnoRet.
struct ActionName {
  std::string_view name;
  uint32_t value;
  bool takes_errno;
};
struct OperatorName {
  std::string_view name;
  int value;  // enum scmp_compare
};
struct ArchName {
  std::string_view name;
  uint32_t value;  // SCMP_ARCH_*
};
struct FlagName {
  std::string_view name;
  unsigned value;  // SECCOMP_FILTER_FLAG_*
};

std::span<const ActionName> Actions();
std::span<const OperatorName> Operators();
std::span<const ArchName> Architectures();
std::span<const FlagName> Flags();

/// The libseccomp action for an OCI action name and errnoRet (EPERM when unset, for
/// SCMP_ACT_ERRNO and SCMP_ACT_TRACE), or nullopt for an unknown name.
std::optional<uint32_t> ResolveAction(std::string_view name, std::optional<uint32_t> errno_ret);

/// A byte string that names every field of the profile, in order, each length-prefixed, so two
/// profiles serialise equal only if they are equal. The cache key hashes this.
std::string CanonicalProfile(const oci::Seccomp& profile);

}  // namespace berth::runtime::seccomp::internal
