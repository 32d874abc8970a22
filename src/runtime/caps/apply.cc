// DropBounding() and Apply(): run in the container's init between clone and execve, so they make
// raw calls only and build no strings longer than std::string's inline buffer (15 chars).

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/caps/caps.h"

namespace berth::runtime::caps {
namespace {

Error Fail(const char* what) {
  int err = errno;
  return Error(ErrorCodeFromErrno(err), what, err);
}

bool Has(uint64_t set, int cap) { return (set >> cap) & 1; }

}  // namespace

Result<void> DropBounding(const CapSets& sets) {
  int last = LastCap();  // cached by Parse(), else read without allocating
  for (int cap = 0; cap <= last; ++cap) {
    if (Has(sets.bounding, cap)) continue;
    int in = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in == 0) continue;  // already dropped
    if (in < 0 || ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return Fail("capbset drop");
  }
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return Fail("set keepcaps");
  return {};
}

Result<void> Apply(const CapSets& sets) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    data[i].effective = static_cast<uint32_t>(sets.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(sets.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(sets.inheritable >> (32 * i));
  }
  if (::syscall(SYS_capset, &header, data) < 0) return Fail("capset");

  // Raising needs the capability in both permitted and inheritable (capabilities(7)).
  // Kernels before 4.3 have no ambient set: fine while none is asked for.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
      (errno != EINVAL || sets.ambient != 0))
    return Fail("ambient clear");
  int last = LastCap();
  for (int cap = 0; cap <= last; ++cap) {
    if (!Has(sets.ambient, cap)) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return Fail("ambient raise");
  }
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return Fail("clear keepcaps");
  return {};
}

}  // namespace berth::runtime::caps
