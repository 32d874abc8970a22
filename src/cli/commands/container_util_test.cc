#include "cli/commands/container_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "cli/commands/cp_tar.h"
#include "util/file.h"

namespace berth::cli {
namespace {

const FlagSpec kSpec = {"ps [OPTIONS]",
                        {{"-a", "all"}, {"--all", "all"}, {"-q", "quiet"}},
                        {{"-n", "last"}, {"--filter", "filter"}, {"-f", "filter"}}};

TEST(SplitRefTest, TagDigestAndRegistryPort) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(SplitRef("busybox", true), P("busybox", "latest"));
  EXPECT_EQ(SplitRef("busybox", false), P("busybox", ""));
  EXPECT_EQ(SplitRef("busybox:1.36", false), P("busybox", "1.36"));
  EXPECT_EQ(SplitRef("127.0.0.1:5000/a/b", true), P("127.0.0.1:5000/a/b", "latest"));
  EXPECT_EQ(SplitRef("127.0.0.1:5000/a/b:v2", true), P("127.0.0.1:5000/a/b", "v2"));
  EXPECT_EQ(SplitRef("reg:5000/x@sha256:abcd", true), P("reg:5000/x", "sha256:abcd"));
}

TEST(FlagsTest, PflagGrammar) {
  auto f = ParseFlags({"-aq", "-n3", "--filter=a=b", "-f", "c=d", "x", "--", "-y"}, kSpec);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->On("all"));
  EXPECT_TRUE(f->On("quiet"));
  EXPECT_EQ(f->Get("last"), "3");
  EXPECT_EQ(f->All("filter"), (std::vector<std::string>{"a=b", "c=d"}));
  EXPECT_EQ(f->args, (std::vector<std::string>{"x", "-y"}));
  auto off = ParseFlags({"--all=false"}, kSpec);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->On("all"));
}

TEST(FlagsTest, DockerErrors) {
  auto f = ParseFlags({"--bogus"}, kSpec);
  ASSERT_FALSE(f);
  EXPECT_TRUE(f.error().IsInvalidArgument());
  EXPECT_EQ(f.error().message(),
            "unknown flag: --bogus\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more "
            "information");
  EXPECT_FALSE(ParseFlags({"-z"}, kSpec));
  EXPECT_FALSE(ParseFlags({"--filter"}, kSpec));
  Flags none;
  none.args = {"a"};
  auto n = NeedArgs(none, kSpec, 0, 0);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().message(),
            "berth: 'berth ps' accepts no arguments\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth "
            "ps --help' for more information");
  FlagSpec stop = {"stop [OPTIONS] CONTAINER [CONTAINER...]", {}, {}};
  none.args.clear();
  auto s = NeedArgs(none, stop, 1);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message().substr(0, 50),
            "berth: 'berth stop' requires at least 1 argument\n\n");
}

TEST(FormatTest, DockerStrings) {
  EXPECT_EQ(Ellipsis("sh -c 'sleep 1000; echo done'", 20), "sh -c 'sleep 1000; …");
  EXPECT_EQ(Ellipsis("short", 20), "short");
  EXPECT_EQ(GoQuote("sh -c \"x\"\n"), "\"sh -c \\\"x\\\"\\n\"");
  EXPECT_EQ(ShortId("sha256:0123456789abcdef"), "0123456789ab");
  EXPECT_EQ(ParseRfc3339("2026-12-01T22:22:14.5Z"), 1796163734);
  EXPECT_EQ(ParseRfc3339("2026-12-01T23:22:14+01:00"), 1796163734);
  EXPECT_EQ(ParseRfc3339("0001-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*TimestampArg("1700000000"), "1700000000");
  EXPECT_EQ(*TimestampArg("2026-12-01"), "1796083200");
  EXPECT_TRUE(TimestampArg("10m"));
  EXPECT_FALSE(TimestampArg("nonsense"));
  EXPECT_EQ(*FiltersJson({"status=exited", "label=a=b"}),
            R"({"label":["a=b"],"status":["exited"]})");
  EXPECT_FALSE(FiltersJson({"novalue"}));
  EXPECT_EQ(Tabulate({"A\tBB\tC", "long-cell\tx\ty"}),
            "A           BB        C\nlong-cell   x         y\n");
  EXPECT_EQ(BytesSize(327680), "320KiB");
  EXPECT_EQ(BytesSize(25275854848.0), "23.54GiB");
}

TEST(FormatTest, Ports) {
  auto ports = Json::parse(R"([
    {"PrivatePort":80,"PublicPort":8080,"IP":"0.0.0.0","Type":"tcp"},
    {"PrivatePort":8000,"PublicPort":8000,"IP":"0.0.0.0","Type":"tcp"},
    {"PrivatePort":8001,"PublicPort":8001,"IP":"0.0.0.0","Type":"tcp"},
    {"PrivatePort":53,"Type":"udp"},
    {"PrivatePort":80,"PublicPort":8080,"IP":"::","Type":"tcp"}])");
  EXPECT_EQ(DisplayPorts(ports),
            "53/udp, 0.0.0.0:8000-8001->8000-8001/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp");
  EXPECT_EQ(DisplayPorts(Json::array()), "");
}

TEST(FormatTest, ContainerRow) {
  auto c = Json::parse(
      R"({"Id":"dc21d70af70fc8ffd41051378d7a33f22f7c92ec","Names":["/web","/other/link"],
    "Image":"busybox@sha256:abc","ImageID":"sha256:0eb0","Command":"sleep 1000","Created":0,
    "State":"running","Status":"Up 2 minutes","Labels":{"b":"2","a":"1"},"SizeRw":0,
    "SizeRootFs":1990000,"Mounts":[{"Name":"0123456789abcdef0123","Driver":"local"}],
    "NetworkSettings":{"Networks":{"bridge":{}}}})");
  Json r = ContainerRow(c, false);
  EXPECT_EQ(r["ID"], "dc21d70af70f");
  EXPECT_EQ(r["Names"], "web");
  EXPECT_EQ(r["Image"], "busybox");
  EXPECT_EQ(r["Command"], "\"sleep 1000\"");
  EXPECT_EQ(r["Labels"], "a=1,b=2");
  EXPECT_EQ(r["Size"], "0B (virtual 1.99MB)");
  EXPECT_EQ(r["Mounts"], "0123456789abcd…");
  EXPECT_EQ(r["LocalVolumes"], "1");
  EXPECT_EQ(r["Networks"], "bridge");
  EXPECT_EQ(r["Status"], "Up 2 minutes");
  EXPECT_EQ(ContainerRow(c, true)["Names"], "web,other/link");
}

TEST(FormatTest, StatsRow) {
  auto s = Json::parse(R"({"name":"/web","id":"dc21d70af70fc8ff",
    "cpu_stats":{"cpu_usage":{"total_usage":300000000},"system_cpu_usage":4000000000,"online_cpus":2},
    "precpu_stats":{"cpu_usage":{"total_usage":100000000},"system_cpu_usage":2000000000},
    "memory_stats":{"usage":10485760,"limit":104857600,"stats":{"total_inactive_file":2097152}},
    "networks":{"eth0":{"rx_bytes":1000,"tx_bytes":2000},"eth1":{"rx_bytes":500,"tx_bytes":0}},
    "blkio_stats":{"io_service_bytes_recursive":[{"op":"Read","value":4096},{"op":"write","value":8192}]},
    "pids_stats":{"current":3}})");
  Json r = StatsRow(s, "web", "dc21d70af70fc8ff", false);
  EXPECT_EQ(r["CPUPerc"], "20.00%");  // 2e8 / 2e9 * 2 CPUs
  EXPECT_EQ(r["MemUsage"], "8MiB / 100MiB");
  EXPECT_EQ(r["MemPerc"], "8.00%");
  EXPECT_EQ(r["NetIO"], "1.5kB / 2kB");
  EXPECT_EQ(r["BlockIO"], "4.1kB / 8.19kB");
  EXPECT_EQ(r["PIDs"], "3");
  EXPECT_EQ(r["Name"], "web");
  EXPECT_EQ(r["ID"], "dc21d70af70f");
}

// A tar with a directory, a file under a long name, a symlink, then one escaping entry.
TEST(CpTarTest, RoundTripAndHostileNames) {
  char tmpl[] = "/tmp/cp-tar-test.XXXXXX";
  ASSERT_TRUE(::mkdtemp(tmpl));
  std::string root = tmpl;
  std::string long_name(150, 'n');
  ASSERT_TRUE(MkdirAll(root + "/src/sub"));
  ASSERT_TRUE(WriteFile(root + "/src/sub/" + long_name, "long"));
  ASSERT_TRUE(WriteFile(root + "/src/f", "file"));
  ASSERT_EQ(::symlink("f", (root + "/src/l").c_str()), 0);
  std::string tar;
  ASSERT_TRUE(TarPath(root + "/src", "src", false, tar));
  ASSERT_TRUE(MkdirAll(root + "/out"));
  TarExtractor x(root + "/out", "src", "renamed");
  // fed in odd pieces, as a socket delivers it
  for (size_t at = 0; at < tar.size(); at += 333)
    ASSERT_TRUE(x.Feed(std::string_view(tar).substr(at, 333)));
  ASSERT_TRUE(x.Finish());
  EXPECT_EQ(*ReadFile(root + "/out/renamed/f"), "file");
  EXPECT_EQ(*ReadFile(root + "/out/renamed/sub/" + long_name), "long");
  char link[64] = {};
  ASSERT_GT(::readlink((root + "/out/renamed/l").c_str(), link, sizeof link), 0);
  EXPECT_STREQ(link, "f");

  // a symlink to / and an entry through it: refused, nothing written outside
  ASSERT_EQ(::symlink("/", (root + "/src/escape").c_str()), 0);
  std::string evil;
  ASSERT_TRUE(TarPath(root + "/src/escape", "escape", false, evil));
  evil.resize(evil.size() - 1024);
  std::string second;
  ASSERT_TRUE(TarPath(root + "/src/f", "escape/tmp-cp-tar-test-owned", false, second));
  TarExtractor y(root + "/out", "", "");
  ASSERT_TRUE(y.Feed(evil));
  EXPECT_FALSE(y.Feed(second));
  EXPECT_FALSE(PathExists("/tmp-cp-tar-test-owned"));
  std::string dotdot;
  ASSERT_TRUE(TarPath(root + "/src/f", "../up", false, dotdot));
  TarExtractor z(root + "/out", "", "");
  EXPECT_FALSE(z.Feed(dotdot));
  EXPECT_FALSE(PathExists(root + "/up"));
  ASSERT_TRUE(RemoveAll(root));
}

}  // namespace
}  // namespace berth::cli
