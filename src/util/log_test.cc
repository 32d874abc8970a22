#include "util/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/file.h"

namespace berth::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/berth-log-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/log.json";
  }
  void TearDown() override {
    Configure(Level::kWarn, Format::kText);
    (void)RemoveAll(dir_);
  }
  std::vector<std::string> Lines() {
    auto text = ReadFile(path_);
    EXPECT_TRUE(text) << text.error().message();
    auto lines = Split(*text, '\n');
    EXPECT_EQ(lines.back(), "") << "the log does not end in a newline";
    lines.pop_back();
    return lines;
  }
  std::string dir_, path_;
};

TEST_F(LogTest, JsonLinesEscape) {
  Configure(Level::kDebug, Format::kJson, path_);
  const auto& log = Get("runtime");
  std::string msg = "say \"hi\"\nthen \\leave\t\r\x01\x1f end \xc3\xa9";
  log.Error({{"id", "c\"1"}, {"path", "/a\nb"}}, "{}", msg);
  log.Info("plain");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  auto j = nlohmann::json::parse(lines[0], nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << lines[0];
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], msg);
  EXPECT_EQ(j["subsystem"], "runtime");
  EXPECT_EQ(j["id"], "c\"1");
  EXPECT_EQ(j["path"], "/a\nb");
  ASSERT_TRUE(j["time"].is_string());
  std::string time = j["time"];
  EXPECT_EQ(time.size(), 30u) << time;  // 2024-01-02T03:04:05.123456789Z
  EXPECT_EQ(time.back(), 'Z');
  auto k = nlohmann::json::parse(lines[1], nullptr, false);
  ASSERT_FALSE(k.is_discarded()) << lines[1];
  EXPECT_EQ(k["level"], "info");
  EXPECT_EQ(k["msg"], "plain");
}

TEST_F(LogTest, JsonLinesStayValidWithInvalidUtf8) {
  // A path from a container image may hold any bytes: the line must still be JSON, with the
  // bad bytes replaced by U+FFFD, one per byte, as Go's encoding/json does.
  Configure(Level::kDebug, Format::kJson, path_);
  Get("runtime").Warn({{"path", "/x\xff"}}, "open {}: bad", "a\xc3(b\xe2\x82");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  auto j = nlohmann::json::parse(lines[0], nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << lines[0];
  EXPECT_EQ(j["msg"], "open a\xef\xbf\xbd(b\xef\xbf\xbd\xef\xbf\xbd: bad");
  EXPECT_EQ(j["path"], "/x\xef\xbf\xbd");
  EXPECT_EQ(j["level"], "warning");
}

TEST_F(LogTest, LevelFilters) {
  Configure(Level::kWarn, Format::kJson, path_);
  const auto& log = Get("store");
  EXPECT_FALSE(log.Enabled(Level::kInfo));
  EXPECT_TRUE(log.Enabled(Level::kError));
  log.Debug("hidden");
  log.Info("hidden");
  log.Warn("shown {}", 1);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(lines[0])["msg"], "shown 1");
}

TEST_F(LogTest, TextFormat) {
  Configure(Level::kInfo, Format::kText, path_);
  Get("net").Info({{"dev", "eth0"}}, "link up");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  // 2024-01-02T03:04:05.123456789Z info [net] link up dev=eth0
  EXPECT_EQ(lines[0].substr(30), " info [net] link up dev=eth0") << lines[0];
}

TEST(LogLevelTest, ParseLevel) {
  Level l = Level::kOff;
  EXPECT_TRUE(ParseLevel("debug", &l));
  EXPECT_EQ(l, Level::kDebug);
  EXPECT_TRUE(ParseLevel("warning", &l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_TRUE(ParseLevel("panic", &l));
  EXPECT_EQ(l, Level::kError);
  EXPECT_FALSE(ParseLevel("loud", &l));
  EXPECT_FALSE(ParseLevel("", &l));
  EXPECT_EQ(l, Level::kError);
}

TEST(LogLevelTest, AppendJsonEscaped) {
  std::string out = "x";
  AppendJsonEscaped(&out, "a\"b\\c\n\x7f\x02");
  EXPECT_EQ(out, "xa\\\"b\\\\c\\n\x7f\\u0002");
  out.clear();
  // Valid multi-byte sequences pass through; overlong forms, surrogates, code points above
  // U+10FFFF and stray continuation bytes do not.
  AppendJsonEscaped(&out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3");
  EXPECT_EQ(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xb3");
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "\xfe"}) {
    out.clear();
    AppendJsonEscaped(&out, bad);
    std::string want;
    for (size_t i = 0; i < strlen(bad); ++i) want += "\\ufffd";
    EXPECT_EQ(out, want);
  }
}

TEST(LogRegistryTest, GetReturnsOneLoggerPerSubsystem) {
  EXPECT_EQ(&Get("api"), &Get("api"));
  EXPECT_NE(&Get("api"), &Get("build"));
}

}  // namespace
}  // namespace berth::log
