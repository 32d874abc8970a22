#include "engine/container/spec.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/container/spec_internal.h"
#include "runtime/seccomp/seccomp.h"
#include "util/file.h"

namespace berth::engine {
namespace {

using Strings = std::vector<std::string>;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/berth-spec-test-XXXXXX";
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool Has(const Strings& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const oci::Mount* FindMount(const oci::Spec& s, std::string_view dest) {
  for (const auto& m : s.mounts)
    if (m.destination == dest) return &m;
  return nullptr;
}

bool HasNs(const oci::Spec& s, std::string_view type) {
  return s.linux->FindNamespace(type) != nullptr;
}

const oci::SeccompSyscall* FindRule(const oci::Seccomp& s, std::string_view name) {
  for (const auto& r : s.syscalls)
    if (Has(r.names, name)) return &r;
  return nullptr;
}

class SpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    rootfs_ = tmp_.path() + "/rootfs";
    ASSERT_TRUE(MkdirAll(rootfs_ + "/etc"));
    ASSERT_TRUE(WriteFile(rootfs_ + "/etc/passwd",
                          "root:x:0:0:root:/root:/bin/sh\n"
                          "# a comment\n"
                          "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                          "broken line\n"
                          "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"));
    ASSERT_TRUE(WriteFile(rootfs_ + "/etc/group",
                          "root:x:0:root\n"
                          "wheel:x:10:root,alice\n"
                          "staff:x:50:\n"
                          "alice:x:1000:\n"
                          "audio:x:29:bob,alice\n"));
    image_.config.emplace();
    image_.config->cmd = Strings{"sh"};
    image_.config->env = {"PATH=/image/bin:/bin", "IMG=1"};
    config_.image = "busybox";
    input_.id = "0123456789abcdef0123456789abcdef";
    input_.config = &config_;
    input_.host = &host_;
    input_.image = &image_;
    input_.rootfs = rootfs_;
  }

  oci::Spec Build() {
    auto r = BuildSpec(input_);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : oci::Spec{};
  }
  std::string BuildError() {
    auto r = BuildSpec(input_);
    return r ? "ok" : r.error().message();
  }

  TempDir tmp_;
  std::string rootfs_;
  ContainerConfig config_;
  HostConfig host_;
  oci::ImageConfig image_;
  SpecInput input_;
};

TEST_F(SpecTest, Defaults) {
  oci::Spec s = Build();
  ASSERT_TRUE(s.process && s.linux && s.root);
  const oci::Process& p = *s.process;
  EXPECT_EQ(p.args, Strings{"sh"});
  EXPECT_EQ(p.cwd, "/");
  EXPECT_FALSE(p.terminal);
  EXPECT_EQ(p.env,
            (Strings{"PATH=/image/bin:/bin", "HOSTNAME=0123456789ab", "IMG=1", "HOME=/root"}));
  EXPECT_EQ(s.hostname, "0123456789ab");
  EXPECT_EQ(p.user.uid, 0u);
  EXPECT_EQ(p.user.gid, 0u);
  EXPECT_EQ(p.user.additional_gids, (std::vector<uint32_t>{0, 10}));
  ASSERT_TRUE(p.capabilities);
  EXPECT_EQ(p.capabilities->bounding, internal::DefaultCaps());
  EXPECT_EQ(p.capabilities->effective, internal::DefaultCaps());
  EXPECT_EQ(p.capabilities->bounding.size(), 14u);
  EXPECT_TRUE(p.capabilities->inheritable.empty());
  EXPECT_TRUE(p.capabilities->ambient.empty());
  EXPECT_TRUE(p.rlimits.empty());  // only what --ulimit asks for
  EXPECT_FALSE(p.no_new_privileges);
  EXPECT_EQ(p.oom_score_adj, 0);
  EXPECT_EQ(s.root->path, rootfs_);
  EXPECT_FALSE(s.root->readonly);

  for (const char* ns : {"mount", "network", "uts", "pid", "ipc", "cgroup"})
    EXPECT_TRUE(HasNs(s, ns)) << ns;
  EXPECT_FALSE(HasNs(s, "user"));
  EXPECT_EQ(s.linux->cgroups_path, "/berth/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(s.linux->masked_paths, internal::DefaultMaskedPaths());
  EXPECT_TRUE(Has(s.linux->masked_paths, "/proc/kcore"));
  EXPECT_TRUE(Has(s.linux->readonly_paths, "/proc/sys"));

  Strings dests;
  for (const auto& m : s.mounts) dests.push_back(m.destination);
  EXPECT_EQ(dests, (Strings{"/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue",
                            "/dev/shm"}));
  EXPECT_TRUE(Has(FindMount(s, "/sys")->options, "ro"));
  EXPECT_TRUE(Has(FindMount(s, "/sys/fs/cgroup")->options, "ro"));
  EXPECT_TRUE(Has(FindMount(s, "/dev/shm")->options, "size=67108864"));
  EXPECT_EQ(FindMount(s, "/dev")->type, "tmpfs");

  ASSERT_TRUE(s.linux->resources);
  const auto& rules = s.linux->resources->devices;
  ASSERT_FALSE(rules.empty());
  EXPECT_FALSE(rules[0].allow);
  EXPECT_EQ(rules[0].access, "rwm");
  auto allowed = [&](std::string type, int64_t major, std::optional<int64_t> minor) {
    return std::any_of(rules.begin(), rules.end(), [&](const oci::DeviceRule& r) {
      return r.allow && r.type == type && r.major == major && r.minor == minor && r.access == "rwm";
    });
  };
  EXPECT_TRUE(allowed("c", 1, 3));               // null
  EXPECT_TRUE(allowed("c", 1, 9));               // urandom
  EXPECT_TRUE(allowed("c", 5, 2));               // ptmx
  EXPECT_TRUE(allowed("c", 136, std::nullopt));  // pts
  EXPECT_FALSE(allowed("b", 8, 0));
  EXPECT_TRUE(s.linux->devices.empty());
  EXPECT_FALSE(s.linux->resources->memory);
  EXPECT_FALSE(s.linux->resources->cpu);
  EXPECT_FALSE(s.linux->resources->pids);

  ASSERT_TRUE(s.linux->seccomp);
  EXPECT_EQ(s.linux->seccomp->default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.linux->seccomp->default_errno_ret, 1u);
  EXPECT_EQ(s.oci_version, std::string(oci::kOciVersion));
}

TEST_F(SpecTest, ProcessArgsFollowDockersRules) {
  oci::ImageConfig img;
  img.config.emplace();
  img.config->entrypoint = Strings{"/entry"};
  img.config->cmd = Strings{"default"};
  auto args = [&](std::optional<Strings> ep, std::optional<Strings> cmd) {
    ContainerConfig c;
    if (ep) c.entrypoint = *ep, c.entrypoint_set = true;
    if (cmd) c.cmd = *cmd, c.cmd_set = true;
    Strings direct = ProcessArgs(c, img);
    EXPECT_EQ(ProcessArgs(MergeImageConfig(c, img), img), direct);  // merged: the same
    return direct;
  };
  EXPECT_EQ(args({}, {}), (Strings{"/entry", "default"}));
  EXPECT_EQ(args({}, Strings{"x"}), (Strings{"/entry", "x"}));
  EXPECT_EQ(args(Strings{"/other"}, {}), Strings{"/other"});  // the image's Cmd is dropped
  EXPECT_EQ(args(Strings{"/other"}, Strings{"y"}), (Strings{"/other", "y"}));
  EXPECT_EQ(args(Strings{""}, Strings{"ls"}), Strings{"ls"});  // --entrypoint "" clears
  EXPECT_EQ(args(Strings{""}, {}), Strings{});                 // ... and the image's Cmd
  EXPECT_EQ(args(Strings{}, {}), Strings{"default"});          // [] clears the entrypoint only
  EXPECT_EQ(ProcessArgs(ContainerConfig{}, oci::ImageConfig{}), Strings{});

  config_.entrypoint = {""};
  config_.entrypoint_set = true;
  EXPECT_EQ(BuildError(), "no command specified");
}

TEST_F(SpecTest, Env) {
  config_.env = {"IMG=2", "A=b=c", "PATH"};  // "PATH" alone unsets it
  config_.tty = true;
  oci::Spec s = Build();
  EXPECT_EQ(s.process->env,
            (Strings{"HOSTNAME=0123456789ab", "TERM=xterm", "IMG=2", "A=b=c", "HOME=/root"}));
  EXPECT_TRUE(s.process->terminal);

  image_.config->env.clear();
  config_.env = {"HOME=/custom"};
  config_.tty = false;
  s = Build();
  EXPECT_EQ(s.process->env,
            (Strings{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                     "HOSTNAME=0123456789ab", "HOME=/custom"}));
}

TEST_F(SpecTest, HostnameAndNamespaces) {
  config_.hostname = "web";
  config_.domainname = "example.org";
  oci::Spec s = Build();
  EXPECT_EQ(s.hostname, "web");
  EXPECT_EQ(s.domainname, "example.org");
  EXPECT_TRUE(Has(s.process->env, "HOSTNAME=web"));

  config_.hostname.clear();
  host_.network_mode = "host";
  s = Build();
  EXPECT_FALSE(HasNs(s, "network"));
  EXPECT_TRUE(HasNs(s, "uts"));
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_EQ(s.hostname, host);

  host_.network_mode = "none";
  host_.uts_mode = "host";
  host_.pid_mode = "host";
  host_.ipc_mode = "host";
  host_.cgroupns_mode = "host";
  s = Build();
  EXPECT_TRUE(HasNs(s, "network"));
  for (const char* ns : {"uts", "pid", "ipc", "cgroup"}) EXPECT_FALSE(HasNs(s, ns)) << ns;
  EXPECT_TRUE(s.hostname.empty());
  EXPECT_EQ(FindMount(s, "/dev/shm")->type, "bind");  // the host's /dev/shm with its ipc

  host_ = HostConfig{};
  host_.network_mode = "container:db";
  EXPECT_NE(BuildError().find("container:db"), std::string::npos);
  input_.namespace_paths["network"] = "/proc/42/ns/net";
  s = Build();
  EXPECT_EQ(s.linux->FindNamespace("network")->path, "/proc/42/ns/net");
  EXPECT_TRUE(s.linux->FindNamespace("pid")->path.empty());

  host_.ipc_mode = "none";
  s = Build();
  EXPECT_EQ(FindMount(s, "/dev/shm"), nullptr);
}

TEST_F(SpecTest, Capabilities) {
  host_.cap_add = {"net_admin", "CAP_SYS_TIME"};
  host_.cap_drop = {"chown", "CAP_NET_RAW"};
  oci::Spec s = Build();
  const Strings& caps = s.process->capabilities->bounding;
  EXPECT_TRUE(Has(caps, "CAP_NET_ADMIN"));
  EXPECT_TRUE(Has(caps, "CAP_SYS_TIME"));
  EXPECT_FALSE(Has(caps, "CAP_CHOWN"));
  EXPECT_FALSE(Has(caps, "CAP_NET_RAW"));
  EXPECT_EQ(caps.size(), 14u);

  host_.cap_add = {"CHOWN"};
  host_.cap_drop = {"all"};
  EXPECT_EQ(Build().process->capabilities->permitted, Strings{"CAP_CHOWN"});

  host_.cap_add = {"ALL"};
  host_.cap_drop = {"NET_RAW"};
  s = Build();
  EXPECT_EQ(s.process->capabilities->effective.size(), internal::AllCaps().size() - 1);
  EXPECT_TRUE(Has(s.process->capabilities->effective, "CAP_SYS_ADMIN"));

  host_.cap_add = {"CAP_FOO"};
  EXPECT_EQ(BuildError(), "unknown capability: \"CAP_FOO\"");
}

TEST_F(SpecTest, Privileged) {
  host_.privileged = true;
  oci::Spec s = Build();
  EXPECT_EQ(s.process->capabilities->bounding, internal::AllCaps());
  EXPECT_FALSE(s.linux->seccomp);
  EXPECT_TRUE(s.linux->masked_paths.empty());
  EXPECT_TRUE(s.linux->readonly_paths.empty());
  EXPECT_TRUE(Has(FindMount(s, "/sys")->options, "rw"));
  EXPECT_FALSE(Has(FindMount(s, "/sys")->options, "ro"));
  const auto& rules = s.linux->resources->devices;
  EXPECT_TRUE(std::any_of(rules.begin(), rules.end(), [](const oci::DeviceRule& r) {
    return r.allow && r.type == "a" && !r.major && !r.minor && r.access == "rwm";
  }));
  host_.read_only_rootfs = true;  // a read-only rootfs keeps /sys read-only
  EXPECT_TRUE(Has(FindMount(Build(), "/sys")->options, "ro"));
}

TEST_F(SpecTest, PrivilegedGetsTheHostsDevices) {
  if (::geteuid() != 0) GTEST_SKIP() << "mknod needs root";
  std::string dev = tmp_.path() + "/dev";
  ASSERT_TRUE(MkdirAll(dev + "/pts"));
  ASSERT_TRUE(MkdirAll(dev + "/snd"));
  ASSERT_EQ(::mknod((dev + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(::mknod((dev + "/snd/timer").c_str(), S_IFCHR | 0660, makedev(116, 33)), 0);
  ASSERT_EQ(::chmod((dev + "/snd/timer").c_str(), 0660), 0);  // whatever the umask
  ASSERT_EQ(::mknod((dev + "/loop0").c_str(), S_IFBLK | 0660, makedev(7, 0)), 0);
  ASSERT_EQ(::mknod((dev + "/pts/0").c_str(), S_IFCHR | 0620, makedev(136, 0)), 0);
  ASSERT_EQ(::mknod((dev + "/console").c_str(), S_IFCHR | 0600, makedev(5, 1)), 0);
  ASSERT_EQ(::symlink("null", (dev + "/link").c_str()), 0);
  ASSERT_TRUE(WriteFile(dev + "/notadev", "x"));
  host_.privileged = true;
  input_.host_dev = dev;
  oci::Spec s = Build();
  Strings paths;
  for (const auto& d : s.linux->devices) paths.push_back(d.path);
  EXPECT_EQ(paths, (Strings{"/dev/loop0", "/dev/null", "/dev/snd/timer"}));
  EXPECT_EQ(s.linux->devices[0].type, "b");
  EXPECT_EQ(s.linux->devices[2].major, 116);
  EXPECT_EQ(s.linux->devices[2].minor, 33);
  EXPECT_EQ(s.linux->devices[2].file_mode, 0660u);
}

TEST_F(SpecTest, Devices) {
  host_.devices = {{"/dev/null", "", "rwm"}, {"/dev/zero", "/dev/myzero", "r"}};
  oci::Spec s = Build();
  ASSERT_EQ(s.linux->devices.size(), 2u);
  EXPECT_EQ(s.linux->devices[0].path, "/dev/null");
  EXPECT_EQ(s.linux->devices[0].type, "c");
  EXPECT_EQ(s.linux->devices[0].major, 1);
  EXPECT_EQ(s.linux->devices[0].minor, 3);
  EXPECT_EQ(s.linux->devices[1].path, "/dev/myzero");
  EXPECT_EQ(s.linux->devices[1].minor, 5);
  const auto& last = s.linux->resources->devices.back();
  EXPECT_TRUE(last.allow);
  EXPECT_EQ(last.major, 1);
  EXPECT_EQ(last.minor, 5);
  EXPECT_EQ(last.access, "r");

  host_.devices = {{"/dev/berth-nonexistent", "", "rwm"}};
  EXPECT_EQ(BuildError(),
            "error gathering device information while adding custom device "
            "\"/dev/berth-nonexistent\": no such file or directory");
  host_.devices = {{rootfs_ + "/etc/passwd", "", "rwm"}};
  EXPECT_NE(BuildError().find("not a device node"), std::string::npos);

  host_.devices.clear();
  host_.device_cgroup_rules = {"c 10:200 rwm"};
  s = Build();
  const auto& rule = s.linux->resources->devices.back();
  EXPECT_EQ(rule.type, "c");
  EXPECT_EQ(rule.major, 10);
  EXPECT_EQ(rule.minor, 200);
}

TEST_F(SpecTest, Users) {
  auto user = [&](std::string u, Strings group_add = {}) -> std::string {
    config_.user = std::move(u);
    host_.group_add = std::move(group_add);
    auto r = BuildSpec(input_);
    if (!r) return r.error().message();
    const auto& pu = r->process->user;
    std::string out = std::to_string(pu.uid) + ":" + std::to_string(pu.gid);
    for (auto g : pu.additional_gids) out += "," + std::to_string(g);
    for (const auto& e : r->process->env)
      if (e.starts_with("HOME=")) out += " " + e;
    return out;
  };
  EXPECT_EQ(user("alice"), "1000:1000,10,29 HOME=/home/alice");
  EXPECT_EQ(user("1000"), "1000:1000,10,29 HOME=/home/alice");
  EXPECT_EQ(user("alice:staff"), "1000:50 HOME=/home/alice");
  EXPECT_EQ(user("alice:7"), "1000:7 HOME=/home/alice");
  EXPECT_EQ(user("4242"), "4242:0 HOME=/");
  EXPECT_EQ(user("4242:4242"), "4242:4242 HOME=/");
  EXPECT_EQ(user("nobody"), "65534:65534 HOME=/nonexistent");
  EXPECT_EQ(user("alice", {"staff", "99"}), "1000:1000,10,29,50,99 HOME=/home/alice");
  EXPECT_EQ(user("bob"), "unable to find user bob: no matching entries in passwd file");
  EXPECT_EQ(user("alice:nogroup"),
            "unable to find group nogroup: no matching entries in group file");
  EXPECT_EQ(user("", {"nogroup"}),
            "unable to find group nogroup: no matching entries in group file");
  EXPECT_EQ(user("3000000000"), "uids and gids must be in range 0-2147483647");
  image_.config->user = "nobody";  // the image's USER when -u is not given
  EXPECT_EQ(user(""), "65534:65534 HOME=/nonexistent");
}

TEST_F(SpecTest, UserFilesAreReadInsideTheRootfs) {
  // A passwd the host has but the container must not see.
  std::string outside = tmp_.path() + "/outside-passwd";
  ASSERT_TRUE(WriteFile(outside, "eve:x:4444:4444::/home/eve:/bin/sh\n"));
  ASSERT_EQ(::unlink((rootfs_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(::symlink(outside.c_str(), (rootfs_ + "/etc/passwd").c_str()), 0);
  config_.user = "eve";
  EXPECT_EQ(BuildError(), "unable to find user eve: no matching entries in passwd file");
  ASSERT_EQ(::unlink((rootfs_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../outside-passwd", (rootfs_ + "/etc/passwd").c_str()), 0);
  EXPECT_EQ(BuildError(), "unable to find user eve: no matching entries in passwd file");
  // A symlink that stays inside is followed there.
  ASSERT_TRUE(WriteFile(rootfs_ + "/etc/passwd.real", "eve:x:5555:5555::/e:/bin/sh\n"));
  ASSERT_EQ(::unlink((rootfs_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("/etc/passwd.real", (rootfs_ + "/etc/passwd").c_str()), 0);
  EXPECT_EQ(Build().process->user.uid, 5555u);
  // No /etc/passwd at all: numeric users only.
  ASSERT_TRUE(RemoveAll(rootfs_ + "/etc"));
  config_.user = "123:456";
  EXPECT_EQ(Build().process->user.gid, 456u);
  config_.user = "";
  EXPECT_EQ(Build().process->user.uid, 0u);
}

TEST_F(SpecTest, WorkingDirTerminalConsole) {
  image_.config->working_dir = "/srv";
  EXPECT_EQ(Build().process->cwd, "/srv");
  config_.working_dir = "/app/./x/..";
  EXPECT_EQ(Build().process->cwd, "/app");
  config_.tty = true;
  host_.console_size = {40, 120};
  oci::Spec s = Build();
  EXPECT_TRUE(s.process->terminal);
  ASSERT_TRUE(s.process->console_size);
  EXPECT_EQ(s.process->console_size->height, 40u);
  EXPECT_EQ(s.process->console_size->width, 120u);
}

TEST_F(SpecTest, Resources) {
  host_.memory = 64 << 20;
  host_.memory_swap = 128 << 20;
  host_.memory_reservation = 32 << 20;
  host_.nano_cpus = 1500000000;
  host_.cpu_shares = 512;
  host_.cpuset_cpus = "0";
  host_.cpuset_mems = "0";
  host_.pids_limit = 100;
  host_.oom_kill_disable = true;
  host_.blkio_weight = 300;
  oci::Spec s = Build();
  const auto& r = *s.linux->resources;
  ASSERT_TRUE(r.memory && r.cpu && r.pids && r.block_io);
  EXPECT_EQ(r.memory->limit, 64 << 20);
  EXPECT_EQ(r.memory->reservation, 32 << 20);
  bool swap = PathExists("/sys/fs/cgroup/cgroup.controllers") ||
              PathExists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
  if (swap)
    EXPECT_EQ(r.memory->swap, 128 << 20);
  else
    EXPECT_FALSE(r.memory->swap);
  EXPECT_EQ(r.memory->disable_oom_killer, true);
  EXPECT_EQ(r.cpu->period, 100000u);
  EXPECT_EQ(r.cpu->quota, 150000);
  EXPECT_EQ(r.cpu->shares, 512u);
  EXPECT_EQ(r.cpu->cpus, "0");
  EXPECT_EQ(r.cpu->mems, "0");
  EXPECT_EQ(r.pids->limit, 100);
  EXPECT_EQ(r.block_io->weight, 300);

  host_ = HostConfig{};
  host_.cpu_period = 50000;
  host_.cpu_quota = 25000;
  host_.pids_limit = -1;  // unlimited
  host_.memory_swap = -1;
  s = Build();
  EXPECT_EQ(s.linux->resources->cpu->period, 50000u);
  EXPECT_EQ(s.linux->resources->cpu->quota, 25000);
  EXPECT_FALSE(s.linux->resources->pids);
  EXPECT_FALSE(s.linux->resources->memory);
}

TEST_F(SpecTest, UlimitsSysctlsAndProcessFlags) {
  host_.ulimits = {{"nofile", 1024, 2048}, {"core", -1, -1}};
  host_.oom_score_adj = 500;
  host_.no_new_privileges = true;
  host_.read_only_rootfs = true;
  host_.sysctls = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "1000000"}};
  oci::Spec s = Build();
  ASSERT_EQ(s.process->rlimits.size(), 2u);
  EXPECT_EQ(s.process->rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(s.process->rlimits[0].soft, 1024u);
  EXPECT_EQ(s.process->rlimits[0].hard, 2048u);
  EXPECT_EQ(s.process->rlimits[1].hard, UINT64_MAX);
  EXPECT_EQ(s.process->oom_score_adj, 500);
  EXPECT_TRUE(s.process->no_new_privileges);
  EXPECT_TRUE(s.root->readonly);
  EXPECT_EQ(s.linux->sysctl.at("net.ipv4.ip_forward"), "1");

  host_.ulimits = {{"nofiles", 1, 1}};
  EXPECT_EQ(BuildError(), "invalid ulimit type: nofiles");
  host_.ulimits.clear();
  host_.sysctls = {{"kernel.panic", "1"}};
  EXPECT_EQ(BuildError(), "sysctl \"kernel.panic\" is not in a separate kernel namespace");
  host_.sysctls = {{"net.ipv4.ip_forward", "1"}};
  host_.network_mode = "host";
  EXPECT_EQ(BuildError(), "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace");
  host_.network_mode.clear();
  host_.ipc_mode = "host";
  host_.sysctls = {{"kernel.shmmax", "1"}};
  EXPECT_EQ(BuildError(), "sysctl \"kernel.shmmax\" is not in a separate kernel namespace");
}

TEST_F(SpecTest, MountsHostFilesAndInit) {
  input_.mounts = {{"bind", "/srv/a/b", "/data/b", {"rbind", "rw", "rprivate"}},
                   {"bind", "/srv/a", "/data", {"rbind", "ro", "rshared"}},
                   {"tmpfs", "tmpfs", "/dev/shm", {"noexec", "size=1m"}}};
  input_.hosts_path = "/var/lib/berth/c/hosts";
  input_.resolv_conf_path = "/var/lib/berth/c/resolv.conf";
  input_.hostname_path = "/var/lib/berth/c/hostname";
  input_.init_path = "/usr/libexec/berth-init";
  host_.init = true;
  host_.shm_size = 1 << 20;
  oci::Spec s = Build();
  EXPECT_EQ(s.process->args, (Strings{"/sbin/docker-init", "--", "sh"}));
  const oci::Mount* init = FindMount(s, "/sbin/docker-init");
  ASSERT_NE(init, nullptr);
  EXPECT_EQ(init->source, "/usr/libexec/berth-init");
  EXPECT_TRUE(Has(init->options, "ro"));
  // /dev/shm is the user's (one mount there); parents before children.
  int shm = 0;
  size_t data = 0, data_b = 0;
  for (size_t i = 0; i < s.mounts.size(); ++i) {
    if (s.mounts[i].destination == "/dev/shm") ++shm;
    if (s.mounts[i].destination == "/data") data = i;
    if (s.mounts[i].destination == "/data/b") data_b = i;
  }
  EXPECT_EQ(shm, 1);
  EXPECT_EQ(FindMount(s, "/dev/shm")->options, (Strings{"noexec", "size=1m"}));
  EXPECT_LT(data, data_b);
  EXPECT_EQ(FindMount(s, "/etc/hosts")->source, "/var/lib/berth/c/hosts");
  EXPECT_TRUE(Has(FindMount(s, "/etc/resolv.conf")->options, "rw"));
  EXPECT_NE(FindMount(s, "/etc/hostname"), nullptr);
  EXPECT_EQ(s.linux->rootfs_propagation, "shared");  // an rshared mount needs it

  host_.read_only_rootfs = true;
  EXPECT_TRUE(Has(FindMount(Build(), "/etc/hosts")->options, "ro"));

  input_.mounts = {{"bind", "/x", "/dev", {"rbind"}}};
  s = Build();
  EXPECT_EQ(FindMount(s, "/dev/pts"), nullptr);  // a user /dev replaces the /dev/* defaults
  EXPECT_EQ(FindMount(s, "/dev")->source, "/x");

  input_.init_path.clear();
  EXPECT_NE(BuildError().find("--init"), std::string::npos);
}

TEST_F(SpecTest, CgroupParent) {
  host_.cgroup_parent = "/custom/";
  EXPECT_EQ(Build().linux->cgroups_path, "/custom/0123456789abcdef0123456789abcdef");
  host_.cgroup_parent = "../../escape";
  EXPECT_EQ(Build().linux->cgroups_path, "/escape/0123456789abcdef0123456789abcdef");
  host_.cgroup_parent.clear();
  input_.cgroup_parent = "/docker";
  EXPECT_EQ(Build().linux->cgroups_path, "/docker/0123456789abcdef0123456789abcdef");
}

TEST_F(SpecTest, DefaultSeccompFollowsCapabilities) {
  oci::Seccomp s = *Build().linux->seccomp;  // a copy: Build()'s spec is gone after this line
  const oci::SeccompSyscall* read = FindRule(s, "read");
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->action, "SCMP_ACT_ALLOW");
  EXPECT_TRUE(read->args.empty());
  for (const char* denied :
       {"keyctl", "add_key", "request_key", "mount", "umount2", "unshare", "kexec_load", "bpf",
        "perf_event_open", "ptrace", "reboot", "init_module", "setns", "userfaultfd"})
    EXPECT_EQ(FindRule(s, denied), nullptr) << denied;
  EXPECT_NE(FindRule(s, "chroot"), nullptr);  // CAP_SYS_CHROOT is a default capability
  const oci::SeccompSyscall* clone = FindRule(s, "clone");
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(clone->args.size(), 1u);
  EXPECT_EQ(clone->args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(clone->args[0].value, 0x7E020000u);
  EXPECT_EQ(clone->args[0].value_two, 0u);
  const oci::SeccompSyscall* clone3 = FindRule(s, "clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3->errno_ret, 38u);  // ENOSYS: libc falls back to clone
  EXPECT_FALSE(s.architectures.empty());

  host_.cap_add = {"SYS_ADMIN", "SYS_PTRACE"};
  host_.cap_drop = {"SYS_CHROOT"};
  s = *Build().linux->seccomp;
  EXPECT_NE(FindRule(s, "mount"), nullptr);
  EXPECT_NE(FindRule(s, "ptrace"), nullptr);
  EXPECT_EQ(FindRule(s, "chroot"), nullptr);
  EXPECT_TRUE(FindRule(s, "clone")->args.empty());
  EXPECT_EQ(FindRule(s, "clone3")->action, "SCMP_ACT_ALLOW");

  host_.seccomp_unconfined = true;
  EXPECT_FALSE(Build().linux->seccomp);
}

TEST_F(SpecTest, DefaultSeccompCompiles) {
  for (const auto& caps : {internal::DefaultCaps(), internal::AllCaps(), Strings{}}) {
    auto program = runtime::seccomp::Compile(internal::DefaultSeccomp(caps));
    ASSERT_TRUE(program) << program.error().message();
    EXPECT_FALSE(program->bpf.empty());
  }
}

TEST_F(SpecTest, DockerSeccompProfile) {
  std::string arch = internal::DefaultSeccomp({}).architectures.at(0);
  nlohmann::json profile = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"defaultErrnoRet", 1},
      {"archMap",
       {{{"architecture", arch}, {"subArchitectures", {"SCMP_ARCH_X86"}}},
        {{"architecture", "SCMP_ARCH_PPC"}, {"subArchitectures", nlohmann::json::array()}}}},
      {"syscalls",
       {{{"names", {"read", "write"}}, {"action", "SCMP_ACT_ALLOW"}},
        {{"name", "personality"},
         {"action", "SCMP_ACT_ALLOW"},
         {"args", {{{"index", 0}, {"value", 8}, {"valueTwo", 0}, {"op", "SCMP_CMP_EQ"}}}}},
        {{"names", {"mount"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"includes", {{"caps", {"CAP_SYS_ADMIN"}}}}},
        {{"names", {"chroot"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"excludes", {{"caps", {"CAP_SYS_CHROOT"}}}}},
        {{"names", {"ppc_only"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"includes", {{"arches", {"SCMP_ARCH_PPC"}}}}},
        {{"names", {"not_here"}}, {"action", "SCMP_ACT_ALLOW"}, {"excludes", {{"arches", {arch}}}}},
        {{"names", {"new_kernel"}},
         {"action", "SCMP_ACT_ALLOW"},
         {"includes", {{"minKernel", "99.0"}}}},
        {{"names", {"old_kernel"}},
         {"action", "SCMP_ACT_ERRNO"},
         {"errnoRet", 38},
         {"includes", {{"minKernel", "3.0"}}}}}}};
  host_.seccomp_profile_json = profile.dump();
  oci::Seccomp s = *Build().linux->seccomp;
  EXPECT_EQ(s.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(s.default_errno_ret, 1u);
  EXPECT_EQ(s.architectures, (Strings{arch, "SCMP_ARCH_X86"}));
  Strings names;
  for (const auto& r : s.syscalls) names.insert(names.end(), r.names.begin(), r.names.end());
  EXPECT_EQ(names, (Strings{"read", "write", "personality", "old_kernel"}));
  EXPECT_EQ(s.syscalls[1].args.at(0).value, 8u);
  EXPECT_EQ(s.syscalls[2].errno_ret, 38u);

  host_.cap_add = {"SYS_ADMIN"};
  host_.cap_drop = {"SYS_CHROOT"};
  names.clear();
  oci::Spec with_admin = Build();
  for (const auto& r : with_admin.linux->seccomp->syscalls) names.push_back(r.names[0]);
  EXPECT_TRUE(Has(names, "mount"));
  EXPECT_TRUE(Has(names, "chroot"));

  host_.seccomp_profile_json = "{not json";
  EXPECT_EQ(BuildError().rfind("Decoding seccomp profile failed: ", 0), 0u) << BuildError();
  host_.seccomp_profile_json = R"({"defaultAction":"SCMP_ACT_ALLOW","architectures":["x"],
                                   "archMap":[]})";
  EXPECT_NE(BuildError().find("use either 'architectures' or 'archMap'"), std::string::npos);
  host_.seccomp_profile_json =
      R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"]}]})";
  EXPECT_NE(BuildError().find("use either 'name' or 'names'"), std::string::npos);
  host_.seccomp_profile_json = R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":"x"})";
  EXPECT_NE(BuildError().find("cannot unmarshal string"), std::string::npos);
  host_.privileged = true;  // privileged: no filter, whatever the profile
  EXPECT_FALSE(Build().linux->seccomp);
}

TEST(ResolveMountTest, DockersOptions) {
  MountSpec bind{.type = "bind", .source = "/h", .target = "/c/", .read_only = true};
  ResolvedMount r = ResolveMount(bind, "");
  EXPECT_EQ(r.type, "bind");
  EXPECT_EQ(r.source, "/h");
  EXPECT_EQ(r.destination, "/c");
  EXPECT_EQ(r.options, (Strings{"rbind", "ro", "rprivate"}));
  MountSpec vol{.type = "volume", .source = "v", .target = "/v", .propagation = "rslave"};
  r = ResolveMount(vol, "/var/lib/berth/volumes/v/_data");
  EXPECT_EQ(r.source, "/var/lib/berth/volumes/v/_data");
  EXPECT_EQ(r.options, (Strings{"rbind", "rw", "rslave"}));
  bind.non_recursive = true;
  EXPECT_EQ(ResolveMount(bind, "").options[0], "bind");
  MountSpec tmp{.type = "tmpfs", .target = "/t", .tmpfs_size = 1 << 20, .tmpfs_mode = 0700};
  tmp.tmpfs_options = "exec,size=2m,uid=5";
  r = ResolveMount(tmp, "");
  EXPECT_EQ(r.type, "tmpfs");
  EXPECT_EQ(r.source, "tmpfs");
  EXPECT_EQ(r.options,
            (Strings{"nosuid", "nodev", "rprivate", "mode=700", "exec", "size=2m", "uid=5"}));
}

TEST(MergeImageConfigTest, DockersMerge) {
  oci::ImageConfig img;
  img.config.emplace();
  auto& ic = *img.config;
  ic.user = "nobody";
  ic.env = {"PATH=/bin", "A=image"};
  ic.labels = {{"l1", "image"}, {"l2", "image"}};
  ic.exposed_ports = {"80/tcp"};
  ic.volumes = {"/data"};
  ic.working_dir = "/srv";
  ic.stop_signal = "SIGQUIT";
  ic.cmd = Strings{"run"};
  ic.healthcheck = oci::HealthConfig{.test = {"CMD", "true"}, .interval = 5, .retries = 3};
  ContainerConfig c;
  c.env = {"A=user"};
  c.labels = {{"l1", "user"}};
  c.exposed_ports = {"443/tcp"};
  c.healthcheck_json = R"({"Interval":7})";
  ContainerConfig m = MergeImageConfig(c, img);
  EXPECT_EQ(m.user, "nobody");
  EXPECT_EQ(m.env, (Strings{"A=user", "PATH=/bin"}));
  EXPECT_EQ(m.labels.at("l1"), "user");
  EXPECT_EQ(m.labels.at("l2"), "image");
  EXPECT_EQ(m.exposed_ports, (Strings{"443/tcp", "80/tcp"}));
  EXPECT_EQ(m.volumes.count("/data"), 1u);
  EXPECT_EQ(m.working_dir, "/srv");
  EXPECT_EQ(m.stop_signal, "SIGQUIT");
  EXPECT_EQ(m.cmd, Strings{"run"});
  EXPECT_TRUE(m.cmd_set);
  auto hc = nlohmann::json::parse(m.healthcheck_json);
  EXPECT_EQ(hc["Interval"], 7);
  EXPECT_EQ(hc["Retries"], 3);
  EXPECT_EQ(hc["Test"], (nlohmann::json{"CMD", "true"}));
}

TEST(ExecProcessTest, LayersOverTheContainer) {
  TempDir tmp;
  ASSERT_TRUE(MkdirAll(tmp.path() + "/etc"));
  ASSERT_TRUE(WriteFile(tmp.path() + "/etc/passwd",
                        "root:x:0:0::/root:/bin/sh\n"
                        "app:x:100:101::/home/app:/bin/sh\n"));
  oci::Spec spec;
  spec.process.emplace();
  spec.process->env = {"PATH=/bin", "A=1", "HOME=/root"};
  spec.process->cwd = "/srv";
  spec.process->user.additional_gids = {10};
  spec.process->capabilities = oci::Capabilities{.bounding = {"CAP_KILL"}};
  spec.process->no_new_privileges = true;
  ExecInput in{.container = &spec, .cmd = {"ls"}, .env = {"A=2", "B=3"}, .rootfs = tmp.path()};
  auto p = BuildExecProcess(in);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->args, Strings{"ls"});
  EXPECT_EQ(p->env, (Strings{"PATH=/bin", "A=2", "HOME=/root", "B=3"}));
  EXPECT_EQ(p->cwd, "/srv");
  EXPECT_EQ(p->user.additional_gids, (std::vector<uint32_t>{10}));
  EXPECT_TRUE(p->no_new_privileges);
  EXPECT_FALSE(p->terminal);

  in.user = "app";
  in.tty = true;
  in.working_dir = "/tmp";
  in.privileged = true;
  p = BuildExecProcess(in);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->user.uid, 100u);
  EXPECT_EQ(p->user.gid, 101u);
  EXPECT_TRUE(p->user.additional_gids.empty());
  EXPECT_TRUE(Has(p->env, "HOME=/home/app"));
  EXPECT_TRUE(Has(p->env, "TERM=xterm"));
  EXPECT_TRUE(p->terminal);
  EXPECT_EQ(p->cwd, "/tmp");
  EXPECT_EQ(p->capabilities->bounding, internal::AllCaps());

  in.user = "ghost";
  EXPECT_EQ(BuildExecProcess(in).error().message(),
            "unable to find user ghost: no matching entries in passwd file");
  in.user.clear();
  in.working_dir = "rel";
  EXPECT_FALSE(BuildExecProcess(in));
  in.cmd.clear();
  EXPECT_FALSE(BuildExecProcess(in));
}

}  // namespace
}  // namespace berth::engine
