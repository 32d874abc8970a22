#include <linux/seccomp.h>
#include <seccomp.h>

#include <cerrno>

#include "runtime/seccomp/seccomp.h"
#include "runtime/seccomp/seccomp_internal.h"

namespace berth::runtime::seccomp {
namespace internal {
namespace {

// Names as runtime-spec config-linux.md lists them.
constexpr ActionName kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

constexpr OperatorName kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

constexpr ArchName kArchitectures[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

template <typename T>
std::vector<std::string> NamesOf(std::span<const T> table) {
  std::vector<std::string> out;
  out.reserve(table.size());
  for (const auto& e : table) out.emplace_back(e.name);
  return out;
}

}  // namespace

std::span<const ActionName> Actions() { return kActions; }
std::span<const OperatorName> Operators() { return kOperators; }
std::span<const ArchName> Architectures() { return kArchitectures; }
std::span<const FlagName> Flags() { return kFlags; }

std::optional<uint32_t> ResolveAction(std::string_view name, std::optional<uint32_t> errno_ret) {
  for (const auto& a : kActions) {
    if (a.name != name) continue;
    if (!a.takes_errno) return a.value;
    return a.value | (errno_ret.value_or(EPERM) & 0xffffu);
  }
  return std::nullopt;
}

}  // namespace internal

std::vector<std::string> SupportedActions() { return internal::NamesOf(internal::Actions()); }
std::vector<std::string> SupportedOperators() { return internal::NamesOf(internal::Operators()); }
std::vector<std::string> SupportedArchitectures() {
  return internal::NamesOf(internal::Architectures());
}
std::vector<std::string> SupportedFlags() { return internal::NamesOf(internal::Flags()); }

}  // namespace berth::runtime::seccomp
