#include "oci/runtime_spec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace berth::oci {
namespace {

using nlohmann::json;

// A runc-style config.json with every section this runtime reads.
const char* const kFullConfig = R"({
  "ociVersion": "1.2.0",
  "process": {
    "terminal": true,
    "consoleSize": {"height": 24, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6, 4294967295],
             "username": "alice"},
    "args": ["sh", "-c", "echo hi"],
    "commandLine": "cmd.exe",
    "env": ["PATH=/usr/bin:/bin", "TERM=xterm"],
    "cwd": "/work",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL"],
      "effective": ["CAP_KILL"],
      "inheritable": [],
      "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512},
                {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}],
    "noNewPrivileges": true,
    "apparmorProfile": "docker-default",
    "oomScoreAdj": -500,
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -5, "priority": 3,
                  "flags": ["SCHED_FLAG_RESET_ON_FORK"], "runtime": 100, "deadline": 200,
                  "period": 300}
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "box",
  "domainname": "example.org",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/srv/data",
     "options": ["rbind", "ro", "nosuid"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}]}
  ],
  "hooks": {
    "prestart": [{"path": "/bin/pre", "args": ["pre", "a"], "env": ["X=1"], "timeout": 5}],
    "createRuntime": [{"path": "/bin/cr"}],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps1"}, {"path": "/bin/ps2"}],
    "poststop": [{"path": "/bin/pst", "timeout": 1}]
  },
  "annotations": {"org.example.key": "value", "empty": ""},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"},
                   {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "user"},
                   {"type": "cgroup"}, {"type": "time"}],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1},
                    {"containerID": 1, "hostID": 100000, "size": 65535}],
    "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "timeOffsets": {"monotonic": {"secs": -100, "nanosecs": 5},
                    "boottime": {"secs": 86400, "nanosecs": 999999999}},
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229,
                 "fileMode": 438, "uid": 0, "gid": 0},
                {"type": "b", "path": "/dev/sda", "major": 8, "minor": 0}],
    "cgroupsPath": "/berth/box",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"},
                  {"allow": true, "type": "b", "major": 8, "access": "m"}],
      "memory": {"limit": 536870912, "reservation": 268435456, "swap": -1, "kernel": 0,
                 "kernelTCP": 1024, "swappiness": 60, "disableOOMKiller": true,
                 "useHierarchy": false, "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": 50000, "burst": 1000, "period": 100000,
              "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "0-1",
              "mems": "0", "idle": 1},
      "pids": {"limit": 64},
      "blockIO": {"weight": 500, "leafWeight": 300,
                  "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 100}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2097152}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 32, "rate": 100}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 48, "rate": 200}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
      "unified": {"memory.high": "max", "io.weight": "default 100"}
    },
    "rootfsPropagation": "rslave",
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/seccomp.sock",
      "listenerMetadata": "meta",
      "syscalls": [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 4294967295, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38,
         "args": [{"index": 1, "value": 18446744073709551615, "valueTwo": 7,
                   "op": "SCMP_CMP_MASKED_EQ"}]}
      ]
    },
    "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "4294967295"},
    "maskedPaths": ["/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "personality": {"domain": "LINUX32", "flags": []},
    "intelRdt": {"closID": "x"}
  }
})";

// The error message of a parse that must fail (and fail with InvalidArgument).
std::string SpecError(std::string_view text) {
  auto r = ParseSpec(text);
  if (r) return "<parsed>";
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().message();
  return r.error().message();
}

// The full config with the value at a JSON pointer replaced.
std::string WithValue(const std::string& pointer, const json& value) {
  json j = json::parse(kFullConfig);
  j[json::json_pointer(pointer)] = value;
  return j.dump();
}

// "/linux/devices/0/major" → "linux.devices[0].major", the form of the parser's errors.
std::string PathOf(std::string_view pointer) {
  std::string out;
  size_t pos = 1;
  while (pos <= pointer.size()) {
    size_t end = pointer.find('/', pos);
    if (end == std::string_view::npos) end = pointer.size();
    std::string_view part = pointer.substr(pos, end - pos);
    if (!part.empty() && part.find_first_not_of("0123456789") == std::string_view::npos)
      out += "[" + std::string(part) + "]";
    else
      out += (out.empty() ? "" : ".") + std::string(part);
    pos = end + 1;
  }
  return out;
}

std::string Minimal(const std::string& extra = "") {
  return R"({"ociVersion": "1.0.0")" + extra + "}";
}

TEST(RuntimeSpecTest, ParsesFullConfig) {
  auto r = ParseSpec(kFullConfig);
  ASSERT_TRUE(r) << r.error().message();
  const Spec& s = *r;
  EXPECT_EQ(s.oci_version, "1.2.0");
  EXPECT_EQ(s.hostname, "box");
  EXPECT_EQ(s.domainname, "example.org");

  ASSERT_TRUE(s.process);
  const Process& p = *s.process;
  EXPECT_TRUE(p.terminal);
  ASSERT_TRUE(p.console_size);
  EXPECT_EQ(p.console_size->height, 24u);
  EXPECT_EQ(p.console_size->width, 80u);
  EXPECT_EQ(p.user.uid, 1000u);
  EXPECT_EQ(p.user.gid, 1001u);
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{5, 6, 4294967295u}));
  EXPECT_EQ(p.user.username, "alice");
  EXPECT_EQ(p.args, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_EQ(p.command_line, "cmd.exe");
  EXPECT_EQ(p.env, (std::vector<std::string>{"PATH=/usr/bin:/bin", "TERM=xterm"}));
  EXPECT_EQ(p.cwd, "/work");
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, (std::vector<std::string>{"CAP_AUDIT_WRITE", "CAP_KILL"}));
  EXPECT_EQ(p.capabilities->effective, (std::vector<std::string>{"CAP_KILL"}));
  EXPECT_TRUE(p.capabilities->inheritable.empty());
  EXPECT_EQ(p.capabilities->permitted.size(), 2u);
  EXPECT_EQ(p.capabilities->ambient, (std::vector<std::string>{"CAP_NET_BIND_SERVICE"}));
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].hard, 1024u);
  EXPECT_EQ(p.rlimits[0].soft, 512u);
  EXPECT_EQ(p.rlimits[1].hard, UINT64_MAX);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.apparmor_profile, "docker-default");
  EXPECT_EQ(p.oom_score_adj, -500);
  EXPECT_EQ(p.selinux_label, "system_u:system_r:container_t:s0");
  ASSERT_TRUE(p.io_priority);
  EXPECT_EQ(p.io_priority->klass, "IOPRIO_CLASS_BE");
  EXPECT_EQ(p.io_priority->priority, 4);
  ASSERT_TRUE(p.scheduler);
  EXPECT_EQ(p.scheduler->policy, "SCHED_DEADLINE");
  EXPECT_EQ(p.scheduler->nice, -5);
  EXPECT_EQ(p.scheduler->priority, 3);
  EXPECT_EQ(p.scheduler->flags, (std::vector<std::string>{"SCHED_FLAG_RESET_ON_FORK"}));
  EXPECT_EQ(p.scheduler->runtime, 100u);
  EXPECT_EQ(p.scheduler->deadline, 200u);
  EXPECT_EQ(p.scheduler->period, 300u);

  ASSERT_TRUE(s.root);
  EXPECT_EQ(s.root->path, "rootfs");
  EXPECT_TRUE(s.root->readonly);

  ASSERT_EQ(s.mounts.size(), 2u);
  EXPECT_EQ(s.mounts[0].destination, "/proc");
  EXPECT_EQ(s.mounts[0].type, "proc");
  EXPECT_EQ(s.mounts[0].source, "proc");
  EXPECT_TRUE(s.mounts[0].options.empty());
  EXPECT_EQ(s.mounts[1].options, (std::vector<std::string>{"rbind", "ro", "nosuid"}));
  ASSERT_EQ(s.mounts[1].uid_mappings.size(), 1u);
  EXPECT_EQ(s.mounts[1].uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(s.mounts[1].uid_mappings[0].size, 65536u);
  ASSERT_EQ(s.mounts[1].gid_mappings.size(), 1u);
  EXPECT_EQ(s.mounts[1].gid_mappings[0].host_id, 200000u);

  ASSERT_TRUE(s.hooks);
  ASSERT_EQ(s.hooks->prestart.size(), 1u);
  EXPECT_EQ(s.hooks->prestart[0].path, "/bin/pre");
  EXPECT_EQ(s.hooks->prestart[0].args, (std::vector<std::string>{"pre", "a"}));
  EXPECT_EQ(s.hooks->prestart[0].env, (std::vector<std::string>{"X=1"}));
  EXPECT_EQ(s.hooks->prestart[0].timeout, 5);
  ASSERT_EQ(s.hooks->create_runtime.size(), 1u);
  EXPECT_EQ(s.hooks->create_runtime[0].path, "/bin/cr");
  EXPECT_FALSE(s.hooks->create_runtime[0].timeout);
  ASSERT_EQ(s.hooks->create_container.size(), 1u);
  EXPECT_EQ(s.hooks->create_container[0].path, "/bin/cc");
  ASSERT_EQ(s.hooks->start_container.size(), 1u);
  EXPECT_EQ(s.hooks->start_container[0].path, "/bin/sc");
  ASSERT_EQ(s.hooks->poststart.size(), 2u);
  EXPECT_EQ(s.hooks->poststart[1].path, "/bin/ps2");
  ASSERT_EQ(s.hooks->poststop.size(), 1u);
  EXPECT_EQ(s.hooks->poststop[0].timeout, 1);

  EXPECT_EQ(s.annotations,
            (std::map<std::string, std::string>{{"org.example.key", "value"}, {"empty", ""}}));

  ASSERT_TRUE(s.linux);
  const Linux& l = *s.linux;
  ASSERT_EQ(l.namespaces.size(), 8u);
  EXPECT_EQ(l.namespaces[0].type, "pid");
  EXPECT_EQ(l.namespaces[0].path, "");
  ASSERT_NE(l.FindNamespace("network"), nullptr);
  EXPECT_EQ(l.FindNamespace("network")->path, "/var/run/netns/x");
  EXPECT_NE(l.FindNamespace("time"), nullptr);
  EXPECT_EQ(l.FindNamespace("net"), nullptr);
  ASSERT_EQ(l.uid_mappings.size(), 2u);
  EXPECT_EQ(l.uid_mappings[1].container_id, 1u);
  EXPECT_EQ(l.uid_mappings[1].host_id, 100000u);
  EXPECT_EQ(l.uid_mappings[1].size, 65535u);
  ASSERT_EQ(l.gid_mappings.size(), 1u);
  EXPECT_EQ(l.gid_mappings[0].host_id, 1000u);
  ASSERT_EQ(l.time_offsets.size(), 2u);
  EXPECT_EQ(l.time_offsets.at("monotonic").secs, -100);
  EXPECT_EQ(l.time_offsets.at("monotonic").nanosecs, 5u);
  EXPECT_EQ(l.time_offsets.at("boottime").secs, 86400);
  EXPECT_EQ(l.time_offsets.at("boottime").nanosecs, 999999999u);
  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].type, "c");
  EXPECT_EQ(l.devices[0].path, "/dev/fuse");
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].minor, 229);
  EXPECT_EQ(l.devices[0].file_mode, 0666u);
  EXPECT_EQ(l.devices[0].uid, 0u);
  EXPECT_EQ(l.devices[0].gid, 0u);
  EXPECT_FALSE(l.devices[1].file_mode);
  EXPECT_FALSE(l.devices[1].uid);
  EXPECT_EQ(l.cgroups_path, "/berth/box");
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  EXPECT_EQ(l.sysctl, (std::map<std::string, std::string>{{"net.ipv4.ip_forward", "1"},
                                                          {"kernel.shmmax", "4294967295"}}));
  EXPECT_EQ(l.masked_paths, (std::vector<std::string>{"/proc/kcore", "/sys/firmware"}));
  EXPECT_EQ(l.readonly_paths, (std::vector<std::string>{"/proc/sys", "/proc/sysrq-trigger"}));
  EXPECT_EQ(l.mount_label, "system_u:object_r:container_file_t:s0");
  ASSERT_TRUE(l.personality);
  EXPECT_EQ(l.personality->domain, "LINUX32");
  EXPECT_TRUE(l.personality->flags.empty());
  EXPECT_TRUE(l.has_intel_rdt);

  ASSERT_TRUE(l.resources);
  const Resources& res = *l.resources;
  ASSERT_EQ(res.devices.size(), 3u);
  EXPECT_FALSE(res.devices[0].allow);
  EXPECT_EQ(res.devices[0].type, "");
  EXPECT_FALSE(res.devices[0].major);
  EXPECT_EQ(res.devices[0].access, "rwm");
  EXPECT_TRUE(res.devices[1].allow);
  EXPECT_EQ(res.devices[1].type, "c");
  EXPECT_EQ(res.devices[1].major, 1);
  EXPECT_EQ(res.devices[1].minor, 3);
  EXPECT_EQ(res.devices[2].major, 8);
  EXPECT_FALSE(res.devices[2].minor);
  ASSERT_TRUE(res.memory);
  EXPECT_EQ(res.memory->limit, 536870912);
  EXPECT_EQ(res.memory->reservation, 268435456);
  EXPECT_EQ(res.memory->swap, -1);
  EXPECT_EQ(res.memory->kernel, 0);
  EXPECT_EQ(res.memory->kernel_tcp, 1024);
  EXPECT_EQ(res.memory->swappiness, 60u);
  EXPECT_EQ(res.memory->disable_oom_killer, true);
  EXPECT_EQ(res.memory->use_hierarchy, false);
  EXPECT_EQ(res.memory->check_before_update, true);
  ASSERT_TRUE(res.cpu);
  EXPECT_EQ(res.cpu->shares, 1024u);
  EXPECT_EQ(res.cpu->quota, 50000);
  EXPECT_EQ(res.cpu->burst, 1000u);
  EXPECT_EQ(res.cpu->period, 100000u);
  EXPECT_EQ(res.cpu->realtime_runtime, 950000);
  EXPECT_EQ(res.cpu->realtime_period, 1000000u);
  EXPECT_EQ(res.cpu->cpus, "0-1");
  EXPECT_EQ(res.cpu->mems, "0");
  EXPECT_EQ(res.cpu->idle, 1);
  ASSERT_TRUE(res.pids);
  EXPECT_EQ(res.pids->limit, 64);
  ASSERT_TRUE(res.block_io);
  EXPECT_EQ(res.block_io->weight, 500);
  EXPECT_EQ(res.block_io->leaf_weight, 300);
  ASSERT_EQ(res.block_io->weight_device.size(), 1u);
  EXPECT_EQ(res.block_io->weight_device[0].major, 8);
  EXPECT_EQ(res.block_io->weight_device[0].weight, 600);
  EXPECT_EQ(res.block_io->weight_device[0].leaf_weight, 100);
  ASSERT_EQ(res.block_io->throttle_read_bps_device.size(), 1u);
  EXPECT_EQ(res.block_io->throttle_read_bps_device[0].rate, 1048576u);
  ASSERT_EQ(res.block_io->throttle_write_bps_device.size(), 1u);
  EXPECT_EQ(res.block_io->throttle_write_bps_device[0].minor, 16);
  EXPECT_EQ(res.block_io->throttle_write_bps_device[0].rate, 2097152u);
  ASSERT_EQ(res.block_io->throttle_read_iops_device.size(), 1u);
  EXPECT_EQ(res.block_io->throttle_read_iops_device[0].rate, 100u);
  ASSERT_EQ(res.block_io->throttle_write_iops_device.size(), 1u);
  EXPECT_EQ(res.block_io->throttle_write_iops_device[0].minor, 48);
  EXPECT_EQ(res.block_io->throttle_write_iops_device[0].rate, 200u);
  ASSERT_EQ(res.hugepage_limits.size(), 1u);
  EXPECT_EQ(res.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(res.hugepage_limits[0].limit, 209715200u);
  ASSERT_TRUE(res.network);
  EXPECT_EQ(res.network->class_id, 1048577u);
  ASSERT_EQ(res.network->priorities.size(), 1u);
  EXPECT_EQ(res.network->priorities[0].name, "eth0");
  EXPECT_EQ(res.network->priorities[0].priority, 500u);
  EXPECT_EQ(res.unified, (std::map<std::string, std::string>{{"memory.high", "max"},
                                                             {"io.weight", "default 100"}}));

  ASSERT_TRUE(l.seccomp);
  const Seccomp& sc = *l.seccomp;
  EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(sc.default_errno_ret, 1u);
  EXPECT_EQ(sc.architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
  EXPECT_EQ(sc.flags, (std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"}));
  EXPECT_EQ(sc.listener_path, "/run/seccomp.sock");
  EXPECT_EQ(sc.listener_metadata, "meta");
  ASSERT_EQ(sc.syscalls.size(), 3u);
  EXPECT_EQ(sc.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(sc.syscalls[0].action, "SCMP_ACT_ALLOW");
  EXPECT_FALSE(sc.syscalls[0].errno_ret);
  EXPECT_TRUE(sc.syscalls[0].args.empty());
  ASSERT_EQ(sc.syscalls[1].args.size(), 1u);
  EXPECT_EQ(sc.syscalls[1].args[0].index, 0u);
  EXPECT_EQ(sc.syscalls[1].args[0].value, 4294967295u);
  EXPECT_EQ(sc.syscalls[1].args[0].op, "SCMP_CMP_EQ");
  EXPECT_EQ(sc.syscalls[2].errno_ret, 38u);
  ASSERT_EQ(sc.syscalls[2].args.size(), 1u);
  EXPECT_EQ(sc.syscalls[2].args[0].index, 1u);
  EXPECT_EQ(sc.syscalls[2].args[0].value, UINT64_MAX);
  EXPECT_EQ(sc.syscalls[2].args[0].value_two, 7u);
  EXPECT_EQ(sc.syscalls[2].args[0].op, "SCMP_CMP_MASKED_EQ");
}

TEST(RuntimeSpecTest, MinimalConfigHasDefaults) {
  auto r = ParseSpec(Minimal());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->process);
  EXPECT_FALSE(r->root);
  EXPECT_FALSE(r->linux);
  EXPECT_FALSE(r->hooks);
  EXPECT_TRUE(r->mounts.empty());
  // null is the same as absent.
  r = ParseSpec(R"({"ociVersion": "1.0.0", "process": null, "linux": {"resources": null}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->process);
  ASSERT_TRUE(r->linux);
  EXPECT_FALSE(r->linux->resources);
}

TEST(RuntimeSpecTest, RejectsInvalidJson) {
  EXPECT_EQ(SpecError(""), "config.json: invalid JSON");
  EXPECT_EQ(SpecError("{"), "config.json: invalid JSON");
  EXPECT_EQ(SpecError("{\"ociVersion\": \"1.0.0\",}"), "config.json: invalid JSON");
  EXPECT_EQ(SpecError("{\"ociVersion\": \"1.0.0\"} trailing"), "config.json: invalid JSON");
  EXPECT_EQ(SpecError("{\"a\": \"\xff\xfe\"}"), "config.json: invalid JSON");
  EXPECT_EQ(SpecError(std::string("{\"a\": \"x\0y\"}", 12)), "config.json: invalid JSON");
  // Every truncation of a valid config is an error, never a crash.
  std::string full = kFullConfig;
  for (size_t n = 0; n + 1 < full.size(); n += 7) {
    auto r = ParseSpec(std::string_view(full).substr(0, n));
    EXPECT_FALSE(r) << "prefix of " << n << " bytes parsed";
  }
}

TEST(RuntimeSpecTest, RejectsNonObjects) {
  for (const char* text : {"[]", "null", "1", "\"x\"", "true", "[{\"ociVersion\":\"1.0.0\"}]"})
    EXPECT_EQ(SpecError(text), "config.json: expected an object") << text;
}

TEST(RuntimeSpecTest, WrongTypesNameThePath) {
  struct Case {
    const char* pointer;
    json value;
    const char* message;
  } cases[] = {
      {"/ociVersion", 1, "ociVersion: expected string"},
      {"/process", "x", "process: expected object"},
      {"/process/terminal", "yes", "process.terminal: expected boolean"},
      {"/process/consoleSize/height", "24", "process.consoleSize.height: expected integer"},
      {"/process/user/uid", 1.5, "process.user.uid: expected integer"},
      {"/process/user/additionalGids", 5,
       "process.user.additionalGids: expected array of integers"},
      {"/process/user/additionalGids", json::array({"a"}),
       "process.user.additionalGids[0]: expected integer"},
      {"/process/args", "sh", "process.args: expected array of strings"},
      {"/process/args", json::array({"sh", 1}), "process.args: expected array of strings"},
      {"/process/env", json::object(), "process.env: expected array of strings"},
      {"/process/capabilities/bounding", json::array({true}),
       "process.capabilities.bounding: expected array of strings"},
      {"/process/rlimits", json::object(), "process.rlimits: expected array"},
      {"/process/rlimits/1", "RLIMIT_CORE", "process.rlimits[1]: expected object"},
      {"/process/rlimits/0/hard", "1", "process.rlimits[0].hard: expected integer"},
      {"/process/oomScoreAdj", "1", "process.oomScoreAdj: expected integer"},
      {"/process/scheduler/flags", "x", "process.scheduler.flags: expected array of strings"},
      {"/root/readonly", 1, "root.readonly: expected boolean"},
      {"/root/path", json::array(), "root.path: expected string"},
      {"/hostname", false, "hostname: expected string"},
      {"/mounts", json::object(), "mounts: expected array"},
      {"/mounts/1/options", "ro", "mounts[1].options: expected array of strings"},
      {"/mounts/1/uidMappings/0/size", "1", "mounts[1].uidMappings[0].size: expected integer"},
      {"/hooks/prestart/0/timeout", "5", "hooks.prestart[0].timeout: expected integer"},
      {"/hooks/poststop", json::object(), "hooks.poststop: expected array"},
      {"/annotations", json::array(), "annotations: expected object of strings"},
      {"/annotations/k", 1, "annotations.k: expected string"},
      {"/linux/namespaces/0/type", 1, "linux.namespaces[0].type: expected string"},
      {"/linux/uidMappings/0/hostID", -1, "linux.uidMappings[0].hostID: value out of range"},
      {"/linux/timeOffsets/monotonic/secs", "1",
       "linux.timeOffsets.monotonic.secs: expected integer"},
      {"/linux/devices/0/major", "10", "linux.devices[0].major: expected integer"},
      {"/linux/cgroupsPath", 1, "linux.cgroupsPath: expected string"},
      {"/linux/resources/memory/limit", "1g", "linux.resources.memory.limit: expected integer"},
      {"/linux/resources/memory/disableOOMKiller", 1,
       "linux.resources.memory.disableOOMKiller: expected boolean"},
      {"/linux/resources/cpu/cpus", 1, "linux.resources.cpu.cpus: expected string"},
      {"/linux/resources/cpu/quota", 1.0, "linux.resources.cpu.quota: expected integer"},
      {"/linux/resources/pids/limit", "64", "linux.resources.pids.limit: expected integer"},
      {"/linux/resources/blockIO/weight", "5", "linux.resources.blockIO.weight: expected integer"},
      {"/linux/resources/blockIO/throttleReadBpsDevice/0/rate", "1",
       "linux.resources.blockIO.throttleReadBpsDevice[0].rate: expected integer"},
      {"/linux/resources/hugepageLimits/0/pageSize", 2,
       "linux.resources.hugepageLimits[0].pageSize: expected string"},
      {"/linux/resources/network/priorities/0/priority", "x",
       "linux.resources.network.priorities[0].priority: expected integer"},
      {"/linux/resources/unified/memory.high", 5,
       "linux.resources.unified.memory.high: expected string"},
      {"/linux/resources/devices/1/allow", "yes",
       "linux.resources.devices[1].allow: expected boolean"},
      {"/linux/seccomp/syscalls/1/args/0/value", "1",
       "linux.seccomp.syscalls[1].args[0].value: expected integer"},
      {"/linux/seccomp/architectures", "x86",
       "linux.seccomp.architectures: expected array of strings"},
      {"/linux/sysctl/net.ipv4.ip_forward", 1, "linux.sysctl.net.ipv4.ip_forward: expected string"},
      {"/linux/maskedPaths", "/proc", "linux.maskedPaths: expected array of strings"},
      {"/linux/personality", "LINUX", "linux.personality: expected object"},
      {"/linux", json::array(), "linux: expected object"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(SpecError(WithValue(c.pointer, c.value)), c.message) << c.pointer;
}

TEST(RuntimeSpecTest, IntegersOutOfRange) {
  struct Case {
    const char* pointer;
    json value;
  } cases[] = {
      {"/process/user/uid", -1},
      {"/process/user/uid", 4294967296},
      {"/process/user/gid", -1},
      {"/process/user/umask", -18},
      {"/process/user/additionalGids/0", 4294967296},
      {"/process/consoleSize/width", -80},
      {"/process/rlimits/0/soft", -1},
      {"/process/oomScoreAdj", 2147483648},
      {"/process/oomScoreAdj", -2147483649},
      {"/process/ioPriority/priority", 18446744073709551615u},
      {"/linux/uidMappings/0/size", 4294967296},
      {"/linux/timeOffsets/boottime/nanosecs", -1},
      {"/linux/devices/0/fileMode", -1},
      {"/linux/resources/memory/limit", 9223372036854775808u},
      {"/linux/resources/memory/swappiness", -1},
      {"/linux/resources/cpu/shares", -2},
      {"/linux/resources/blockIO/weight", 65536},
      {"/linux/resources/blockIO/weightDevice/0/weight", -1},
      {"/linux/resources/network/classID", 4294967296},
      {"/linux/seccomp/defaultErrnoRet", -1},
      {"/linux/seccomp/syscalls/2/args/0/index", -1},
  };
  for (const auto& c : cases)
    EXPECT_EQ(SpecError(WithValue(c.pointer, c.value)), PathOf(c.pointer) + ": value out of range")
        << c.pointer;
  // Spot-check the message form.
  EXPECT_EQ(SpecError(WithValue("/process/user/uid", -1)), "process.user.uid: value out of range");
  EXPECT_EQ(SpecError(WithValue("/linux/resources/memory/limit", 9223372036854775808u)),
            "linux.resources.memory.limit: value out of range");
  EXPECT_EQ(SpecError(WithValue("/linux/resources/blockIO/weight", 65536)),
            "linux.resources.blockIO.weight: value out of range");
  // A number too large for 64 bits parses as a float: not an integer.
  EXPECT_EQ(SpecError(Minimal(R"(, "process": {"user": {"uid": 99999999999999999999999}})")),
            "process.user.uid: expected integer");
  // The largest values in range are accepted.
  auto r = ParseSpec(WithValue("/process/user/uid", 4294967295u));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->process->user.uid, 4294967295u);
  r = ParseSpec(WithValue("/linux/resources/memory/limit", -9223372036854775807LL - 1));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->linux->resources->memory->limit, INT64_MIN);
}

TEST(RuntimeSpecTest, Namespaces) {
  EXPECT_EQ(SpecError(Minimal(R"(, "linux": {"namespaces": [{"type": "pid"}, {"type": "pid"}]})")),
            "linux.namespaces[1]: duplicate namespace \"pid\"");
  EXPECT_EQ(SpecError(Minimal(R"(, "linux": {"namespaces": [{"type": "net"}]})")),
            "linux.namespaces[0].type: unknown namespace type \"net\"");
  EXPECT_EQ(SpecError(Minimal(R"(, "linux": {"namespaces": [{"path": "/proc/1/ns/pid"}]})")),
            "linux.namespaces[0].type: unknown namespace type \"\"");
  EXPECT_EQ(SpecError(Minimal(R"(, "linux": {"namespaces": ["pid"]})")),
            "linux.namespaces[0]: expected object");
}

TEST(RuntimeSpecTest, SemanticChecks) {
  EXPECT_EQ(SpecError(Minimal(R"(, "mounts": [{"type": "tmpfs"}])")),
            "mounts[0].destination: must be set");
  EXPECT_EQ(SpecError(Minimal(R"(, "hooks": {"prestart": [{"args": ["x"]}]})")),
            "hooks.prestart[0].path: must be set");
  EXPECT_EQ(SpecError(Minimal(R"(, "hooks": {"poststop": [{"path": "/x", "timeout": 0}]})")),
            "hooks.poststop[0].timeout: must be positive");
  EXPECT_EQ(SpecError(Minimal(R"(, "process": {"rlimits": [{"hard": 1, "soft": 1}]})")),
            "process.rlimits[0].type: must be set");
  EXPECT_EQ(SpecError(WithValue("/linux/devices/0/type", "x")),
            "linux.devices[0].type: must be c, b, u or p");
  EXPECT_EQ(SpecError(WithValue("/linux/devices/0/path", "dev/fuse")),
            "linux.devices[0].path: must be an absolute path");
  EXPECT_EQ(SpecError(WithValue("/linux/resources/devices/1/type", "u")),
            "linux.resources.devices[1].type: must be a, b or c");
  EXPECT_EQ(SpecError(WithValue("/linux/resources/devices/1/access", "rwx")),
            "linux.resources.devices[1].access: must be made of r, w and m");
  EXPECT_EQ(SpecError(WithValue("/linux/rootfsPropagation", "bogus")),
            "linux.rootfsPropagation: unknown propagation \"bogus\"");
  EXPECT_EQ(SpecError(WithValue("/linux/seccomp/defaultAction", "")),
            "linux.seccomp.defaultAction: must be set");
  EXPECT_EQ(SpecError(WithValue("/linux/seccomp/syscalls/0/action", "")),
            "linux.seccomp.syscalls[0].action: must be set");
}

TEST(RuntimeSpecTest, OciVersion) {
  for (const char* ok : {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.3.0", "1.0.0-rc5"}) {
    auto r = ParseSpec(R"({"ociVersion": ")" + std::string(ok) + "\"}");
    ASSERT_TRUE(r) << ok << ": " << r.error().message();
    EXPECT_EQ(r->oci_version, ok);
  }
  EXPECT_EQ(SpecError(R"({"ociVersion": "2.0.0"})"),
            "ociVersion: unsupported version \"2.0.0\" (this runtime supports 1.0 through 1.3)");
  EXPECT_EQ(SpecError(R"({"ociVersion": "11.0.0"})").substr(0, 32),
            "ociVersion: unsupported version ");
  EXPECT_EQ(SpecError(R"({"ociVersion": "0.6.0"})").substr(0, 32),
            "ociVersion: unsupported version ");
  EXPECT_EQ(SpecError(R"({"ociVersion": ""})"), "ociVersion: must be set");
  EXPECT_EQ(SpecError(R"({})"), "ociVersion: must be set");
  EXPECT_TRUE(CheckOciVersion("1.3.0"));
  EXPECT_FALSE(CheckOciVersion("2"));
}

TEST(RuntimeSpecTest, UnknownFieldsIgnored) {
  auto r = ParseSpec(R"({"ociVersion": "1.0.0", "vendorThing": {"deep": [1, 2, {"x": null}]},
                         "process": {"args": ["sh"], "futureField": 7},
                         "linux": {"resources": {"rdma": {"mlx": {"hcaHandles": 1}}},
                                   "netDevices": {"eth1": {}}},
                         "windows": {"layerFolders": []}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->process->args, (std::vector<std::string>{"sh"}));
  EXPECT_TRUE(r->linux->resources);
}

TEST(RuntimeSpecTest, RefusesHugeInput) {
  std::string big = R"({"ociVersion": "1.0.0", "hostname": ")";
  big.append(kMaxConfigBytes, 'a');
  big += "\"}";
  EXPECT_EQ(SpecError(big), "config.json: larger than 16777216 bytes");
  EXPECT_FALSE(ParseProcess(big));
  EXPECT_FALSE(ParseResources(big));
  // Just under the limit is read.
  std::string fits = R"({"ociVersion": "1.0.0", "hostname": ")";
  const size_t prefix = fits.size();
  fits.append(kMaxConfigBytes - prefix - 2, 'a');
  fits += "\"}";
  ASSERT_EQ(fits.size(), kMaxConfigBytes);
  auto r = ParseSpec(fits);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->hostname.size(), kMaxConfigBytes - prefix - 2);
}

TEST(RuntimeSpecTest, DeepNestingIsRefused) {
  // Unclosed and closed, at the top and under an ignored field.
  EXPECT_EQ(SpecError(std::string(100000, '[')), "config.json: nested deeper than 128 levels");
  EXPECT_EQ(SpecError(std::string(100000, '[') + std::string(100000, ']')),
            "config.json: nested deeper than 128 levels");
  std::string nested = R"({"ociVersion": "1.0.0", "x": )";
  for (int i = 0; i < 100000; ++i) nested += "{\"a\":";
  nested += "1";
  nested.append(100000, '}');
  nested += "}";
  EXPECT_EQ(SpecError(nested), "config.json: nested deeper than 128 levels");
  EXPECT_EQ(ParseProcess(std::string(100000, '[')).error().message(),
            "process.json: nested deeper than 128 levels");
  EXPECT_EQ(ParseResources(std::string(100000, '{')).error().message(),
            "resources: nested deeper than 128 levels");
  // Brackets inside strings (escaped quotes too) do not count.
  std::string in_string =
      R"({"ociVersion": "1.0.0", "hostname": "\")" + std::string(100000, '[') + R"("})";
  auto r = ParseSpec(in_string);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->hostname.size(), 100001u);
  // 128 levels are fine.
  std::string ok =
      R"({"ociVersion": "1.0.0", "x": )" + std::string(127, '[') + std::string(127, ']') + "}";
  EXPECT_TRUE(ParseSpec(ok));
  std::string too_deep =
      R"({"ociVersion": "1.0.0", "x": )" + std::string(128, '[') + std::string(128, ']') + "}";
  EXPECT_EQ(SpecError(too_deep), "config.json: nested deeper than 128 levels");
}

TEST(RuntimeSpecTest, ParseProcess) {
  auto r = ParseProcess(R"({"args": ["ls", "-l"], "cwd": "/tmp", "env": ["A=b"],
                            "user": {"uid": 5, "gid": 6}, "terminal": true,
                            "capabilities": {"bounding": ["CAP_KILL"]}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->args, (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(r->cwd, "/tmp");
  EXPECT_EQ(r->env, (std::vector<std::string>{"A=b"}));
  EXPECT_EQ(r->user.uid, 5u);
  EXPECT_EQ(r->user.gid, 6u);
  EXPECT_TRUE(r->terminal);
  EXPECT_EQ(r->capabilities->bounding, (std::vector<std::string>{"CAP_KILL"}));
  // Defaults.
  r = ParseProcess("{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cwd, "/");
  EXPECT_FALSE(r->terminal);
  // Errors are named from "process".
  EXPECT_EQ(ParseProcess(R"({"user": {"uid": "0"}})").error().message(),
            "process.user.uid: expected integer");
  EXPECT_EQ(ParseProcess("[]").error().message(), "process.json: expected an object");
  EXPECT_EQ(ParseProcess("{").error().message(), "process.json: invalid JSON");
}

TEST(RuntimeSpecTest, ParseResources) {
  auto r = ParseResources(R"({"memory": {"limit": 1048576, "swap": 2097152},
                              "cpu": {"quota": 20000, "period": 100000, "cpus": "0"},
                              "pids": {"limit": -1},
                              "blockIO": {"weight": 10},
                              "unified": {"cpu.max": "max"}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->memory->limit, 1048576);
  EXPECT_EQ(r->memory->swap, 2097152);
  EXPECT_FALSE(r->memory->reservation);
  EXPECT_EQ(r->cpu->quota, 20000);
  EXPECT_EQ(r->cpu->period, 100000u);
  EXPECT_EQ(r->cpu->cpus, "0");
  EXPECT_EQ(r->pids->limit, -1);
  EXPECT_EQ(r->block_io->weight, 10);
  EXPECT_EQ(r->unified.at("cpu.max"), "max");
  EXPECT_FALSE(r->network);
  r = ParseResources("{}");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->memory);
  EXPECT_TRUE(r->devices.empty());
  EXPECT_EQ(ParseResources(R"({"memory": {"limit": "1"}})").error().message(),
            "resources.memory.limit: expected integer");
  EXPECT_EQ(ParseResources(R"({"cpu": []})").error().message(), "resources.cpu: expected object");
  EXPECT_EQ(ParseResources("1").error().message(), "resources: expected an object");
  EXPECT_EQ(ParseResources("").error().message(), "resources: invalid JSON");
}

}  // namespace
}  // namespace berth::oci
