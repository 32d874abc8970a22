#include "runtime/namespaces/namespaces.h"

namespace berth::runtime::namespaces {

int CloneFlag(std::string_view type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  return 0;
}

std::string_view ProcName(std::string_view type) {
  if (type == "network") return "net";
  if (type == "mount") return "mnt";
  return type;
}

}  // namespace berth::runtime::namespaces
