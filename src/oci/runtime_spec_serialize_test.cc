#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "oci/runtime_spec.h"

namespace berth::oci {
namespace {

using nlohmann::json;

// A file of tests/fuzz/corpus/config under the source tree (BERTH_SOURCE_DIR, set by CMake:
// __FILE__ is relative when ccache rewrites paths).
std::string Fixture(const std::string& name) {
  std::string root = BERTH_SOURCE_DIR;
  std::ifstream in(root + "/tests/fuzz/corpus/config/" + name);
  EXPECT_TRUE(in.good()) << "cannot read fixture " << name << " under " << root;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Spec MustParse(const std::string& text) {
  auto r = ParseSpec(text);
  EXPECT_TRUE(r) << r.error().message();
  return r ? std::move(*r) : Spec{};
}

// Serialize, parse back, serialize again: the two texts must be the same bytes.
void ExpectStable(const Spec& s) {
  std::string once = Serialize(s);
  std::string twice = Serialize(MustParse(once));
  EXPECT_EQ(once, twice);
}

// full.json sets every property the parser reads (runtime_spec_test.cc's kFullConfig).
TEST(SerializeSpec, FullConfigComesBackAsTheSameJson) {
  std::string text = Fixture("full.json");
  Spec s = MustParse(text);
  json want = json::parse(text);
  // What the types do not keep: empty arrays (omitempty) and intelRdt's contents.
  want["process"]["capabilities"].erase("inheritable");
  want["linux"]["personality"].erase("flags");
  want["linux"]["intelRdt"] = json::object();
  json got = json::parse(Serialize(s));
  EXPECT_EQ(got, want) << "diff: " << json::diff(want, got).dump();
  ExpectStable(s);
}

TEST(SerializeSpec, FullConfigFieldByField) {
  Spec a = MustParse(Fixture("full.json"));
  Spec b = MustParse(Serialize(a));
  EXPECT_EQ(b.oci_version, "1.2.0");
  ASSERT_TRUE(b.process);
  const Process& p = *b.process;
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
  EXPECT_EQ(p.env, a.process->env);
  EXPECT_EQ(p.cwd, "/work");
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, a.process->capabilities->bounding);
  EXPECT_EQ(p.capabilities->effective, a.process->capabilities->effective);
  EXPECT_TRUE(p.capabilities->inheritable.empty());
  EXPECT_EQ(p.capabilities->permitted, a.process->capabilities->permitted);
  EXPECT_EQ(p.capabilities->ambient, a.process->capabilities->ambient);
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[1].type, "RLIMIT_CORE");
  EXPECT_EQ(p.rlimits[1].hard, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(p.rlimits[1].soft, 0u);
  EXPECT_TRUE(p.no_new_privileges);
  EXPECT_EQ(p.apparmor_profile, "docker-default");
  EXPECT_EQ(p.oom_score_adj, -500);
  EXPECT_EQ(p.selinux_label, a.process->selinux_label);
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

  ASSERT_TRUE(b.root);
  EXPECT_EQ(b.root->path, "rootfs");
  EXPECT_TRUE(b.root->readonly);
  EXPECT_EQ(b.hostname, "box");
  EXPECT_EQ(b.domainname, "example.org");
  ASSERT_EQ(b.mounts.size(), 2u);
  EXPECT_EQ(b.mounts[1].destination, "/data");
  EXPECT_EQ(b.mounts[1].type, "bind");
  EXPECT_EQ(b.mounts[1].source, "/srv/data");
  EXPECT_EQ(b.mounts[1].options, (std::vector<std::string>{"rbind", "ro", "nosuid"}));
  ASSERT_EQ(b.mounts[1].uid_mappings.size(), 1u);
  EXPECT_EQ(b.mounts[1].uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(b.mounts[1].uid_mappings[0].size, 65536u);
  ASSERT_EQ(b.mounts[1].gid_mappings.size(), 1u);
  EXPECT_EQ(b.mounts[1].gid_mappings[0].host_id, 200000u);

  ASSERT_TRUE(b.hooks);
  ASSERT_EQ(b.hooks->prestart.size(), 1u);
  EXPECT_EQ(b.hooks->prestart[0].path, "/bin/pre");
  EXPECT_EQ(b.hooks->prestart[0].args, (std::vector<std::string>{"pre", "a"}));
  EXPECT_EQ(b.hooks->prestart[0].env, (std::vector<std::string>{"X=1"}));
  EXPECT_EQ(b.hooks->prestart[0].timeout, 5);
  ASSERT_EQ(b.hooks->create_runtime.size(), 1u);
  EXPECT_EQ(b.hooks->create_runtime[0].path, "/bin/cr");
  EXPECT_EQ(b.hooks->create_container.size(), 1u);
  EXPECT_EQ(b.hooks->start_container.size(), 1u);
  EXPECT_EQ(b.hooks->poststart.size(), 2u);
  ASSERT_EQ(b.hooks->poststop.size(), 1u);
  EXPECT_EQ(b.hooks->poststop[0].timeout, 1);
  EXPECT_EQ(b.annotations, a.annotations);
  EXPECT_EQ(b.annotations.at("empty"), "");

  ASSERT_TRUE(b.linux);
  const Linux& l = *b.linux;
  ASSERT_EQ(l.namespaces.size(), 8u);
  EXPECT_EQ(l.namespaces[1].type, "network");
  EXPECT_EQ(l.namespaces[1].path, "/var/run/netns/x");
  EXPECT_EQ(l.namespaces[7].type, "time");
  ASSERT_EQ(l.uid_mappings.size(), 2u);
  EXPECT_EQ(l.uid_mappings[1].container_id, 1u);
  EXPECT_EQ(l.uid_mappings[1].size, 65535u);
  EXPECT_EQ(l.gid_mappings.size(), 1u);
  ASSERT_EQ(l.time_offsets.size(), 2u);
  EXPECT_EQ(l.time_offsets.at("monotonic").secs, -100);
  EXPECT_EQ(l.time_offsets.at("monotonic").nanosecs, 5u);
  EXPECT_EQ(l.time_offsets.at("boottime").nanosecs, 999999999u);
  ASSERT_EQ(l.devices.size(), 2u);
  EXPECT_EQ(l.devices[0].path, "/dev/fuse");
  EXPECT_EQ(l.devices[0].major, 10);
  EXPECT_EQ(l.devices[0].minor, 229);
  EXPECT_EQ(l.devices[0].file_mode, 438u);
  EXPECT_EQ(l.devices[0].uid, 0u);
  EXPECT_EQ(l.devices[0].gid, 0u);
  EXPECT_FALSE(l.devices[1].file_mode);
  EXPECT_FALSE(l.devices[1].uid);
  EXPECT_EQ(l.cgroups_path, "/berth/box");
  ASSERT_TRUE(l.resources);
  const Resources& r = *l.resources;
  ASSERT_EQ(r.devices.size(), 3u);
  EXPECT_FALSE(r.devices[0].allow);
  EXPECT_EQ(r.devices[0].type, "");
  EXPECT_FALSE(r.devices[0].major);
  EXPECT_EQ(r.devices[0].access, "rwm");
  EXPECT_EQ(r.devices[2].major, 8);
  EXPECT_FALSE(r.devices[2].minor);
  ASSERT_TRUE(r.memory);
  EXPECT_EQ(r.memory->limit, 536870912);
  EXPECT_EQ(r.memory->reservation, 268435456);
  EXPECT_EQ(r.memory->swap, -1);
  EXPECT_EQ(r.memory->kernel, 0);  // set to zero, not unset
  EXPECT_EQ(r.memory->kernel_tcp, 1024);
  EXPECT_EQ(r.memory->swappiness, 60u);
  EXPECT_EQ(r.memory->disable_oom_killer, true);
  EXPECT_EQ(r.memory->use_hierarchy, false);  // set to false, not unset
  EXPECT_EQ(r.memory->check_before_update, true);
  ASSERT_TRUE(r.cpu);
  EXPECT_EQ(r.cpu->shares, 1024u);
  EXPECT_EQ(r.cpu->quota, 50000);
  EXPECT_EQ(r.cpu->burst, 1000u);
  EXPECT_EQ(r.cpu->period, 100000u);
  EXPECT_EQ(r.cpu->realtime_runtime, 950000);
  EXPECT_EQ(r.cpu->realtime_period, 1000000u);
  EXPECT_EQ(r.cpu->cpus, "0-1");
  EXPECT_EQ(r.cpu->mems, "0");
  EXPECT_EQ(r.cpu->idle, 1);
  ASSERT_TRUE(r.pids);
  EXPECT_EQ(r.pids->limit, 64);
  ASSERT_TRUE(r.block_io);
  EXPECT_EQ(r.block_io->weight, 500);
  EXPECT_EQ(r.block_io->leaf_weight, 300);
  ASSERT_EQ(r.block_io->weight_device.size(), 1u);
  EXPECT_EQ(r.block_io->weight_device[0].weight, 600);
  EXPECT_EQ(r.block_io->weight_device[0].leaf_weight, 100);
  ASSERT_EQ(r.block_io->throttle_read_bps_device.size(), 1u);
  EXPECT_EQ(r.block_io->throttle_read_bps_device[0].rate, 1048576u);
  ASSERT_EQ(r.block_io->throttle_write_bps_device.size(), 1u);
  EXPECT_EQ(r.block_io->throttle_write_bps_device[0].minor, 16);
  ASSERT_EQ(r.block_io->throttle_read_iops_device.size(), 1u);
  EXPECT_EQ(r.block_io->throttle_read_iops_device[0].rate, 100u);
  ASSERT_EQ(r.block_io->throttle_write_iops_device.size(), 1u);
  EXPECT_EQ(r.block_io->throttle_write_iops_device[0].rate, 200u);
  ASSERT_EQ(r.hugepage_limits.size(), 1u);
  EXPECT_EQ(r.hugepage_limits[0].page_size, "2MB");
  EXPECT_EQ(r.hugepage_limits[0].limit, 209715200u);
  ASSERT_TRUE(r.network);
  EXPECT_EQ(r.network->class_id, 1048577u);
  ASSERT_EQ(r.network->priorities.size(), 1u);
  EXPECT_EQ(r.network->priorities[0].name, "eth0");
  EXPECT_EQ(r.network->priorities[0].priority, 500u);
  EXPECT_EQ(r.unified, a.linux->resources->unified);
  EXPECT_EQ(l.rootfs_propagation, "rslave");
  ASSERT_TRUE(l.seccomp);
  const Seccomp& sc = *l.seccomp;
  EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(sc.default_errno_ret, 1u);
  EXPECT_EQ(sc.architectures, a.linux->seccomp->architectures);
  EXPECT_EQ(sc.flags, (std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"}));
  EXPECT_EQ(sc.listener_path, "/run/seccomp.sock");
  EXPECT_EQ(sc.listener_metadata, "meta");
  ASSERT_EQ(sc.syscalls.size(), 3u);
  EXPECT_EQ(sc.syscalls[0].names, (std::vector<std::string>{"read", "write"}));
  EXPECT_FALSE(sc.syscalls[0].errno_ret);
  EXPECT_EQ(sc.syscalls[2].errno_ret, 38u);
  ASSERT_EQ(sc.syscalls[2].args.size(), 1u);
  EXPECT_EQ(sc.syscalls[2].args[0].index, 1u);
  EXPECT_EQ(sc.syscalls[2].args[0].value, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(sc.syscalls[2].args[0].value_two, 7u);
  EXPECT_EQ(sc.syscalls[2].args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(l.sysctl, a.linux->sysctl);
  EXPECT_EQ(l.masked_paths, (std::vector<std::string>{"/proc/kcore", "/sys/firmware"}));
  EXPECT_EQ(l.readonly_paths, (std::vector<std::string>{"/proc/sys", "/proc/sysrq-trigger"}));
  EXPECT_EQ(l.mount_label, a.linux->mount_label);
  ASSERT_TRUE(l.personality);
  EXPECT_EQ(l.personality->domain, "LINUX32");
  EXPECT_TRUE(l.has_intel_rdt);
}

TEST(SerializeSpec, SpecificJsonPaths) {
  Spec s;
  s.oci_version = "1.2.0";
  s.process.emplace();
  s.process->user.additional_gids = {10, 20};
  s.linux.emplace();
  s.linux->cgroups_path = "berth:abc";
  s.linux->masked_paths = {"/proc/kcore"};
  s.linux->resources.emplace();
  s.linux->resources->memory.emplace();
  s.linux->resources->memory->limit = 1 << 20;
  s.linux->seccomp.emplace();
  s.linux->seccomp->default_action = "SCMP_ACT_ALLOW";
  s.linux->seccomp->syscalls.push_back(
      {{"clone"}, "SCMP_ACT_ERRNO", 1, {{0, 4, 5, "SCMP_CMP_EQ"}}});
  s.hooks.emplace();
  s.hooks->create_runtime.push_back({"/bin/hook", {"hook"}, {}, 3});
  s.mounts.push_back({"/data", "bind", "/src", {"bind"}, {{0, 1000, 1}}, {}});
  json j = json::parse(Serialize(s));
  EXPECT_EQ(j["/ociVersion"_json_pointer], "1.2.0");
  EXPECT_EQ(j["/process/user/additionalGids"_json_pointer], json({10, 20}));
  EXPECT_EQ(j["/linux/resources/memory/limit"_json_pointer], 1 << 20);
  EXPECT_EQ(j["/linux/seccomp/syscalls/0/args/0/valueTwo"_json_pointer], 5);
  EXPECT_EQ(j["/linux/seccomp/syscalls/0/errnoRet"_json_pointer], 1);
  EXPECT_EQ(j["/hooks/createRuntime/0/path"_json_pointer], "/bin/hook");
  EXPECT_EQ(j["/hooks/createRuntime/0/timeout"_json_pointer], 3);
  EXPECT_EQ(j["/linux/cgroupsPath"_json_pointer], "berth:abc");
  EXPECT_EQ(j["/linux/maskedPaths"_json_pointer], json({"/proc/kcore"}));
  EXPECT_EQ(j["/mounts/0/uidMappings/0"_json_pointer],
            json({{"containerID", 0}, {"hostID", 1000}, {"size", 1}}));
  EXPECT_FALSE(j["mounts"][0].contains("gidMappings"));
  EXPECT_FALSE(j["hooks"].contains("prestart"));
  EXPECT_FALSE(j["hooks"]["createRuntime"][0].contains("env"));
  // Written in the spec's order, indented by two spaces, ending in a newline.
  std::string text = Serialize(s);
  EXPECT_EQ(text.rfind("{\n  \"ociVersion\": \"1.2.0\",\n", 0), 0u) << text;
  EXPECT_EQ(text.back(), '\n');
  ExpectStable(s);
}

TEST(SerializeSpec, UnsetFieldsAreLeftOut) {
  Spec s;
  EXPECT_EQ(json::parse(Serialize(s)), json({{"ociVersion", std::string(kOciVersion)}}));
  s.oci_version = "1.0.2-dev";
  s.root = Root{"rootfs", false};
  s.linux.emplace();
  s.linux->resources.emplace();
  s.process.emplace();
  json j = json::parse(Serialize(s));
  EXPECT_EQ(j, json::parse(R"({"ociVersion": "1.0.2-dev", "root": {"path": "rootfs"},
                               "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/"},
                               "linux": {"resources": {}}})"));
  Spec back = MustParse(Serialize(s));
  EXPECT_EQ(back.oci_version, "1.0.2-dev");
  ASSERT_TRUE(back.linux);
  EXPECT_TRUE(back.linux->resources);
  EXPECT_FALSE(back.linux->seccomp);
  EXPECT_FALSE(back.linux->has_intel_rdt);
  EXPECT_FALSE(back.hooks);
  ASSERT_TRUE(back.process);
  EXPECT_FALSE(back.process->capabilities);
  EXPECT_FALSE(back.process->oom_score_adj);
  EXPECT_FALSE(back.process->user.umask);
}

TEST(SerializeSpec, ZeroOptionalsArePresent) {
  Spec s;
  s.oci_version = "1.2.0";
  s.process.emplace();
  s.process->user.umask = 0;
  s.process->oom_score_adj = 0;
  s.process->capabilities.emplace();  // present and empty: drop every capability
  s.linux.emplace();
  s.linux->resources.emplace();
  s.linux->resources->memory = Memory{};
  s.linux->resources->memory->swap = 0;
  s.linux->resources->memory->disable_oom_killer = false;
  s.linux->resources->cpu = Cpu{};
  s.linux->resources->cpu->quota = 0;
  s.linux->resources->pids = Pids{0};
  s.linux->seccomp.emplace();
  s.linux->seccomp->default_action = "SCMP_ACT_ERRNO";
  s.linux->seccomp->default_errno_ret = 0;
  json j = json::parse(Serialize(s));
  EXPECT_EQ(j["/process/user/umask"_json_pointer], 0);
  EXPECT_EQ(j["/process/oomScoreAdj"_json_pointer], 0);
  EXPECT_EQ(j["/process/capabilities"_json_pointer], json::object());
  EXPECT_EQ(j["/linux/resources/memory"_json_pointer],
            json({{"swap", 0}, {"disableOOMKiller", false}}));
  EXPECT_EQ(j["/linux/resources/cpu"_json_pointer], json({{"quota", 0}}));
  EXPECT_EQ(j["/linux/resources/pids/limit"_json_pointer], 0);
  EXPECT_EQ(j["/linux/seccomp/defaultErrnoRet"_json_pointer], 0);
  Spec back = MustParse(Serialize(s));
  EXPECT_EQ(back.process->user.umask, 0u);
  EXPECT_EQ(back.process->oom_score_adj, 0);
  EXPECT_TRUE(back.process->capabilities);
  EXPECT_EQ(back.linux->resources->memory->swap, 0);
  EXPECT_EQ(back.linux->resources->memory->disable_oom_killer, false);
  EXPECT_FALSE(back.linux->resources->memory->limit);
  EXPECT_EQ(back.linux->resources->cpu->quota, 0);
  EXPECT_FALSE(back.linux->resources->cpu->shares);
  EXPECT_TRUE(back.linux->resources->pids);
  EXPECT_EQ(back.linux->seccomp->default_errno_ret, 0u);
}

TEST(SerializeSpec, ExtremeIntegersSurvive) {
  Spec s;
  s.oci_version = "1.2.0";
  s.linux.emplace();
  s.linux->resources.emplace();
  s.linux->resources->memory = Memory{};
  s.linux->resources->memory->limit = std::numeric_limits<int64_t>::min();
  s.linux->resources->memory->swappiness = std::numeric_limits<uint64_t>::max();
  s.linux->time_offsets["boottime"] = {std::numeric_limits<int64_t>::min(),
                                       std::numeric_limits<uint32_t>::max()};
  s.linux->devices.push_back({"c", "/dev/x", -1, std::numeric_limits<int64_t>::max(),
                              std::numeric_limits<uint32_t>::max(), 0, 0});
  Spec back = MustParse(Serialize(s));
  EXPECT_EQ(back.linux->resources->memory->limit, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(back.linux->resources->memory->swappiness, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(back.linux->time_offsets.at("boottime").secs, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(back.linux->time_offsets.at("boottime").nanosecs, std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(back.linux->devices[0].major, -1);
  EXPECT_EQ(back.linux->devices[0].minor, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(back.linux->devices[0].file_mode, std::numeric_limits<uint32_t>::max());
  ExpectStable(s);
}

TEST(SerializeSpec, InvalidUtf8IsReplacedNotThrown) {
  Spec s;
  s.oci_version = "1.2.0";
  s.process.emplace();
  s.process->env = {"A=\xff\xfe", "B=ok"};
  s.hostname = "h\xc3";
  std::string text = Serialize(s);
  Spec back = MustParse(text);
  EXPECT_EQ(back.process->env[0], "A=\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(back.process->env[1], "B=ok");
  EXPECT_EQ(back.hostname, "h\xEF\xBF\xBD");
}

TEST(SerializeSpec, StringsNeedingEscapesRoundTrip) {
  Spec s;
  s.oci_version = "1.2.0";
  s.process.emplace();
  s.process->args = {"sh", "-c", "printf '%s\\n' \"a\tb\"\n", std::string("nul\0x", 5)};
  s.annotations["k\"ey"] = "v\\al\x01";
  Spec back = MustParse(Serialize(s));
  EXPECT_EQ(back.process->args, s.process->args);
  EXPECT_EQ(back.annotations, s.annotations);
}

// tests/fuzz/corpus/config/spec-default.json and spec-rootless.json are what
// `berth-runtime spec [--rootless]` writes (src/cmd/runtime/spec.cc).
TEST(SerializeSpec, RuntimeSpecDefaultsComeBackUnchanged) {
  for (const char* name : {"spec-default.json", "spec-rootless.json"}) {
    SCOPED_TRACE(name);
    std::string text = Fixture(name);
    Spec s = MustParse(text);
    json want = json::parse(text);
    json got = json::parse(Serialize(s));
    EXPECT_EQ(got, want) << "diff: " << json::diff(want, got).dump();
    ExpectStable(s);
  }
}

TEST(SerializeSpec, MinimalConfig) {
  std::string text = Fixture("minimal.json");
  EXPECT_EQ(json::parse(Serialize(MustParse(text))), json::parse(text));
}

TEST(SerializeProcess, ProcessFixtureRoundTrips) {
  std::string text = Fixture("process.json");
  auto p = ParseProcess(text);
  ASSERT_TRUE(p) << p.error().message();
  std::string out = SerializeProcess(*p);
  EXPECT_EQ(out.find('\n'), std::string::npos) << "one line: " << out;
  json want = json::parse(text);
  want.erase("terminal");  // false is the default, left out
  json got = json::parse(out);
  EXPECT_EQ(got, want) << "diff: " << json::diff(want, got).dump();
  auto again = ParseProcess(out);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(SerializeProcess(*again), out);
}

TEST(SerializeProcess, FullProcessMatchesTheSpecSection) {
  std::string text = Fixture("full.json");
  Spec s = MustParse(text);
  json want = json::parse(text)["process"];
  want["capabilities"].erase("inheritable");
  json got = json::parse(SerializeProcess(*s.process));
  EXPECT_EQ(got, want) << "diff: " << json::diff(want, got).dump();
  EXPECT_EQ(json::parse(Serialize(s))["process"], got);
}

TEST(SerializeProcess, ExecProcessFromScratch) {
  Process p;
  p.args = {"ls", "-l"};
  p.env = {"PATH=/bin"};
  p.cwd = "/tmp";
  p.user.uid = 33;
  p.user.gid = 33;
  p.terminal = true;
  p.console_size = ConsoleSize{40, 120};
  std::string out = SerializeProcess(p);
  EXPECT_EQ(json::parse(out), json::parse(R"({"terminal": true,
      "consoleSize": {"height": 40, "width": 120}, "user": {"uid": 33, "gid": 33},
      "args": ["ls", "-l"], "env": ["PATH=/bin"], "cwd": "/tmp"})"));
  auto back = ParseProcess(out);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->args, p.args);
  EXPECT_EQ(back->cwd, "/tmp");
  EXPECT_EQ(back->console_size->width, 120u);
}

TEST(SerializeResources, ResourcesFixtureRoundTrips) {
  std::string text = Fixture("resources.json");
  auto r = ParseResources(text);
  ASSERT_TRUE(r) << r.error().message();
  std::string out = SerializeResources(*r);
  EXPECT_EQ(out.find('\n'), std::string::npos);
  json got = json::parse(out);
  EXPECT_EQ(got, json::parse(text)) << "diff: " << json::diff(json::parse(text), got).dump();
  auto again = ParseResources(out);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(SerializeResources(*again), out);
}

TEST(SerializeResources, FullResourcesMatchTheSpecSection) {
  std::string text = Fixture("full.json");
  Spec s = MustParse(text);
  json want = json::parse(text)["linux"]["resources"];
  json got = json::parse(SerializeResources(*s.linux->resources));
  EXPECT_EQ(got, want) << "diff: " << json::diff(want, got).dump();
}

TEST(SerializeResources, EmptyIsAnEmptyObject) { EXPECT_EQ(SerializeResources({}), "{}"); }

}  // namespace
}  // namespace berth::oci
