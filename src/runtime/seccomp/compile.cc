// Compile(): an OCI seccomp profile → classic BPF bytes, through libseccomp.

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <string>

#include "runtime/seccomp/seccomp.h"
#include "runtime/seccomp/seccomp_internal.h"
#include "util/fd.h"
#include "util/log.h"

namespace berth::runtime::seccomp {
namespace {

using internal::ResolveAction;

const log::Logger& Log() { return log::Get("runtime"); }

struct CtxFree {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxFree>;

std::string Field(size_t i, std::string_view member) {
  return "linux.seccomp.syscalls[" + std::to_string(i) + "]" + std::string(member);
}

Result<uint32_t> ArchToken(std::string_view name, size_t i) {
  for (const auto& a : internal::Architectures())
    if (a.name == name) return a.value;
  return Error::InvalidArgument("linux.seccomp.architectures[" + std::to_string(i) +
                                "]: unknown architecture " + std::string(name));
}

Result<scmp_compare> Operator(std::string_view name) {
  for (const auto& o : internal::Operators())
    if (o.name == name) return static_cast<scmp_compare>(o.value);
  return Error::InvalidArgument("unknown operator " + std::string(name));
}

// The conditions of one syscalls[] entry, each as runc builds them: MASKED_EQ compares
// (arg & value) == valueTwo.
Result<std::vector<scmp_arg_cmp>> Conditions(const oci::SeccompSyscall& rule, size_t i) {
  std::vector<scmp_arg_cmp> out;
  out.reserve(rule.args.size());
  for (size_t j = 0; j < rule.args.size(); ++j) {
    const oci::SeccompArg& arg = rule.args[j];
    std::string where = Field(i, ".args[" + std::to_string(j) + "]");
    if (arg.index >= 6)
      return Error::InvalidArgument(where + ".index: " + std::to_string(arg.index) +
                                    " out of range (0-5)");
    scmp_compare op = BERTH_TRY_CTX(Operator(arg.op), where + ".op");
    out.push_back(scmp_arg_cmp{arg.index, op, arg.value, arg.value_two});
  }
  return out;
}

// Several conditions on the same argument cannot be AND-ed in one libseccomp rule; runc then
// adds one rule per condition (OR), and so do we.
bool SharesAnIndex(const std::vector<scmp_arg_cmp>& conds) {
  std::array<int, 6> count{};
  for (const auto& c : conds)
    if (++count[c.arg] > 1) return true;
  return false;
}

// Adds the rules of one syscalls[] entry; returns whether any was added.
Result<bool> AddRule(void* ctx, const oci::SeccompSyscall& rule, size_t i,
                     uint32_t default_action) {
  uint32_t action = 0;
  if (auto a = ResolveAction(rule.action, rule.errno_ret)) {
    action = *a;
  } else {
    return Error::InvalidArgument(Field(i, ".action") + ": unknown action " + rule.action);
  }
  // libseccomp rejects a rule that does what the default does; it would change nothing.
  if (action == default_action) return false;
  std::vector<scmp_arg_cmp> conds = BERTH_TRY(Conditions(rule, i));
  bool one_per_cond = SharesAnIndex(conds);
  bool added = false;

  for (size_t n = 0; n < rule.names.size(); ++n) {
    const std::string& name = rule.names[n];
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      Log().Debug({{"syscall", name}}, "seccomp: unknown syscall skipped");
      continue;
    }
    auto add = [&](unsigned count, const scmp_arg_cmp* args) -> Result<void> {
      int rc = seccomp_rule_add_array(ctx, action, nr, count, args);
      if (rc < 0)
        return Error::FromErrno(
            -rc, Field(i, ".names[" + std::to_string(n) + "]") + " (" + name + "): add rule");
      return {};
    };
    if (conds.empty() || !one_per_cond) {
      BERTH_TRY(add(static_cast<unsigned>(conds.size()), conds.data()));
    } else {
      for (const auto& c : conds) BERTH_TRY(add(1, &c));
    }
    added = true;
  }
  return added;
}

Result<std::string> ExportBpf(void* ctx) {
  int raw = ::memfd_create("berth-seccomp", MFD_CLOEXEC);
  if (raw < 0) return Error::FromErrno(errno, "seccomp: memfd_create");
  Fd fd(raw);
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc < 0) return Error::FromErrno(-rc, "seccomp: export bpf");
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) return Error::FromErrno(errno, "seccomp: lseek memfd");
  return BERTH_TRY_CTX(ReadAll(fd.get()), "seccomp: read exported bpf");
}

}  // namespace

Result<Program> Compile(const oci::Seccomp& profile) {
  Program program;
  for (size_t i = 0; i < profile.flags.size(); ++i) {
    bool found = false;
    for (const auto& f : internal::Flags()) {
      if (f.name != profile.flags[i]) continue;
      program.flags |= f.value;
      found = true;
    }
    if (!found)
      return Error::InvalidArgument("linux.seccomp.flags[" + std::to_string(i) +
                                    "]: unknown flag " + profile.flags[i]);
  }

  auto default_action = ResolveAction(profile.default_action, profile.default_errno_ret);
  if (!default_action)
    return Error::InvalidArgument("linux.seccomp.defaultAction: unknown action " +
                                  profile.default_action);
  if (*default_action == SCMP_ACT_NOTIFY)
    return Error::InvalidArgument(
        "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

  Ctx ctx(seccomp_init(*default_action));
  if (!ctx) return Error::Internal("seccomp: seccomp_init failed");
  auto attr = [&](scmp_filter_attr a, uint32_t v, const char* what) -> Result<void> {
    int rc = seccomp_attr_set(ctx.get(), a, v);
    if (rc < 0) return Error::FromErrno(-rc, std::string("seccomp: set attribute ") + what);
    return {};
  };
  // The runtime sets no_new_privs itself and loads the program with seccomp(2), not
  // seccomp_load(): only the attributes that shape the program matter.
  BERTH_TRY(attr(SCMP_FLTATR_CTL_NNP, 0, "nnp"));
  BERTH_TRY(attr(SCMP_FLTATR_CTL_OPTIMIZE, 2, "optimize"));
  BERTH_TRY(attr(SCMP_FLTATR_API_SYSRAWRC, 1, "sysrawrc"));

  for (size_t i = 0; i < profile.architectures.size(); ++i) {
    uint32_t token = BERTH_TRY(ArchToken(profile.architectures[i], i));
    int rc = seccomp_arch_add(ctx.get(), token);
    if (rc < 0 && rc != -EEXIST)  // the native one is already there
      return Error::FromErrno(-rc, "linux.seccomp.architectures[" + std::to_string(i) + "] (" +
                                       profile.architectures[i] + "): add");
  }

  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    const oci::SeccompSyscall& rule = profile.syscalls[i];
    bool added = BERTH_TRY(AddRule(ctx.get(), rule, i, *default_action));
    if (added && rule.action == "SCMP_ACT_NOTIFY") program.notify = true;
  }

  program.bpf = BERTH_TRY(ExportBpf(ctx.get()));
  if (program.bpf.empty() || program.bpf.size() % 8 != 0)
    return Error::Internal("seccomp: exported bpf has bad size " +
                           std::to_string(program.bpf.size()));
  return program;
}

}  // namespace berth::runtime::seccomp
