#include "runtime/container/state.h"

#include <sys/stat.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include "oci/runtime_spec.h"
#include "util/file.h"

namespace berth::runtime::container {

using nlohmann::ordered_json;

std::string_view StatusName(Status s) {
  switch (s) {
    case Status::kCreating:
      return "creating";
    case Status::kCreated:
      return "created";
    case Status::kRunning:
      return "running";
    case Status::kPaused:
      return "paused";
    case Status::kStopped:
      return "stopped";
  }
  return "unknown";
}

Result<void> ValidateId(std::string_view id) {
  if (id.empty()) return Error::InvalidArgument("container id cannot be empty");
  if (id.size() > 1024) return Error::InvalidArgument("invalid container id: too long");
  if (id == "." || id == "..")
    return Error::InvalidArgument("invalid container id: " + std::string(id));
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok) return Error::InvalidArgument("invalid container id: " + std::string(id));
  }
  return {};
}

std::string StateDir(const std::string& root, const std::string& id) { return JoinPath(root, id); }

Result<void> SaveRecord(const std::string& dir, const ContainerRecord& rec) {
  ordered_json j = {{"id", rec.id},
                    {"pid", rec.pid},
                    {"start_time", rec.start_time},
                    {"bundle", rec.bundle},
                    {"rootfs", rec.rootfs},
                    {"created", rec.created},
                    {"owner", rec.owner},
                    {"cgroup_path", rec.cgroup_path},
                    {"annotations", rec.annotations}};
  // No fsync: the state lives under /run and means nothing after a reboot.
  return WriteFileReplace(JoinPath(dir, "state.json"), j.dump(), 0600);
}

Result<ContainerRecord> LoadRecord(const std::string& root, const std::string& id) {
  BERTH_TRY(ValidateId(id));
  auto text = ReadFile(JoinPath(StateDir(root, id), "state.json"), 1u << 20);
  if (!text) {
    if (text.error().IsNotFound())
      return Error::NotFound("container \"" + id + "\" does not exist");
    return std::move(text).error();
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Error::DataLoss("container \"" + id + "\": state.json is corrupt");
  ContainerRecord rec;
  try {
    rec.id = j.value("id", "");
    rec.pid = j.value("pid", 0);
    rec.start_time = j.value("start_time", uint64_t{0});
    rec.bundle = j.value("bundle", "");
    rec.rootfs = j.value("rootfs", "");
    rec.created = j.value("created", "");
    rec.owner = j.value("owner", "");
    rec.cgroup_path = j.value("cgroup_path", "");
    if (j.contains("annotations"))
      rec.annotations = j["annotations"].get<std::map<std::string, std::string>>();
  } catch (const std::exception& e) {
    return Error::DataLoss("container \"" + id + "\": state.json: " + e.what());
  }
  return rec;
}

uint64_t ProcessStartTime(pid_t pid) {
  if (pid <= 0) return 0;
  auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!stat) return 0;
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos) return 0;
  auto fields = Split(std::string_view(*stat).substr(close + 2), ' ', true);
  // fields[0] is field 3 (state); start time is field 22.
  if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X") return 0;
  return std::strtoull(fields[19].c_str(), nullptr, 10);
}

Status ComputeStatus(const std::string& root, const ContainerRecord& rec, bool frozen) {
  uint64_t st = ProcessStartTime(rec.pid);
  if (st == 0 || st != rec.start_time) return Status::kStopped;
  if (PathExists(JoinPath(StateDir(root, rec.id), "exec.fifo"))) return Status::kCreated;
  return frozen ? Status::kPaused : Status::kRunning;
}

std::string StateJson(const ContainerRecord& rec, Status status, bool indent) {
  ordered_json j = {{"ociVersion", std::string(oci::kOciVersion)},
                    {"id", rec.id},
                    {"pid", status == Status::kStopped ? 0 : rec.pid},
                    {"status", std::string(StatusName(status))},
                    {"bundle", rec.bundle},
                    {"rootfs", rec.rootfs},
                    {"created", rec.created},
                    {"owner", rec.owner}};
  if (!rec.annotations.empty()) j["annotations"] = rec.annotations;
  return indent ? j.dump(2) : j.dump();
}

}  // namespace berth::runtime::container
