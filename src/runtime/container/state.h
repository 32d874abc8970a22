#pragma once

// What the runtime keeps of a container between its commands, and the OCI state it reports.
//
// Layout under --root (default /run/berth-runtime), one directory per container:
//   <root>/<id>/state.json    ContainerRecord (this file's JSON); written once by create
//   <root>/<id>/config.json   the bundle's config.json as it was at create (hooks, process)
//   <root>/<id>/exec.fifo     exists from create until start: init blocks reading it

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "util/result.h"

namespace berth::runtime::container {

enum class Status { kCreating, kCreated, kRunning, kPaused, kStopped };
std::string_view StatusName(Status s);

struct ContainerRecord {
  std::string id;
  pid_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22: tells a reused pid apart
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339, UTC, nanoseconds
  std::string owner;
  std::string cgroup_path;
  std::map<std::string, std::string> annotations;
};

/// Validates a container id: [A-Za-z0-9_+.-]+, not "." or "..", at most 1024 bytes.
Result<void> ValidateId(std::string_view id);

std::string StateDir(const std::string& root, const std::string& id);
Result<void> SaveRecord(const std::string& dir, const ContainerRecord& rec);
/// NotFound ("container \"x\" does not exist") if there is no such container.
Result<ContainerRecord> LoadRecord(const std::string& root, const std::string& id);

/// The start time of a live process, or 0 if it is gone or a zombie.
uint64_t ProcessStartTime(pid_t pid);
/// created (fifo present), running, paused (frozen) or stopped (init gone or pid reused).
Status ComputeStatus(const std::string& root, const ContainerRecord& rec, bool frozen);

/// The OCI state JSON of a container, formatted as runc prints it (two-space indent). The pid
/// is 0 once stopped.
std::string StateJson(const ContainerRecord& rec, Status status, bool indent = true);

}  // namespace berth::runtime::container
