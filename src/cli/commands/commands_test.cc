// Unit tests of the container commands' pure parts: the flag grammar, the create body, sizes,
// the stream demultiplexer, the detach-key watch.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "cli/commands/container_options.h"
#include "cli/commands/flags.h"
#include "cli/commands/streams.h"

namespace berth::cli {
namespace {

TEST(FlagSet, PflagGrammar) {
  FlagSet fs;
  bool d = false, i = false, t = false;
  std::string name;
  std::vector<std::string> env;
  fs.Bool("detach", 'd', &d);
  fs.Bool("interactive", 'i', &i);
  fs.Bool("tty", 't', &t);
  fs.String("name", 0, &name);
  fs.List("env", 'e', &env);
  auto r = fs.Parse(
      {"-dit", "--name=x", "-eA=1", "-e", "B", "-e=C", "--env", "D", "img", "-e", "E"}, false);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(d && i && t);
  EXPECT_EQ(name, "x");
  EXPECT_EQ(env, (std::vector<std::string>{"A=1", "B", "C", "D"}));
  EXPECT_EQ(*r, (std::vector<std::string>{"img", "-e", "E"}));
  EXPECT_TRUE(fs.Changed("name"));
  EXPECT_FALSE(fs.Changed("nothing"));
}

TEST(FlagSet, ErrorsInPflagsWords) {
  FlagSet fs;
  bool rm = false;
  std::string e;
  fs.Bool("rm", 0, &rm);
  fs.String("env", 'e', &e);
  EXPECT_EQ(fs.Parse({"--foo"}, false).error().message(), "unknown flag: --foo");
  EXPECT_EQ(fs.Parse({"-x"}, false).error().message(), "unknown shorthand flag: 'x' in -x");
  EXPECT_EQ(fs.Parse({"-e"}, false).error().message(), "flag needs an argument: 'e' in -e");
  EXPECT_EQ(fs.Parse({"--env"}, false).error().message(), "flag needs an argument: --env");
  EXPECT_EQ(fs.Parse({"--rm=maybe"}, false).error().message(),
            "invalid argument \"maybe\" for \"--rm\" flag: strconv.ParseBool: parsing \"maybe\": "
            "invalid syntax");
  auto r = fs.Parse({"--rm=false", "--", "-e"}, true);
  ASSERT_TRUE(r);
  EXPECT_FALSE(rm);
  EXPECT_EQ(*r, std::vector<std::string>{"-e"});
}

TEST(Sizes, RamBytesAndNanoCpus) {
  EXPECT_EQ(*ParseRamBytes("64m"), 64 << 20);
  EXPECT_EQ(*ParseRamBytes("1.5g"), int64_t{3} << 29);
  EXPECT_EQ(*ParseRamBytes("100KB"), 102400);
  EXPECT_EQ(*ParseRamBytes("512"), 512);
  EXPECT_EQ(*ParseRamBytes("2 MiB"), 2 << 20);
  EXPECT_EQ(ParseRamBytes("abc").error().message(), "invalid size: 'abc'");
  EXPECT_FALSE(ParseRamBytes("1x"));
  EXPECT_FALSE(ParseRamBytes("-1"));
  EXPECT_EQ(*ParseNanoCpus("1.5"), 1500000000);
  EXPECT_EQ(*ParseNanoCpus("0.000000001"), 1);
  EXPECT_EQ(*ParseNanoCpus("2"), 2000000000);
  EXPECT_FALSE(ParseNanoCpus("x"));
  EXPECT_EQ(ParseNanoCpus("0.0000000001").error().message(), "value is too precise");
}

ContainerOptions MustParse(const std::vector<std::string>& args, bool run = true) {
  auto r = ParseContainerOptions(args, run, {0, 0}, [](const char* n) -> const char* {
    return std::string(n) == "SET" ? "from-env" : nullptr;
  });
  if (auto* e = std::get_if<ParseError>(&r)) {
    ADD_FAILURE() << e->message;
    return {};
  }
  return std::get<ContainerOptions>(r);
}

TEST(ContainerOptions, DefaultBodyHasDockersShape) {
  auto o = MustParse({"busybox", "echo", "hi"});
  const auto& b = o.body;
  EXPECT_EQ(b["Image"], "busybox");
  EXPECT_EQ(b["Cmd"], nlohmann::ordered_json({"echo", "hi"}));
  EXPECT_TRUE(b["Env"].is_null());
  EXPECT_TRUE(b["Entrypoint"].is_null());
  EXPECT_TRUE(b["AttachStdout"].get<bool>() && b["AttachStderr"].get<bool>());
  EXPECT_FALSE(b["AttachStdin"].get<bool>());
  EXPECT_EQ(b["HostConfig"]["NetworkMode"], "default");
  EXPECT_EQ(b["HostConfig"]["RestartPolicy"]["Name"], "no");
  EXPECT_EQ(b["HostConfig"]["MemorySwappiness"], -1);
  EXPECT_FALSE(b["HostConfig"].contains("Init"));
  EXPECT_TRUE(b["NetworkingConfig"]["EndpointsConfig"].contains("default"));
  // Config's first keys in the API's order, as the Go client marshals them.
  auto it = b.begin();
  EXPECT_EQ(it.key(), "Hostname");
  EXPECT_EQ((++it).key(), "Domainname");
}

TEST(ContainerOptions, FlagsLandWhereDockerPutsThem) {
  auto o = MustParse({"-i",
                      "-d",
                      "--rm",
                      "-e",
                      "SET",
                      "-e",
                      "UNSET",
                      "-e",
                      "A=1",
                      "-e",
                      "A=2",
                      "-p",
                      "127.0.0.1:8080:80",
                      "-p",
                      "90/udp",
                      "--expose",
                      "7-8",
                      "--cap-add",
                      "net_admin",
                      "--ulimit",
                      "nofile=1:2",
                      "-m",
                      "1g",
                      "--init",
                      "--entrypoint=",
                      "--network",
                      "none",
                      "-v",
                      "/h:/c:ro",
                      "-v",
                      "/anon",
                      "--add-host",
                      "a=1.2.3.4",
                      "busybox"});
  const auto& b = o.body;
  const auto& h = b["HostConfig"];
  EXPECT_TRUE(o.detach);
  EXPECT_FALSE(b["AttachStdout"].get<bool>());  // -d attaches nothing
  EXPECT_TRUE(b["OpenStdin"].get<bool>());
  EXPECT_EQ(b["Env"], nlohmann::ordered_json({"SET=from-env", "UNSET", "A=2"}));
  EXPECT_EQ(b["Entrypoint"], nlohmann::ordered_json({""}));
  EXPECT_TRUE(b["ExposedPorts"].contains("80/tcp"));
  EXPECT_TRUE(b["ExposedPorts"].contains("90/udp"));
  EXPECT_TRUE(b["ExposedPorts"].contains("8/tcp"));
  EXPECT_EQ(h["PortBindings"]["80/tcp"][0]["HostIp"], "127.0.0.1");
  EXPECT_EQ(h["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
  EXPECT_EQ(h["PortBindings"]["90/udp"][0]["HostPort"], "");
  EXPECT_EQ(h["CapAdd"], nlohmann::ordered_json({"CAP_NET_ADMIN"}));
  EXPECT_EQ(h["Ulimits"][0]["Soft"], 1);
  EXPECT_EQ(h["Ulimits"][0]["Hard"], 2);
  EXPECT_EQ(h["Memory"], int64_t{1} << 30);
  EXPECT_EQ(h["Init"], true);
  EXPECT_EQ(h["AutoRemove"], true);
  EXPECT_EQ(h["NetworkMode"], "none");
  EXPECT_TRUE(b["NetworkingConfig"]["EndpointsConfig"].empty());
  EXPECT_EQ(h["Binds"], nlohmann::ordered_json({"/h:/c:ro"}));
  EXPECT_TRUE(b["Volumes"].contains("/anon"));
  EXPECT_EQ(h["ExtraHosts"], nlohmann::ordered_json({"a:1.2.3.4"}));
}

TEST(ContainerOptions, FailuresCarryDockersExitClass) {
  auto kind = [](const std::vector<std::string>& args, bool run = true) {
    auto r = ParseContainerOptions(args, run, {0, 0}, [](const char*) { return nullptr; });
    auto* e = std::get_if<ParseError>(&r);
    return e ? e->kind : static_cast<ParseFailure>(-1);
  };
  EXPECT_EQ(kind({}), ParseFailure::kArgs);
  EXPECT_EQ(kind({"--bogus", "busybox"}), ParseFailure::kFlag);
  EXPECT_EQ(kind({"-m", "x", "busybox"}), ParseFailure::kFlag);
  EXPECT_EQ(kind({"--rm", "--restart", "always", "busybox"}), ParseFailure::kValue);
  EXPECT_EQ(kind({"-p", "abc", "busybox"}), ParseFailure::kValue);
  EXPECT_EQ(kind({"-d", "busybox"}, false), ParseFailure::kFlag);  // create has no -d
  EXPECT_EQ(kind({"-d", "-a", "stdout", "busybox"}), ParseFailure::kValue);
}

TEST(Demuxer, SplitsFramesAcrossAnyChunking) {
  std::string stream;
  auto frame = [](int s, const std::string& p) {
    std::string h(8, '\0');
    h[0] = static_cast<char>(s);
    h[6] = static_cast<char>(p.size() >> 8);
    h[7] = static_cast<char>(p.size() & 0xff);
    return h + p;
  };
  stream = frame(1, "out1") + frame(2, "err") + frame(1, std::string(300, 'x'));
  for (size_t step : {size_t{1}, size_t{3}, size_t{8}, stream.size()}) {
    Demuxer d;
    std::map<int, std::string> got;
    for (size_t i = 0; i < stream.size(); i += step) {
      auto r = d.Feed(std::string_view(stream).substr(i, step),
                      [&](int s, std::string_view p) -> Result<void> {
                        got[s].append(p);
                        return {};
                      });
      ASSERT_TRUE(r);
    }
    EXPECT_EQ(got[1], "out1" + std::string(300, 'x')) << step;
    EXPECT_EQ(got[2], "err") << step;
  }
  Demuxer bad;
  EXPECT_FALSE(bad.Feed(frame(7, "x"), [](int, std::string_view) -> Result<void> { return {}; }));
}

TEST(DetachKeys, ParseAsDocker) {
  EXPECT_EQ(*ParseDetachKeys(""), std::string("\x10\x11"));
  EXPECT_EQ(*ParseDetachKeys("ctrl-a"), std::string("\x01"));
  EXPECT_EQ(*ParseDetachKeys("a,ctrl-@,ctrl-["), std::string("a\0\x1b", 3));
  EXPECT_FALSE(ParseDetachKeys("ctrl-"));
  EXPECT_FALSE(ParseDetachKeys("ctrl-1"));
  EXPECT_FALSE(ParseDetachKeys("ab"));
}

TEST(EscapeWatch, HoldsBackAPartialMatchAndDetachesOnTheWholeSequence) {
  EscapeWatch w("\x10\x11");
  bool detached = false;
  EXPECT_EQ(w.Filter("ab\x10", &detached), "ab");
  EXPECT_FALSE(detached);
  EXPECT_EQ(w.Filter("c", &detached),
            "\x10"
            "c");  // not the sequence: sent on
  EXPECT_EQ(w.Filter("\x10\x10", &detached), "\x10");
  EXPECT_EQ(w.Filter("\x11zz", &detached), "");
  EXPECT_TRUE(detached);
  EscapeWatch none("");
  EXPECT_EQ(none.Filter("\x10\x11", &detached), "\x10\x11");
  EXPECT_FALSE(detached);
}

}  // namespace
}  // namespace berth::cli
