#include "engine/logs/json_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "util/file.h"

namespace berth::engine::logs {
namespace {

constexpr int64_t kT0 = 1796119200123456789;  // 2026-12-01T10:00:00.123456789Z

class JsonFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-logs-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/c-json.log";
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  std::vector<LogEntry> ReadAllEntries(ReadOptions o = {}) {
    std::vector<LogEntry> out;
    auto r = ReadLogs(path_, o, [&](const LogEntry& e) -> Result<void> {
      out.push_back(e);
      return {};
    });
    EXPECT_TRUE(r) << r.error().message();
    return out;
  }
  std::vector<std::string> Lines(ReadOptions o = {}) {
    std::vector<std::string> out;
    for (auto& e : ReadAllEntries(o)) out.push_back(e.line);
    return out;
  }
  JsonFileWriter Open(int64_t max_size = -1, int max_files = 1) {
    auto w = JsonFileWriter::Open(path_, max_size, max_files);
    EXPECT_TRUE(w) << w.error().message();
    return std::move(*w);
  }
  std::string File(const std::string& p) { return ReadFile(p).value_or(std::string("<none>")); }

  std::string dir_, path_;
};

TEST_F(JsonFileTest, EntryFormatIsDockers) {
  EXPECT_EQ(EncodeEntry("stdout", "hello\n", kT0),
            "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-01T10:00:00."
            "123456789Z\"}\n");
  EXPECT_EQ(FormatRfc3339Nano(1796119200000000000), "2026-12-01T10:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano(1796119200120000000), "2026-12-01T10:00:00.12Z");
  EXPECT_EQ(FormatTimestamp(1796119200120000000), "2026-12-01T10:00:00.120000000Z");
  EXPECT_EQ(ParseRfc3339("2026-12-01T10:00:00.123456789Z").value_or(0), kT0);
  EXPECT_EQ(ParseRfc3339("2026-12-01T11:00:00.123456789+01:00").value_or(0), kT0);
  EXPECT_EQ(ParseRfc3339("2026-12-01T10:00:00Z").value_or(0), 1796119200000000000);
  EXPECT_FALSE(ParseRfc3339("2026-12-01 garbage"));
  EXPECT_FALSE(ParseRfc3339("2026-12-01T10:00:00"));
}

TEST_F(JsonFileTest, EscapesAsDocker) {
  std::string out;
  AppendJsonEscaped(std::string("a\"b\\c\x01\x1f\t\r\n<>&\x7f", 14), &out);
  EXPECT_EQ(out, "a\\\"b\\\\c\\u0001\\u001f\\t\\r\\n\\u003c\\u003e\\u0026\x7f");
  out.clear();
  // Valid UTF-8 stays; each invalid byte is one U+FFFD; U+2028 is escaped.
  AppendJsonEscaped("\xc3\xa9|\xff|\xe2\x82|\xed\xa0\x80|\xc0\xaf|\xe2\x80\xa8|\xf0\x9f\x90\xb3",
                    &out);
  EXPECT_EQ(out,
            "\xc3\xa9|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd|\\u2028|"
            "\xf0\x9f\x90\xb3");
  // Every byte value gives valid JSON that decodes back.
  std::string all;
  for (int c = 0; c < 128; c++) all.push_back(static_cast<char>(c));
  std::string entry = EncodeEntry("stderr", all, kT0);
  LogEntry e;
  ASSERT_TRUE(DecodeEntry(std::string_view(entry).substr(0, entry.size() - 1), &e));
  EXPECT_EQ(e.line, all);
  EXPECT_EQ(e.stream, "stderr");
  EXPECT_EQ(e.time_ns, kT0);
  std::string bin;
  for (int c = 0; c < 256; c++) bin.push_back(static_cast<char>(c));
  EXPECT_FALSE(
      nlohmann::json::parse(EncodeEntry("stdout", bin, kT0), nullptr, false).is_discarded());
}

TEST_F(JsonFileTest, SplitsLinesAndKeepsPartialsPerStream) {
  auto w = Open();
  ASSERT_TRUE(w.Write("stdout", "one\ntwo\nthr", kT0));
  ASSERT_TRUE(w.Write("stderr", "err", kT0 + 1));
  ASSERT_TRUE(w.Write("stdout", "ee\n", kT0 + 2));
  ASSERT_TRUE(w.Write("stderr", "or\n\n", kT0 + 3));
  ASSERT_TRUE(w.Write("stdout", "last", kT0 + 4));
  auto before = ReadAllEntries();
  ASSERT_EQ(before.size(), 5u);
  ASSERT_TRUE(w.Flush(kT0 + 5));
  auto e = ReadAllEntries();
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[0].line, "one\n");
  EXPECT_EQ(e[1].line, "two\n");
  EXPECT_EQ(e[2].line, "three\n");
  EXPECT_EQ(e[2].time_ns, kT0 + 2);
  EXPECT_EQ(e[3].line, "error\n");
  EXPECT_EQ(e[3].stream, "stderr");
  EXPECT_EQ(e[4].line, "\n");
  EXPECT_EQ(e[5].line, "last\n");  // Docker ends the stream's last piece with "\n"
  EXPECT_EQ(e[5].time_ns, kT0 + 5);
  ReadOptions only_err;
  only_err.stdout = false;
  EXPECT_EQ(Lines(only_err), (std::vector<std::string>{"error\n", "\n"}));
}

TEST_F(JsonFileTest, SplitsLongLinesAt16K) {
  auto w = Open();
  std::string big(40000, 'x');
  ASSERT_TRUE(w.Write("stdout", big.substr(0, 100), kT0));
  ASSERT_TRUE(w.Write("stdout", big.substr(100) + "\nnext\n", kT0));
  auto l = Lines();
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0], std::string(16384, 'x'));  // partial: no newline
  EXPECT_EQ(l[1], std::string(16384, 'x'));
  EXPECT_EQ(l[2], std::string(40000 - 2 * 16384, 'x') + "\n");
  EXPECT_EQ(l[3], "next\n");
}

TEST_F(JsonFileTest, RotatesUpToMaxFiles) {
  const int64_t max = 1000;
  auto w = Open(max, 3);
  for (int i = 0; i < 100; i++)
    ASSERT_TRUE(w.Write("stdout", "line " + std::to_string(i) + "\n", kT0 + i));
  EXPECT_TRUE(PathExists(path_ + ".1"));
  EXPECT_TRUE(PathExists(path_ + ".2"));
  EXPECT_FALSE(PathExists(path_ + ".3"));
  for (auto p : {path_, path_ + ".1", path_ + ".2"}) {
    struct stat st;
    ASSERT_EQ(stat(p.c_str(), &st), 0);
    EXPECT_LE(st.st_size, max) << p;
    EXPECT_EQ(st.st_mode & 0777, 0640u);
  }
  // What is kept is the end of the log, in order, without gaps.
  auto l = Lines();
  ASSERT_GT(l.size(), 20u);
  ASSERT_LT(l.size(), 100u);
  for (size_t k = 0; k < l.size(); k++)
    EXPECT_EQ(l[k], "line " + std::to_string(100 - l.size() + k) + "\n");
}

TEST_F(JsonFileTest, MaxFileOneTruncates) {
  auto w = Open(500, 1);
  for (int i = 0; i < 50; i++)
    ASSERT_TRUE(w.Write("stdout", "line " + std::to_string(i) + "\n", kT0));
  EXPECT_FALSE(PathExists(path_ + ".1"));
  EXPECT_LE(w.size(), 500);
  auto l = Lines();
  ASSERT_FALSE(l.empty());
  EXPECT_EQ(l.back(), "line 49\n");
}

TEST_F(JsonFileTest, ReopenAppends) {
  {
    auto w = Open();
    ASSERT_TRUE(w.Write("stdout", "a\n", kT0));
  }
  auto w = Open();
  ASSERT_TRUE(w.Write("stdout", "b\n", kT0));
  EXPECT_EQ(Lines(), (std::vector<std::string>{"a\n", "b\n"}));
}

TEST_F(JsonFileTest, TailAcrossRotatedFiles) {
  auto w = Open(300, 5);
  for (int i = 0; i < 20; i++)
    ASSERT_TRUE(w.Write(i % 2 ? "stderr" : "stdout", "l" + std::to_string(i) + "\n", kT0 + i));
  ASSERT_TRUE(PathExists(path_ + ".2"));
  ReadOptions o;
  o.tail = 12;  // more than one file holds
  auto l = Lines(o);
  ASSERT_EQ(l.size(), 12u);
  for (int k = 0; k < 12; k++) EXPECT_EQ(l[k], "l" + std::to_string(8 + k) + "\n");
  o.tail = 0;
  EXPECT_TRUE(Lines(o).empty());
  o.tail = 1000;
  EXPECT_EQ(Lines(o).size(), 20u);
  o.tail = 3;
  o.stdout = false;  // tail counts the selected entries
  EXPECT_EQ(Lines(o), (std::vector<std::string>{"l15\n", "l17\n", "l19\n"}));
}

TEST_F(JsonFileTest, SinceAndUntil) {
  auto w = Open();
  for (int i = 0; i < 10; i++)
    ASSERT_TRUE(w.Write("stdout", std::to_string(i) + "\n", kT0 + i * 1000));
  ReadOptions o;
  o.since_ns = kT0 + 3000;
  o.until_ns = kT0 + 6000;
  EXPECT_EQ(Lines(o), (std::vector<std::string>{"3\n", "4\n", "5\n", "6\n"}));
  o.tail = 2;
  EXPECT_EQ(Lines(o), (std::vector<std::string>{"5\n", "6\n"}));
}

TEST_F(JsonFileTest, SkipsGarbageAndPartialLastLine) {
  std::string good = EncodeEntry("stdout", "ok\n", kT0);
  ASSERT_TRUE(WriteFile(path_, "not json\n" + good + "{\"log\":1}\n" + good + "{\"log\":\"x"));
  EXPECT_EQ(Lines(), (std::vector<std::string>{"ok\n", "ok\n"}));
  ReadOptions o;
  o.tail = 1;
  EXPECT_EQ(Lines(o), (std::vector<std::string>{"ok\n"}));
}

TEST_F(JsonFileTest, MissingFileIsEmpty) { EXPECT_TRUE(ReadAllEntries().empty()); }

TEST_F(JsonFileTest, TailOfManyLines) {
  auto w = Open();
  for (int i = 0; i < 100000; i++)
    ASSERT_TRUE(w.Write("stdout", "line number " + std::to_string(i) + "\n", kT0 + i));
  ReadOptions o;
  o.tail = 10;
  auto l = Lines(o);
  ASSERT_EQ(l.size(), 10u);
  for (int k = 0; k < 10; k++) EXPECT_EQ(l[k], "line number " + std::to_string(99990 + k) + "\n");
}

TEST_F(JsonFileTest, SinkErrorStops) {
  auto w = Open();
  for (int i = 0; i < 10; i++) ASSERT_TRUE(w.Write("stdout", "x\n", kT0));
  int n = 0;
  ReadOptions o;
  o.follow = true;
  o.running = [] { return true; };
  auto r = ReadLogs(path_, o, [&](const LogEntry&) -> Result<void> {
    if (++n == 3) return Error::Canceled("client gone");
    return {};
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kCanceled);
  EXPECT_EQ(n, 3);
}

// A writer thread appends and rotates while ReadLogs follows; the writer waits for the reader
// before each rotation only so that the kept files never drop lines the reader has not seen.
TEST_F(JsonFileTest, FollowsAcrossRotation) {
  const int kLines = 3000;
  auto w = Open(4000, 3);
  ASSERT_TRUE(w.Write("stdout", "before\n", kT0));
  std::atomic<bool> done{false};
  std::atomic<int> seen{0};
  std::vector<std::string> got;
  std::thread writer([&] {
    for (int i = 0; i < kLines; i++) {
      std::string line = "n" + std::to_string(i) + "\n";
      if (w.size() + 100 > 4000) {
        while (seen.load() < i + 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (!w.Write(i % 3 ? "stdout" : "stderr", line, kT0 + i)) break;
    }
    if (!w.Write("stdout", "partial at the end", kT0)) return;
    (void)w.Flush(kT0);
    done = true;
  });
  ReadOptions o;
  o.follow = true;
  o.poll_ms = 20;
  o.running = [&] { return !done.load(); };
  auto r = ReadLogs(path_, o, [&](const LogEntry& e) -> Result<void> {
    got.push_back(e.line);
    seen++;
    return {};
  });
  writer.join();
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(got.size(), static_cast<size_t>(kLines + 2));
  EXPECT_EQ(got.front(), "before\n");
  for (int i = 0; i < kLines; i++) ASSERT_EQ(got[i + 1], "n" + std::to_string(i) + "\n");
  EXPECT_EQ(got.back(), "partial at the end\n");
}

TEST_F(JsonFileTest, FollowWithTailStartsAtTheEnd) {
  auto w = Open();
  for (int i = 0; i < 5; i++) ASSERT_TRUE(w.Write("stdout", std::to_string(i) + "\n", kT0));
  ReadOptions o;
  o.follow = true;
  o.tail = 1;
  o.running = [] { return false; };  // stopped: drains and ends
  EXPECT_EQ(Lines(o), (std::vector<std::string>{"4\n"}));
}

TEST_F(JsonFileTest, Frame) {
  std::string f = Frame(2, "hi\n");
  ASSERT_EQ(f.size(), 11u);
  EXPECT_EQ(f.substr(0, 8), std::string("\x02\0\0\0\0\0\0\x03", 8));
  EXPECT_EQ(f.substr(8), "hi\n");
  std::string big(70000, 'a');
  std::string g = Frame(1, big);
  EXPECT_EQ(g.substr(0, 8), std::string("\x01\0\0\0\0\x01\x11\x70", 8));
}

TEST_F(JsonFileTest, ParsesLogOptionsAsDocker) {
  auto d = ParseLogOptions({});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->max_size, kDefaultMaxSize);
  EXPECT_EQ(d->max_files, kDefaultMaxFiles);
  auto s = ParseLogOptions({{"max-size", "10k"}});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->max_size, 10240);
  EXPECT_EQ(s->max_files, 1);
  auto b = ParseLogOptions({{"max-size", "1g"}, {"max-file", "3"}});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->max_size, 1073741824);
  EXPECT_EQ(b->max_files, 3);
  EXPECT_EQ(ParseSize("20m").value_or(0), 20 << 20);
  EXPECT_EQ(ParseSize("1.5MiB").value_or(0), 1572864);
  EXPECT_EQ(ParseSize("100").value_or(0), 100);
  EXPECT_EQ(ParseSize("5 kb").value_or(0), 5120);
  auto e1 = ParseLogOptions({{"max-size", "ten"}});
  ASSERT_FALSE(e1);
  EXPECT_EQ(e1.error().message(), "invalid size: 'ten'");
  EXPECT_FALSE(ParseSize("1.2.3"));
  EXPECT_FALSE(ParseSize("-1m"));
  EXPECT_FALSE(ParseSize("10x"));
  auto e2 = ParseLogOptions({{"max-file", "0"}});
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().message(), "max-file cannot be less than 1");
  auto e3 = ParseLogOptions({{"max-file", "x"}});
  ASSERT_FALSE(e3);
  EXPECT_EQ(e3.error().message(), "strconv.Atoi: parsing \"x\": invalid syntax");
  auto e4 = ParseLogOptions({{"mode", "non-blocking"}});
  ASSERT_FALSE(e4);
  EXPECT_EQ(e4.error().message(), "unknown log opt 'mode' for json-file log driver");
  auto e5 = ParseLogOptions({{"max-size", "0"}});
  ASSERT_FALSE(e5);
  EXPECT_EQ(e5.error().message(), "max-size must be a positive number");
  EXPECT_TRUE(ParseLogOptions({{"compress", "true"}, {"tag", "x"}}));
}

}  // namespace
}  // namespace berth::engine::logs
