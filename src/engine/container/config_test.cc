#include "engine/container/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace berth::engine {
namespace {

using nlohmann::json;

Result<CreateRequest> Create(const json& body, std::string name = "") {
  return ParseCreateRequest(body.dump(), std::move(name));
}

Result<CreateRequest> CreateHost(const json& host) {
  return Create({{"Image", "busybox"}, {"HostConfig", host}});
}

// The error message of a failed create, or "ok".
std::string HostError(const json& host) {
  auto r = CreateHost(host);
  if (r) return "ok";
  EXPECT_TRUE(r.error().IsInvalidArgument()) << r.error().message();
  return r.error().message();
}

std::string BindError(std::string_view bind) {
  auto r = ParseBind(bind);
  return r ? "ok" : r.error().message();
}

TEST(CreateRequestTest, MinimalBody) {
  auto r = Create({{"Image", "busybox"}, {"Cmd", {"echo", "hi"}}, {"Tty", true}}, "/web");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->name, "web");
  EXPECT_EQ(r->config.image, "busybox");
  EXPECT_TRUE(r->config.cmd_set);
  EXPECT_EQ(r->config.cmd, (std::vector<std::string>{"echo", "hi"}));
  EXPECT_FALSE(r->config.entrypoint_set);
  EXPECT_TRUE(r->config.tty);
  EXPECT_EQ(r->host_config.shm_size, 64 << 20);  // the daemon's default, as inspect shows it
  EXPECT_EQ(r->host_config.log_config.type, "json-file");
  EXPECT_TRUE(r->networking_config_json.empty());
}

TEST(CreateRequestTest, EveryConfigField) {
  json body = {{"Hostname", "h"},
               {"Domainname", "example.org"},
               {"User", "1000:1000"},
               {"AttachStdin", true},
               {"AttachStdout", true},
               {"AttachStderr", true},
               {"OpenStdin", true},
               {"StdinOnce", true},
               {"Env", {"A=1", "B=2"}},
               {"Cmd", "echo hi"},  // a StrSlice may be a string
               {"Entrypoint", {""}},
               {"Image", "busybox:latest"},
               {"Volumes", {{"/data", json::object()}}},
               {"WorkingDir", "/srv"},
               {"Labels", {{"a", "b"}}},
               {"StopSignal", "SIGINT"},
               {"StopTimeout", 3},
               {"ExposedPorts", {{"80/tcp", json::object()}}},
               {"NetworkDisabled", true},
               {"Shell", {"/bin/sh", "-c"}},
               {"Healthcheck", {{"Test", {"CMD", "true"}}, {"Interval", 1000000000}}},
               {"NetworkingConfig", {{"EndpointsConfig", json::object()}}},
               {"Unknown", "ignored"}};
  auto r = Create(body);
  ASSERT_TRUE(r) << r.error().message();
  const auto& c = r->config;
  EXPECT_EQ(c.hostname, "h");
  EXPECT_EQ(c.domainname, "example.org");
  EXPECT_EQ(c.user, "1000:1000");
  EXPECT_TRUE(c.attach_stdin && c.attach_stdout && c.attach_stderr && c.open_stdin);
  EXPECT_TRUE(c.stdin_once);
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"echo hi"}));
  EXPECT_TRUE(c.entrypoint_set);
  EXPECT_EQ(c.entrypoint, (std::vector<std::string>{""}));
  EXPECT_EQ(c.volumes.count("/data"), 1u);
  EXPECT_EQ(c.working_dir, "/srv");
  EXPECT_EQ(c.labels.at("a"), "b");
  EXPECT_EQ(c.stop_signal, "SIGINT");
  EXPECT_EQ(c.stop_timeout, 3);
  EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"80/tcp"}));
  EXPECT_TRUE(c.network_disabled);
  EXPECT_EQ(c.shell, (std::vector<std::string>{"/bin/sh", "-c"}));
  EXPECT_EQ(json::parse(c.healthcheck_json)["Interval"], 1000000000);
  EXPECT_EQ(json::parse(r->networking_config_json), body["NetworkingConfig"]);
}

TEST(CreateRequestTest, NullIsTheZeroValue) {
  auto r = Create({{"Image", "busybox"},
                   {"Cmd", nullptr},
                   {"Env", nullptr},
                   {"HostConfig", {{"Binds", nullptr}, {"Memory", nullptr}}}});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->config.cmd_set);
  EXPECT_TRUE(r->config.env.empty());
  EXPECT_EQ(r->host_config.memory, 0);
}

TEST(CreateRequestTest, MalformedBodies) {
  auto empty = ParseCreateRequest("  ", "");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message(), "config cannot be empty in order to create a container");
  EXPECT_FALSE(ParseCreateRequest("{\"Image\":", ""));
  EXPECT_FALSE(ParseCreateRequest("[1]", ""));
  auto tty = Create({{"Tty", "yes"}});
  ASSERT_FALSE(tty);
  EXPECT_NE(tty.error().message().find("cannot unmarshal string into Go struct field"),
            std::string::npos);
  EXPECT_NE(tty.error().message().find(".Tty of type bool"), std::string::npos);
  auto mem = CreateHost({{"Memory", "1g"}});
  ASSERT_FALSE(mem);
  EXPECT_NE(mem.error().message().find("HostConfig.Memory of type int64"), std::string::npos);
  EXPECT_FALSE(Create({{"Env", "A=1"}}));  // []string, not a StrSlice
  EXPECT_FALSE(Create({{"Env", {1}}}));
  EXPECT_FALSE(CreateHost({{"Memory", 1.5}}));
  EXPECT_FALSE(CreateHost({{"ConsoleSize", {1, 2, 3}}}));
  EXPECT_FALSE(CreateHost(json::array()));
}

TEST(CreateRequestTest, BadNames) {
  EXPECT_FALSE(Create({{"Image", "busybox"}}, "a b"));
  auto r = ValidateName("/x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  EXPECT_EQ(*ValidateName("/web-1.a_b"), "web-1.a_b");
  EXPECT_FALSE(ValidateName("-web"));
  EXPECT_FALSE(ValidateName("../etc"));
  EXPECT_FALSE(ValidateName(""));
}

TEST(CreateRequestTest, WorkingDirAndEnv) {
  auto r = Create({{"WorkingDir", "srv"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "the working directory 'srv' is invalid, it needs to be an absolute path");
  EXPECT_FALSE(Create({{"Env", {"=x"}}}));
  EXPECT_TRUE(Create({{"Env", {"UNSET_ME"}}}));
}

TEST(HostConfigTest, RestartPolicy) {
  auto rp = [](std::string name, int n) {
    return HostError({{"RestartPolicy", {{"Name", name}, {"MaximumRetryCount", n}}}});
  };
  EXPECT_EQ(rp("always", 0), "ok");
  EXPECT_EQ(rp("on-failure", 5), "ok");
  EXPECT_EQ(rp("", 0), "ok");
  EXPECT_EQ(rp("always", 3),
            "invalid restart policy: maximum retry count can only be used with 'on-failure'");
  EXPECT_EQ(rp("no", -1),
            "invalid restart policy: maximum retry count can only be used with 'on-failure' "
            "and cannot be negative");
  EXPECT_EQ(rp("on-failure", -1), "invalid restart policy: maximum retry count cannot be negative");
  EXPECT_EQ(rp("sometimes", 0),
            "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
            "'on-failure', or 'unless-stopped'");
  EXPECT_EQ(HostError({{"AutoRemove", true}, {"RestartPolicy", {{"Name", "always"}}}}),
            "can't create 'AutoRemove' container with restart policy");
  EXPECT_EQ(HostError({{"AutoRemove", true}, {"RestartPolicy", {{"Name", "no"}}}}), "ok");
}

TEST(HostConfigTest, Resources) {
  EXPECT_EQ(HostError({{"Memory", 1 << 20}}), "Minimum memory limit allowed is 6MB");
  EXPECT_EQ(HostError({{"Memory", -5}}), "Minimum memory limit allowed is 6MB");
  EXPECT_EQ(HostError({{"Memory", 64 << 20}, {"MemorySwap", 32 << 20}}),
            "Minimum memoryswap limit should be larger than memory limit, see usage");
  EXPECT_EQ(HostError({{"MemorySwap", 64 << 20}}),
            "You should always set the Memory limit when using Memoryswap limit, see usage");
  EXPECT_EQ(HostError({{"Memory", 64 << 20}, {"MemoryReservation", 128 << 20}}),
            "Minimum memory limit can not be less than memory reservation limit, see usage");
  EXPECT_EQ(HostError({{"MemoryReservation", 1024}}), "Minimum memory reservation allowed is 6MB");
  EXPECT_EQ(HostError({{"MemorySwappiness", 101}}),
            "Invalid value: 101, valid memory swappiness range is 0-100");
  EXPECT_EQ(HostError({{"NanoCpus", 1000000000}, {"CpuQuota", 50000}}),
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  EXPECT_EQ(HostError({{"NanoCpus", 1000000000}, {"CpuPeriod", 50000}}),
            "Conflicting options: Nano CPUs and CPU Period cannot both be set");
  EXPECT_NE(HostError({{"NanoCpus", -1}}).find("Range of CPUs is from 0.01 to"), std::string::npos);
  EXPECT_NE(HostError({{"NanoCpus", 100000000000000LL}}).find("CPUs available"), std::string::npos);
  EXPECT_NE(HostError({{"CpuShares", -2}}).find("invalid CPU shares (-2)"), std::string::npos);
  EXPECT_EQ(HostError({{"CpuPeriod", 10}}),
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. "
            "1000000)");
  EXPECT_EQ(HostError({{"CpuQuota", 10}}), "CPU cfs quota can not be less than 1ms (i.e. 1000)");
  EXPECT_EQ(HostError({{"CpuQuota", -1}}), "ok");
  EXPECT_EQ(HostError({{"CpusetCpus", "0-x"}}), "Invalid value 0-x for cpuset cpus");
  EXPECT_EQ(HostError({{"CpusetCpus", "0-1,3"}}), "ok");
  EXPECT_EQ(HostError({{"CpusetMems", "2-1"}}), "Invalid value 2-1 for cpuset mems");
  EXPECT_EQ(HostError({{"BlkioWeight", 5}}), "Range of blkio weight is from 10 to 1000");
  EXPECT_EQ(HostError({{"BlkioWeight", -1}}), "Range of blkio weight is from 10 to 1000");
  EXPECT_EQ(HostError({{"OomScoreAdj", 1001}}),
            "Invalid value 1001, range for oom score adj is [-1000, 1000]");
  EXPECT_EQ(HostError({{"ShmSize", -1}}), "SHM size can not be less than 0");
  EXPECT_EQ(HostError({{"MemorySwap", -2}, {"Memory", 64 << 20}}).substr(0, 19),
            "invalid memory swap");
}

TEST(HostConfigTest, DaemonDefaults) {
  auto r = CreateHost({{"Memory", 64 << 20}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->host_config.memory_swap, 128 << 20);  // twice the memory, as Docker
  r = CreateHost({{"Memory", 64 << 20}, {"MemorySwap", -1}, {"ShmSize", 1 << 20}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->host_config.memory_swap, -1);
  EXPECT_EQ(r->host_config.shm_size, 1 << 20);
}

TEST(HostConfigTest, CapabilitiesAndUlimits) {
  EXPECT_EQ(HostError({{"CapAdd", {"net_admin", "CAP_SYS_TIME", "ALL"}}}), "ok");
  EXPECT_EQ(HostError({{"CapDrop", {"FOO"}}}), "unknown capability: \"CAP_FOO\"");
  EXPECT_EQ(HostError({{"CapAdd", "CAP_BAR"}}), "unknown capability: \"CAP_BAR\"");
  EXPECT_EQ(HostError({{"Ulimits", {{{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}}}}}), "ok");
  EXPECT_EQ(HostError({{"Ulimits", {{{"Name", "nofiles"}, {"Soft", 1}, {"Hard", 1}}}}}),
            "invalid ulimit type: nofiles");
  EXPECT_EQ(HostError({{"Ulimits", {{{"Name", "nproc"}, {"Soft", 10}, {"Hard", 5}}}}}),
            "ulimit soft limit must be less than or equal to hard limit: 10 > 5");
  EXPECT_EQ(HostError({{"Ulimits", {{{"Name", "core"}, {"Soft", -1}, {"Hard", -1}}}}}), "ok");
}

TEST(HostConfigTest, SecurityOpt) {
  auto opts = [](std::vector<std::string> o) { return CreateHost({{"SecurityOpt", o}}); };
  auto r = opts({"no-new-privileges", "label=disable", "apparmor=unconfined"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->host_config.no_new_privileges);
  EXPECT_TRUE(opts({"no-new-privileges:true"})->host_config.no_new_privileges);
  EXPECT_TRUE(opts({"no-new-privileges=true"})->host_config.no_new_privileges);
  EXPECT_FALSE(opts({"no-new-privileges=false"})->host_config.no_new_privileges);
  EXPECT_TRUE(opts({"seccomp=unconfined"})->host_config.seccomp_unconfined);
  std::string profile = R"({"defaultAction":"SCMP_ACT_ALLOW"})";
  EXPECT_EQ(opts({"seccomp=" + profile})->host_config.seccomp_profile_json, profile);
  auto sp = opts({"systempaths=unconfined"});
  ASSERT_TRUE(sp);
  ASSERT_TRUE(sp->host_config.masked_paths);
  EXPECT_TRUE(sp->host_config.masked_paths->empty());
  EXPECT_EQ(HostError({{"SecurityOpt", {"bogus"}}}), "invalid --security-opt 1: \"bogus\"");
  EXPECT_EQ(HostError({{"SecurityOpt", {"foo=bar"}}}), "invalid --security-opt 2: \"foo=bar\"");
  EXPECT_EQ(HostError({{"SecurityOpt", {"no-new-privileges=maybe"}}}),
            "invalid --security-opt 2: \"no-new-privileges=maybe\"");
}

TEST(HostConfigTest, OtherChecks) {
  EXPECT_EQ(HostError({{"PortBindings", {{"80/tcp", {{{"HostPort", "8080"}}}}}}}), "ok");
  EXPECT_EQ(HostError({{"PortBindings", {{"http/tcp", json::array()}}}}),
            "invalid port specification: \"http\"");
  EXPECT_EQ(HostError({{"PortBindings", {{"80/tcp", {{{"HostPort", "99999"}}}}}}}),
            "invalid port specification: \"99999\"");
  EXPECT_EQ(HostError({{"Devices",
                        {{{"PathOnHost", "/dev/null"},
                          {"PathInContainer", "null"},
                          {"CgroupPermissions", "rwm"}}}}}),
            "null is not an absolute path");
  EXPECT_EQ(HostError({{"Devices", {{{"PathOnHost", "/dev/null"}, {"CgroupPermissions", "rwx"}}}}}),
            "bad mode specified: rwx");
  EXPECT_EQ(HostError({{"DeviceCgroupRules", {"c 1:3 rwm", "b *:* m"}}}), "ok");
  EXPECT_EQ(HostError({{"DeviceCgroupRules", {"x 1:3 rwm"}}}),
            "invalid device cgroup format 'x 1:3 rwm'");
  EXPECT_EQ(HostError({{"IpcMode", "weird"}}), "invalid IPC mode: weird");
  EXPECT_EQ(HostError({{"PidMode", "container:abc"}}), "ok");
  EXPECT_EQ(HostError({{"UTSMode", "container:abc"}}), "invalid UTS mode: container:abc");
  EXPECT_EQ(HostError({{"CgroupnsMode", "shared"}}), "invalid cgroup namespace mode: shared");
}

TEST(BindTest, Forms) {
  auto b = ParseBind("/host/dir/:/c//data:ro,rshared");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->type, "bind");
  EXPECT_EQ(b->source, "/host/dir");
  EXPECT_EQ(b->target, "/c/data");
  EXPECT_TRUE(b->read_only);
  EXPECT_EQ(b->propagation, "rshared");
  EXPECT_TRUE(b->from_bind_string);

  auto v = ParseBind("data:/var/lib/data:nocopy");
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(v->type, "volume");
  EXPECT_EQ(v->source, "data");
  EXPECT_TRUE(v->no_copy);
  EXPECT_FALSE(v->read_only);

  auto anon = ParseBind("/scratch");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->type, "volume");
  EXPECT_TRUE(anon->source.empty());
  EXPECT_EQ(anon->target, "/scratch");

  EXPECT_EQ(BindError("/:/host:ro,z"), "ok");  // the host's root as a source is allowed
  EXPECT_EQ(BindError("/a:/b:rw,Z,cached"), "ok");
}

TEST(BindTest, Errors) {
  EXPECT_EQ(BindError("/x:/"),
            "invalid volume specification: '/x:/': invalid mount config for type \"bind\": "
            "invalid specification: destination can't be '/'");
  EXPECT_EQ(BindError("/x:/a/.."),
            "invalid volume specification: '/x:/a/..': invalid mount config for type \"bind\": "
            "invalid specification: destination can't be '/'");
  EXPECT_EQ(BindError("/x:rel"),
            "invalid volume specification: '/x:rel': invalid mount config for type \"bind\": "
            "invalid mount path: 'rel' mount path must be absolute");
  EXPECT_EQ(BindError("a:b:c:d"), "invalid volume specification: 'a:b:c:d'");
  EXPECT_EQ(BindError(":/x"), "invalid volume specification: ':/x'");
  EXPECT_EQ(BindError(""), "invalid volume specification: ''");
  EXPECT_EQ(BindError("/foo:rw"), "invalid volume specification: '/foo:rw'");
  EXPECT_EQ(BindError("/a:/b:xyz"), "invalid mode: xyz");
  EXPECT_EQ(BindError("/a:/b:ro,rw"), "invalid mode: ro,rw");
  EXPECT_EQ(BindError("vol:/b:rshared"),
            "invalid volume specification: 'vol:/b:rshared': invalid mount config for type "
            "\"volume\": field BindOptions must not be specified");
  EXPECT_EQ(BindError("/a:/b:nocopy"),
            "invalid volume specification: '/a:/b:nocopy': invalid mount config for type "
            "\"bind\": field VolumeOptions must not be specified");
  EXPECT_NE(BindError("foo/bar:/x").find("includes invalid characters for a local volume name"),
            std::string::npos);
  EXPECT_NE(BindError("../etc:/x").find("includes invalid characters"), std::string::npos);
  EXPECT_NE(BindError("x:/x").find("volume name is too short"), std::string::npos);
}

TEST(MountsTest, MountsBindsAndTmpfsInOneList) {
  auto r = CreateHost({{"Binds", {"/tmp:/a"}},
                       {"Mounts",
                        {{{"Type", "volume"}, {"Source", "v1"}, {"Target", "/b"}},
                         {{"Type", "tmpfs"},
                          {"Target", "/c"},
                          {"TmpfsOptions", {{"SizeBytes", 1 << 20}, {"Mode", 0700}}}},
                         {{"Type", "bind"},
                          {"Source", "/tmp"},
                          {"Target", "/d"},
                          {"ReadOnly", true},
                          {"BindOptions", {{"Propagation", "rslave"}}}}}},
                       {"Tmpfs", {{"/run", "rw,size=65536k,exec"}}}});
  ASSERT_TRUE(r) << r.error().message();
  const auto& m = r->host_config.mounts;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].target, "/a");
  EXPECT_TRUE(m[0].from_bind_string);
  EXPECT_EQ(m[1].type, "volume");
  EXPECT_EQ(m[2].tmpfs_size, 1 << 20);
  EXPECT_EQ(m[2].tmpfs_mode, 0700u);
  EXPECT_EQ(m[3].propagation, "rslave");
  EXPECT_TRUE(m[3].read_only);
  EXPECT_EQ(m[4].type, "tmpfs");
  EXPECT_EQ(m[4].tmpfs_options, "rw,size=65536k,exec");
  EXPECT_TRUE(m[4].from_tmpfs);
}

TEST(MountsTest, Errors) {
  auto mount = [](json m) { return HostError({{"Mounts", {m}}}); };
  EXPECT_EQ(mount({{"Type", "bind"}, {"Source", "/nonexistent-berth-src"}, {"Target", "/x"}}),
            "invalid mount config for type \"bind\": bind source path does not exist: "
            "/nonexistent-berth-src");
  EXPECT_EQ(mount({{"Type", "bind"},
                   {"Source", "/nonexistent-berth-src"},
                   {"Target", "/x"},
                   {"BindOptions", {{"CreateMountpoint", true}}}}),
            "ok");
  EXPECT_EQ(mount({{"Type", "bind"}, {"Source", "/tmp"}}),
            "invalid mount config for type \"bind\": field Target must not be empty");
  EXPECT_EQ(mount({{"Type", "bind"}, {"Target", "/x"}}),
            "invalid mount config for type \"bind\": field Source must not be empty");
  EXPECT_EQ(mount({{"Type", "bind"}, {"Source", "tmp"}, {"Target", "/x"}}),
            "invalid mount config for type \"bind\": invalid mount path: 'tmp' mount path must "
            "be absolute");
  EXPECT_EQ(mount({{"Type", "bind"}, {"Source", "/"}, {"Target", "/"}}),
            "invalid mount config for type \"bind\": invalid specification: destination can't "
            "be '/'");
  EXPECT_EQ(mount({{"Type", "bind"}, {"Source", "/"}, {"Target", "/host"}}), "ok");
  EXPECT_EQ(mount({{"Type", "bind"},
                   {"Source", "/tmp"},
                   {"Target", "/x"},
                   {"BindOptions", {{"Propagation", "sideways"}}}}),
            "invalid mount config for type \"bind\": invalid propagation mode: sideways");
  EXPECT_EQ(mount({{"Type", "npipe"}, {"Target", "/x"}}),
            "invalid mount config for type \"npipe\": mount type unknown");
  EXPECT_EQ(mount({{"Type", "tmpfs"}, {"Source", "x"}, {"Target", "/x"}}),
            "invalid mount config for type \"tmpfs\": field Source must not be specified");
  EXPECT_EQ(mount({{"Type", "volume"}, {"Target", "/x"}, {"ReadOnly", true}}),
            "invalid mount config for type \"volume\": must not set ReadOnly mode when using "
            "anonymous volumes");
  EXPECT_EQ(mount({{"Type", "volume"}, {"Target", "/x"}, {"TmpfsOptions", json::object()}}),
            "invalid mount config for type \"volume\": field TmpfsOptions must not be specified");
  EXPECT_EQ(HostError({{"Tmpfs", {{"run", ""}}}}),
            "invalid mount path: 'run' mount path must be absolute");
  EXPECT_EQ(HostError({{"Tmpfs", {{"//", ""}}}}),
            "invalid specification: destination can't be '/'");
  EXPECT_EQ(HostError({{"Binds", {"/tmp:/x"}}, {"Tmpfs", {{"/x/", ""}}}}),
            "Duplicate mount point: /x");
}

TEST(ParseBytesTest, DockerUnits) {
  EXPECT_EQ(*ParseBytes("100"), 100);
  EXPECT_EQ(*ParseBytes("512k"), 512 * 1024);
  EXPECT_EQ(*ParseBytes("10m"), 10 << 20);
  EXPECT_EQ(*ParseBytes("1g"), 1 << 30);
  EXPECT_EQ(*ParseBytes("1.5k"), 1536);
  EXPECT_EQ(*ParseBytes("10MB"), 10 << 20);
  EXPECT_EQ(*ParseBytes("10 MiB"), 10 << 20);
  EXPECT_EQ(*ParseBytes("2T"), 2LL << 40);
  for (const char* bad : {"", "abc", "-1", "10x", "1.k", "1kk", "1e3"}) {
    auto r = ParseBytes(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message(), "invalid size: '" + std::string(bad) + "'");
  }
}

TEST(ConfigJsonTest, DockerShapeAndRoundTrip) {
  ContainerConfig c;
  c.hostname = "abc";
  c.image = "busybox";
  c.cmd = {"sh"};
  c.cmd_set = true;
  c.env = {"A=1"};
  c.labels = {{"k", "v"}};
  c.volumes["/data"];
  c.exposed_ports = {"80/tcp"};
  c.stop_timeout = 5;
  c.healthcheck_json = R"({"Test":["NONE"]})";
  json j = json::parse(ConfigJson(c));
  for (const char* key : {"Hostname", "Domainname", "User", "AttachStdin", "AttachStdout",
                          "AttachStderr", "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Image",
                          "Volumes", "WorkingDir", "Entrypoint", "OnBuild", "Labels"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_TRUE(j["Entrypoint"].is_null());
  EXPECT_EQ(j["ExposedPorts"], (json{{"80/tcp", json::object()}}));
  EXPECT_EQ(j["Volumes"], (json{{"/data", json::object()}}));
  EXPECT_EQ(j["Healthcheck"]["Test"][0], "NONE");
  auto back = ParseConfigJson(j.dump());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->hostname, "abc");
  EXPECT_EQ(back->cmd, c.cmd);
  EXPECT_TRUE(back->cmd_set);
  EXPECT_FALSE(back->entrypoint_set);
  EXPECT_EQ(back->env, c.env);
  EXPECT_EQ(back->labels, c.labels);
  EXPECT_EQ(back->volumes.size(), 1u);
  EXPECT_EQ(back->exposed_ports, c.exposed_ports);
  EXPECT_EQ(back->stop_timeout, 5);
  EXPECT_EQ(back->healthcheck_json, c.healthcheck_json);

  json empty = json::parse(ConfigJson(ContainerConfig{}));
  EXPECT_TRUE(empty["Cmd"].is_null());
  EXPECT_EQ(empty["Env"], json::array());
  EXPECT_EQ(empty["Labels"], json::object());
  EXPECT_FALSE(empty.contains("ExposedPorts"));
}

TEST(HostConfigJsonTest, DockerShapeAndRoundTrip) {
  auto r = CreateHost({{"Binds", {"/tmp:/a:ro"}},
                       {"Mounts", {{{"Type", "volume"}, {"Source", "v1"}, {"Target", "/b"}}}},
                       {"Tmpfs", {{"/run", "size=1m"}}},
                       {"Memory", 64 << 20},
                       {"CapAdd", {"NET_ADMIN"}},
                       {"PortBindings", {{"80/tcp", {{{"HostIp", ""}, {"HostPort", "8080"}}}}}},
                       {"Ulimits", {{{"Name", "nofile"}, {"Soft", 10}, {"Hard", 20}}}},
                       {"PidsLimit", 50},
                       {"Init", true}});
  ASSERT_TRUE(r) << r.error().message();
  json j = json::parse(HostConfigJson(r->host_config));
  EXPECT_EQ(j["Binds"], (json{"/tmp:/a:ro"}));
  EXPECT_EQ(j["NetworkMode"], "default");
  EXPECT_EQ(j["RestartPolicy"], (json{{"Name", "no"}, {"MaximumRetryCount", 0}}));
  EXPECT_EQ(j["LogConfig"]["Type"], "json-file");
  EXPECT_EQ(j["ShmSize"], 64 << 20);
  EXPECT_EQ(j["MemorySwap"], 128 << 20);
  EXPECT_EQ(j["Mounts"].size(), 1u);
  EXPECT_EQ(j["Tmpfs"]["/run"], "size=1m");
  EXPECT_EQ(j["PidsLimit"], 50);
  EXPECT_TRUE(j["CapDrop"].is_null());
  EXPECT_EQ(j["IpcMode"], "private");
  EXPECT_EQ(j["CgroupnsMode"], "private");
  EXPECT_EQ(j["ConsoleSize"], (json{0, 0}));
  EXPECT_EQ(j["MaskedPaths"].size(), 11u);
  EXPECT_EQ(j["ReadonlyPaths"].size(), 5u);
  EXPECT_EQ(j["Init"], true);
  for (const char* key :
       {"ContainerIDFile", "AutoRemove",      "VolumeDriver", "VolumesFrom",       "Dns",
        "DnsOptions",      "DnsSearch",       "ExtraHosts",   "GroupAdd",          "Links",
        "OomScoreAdj",     "PidMode",         "Privileged",   "PublishAllPorts",   "ReadonlyRootfs",
        "SecurityOpt",     "UTSMode",         "UsernsMode",   "Runtime",           "CpuShares",
        "NanoCpus",        "CgroupParent",    "BlkioWeight",  "CpuPeriod",         "CpuQuota",
        "CpusetCpus",      "CpusetMems",      "Devices",      "MemoryReservation", "OomKillDisable",
        "Ulimits",         "MemorySwappiness"})
    EXPECT_TRUE(j.contains(key)) << key;

  auto back = ParseHostConfig(j.dump());
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->mounts.size(), 3u);
  EXPECT_EQ(back->mounts[0].type, "bind");
  EXPECT_TRUE(back->mounts[0].read_only);
  EXPECT_EQ(back->mounts[1].source, "v1");
  EXPECT_EQ(back->mounts[2].type, "tmpfs");
  EXPECT_EQ(back->cap_add, r->host_config.cap_add);
  EXPECT_EQ(back->memory_swap, 128 << 20);
  EXPECT_EQ(back->port_bindings.at("80/tcp").at(0).host_port, "8080");
  EXPECT_EQ(back->ulimits.at(0).hard, 20);
  EXPECT_EQ(back->pids_limit, 50);
  EXPECT_EQ(back->init, true);
  EXPECT_EQ(json::parse(HostConfigJson(*back)), j);
}

}  // namespace
}  // namespace berth::engine
