#include "cli/commands/container_options.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <map>
#include <set>

#include "cli/commands/flags.h"
#include "util/file.h"

namespace berth::cli {
namespace {

using nlohmann::ordered_json;

// Every flag of docker run / create that Berth reads; the rest are refused as unknown.
struct RunFlags {
  std::vector<std::string> attach, env, env_file, label, label_file, volume, mount, tmpfs, ulimit,
      cap_add, cap_drop, device, security_opt, log_opt, publish, expose, group_add, sysctl, dns,
      dns_search, dns_option, add_host, link, volumes_from;
  std::string name, workdir, user, entrypoint, hostname, domainname, memory, memory_swap,
      memory_reservation, cpus, cpu_shares, cpuset_cpus, cpuset_mems, pids_limit, shm_size,
      restart = "no", stop_signal, stop_timeout, network, log_driver, platform, pull = "missing",
      detach_keys, oom_score_adj, memory_swappiness = "-1", cgroup_parent, ipc, pid, uts, userns,
      cgroupns, runtime, cidfile, volume_driver;
  bool detach = false, interactive = false, tty = false, rm = false, read_only = false,
       privileged = false, init = false, sig_proxy = true, publish_all = false, quiet = false,
       oom_kill_disable = false, help = false;
};

void Register(FlagSet& f, RunFlags& v, bool run) {
  f.List("attach", 'a', &v.attach);
  f.List("env", 'e', &v.env);
  f.List("env-file", 0, &v.env_file);
  f.List("label", 'l', &v.label);
  f.List("label-file", 0, &v.label_file);
  f.List("volume", 'v', &v.volume);
  f.List("mount", 0, &v.mount);
  f.List("tmpfs", 0, &v.tmpfs);
  f.List("ulimit", 0, &v.ulimit);
  f.List("cap-add", 0, &v.cap_add);
  f.List("cap-drop", 0, &v.cap_drop);
  f.List("device", 0, &v.device);
  f.List("security-opt", 0, &v.security_opt);
  f.List("log-opt", 0, &v.log_opt);
  f.List("publish", 'p', &v.publish);
  f.List("expose", 0, &v.expose);
  f.List("group-add", 0, &v.group_add);
  f.List("sysctl", 0, &v.sysctl);
  f.List("dns", 0, &v.dns);
  f.List("dns-search", 0, &v.dns_search);
  f.List("dns-option", 0, &v.dns_option);
  f.List("dns-opt", 0, &v.dns_option);
  f.List("add-host", 0, &v.add_host);
  f.List("link", 0, &v.link);
  f.List("volumes-from", 0, &v.volumes_from);
  f.String("name", 0, &v.name);
  f.String("workdir", 'w', &v.workdir);
  f.String("user", 'u', &v.user);
  f.String("entrypoint", 0, &v.entrypoint);
  f.String("hostname", 'h', &v.hostname);
  f.String("domainname", 0, &v.domainname);
  f.String("memory", 'm', &v.memory);
  f.String("memory-swap", 0, &v.memory_swap);
  f.String("memory-reservation", 0, &v.memory_reservation);
  f.String("memory-swappiness", 0, &v.memory_swappiness);
  f.String("cpus", 0, &v.cpus);
  f.String("cpu-shares", 'c', &v.cpu_shares);
  f.String("cpuset-cpus", 0, &v.cpuset_cpus);
  f.String("cpuset-mems", 0, &v.cpuset_mems);
  f.String("pids-limit", 0, &v.pids_limit);
  f.String("shm-size", 0, &v.shm_size);
  f.String("restart", 0, &v.restart);
  f.String("stop-signal", 0, &v.stop_signal);
  f.String("stop-timeout", 0, &v.stop_timeout);
  f.String("network", 0, &v.network);
  f.String("net", 0, &v.network);
  f.String("log-driver", 0, &v.log_driver);
  f.String("platform", 0, &v.platform);
  f.String("pull", 0, &v.pull);
  f.String("oom-score-adj", 0, &v.oom_score_adj);
  f.String("cgroup-parent", 0, &v.cgroup_parent);
  f.String("ipc", 0, &v.ipc);
  f.String("pid", 0, &v.pid);
  f.String("uts", 0, &v.uts);
  f.String("userns", 0, &v.userns);
  f.String("cgroupns", 0, &v.cgroupns);
  f.String("runtime", 0, &v.runtime);
  f.String("cidfile", 0, &v.cidfile);
  f.String("volume-driver", 0, &v.volume_driver);
  f.Bool("interactive", 'i', &v.interactive);
  f.Bool("tty", 't', &v.tty);
  f.Bool("rm", 0, &v.rm);
  f.Bool("read-only", 0, &v.read_only);
  f.Bool("privileged", 0, &v.privileged);
  f.Bool("init", 0, &v.init);
  f.Bool("publish-all", 'P', &v.publish_all);
  f.Bool("oom-kill-disable", 0, &v.oom_kill_disable);
  f.Bool("quiet", 'q', &v.quiet);
  f.Bool("help", 0, &v.help);
  if (run) {
    f.Bool("detach", 'd', &v.detach);
    f.Bool("sig-proxy", 0, &v.sig_proxy);
    f.String("detach-keys", 0, &v.detach_keys);
  }
}

Result<int64_t> ParseInt(const FlagSet& f, const char* flag, const std::string& s) {
  if (s.empty()) return int64_t{0};
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE)
    return InvalidFlagValue(f, flag, s,
                            "strconv.ParseInt: parsing \"" + s + "\": value out of range");
  if (*end || end == s.c_str())
    return InvalidFlagValue(f, flag, s, "strconv.ParseInt: parsing \"" + s + "\": invalid syntax");
  return static_cast<int64_t>(v);
}

Result<int64_t> FlagBytes(const FlagSet& f, const char* flag, const std::string& s) {
  if (s.empty()) return int64_t{0};
  auto r = ParseRamBytes(s);
  if (!r) return InvalidFlagValue(f, flag, s, r.error().message());
  return *r;
}

// "KEY=VALUE" lines of --env-file / --label-file, then the flags' own values (docker's
// ReadKVStrings): '#' comments and blank lines skipped; for env, a bare KEY takes the client's
// value and is left out of a file when unset.
Result<std::vector<std::string>> ReadKv(const std::vector<std::string>& files,
                                        const std::vector<std::string>& flags, bool env,
                                        const std::function<const char*(const char*)>& lookup) {
  std::vector<std::string> out;
  for (const auto& file : files) {
    auto text = ReadFile(file, 16u << 20);
    if (!text) return Error::InvalidArgument("open " + file + ": no such file or directory");
    for (auto line : Split(*text, '\n')) {
      std::string_view l = line;
      while (!l.empty() && std::isspace(static_cast<unsigned char>(l.front()))) l.remove_prefix(1);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (l.empty() || l.front() == '#') continue;
      std::string s(l);
      if (s.find('=') == std::string::npos) {
        const char* v = env ? lookup(s.c_str()) : nullptr;
        if (!v) continue;  // a bare label, or an unset variable, is left out
        s += std::string("=") + v;
      }
      out.push_back(s);
    }
  }
  // docker run passes -e through a map (its proxy-variable merge): one entry per name, the last
  // value winning. Go leaves their order random; here it is the order of first appearance.
  std::vector<std::string> from_flags;
  std::map<std::string, size_t> index;
  for (const auto& s : flags) {
    std::string kv = s;
    if (env && s.find('=') == std::string::npos) {
      const char* v = lookup(s.c_str());
      if (v) kv = s + "=" + v;
    }
    if (!env) {
      from_flags.push_back(kv);
      continue;
    }
    std::string key = kv.substr(0, kv.find('='));
    if (auto it = index.find(key); it != index.end()) {
      from_flags[it->second] = kv;
    } else {
      index[key] = from_flags.size();
      from_flags.push_back(kv);
    }
  }
  out.insert(out.end(), from_flags.begin(), from_flags.end());
  return out;
}

ordered_json KvMap(const std::vector<std::string>& kvs) {
  ordered_json m = ordered_json::object();
  for (const auto& kv : kvs) {
    auto eq = kv.find('=');
    m[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  return m;
}

// A port or range "80", "8000-8002" → [first, last].
bool ParsePortRange(const std::string& s, int* first, int* last) {
  auto dash = s.find('-');
  auto num = [](const std::string& p, int* out) {
    if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), ::isdigit)) return false;
    *out = std::stoi(p);
    return *out <= 65535;
  };
  if (dash == std::string::npos) return num(s, first) && (*last = *first, true);
  return num(s.substr(0, dash), first) && num(s.substr(dash + 1), last) && *first <= *last;
}

// -p [ip:][host:]container[/proto] (docker's nat.ParsePortSpec).
Result<void> AddPublish(const std::string& spec, ordered_json& bindings, ordered_json& exposed) {
  std::string rest = spec, proto = "tcp", ip, host, container;
  if (auto slash = rest.rfind('/'); slash != std::string::npos) {
    proto = rest.substr(slash + 1);
    rest.resize(slash);
  }
  if (!rest.empty() && rest[0] == '[') {  // [::1]:80:80
    auto close = rest.find(']');
    if (close == std::string::npos) return Error::InvalidArgument("invalid IP address: " + rest);
    ip = rest.substr(1, close - 1);
    rest = rest.substr(std::min(rest.size(), close + 2));
    auto colon = rest.find(':');
    host = colon == std::string::npos ? "" : rest.substr(0, colon);
    container = colon == std::string::npos ? rest : rest.substr(colon + 1);
  } else {
    auto parts = Split(rest, ':');
    if (parts.size() == 1) {
      container = parts[0];
    } else if (parts.size() == 2) {
      host = parts[0];
      container = parts[1];
    } else if (parts.size() == 3) {
      ip = parts[0];
      host = parts[1];
      container = parts[2];
    } else {
      return Error::InvalidArgument("invalid port specification: \"" + spec + "\"");
    }
  }
  if (container.empty()) return Error::InvalidArgument("no port specified: " + spec + "<empty>");
  int c0, c1, h0 = 0, h1 = 0;
  if (!ParsePortRange(container, &c0, &c1))
    return Error::InvalidArgument("invalid containerPort: " + container);
  if (!host.empty() && !ParsePortRange(host, &h0, &h1))
    return Error::InvalidArgument("invalid hostPort: " + host);
  if (proto != "tcp" && proto != "udp" && proto != "sctp")
    return Error::InvalidArgument("invalid proto: " + proto);
  bool host_range = !host.empty() && h1 != h0;
  if (host_range && c1 != c0 && h1 - h0 != c1 - c0)
    return Error::InvalidArgument(
        "invalid ranges specified for container and host Ports: " + container + " and " + host);
  for (int p = c0; p <= c1; ++p) {
    std::string key = std::to_string(p) + "/" + proto;
    std::string host_port;
    if (!host.empty()) {
      if (c1 != c0 && host_range)
        host_port = std::to_string(h0 + (p - c0));
      else
        host_port = host;
    }
    exposed[key] = ordered_json::object();
    if (!bindings.contains(key)) bindings[key] = ordered_json::array();
    bindings[key].push_back({{"HostIp", ip}, {"HostPort", host_port}});
  }
  return {};
}

bool IsUlimitName(const std::string& n) {
  static const std::set<std::string> kNames = {
      "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
      "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack"};
  return kNames.count(n) > 0;
}

Result<ordered_json> ParseUlimit(const FlagSet& f, const std::string& s) {
  auto eq = s.find('=');
  if (eq == std::string::npos)
    return InvalidFlagValue(f, "ulimit", s, "invalid ulimit argument: " + s);
  std::string name = s.substr(0, eq), value = s.substr(eq + 1);
  if (!IsUlimitName(name)) return InvalidFlagValue(f, "ulimit", s, "invalid ulimit type: " + name);
  auto colon = value.find(':');
  std::string soft_s = value.substr(0, colon),
              hard_s = colon == std::string::npos ? soft_s : value.substr(colon + 1);
  auto num = [&](const std::string& v) -> Result<int64_t> {
    char* end = nullptr;
    errno = 0;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end || errno)
      return InvalidFlagValue(f, "ulimit", s,
                              "strconv.ParseInt: parsing \"" + v + "\": invalid syntax");
    return static_cast<int64_t>(n);
  };
  int64_t soft = BERTH_TRY(num(soft_s)), hard = BERTH_TRY(num(hard_s));
  if (soft > hard)
    return InvalidFlagValue(f, "ulimit", s,
                            "ulimit soft limit must be less than or equal to hard limit: " +
                                std::to_string(soft) + " > " + std::to_string(hard));
  return ordered_json{{"Name", name}, {"Hard", hard}, {"Soft", soft}};
}

// filepath.Abs of a relative path: the working directory joined and cleaned.
std::string AbsPath(const std::string& rel) {
  char cwd[PATH_MAX];
  if (!::getcwd(cwd, sizeof cwd)) return rel;
  std::vector<std::string> parts;
  for (const auto& p : Split(std::string(cwd) + "/" + rel, '/', true)) {
    if (p == ".") continue;
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

// --mount type=...,source=...,target=...: docker's MountOpt, fields in the API's order.
Result<ordered_json> ParseMount(const FlagSet& f, const std::string& spec) {
  auto bad = [&](const std::string& why) { return InvalidFlagValue(f, "mount", spec, why); };
  std::string type = "volume", source, target, consistency;
  std::optional<bool> read_only;
  ordered_json bind = ordered_json::object(), volume = ordered_json::object(),
               tmpfs = ordered_json::object(), driver = ordered_json::object();
  for (const auto& field : Split(spec, ',')) {
    auto eq = field.find('=');
    std::string key = field.substr(0, eq),
                val = eq == std::string::npos ? "" : field.substr(eq + 1);
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool has = eq != std::string::npos;
    if (has && val.empty()) return bad("invalid value for '" + key + "': value is empty");
    auto boolean = [&](const char* k) -> Result<bool> {
      if (!has || val == "1" || val == "true") return true;
      if (val == "0" || val == "false") return false;
      return bad(std::string("invalid value for ") + k + ": " + val);
    };
    if (key == "type") {
      type = val;
    } else if (key == "source" || key == "src") {
      source = val;
      if (!source.empty() && source[0] == '.') source = AbsPath(source);
    } else if (key == "target" || key == "dst" || key == "destination") {
      target = val;
    } else if (key == "readonly" || key == "ro") {
      read_only = BERTH_TRY(boolean(key.c_str()));
    } else if (key == "consistency") {
      consistency = val;
    } else if (key == "bind-propagation") {
      bind["Propagation"] = val;
    } else if (key == "bind-create-src") {
      bind["CreateMountpoint"] = BERTH_TRY(boolean(key.c_str()));
    } else if (key == "volume-nocopy") {
      volume["NoCopy"] = BERTH_TRY(boolean(key.c_str()));
    } else if (key == "volume-subpath") {
      volume["Subpath"] = val;
    } else if (key == "volume-driver") {
      driver["Name"] = val;
    } else if (key == "volume-opt" || key == "volume-label") {
      auto e = val.find('=');
      ordered_json& m = key == "volume-opt" ? driver["Options"] : volume["Labels"];
      m[val.substr(0, e)] = e == std::string::npos ? "" : val.substr(e + 1);
    } else if (key == "tmpfs-size") {
      auto n = ParseRamBytes(val);
      if (!n) return bad("invalid value for " + key + ": " + val);
      tmpfs["SizeBytes"] = *n;
    } else if (key == "tmpfs-mode") {
      char* end = nullptr;
      unsigned long mode = std::strtoul(val.c_str(), &end, 8);
      if (*end) return bad("invalid value for " + key + ": " + val);
      tmpfs["Mode"] = mode;
    } else if (!has) {
      return bad("invalid field '" + field + "' must be a key=value pair");
    } else {
      return bad("unknown option '" + key + "' in '" + field + "'");
    }
  }
  if (target.empty()) return bad("target is required");
  ordered_json m = {{"Type", type}};
  if (!source.empty()) m["Source"] = source;
  m["Target"] = target;
  if (read_only.value_or(false)) m["ReadOnly"] = true;
  if (!consistency.empty()) m["Consistency"] = consistency;
  if (!bind.empty()) m["BindOptions"] = bind;
  if (!driver.empty()) volume["DriverConfig"] = driver;
  if (!volume.empty()) m["VolumeOptions"] = volume;
  if (!tmpfs.empty()) m["TmpfsOptions"] = tmpfs;
  return m;
}

// --device /dev/x[:/dev/y][:rwm] (docker's parseLinuxDevice).
Result<ordered_json> ParseDevice(const std::string& spec) {
  auto valid_mode = [](const std::string& m) {
    if (m.empty()) return false;
    std::set<char> seen;
    for (char c : m)
      if ((c != 'r' && c != 'w' && c != 'm') || !seen.insert(c).second) return false;
    return true;
  };
  auto parts = Split(spec, ':');
  if (parts.empty() || parts[0].empty() || parts.size() > 3)
    return Error::InvalidArgument("bad format for path: " + spec);
  std::string src = parts[0], dst, perms = "rwm";
  if (parts.size() == 3) {
    if (!valid_mode(parts[2])) return Error::InvalidArgument("bad mode specified: " + parts[2]);
    dst = parts[1];
    perms = parts[2];
  } else if (parts.size() == 2) {
    if (valid_mode(parts[1]))
      perms = parts[1];
    else
      dst = parts[1];
  }
  if (dst.empty()) dst = src;
  if (dst[0] != '/') return Error::InvalidArgument(dst + " is not an absolute path");
  return ordered_json{{"PathOnHost", src}, {"PathInContainer", dst}, {"CgroupPermissions", perms}};
}

Result<std::vector<std::string>> SecurityOpts(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& opt : in) {
    auto sep = opt.find('=');
    if (sep == std::string::npos && opt != "no-new-privileges") sep = opt.find(':');
    std::string key = opt.substr(0, sep),
                value = sep == std::string::npos ? "" : opt.substr(sep + 1);
    if (value.empty() && key != "no-new-privileges")
      return Error::InvalidArgument("invalid --security-opt: \"" + opt + "\"");
    if (key == "seccomp" && value != "builtin" && value != "unconfined") {
      // A file: its JSON, compacted, goes to the daemon as docker sends it.
      auto text = ReadFile(value, 16u << 20);
      if (!text)
        return Error::InvalidArgument("opening seccomp profile (" + value + ") failed: open " +
                                      value + ": no such file or directory");
      auto j = ordered_json::parse(*text, nullptr, false);
      if (j.is_discarded())
        return Error::InvalidArgument("compacting json for seccomp profile (" + value +
                                      ") failed: invalid JSON");
      out.push_back("seccomp=" + j.dump());
      continue;
    }
    out.push_back(opt);
  }
  return out;
}

// Capabilities as the Go client normalizes them: upper case, "CAP_" in front, except ALL.
ordered_json Capabilities(const std::vector<std::string>& caps) {
  if (caps.empty()) return nullptr;
  ordered_json out = ordered_json::array();
  std::set<std::string> seen;
  for (auto c : caps) {
    for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (c != "ALL" && c.rfind("CAP_", 0) != 0) c = "CAP_" + c;
    seen.insert(c);
  }
  for (const auto& c : seen) out.push_back(c);  // sorted, once each, as the Go client sends
  return out;
}

ordered_json ListOrNull(const std::vector<std::string>& v) {
  return v.empty() ? ordered_json(nullptr) : ordered_json(v);
}

ordered_json DefaultEndpoint() {
  return {{"IPAMConfig", nullptr},   {"Links", nullptr},         {"Aliases", nullptr},
          {"MacAddress", ""},        {"DriverOpts", nullptr},    {"GwPriority", 0},
          {"NetworkID", ""},         {"EndpointID", ""},         {"Gateway", ""},
          {"IPAddress", ""},         {"IPPrefixLen", 0},         {"IPv6Gateway", ""},
          {"GlobalIPv6Address", ""}, {"GlobalIPv6PrefixLen", 0}, {"DNSNames", nullptr}};
}

// --restart NAME[:COUNT]: the name is the daemon's to judge, the count must be a number.
Result<ordered_json> RestartPolicy(const std::string& s) {
  std::string name = s, count;
  if (auto c = s.find(':'); c != std::string::npos) {
    name = s.substr(0, c);
    count = s.substr(c + 1);
  }
  if (name.empty()) name = "no";
  int64_t n = 0;
  if (!count.empty()) {
    char* end = nullptr;
    errno = 0;
    n = std::strtoll(count.c_str(), &end, 10);
    if (*end || errno)
      return Error::InvalidArgument(
          "invalid restart policy format: maximum retry count must be an integer");
  }
  return ordered_json{{"Name", name}, {"MaximumRetryCount", n}};
}

// The error shapes of docker run: a flag error (then the usage line) or a value error.
ParseError FlagError(const Error& e, bool run) {
  std::string cmd = run ? "run" : "create";
  return {ParseFailure::kFlag, e.message() + "\n\nUsage:  berth " + cmd +
                                   " [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth " + cmd +
                                   " --help' for more information"};
}
ParseError ValueError(const Error& e, bool run) {
  std::string cmd = run ? "run" : "create";
  return {ParseFailure::kValue,
          "berth: " + e.message() + "\n\nRun 'berth " + cmd + " --help' for more information"};
}

}  // namespace

Result<int64_t> ParseRamBytes(const std::string& s) {
  auto bad = [&] { return Error::InvalidArgument("invalid size: '" + s + "'"); };
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  std::string num = s.substr(0, i), unit = s.substr(i);
  if (num.empty() || num[0] == '.' || num.back() == '.' || num.find("..") != std::string::npos)
    return bad();
  if (!unit.empty() && unit[0] == ' ') unit.erase(0, 1);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, int> kPow = {{"", 0},  {"k", 1}, {"m", 2},
                                                  {"g", 3}, {"t", 4}, {"p", 5}};
  std::string base = unit;
  if (!base.empty() && base.back() == 'b') base.pop_back();
  if (!base.empty() && base.back() == 'i') base.pop_back();
  auto it = kPow.find(base);
  if (it == kPow.end()) return bad();
  double v = std::strtod(num.c_str(), nullptr) * std::pow(1024.0, it->second);
  if (v >= 9.2e18) return bad();
  return static_cast<int64_t>(v);
}

Result<int64_t> ParseNanoCpus(const std::string& s) {
  auto bad = [&] {
    return Error::InvalidArgument("failed to parse " + s + " as a rational number");
  };
  if (s.empty()) return bad();
  size_t dot = s.find('.');
  std::string whole = s.substr(0, dot), frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  if ((whole.empty() && frac.empty()) || !std::all_of(whole.begin(), whole.end(), ::isdigit) ||
      !std::all_of(frac.begin(), frac.end(), ::isdigit))
    return bad();
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (frac.size() > 9) return Error::InvalidArgument("value is too precise");
  if (whole.size() > 9) return Error::InvalidArgument("value is too large");
  int64_t nano = (whole.empty() ? 0 : std::stoll(whole)) * 1000000000;
  if (!frac.empty()) nano += std::stoll(frac + std::string(9 - frac.size(), '0'));
  return nano;
}

std::variant<ContainerOptions, ParseError> ParseContainerOptions(
    const std::vector<std::string>& args, bool run, std::pair<int, int> console,
    const std::function<const char*(const char*)>& lookup_env) {
  FlagSet fs;
  RunFlags v;
  Register(fs, v, run);
  auto positional = fs.Parse(args, false);
  if (!positional) return FlagError(positional.error(), run);
  std::string cmd = run ? "run" : "create";
  if (positional->empty()) {
    return ParseError{ParseFailure::kArgs,
                      "berth: 'berth " + cmd + "' requires at least 1 argument\n\nUsage:  berth " +
                          cmd + " [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nSee 'berth " + cmd +
                          " --help' for more information"};
  }
  auto fail = [&](Error e) -> std::variant<ContainerOptions, ParseError> {
    return e.IsInvalidArgument() && e.message().rfind("invalid argument \"", 0) == 0
               ? FlagError(e, run)
               : ValueError(e, run);
  };
#define BERTH_PARSE(expr)                        \
  ({                                             \
    auto&& r_ = (expr);                          \
    if (!r_) return fail(std::move(r_).error()); \
    std::move(r_).value();                       \
  })
  for (auto& a : v.attach) {
    for (auto& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (a != "stdin" && a != "stdout" && a != "stderr")
      return FlagError(
          InvalidFlagValue(fs, "attach", a, "valid streams are STDIN, STDOUT and STDERR"), run);
  }
  if (v.pull != "missing" && v.pull != "always" && v.pull != "never" && !v.pull.empty())
    return ValueError(Error::InvalidArgument("invalid pull option: '" + v.pull +
                                             "': must be one of \"always\", \"missing\" or "
                                             "\"never\""),
                      run);
  ContainerOptions o;
  o.image = (*positional)[0];
  o.name = v.name;
  o.platform = v.platform;
  o.pull = v.pull.empty() ? "missing" : v.pull;
  o.cidfile = v.cidfile;
  o.detach_keys = v.detach_keys;
  o.detach = v.detach;
  o.sig_proxy = v.sig_proxy;
  o.quiet = v.quiet;
  o.auto_remove = v.rm;
  o.tty = v.tty;
  auto has = [&](const char* s) { return std::count(v.attach.begin(), v.attach.end(), s) > 0; };
  o.attach_stdin = has("stdin") || v.interactive;
  o.attach_stdout = v.attach.empty() || has("stdout");
  o.attach_stderr = v.attach.empty() || has("stderr");
  if (v.detach && !v.attach.empty())
    return ValueError(
        Error::InvalidArgument("conflicting options: cannot specify both --attach and --detach"),
        run);

  int64_t memory = BERTH_PARSE(FlagBytes(fs, "memory", v.memory));
  int64_t reservation = BERTH_PARSE(FlagBytes(fs, "memory-reservation", v.memory_reservation));
  int64_t swap =
      v.memory_swap == "-1" ? -1 : BERTH_PARSE(FlagBytes(fs, "memory-swap", v.memory_swap));
  int64_t shm = BERTH_PARSE(FlagBytes(fs, "shm-size", v.shm_size));
  int64_t nano = 0;
  if (fs.Changed("cpus")) {
    auto n = ParseNanoCpus(v.cpus);
    if (!n) return FlagError(InvalidFlagValue(fs, "cpus", v.cpus, n.error().message()), run);
    nano = *n;
  }
  int64_t shares = BERTH_PARSE(ParseInt(fs, "cpu-shares", v.cpu_shares));
  int64_t pids = BERTH_PARSE(ParseInt(fs, "pids-limit", v.pids_limit));
  int64_t oom_adj = BERTH_PARSE(ParseInt(fs, "oom-score-adj", v.oom_score_adj));
  int64_t swappiness = BERTH_PARSE(ParseInt(fs, "memory-swappiness", v.memory_swappiness));
  if (swappiness != -1 && (swappiness < 0 || swappiness > 100))
    return ValueError(Error::InvalidArgument("invalid value: " + std::to_string(swappiness) +
                                             ". Valid memory swappiness range is 0-100"),
                      run);
  int64_t stop_timeout = BERTH_PARSE(ParseInt(fs, "stop-timeout", v.stop_timeout));

  ordered_json ulimits = ordered_json::array();
  for (const auto& u : v.ulimit) ulimits.push_back(BERTH_PARSE(ParseUlimit(fs, u)));
  ordered_json mounts = ordered_json::array();
  for (const auto& m : v.mount) mounts.push_back(BERTH_PARSE(ParseMount(fs, m)));
  for (const auto& s : v.sysctl)
    if (s.find('=') == std::string::npos)
      return FlagError(InvalidFlagValue(fs, "sysctl", s, "sysctl '" + s + "' is not allowed"), run);
  for (const auto& h : v.add_host)
    if (h.find(':') == std::string::npos && h.find('=') == std::string::npos)
      return FlagError(
          InvalidFlagValue(fs, "add-host", h, "bad format for add-host: \"" + h + "\""), run);
  for (const auto& l : v.label)
    if (l.empty() || l[0] == '=')
      return FlagError(InvalidFlagValue(fs, "label", l, "invalid label '" + l + "': empty name"),
                       run);

  // -v: "SRC:DST[:MODE]" binds (./ made absolute); a lone "/path" is an anonymous volume.
  ordered_json volumes = ordered_json::object();
  std::vector<std::string> binds;
  for (const auto& spec : v.volume) {
    auto parts = Split(spec, ':');
    if (parts.size() > 3)
      return ValueError(Error::InvalidArgument("invalid spec: " + spec + ": too many colons"), run);
    if (parts.size() == 1 || parts[0].empty() || parts[1].empty() || parts[1][0] != '/') {
      volumes[spec] = ordered_json::object();
      continue;
    }
    std::string bind = spec;
    if (parts[0][0] == '.') bind = AbsPath(parts[0]) + spec.substr(parts[0].size());
    binds.push_back(bind);
  }
  ordered_json tmpfs = ordered_json::object();
  for (const auto& t : v.tmpfs) {
    auto c = t.find(':');
    tmpfs[t.substr(0, c)] = c == std::string::npos ? "" : t.substr(c + 1);
  }

  ordered_json port_bindings = ordered_json::object(), exposed = ordered_json::object();
  for (const auto& p : v.publish) {
    std::string spec = p;
    if (p.find('=') != std::string::npos) {  // published=8080,target=80,protocol=udp
      std::map<std::string, std::string> kv{{"protocol", "tcp"}};
      for (const auto& f : Split(p, ',')) {
        auto e = f.find('=');
        if (e == std::string::npos || e == 0)
          return ValueError(Error::InvalidArgument("invalid publish opts format (should be "
                                                   "name=value but got '" +
                                                   f + "')"),
                            run);
        kv[f.substr(0, e)] = f.substr(e + 1);
      }
      spec = kv["published"] + ":" + kv["target"] + "/" + kv["protocol"];
    }
    BERTH_PARSE(AddPublish(spec, port_bindings, exposed));
  }
  for (const auto& e : v.expose) {
    std::string ports = e, proto = "tcp";
    if (auto s = e.find('/'); s != std::string::npos) {
      ports = e.substr(0, s);
      proto = e.substr(s + 1);
    }
    int a, b;
    if (!ParsePortRange(ports, &a, &b))
      return ValueError(Error::InvalidArgument("invalid range format for --expose: " + e +
                                               ", error: strconv.ParseUint: parsing \"" + ports +
                                               "\": invalid syntax"),
                        run);
    for (int q = a; q <= b; ++q) exposed[std::to_string(q) + "/" + proto] = ordered_json::object();
  }

  ordered_json devices = ordered_json::array();
  for (const auto& d : v.device) devices.push_back(BERTH_PARSE(ParseDevice(d)));
  auto env = ReadKv(v.env_file, v.env, true, lookup_env);
  if (!env) return ValueError(env.error(), run);
  auto labels = ReadKv(v.label_file, v.label, false, lookup_env);
  if (!labels) return ValueError(labels.error(), run);
  ordered_json restart = BERTH_PARSE(RestartPolicy(v.restart));
  if (v.log_driver == "none" && !v.log_opt.empty())
    return ValueError(Error::InvalidArgument("invalid logging opts for driver none"), run);
  std::vector<std::string> security = BERTH_PARSE(SecurityOpts(v.security_opt));
  ordered_json masked = nullptr, readonly_paths = nullptr;
  security.erase(std::remove_if(security.begin(), security.end(),
                                [&](const std::string& s) {
                                  if (s != "systempaths=unconfined") return false;
                                  masked = readonly_paths = ordered_json::array();
                                  return true;
                                }),
                 security.end());
  if (v.rm && restart["Name"] != "no")
    return ValueError(
        Error::InvalidArgument("conflicting options: cannot specify both --restart and --rm"), run);

  // Config, in the order of the API's container.Config.
  ordered_json& c = o.body;
  c["Hostname"] = v.hostname;
  c["Domainname"] = v.domainname;
  c["User"] = v.user;
  c["AttachStdin"] = o.attach_stdin;
  c["AttachStdout"] = o.attach_stdout;
  c["AttachStderr"] = o.attach_stderr;
  if (!exposed.empty()) c["ExposedPorts"] = exposed;
  c["Tty"] = v.tty;
  c["OpenStdin"] = v.interactive;
  c["StdinOnce"] = v.interactive && o.attach_stdin;
  c["Env"] = ListOrNull(*env);
  c["Cmd"] =
      positional->size() > 1
          ? ordered_json(std::vector<std::string>(positional->begin() + 1, positional->end()))
          : ordered_json(nullptr);
  c["Image"] = o.image;
  c["Volumes"] = volumes;
  c["WorkingDir"] = v.workdir;
  if (!v.entrypoint.empty())
    c["Entrypoint"] = {v.entrypoint};
  else if (fs.Changed("entrypoint"))
    c["Entrypoint"] = {""};
  else
    c["Entrypoint"] = nullptr;
  c["OnBuild"] = nullptr;
  c["Labels"] = KvMap(*labels);
  if (!v.stop_signal.empty()) c["StopSignal"] = v.stop_signal;
  if (fs.Changed("stop-timeout")) c["StopTimeout"] = stop_timeout;

  ordered_json h;
  h["Binds"] = ListOrNull(binds);
  h["ContainerIDFile"] = v.cidfile;
  h["LogConfig"] = {{"Type", v.log_driver}, {"Config", KvMap(v.log_opt)}};
  h["NetworkMode"] = v.network.empty() ? "default" : v.network;
  h["PortBindings"] = port_bindings;
  h["RestartPolicy"] = restart;
  h["AutoRemove"] = v.rm;
  h["VolumeDriver"] = v.volume_driver;
  h["VolumesFrom"] = ListOrNull(v.volumes_from);
  h["ConsoleSize"] = {console.first, console.second};
  h["CapAdd"] = Capabilities(v.cap_add);
  h["CapDrop"] = Capabilities(v.cap_drop);
  h["CgroupnsMode"] = v.cgroupns;
  h["Dns"] = v.dns;
  h["DnsOptions"] = v.dns_option;
  h["DnsSearch"] = v.dns_search;
  std::vector<std::string> hosts;
  for (auto host : v.add_host) {  // "name=ip" is sent as "name:ip"
    auto eq = host.find('=');
    if (eq != std::string::npos) host[eq] = ':';
    hosts.push_back(host);
  }
  h["ExtraHosts"] = ListOrNull(hosts);
  h["GroupAdd"] = ListOrNull(v.group_add);
  h["IpcMode"] = v.ipc;
  h["Cgroup"] = "";
  h["Links"] = ListOrNull(v.link);
  h["OomScoreAdj"] = oom_adj;
  h["PidMode"] = v.pid;
  h["Privileged"] = v.privileged;
  h["PublishAllPorts"] = v.publish_all;
  h["ReadonlyRootfs"] = v.read_only;
  h["SecurityOpt"] = ListOrNull(security);
  if (!tmpfs.empty()) h["Tmpfs"] = tmpfs;
  h["UTSMode"] = v.uts;
  h["UsernsMode"] = v.userns;
  h["ShmSize"] = shm;
  if (!v.sysctl.empty()) h["Sysctls"] = KvMap(v.sysctl);
  if (!v.runtime.empty()) h["Runtime"] = v.runtime;
  h["Isolation"] = "";
  h["CpuShares"] = shares;
  h["Memory"] = memory;
  h["NanoCpus"] = nano;
  h["CgroupParent"] = v.cgroup_parent;
  h["BlkioWeight"] = 0;
  for (const char* k : {"BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                        "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"})
    h[k] = ordered_json::array();
  h["CpuPeriod"] = 0;
  h["CpuQuota"] = 0;
  h["CpuRealtimePeriod"] = 0;
  h["CpuRealtimeRuntime"] = 0;
  h["CpusetCpus"] = v.cpuset_cpus;
  h["CpusetMems"] = v.cpuset_mems;
  h["Devices"] = devices;
  h["DeviceCgroupRules"] = nullptr;
  h["DeviceRequests"] = nullptr;
  h["MemoryReservation"] = reservation;
  h["MemorySwap"] = swap;
  h["MemorySwappiness"] = swappiness;
  h["OomKillDisable"] = v.oom_kill_disable;
  h["PidsLimit"] = pids;
  h["Ulimits"] = ulimits;
  h["CpuCount"] = 0;
  h["CpuPercent"] = 0;
  h["IOMaximumIOps"] = 0;
  h["IOMaximumBandwidth"] = 0;
  if (!mounts.empty()) h["Mounts"] = mounts;
  h["MaskedPaths"] = masked;
  h["ReadonlyPaths"] = readonly_paths;
  if (fs.Changed("init")) h["Init"] = v.init;
  c["HostConfig"] = h;
  ordered_json endpoints = ordered_json::object();
  if (v.network.empty()) endpoints["default"] = DefaultEndpoint();
  c["NetworkingConfig"] = {{"EndpointsConfig", endpoints}};

  if (run && v.detach) {
    c["AttachStdin"] = c["AttachStdout"] = c["AttachStderr"] = false;
    c["StdinOnce"] = false;
    o.attach_stdin = o.attach_stdout = o.attach_stderr = false;
  }
#undef BERTH_PARSE
  return o;
}

}  // namespace berth::cli
