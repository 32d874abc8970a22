#include "runtime/container/state.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "runtime/container/runtime.h"
#include "util/file.h"

namespace berth::runtime::container {
namespace {

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/berth-state-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { (void)RemoveAll(root_); }
  std::string root_;
};

ContainerRecord Sample() {
  ContainerRecord rec;
  rec.id = "web-1";
  rec.pid = 4242;
  rec.start_time = 123456789012;
  rec.bundle = "/srv/bundles/web";
  rec.rootfs = "/srv/bundles/web/rootfs";
  rec.created = "2024-05-06T07:08:09.123456789Z";
  rec.owner = "";
  rec.cgroup_path = "/berth/web-1";
  rec.annotations = {{"org.example", "yes"}, {"b", "two words"}};
  return rec;
}

TEST(ValidateIdTest, GoodIds) {
  for (const char* id : {"a", "web-1", "A_b.c+d", "...", ".hidden", "0", "a..b", "x-"})
    EXPECT_TRUE(ValidateId(id)) << id;
  EXPECT_TRUE(ValidateId(std::string(1024, 'a')));
}

TEST(ValidateIdTest, BadIds) {
  for (const char* id : {"", ".", "..", "a/b", "../x", "/abs", "a b", " a", "a\n", "a\tb", "a:b",
                         "a\\b", "caf\xc3\xa9", "a*", "$(x)"}) {
    auto r = ValidateId(id);
    ASSERT_FALSE(r) << "accepted \"" << id << "\"";
    EXPECT_TRUE(r.error().IsInvalidArgument());
  }
  EXPECT_EQ(ValidateId("").error().message(), "container id cannot be empty");
  EXPECT_EQ(ValidateId("a/b").error().message(), "invalid container id: a/b");
  EXPECT_EQ(ValidateId("..").error().message(), "invalid container id: ..");
  EXPECT_EQ(ValidateId(std::string(1025, 'a')).error().message(), "invalid container id: too long");
  EXPECT_FALSE(ValidateId(std::string("a\0b", 3)));
}

TEST_F(StateTest, SaveAndLoadRoundTrip) {
  ContainerRecord rec = Sample();
  std::string dir = StateDir(root_, rec.id);
  EXPECT_EQ(dir, root_ + "/web-1");
  ASSERT_TRUE(MkdirAll(dir));
  ASSERT_TRUE(SaveRecord(dir, rec));
  auto loaded = LoadRecord(root_, rec.id);
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(loaded->id, rec.id);
  EXPECT_EQ(loaded->pid, rec.pid);
  EXPECT_EQ(loaded->start_time, rec.start_time);
  EXPECT_EQ(loaded->bundle, rec.bundle);
  EXPECT_EQ(loaded->rootfs, rec.rootfs);
  EXPECT_EQ(loaded->created, rec.created);
  EXPECT_EQ(loaded->owner, rec.owner);
  EXPECT_EQ(loaded->cgroup_path, rec.cgroup_path);
  EXPECT_EQ(loaded->annotations, rec.annotations);
  // Saving again replaces the record.
  rec.pid = 7;
  rec.annotations.clear();
  ASSERT_TRUE(SaveRecord(dir, rec));
  loaded = LoadRecord(root_, rec.id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->pid, 7);
  EXPECT_TRUE(loaded->annotations.empty());
}

TEST_F(StateTest, LoadErrors) {
  auto r = LoadRecord(root_, "missing");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsNotFound());
  EXPECT_EQ(r.error().message(), "container \"missing\" does not exist");
  r = LoadRecord(root_, "../etc");
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().IsInvalidArgument());

  ASSERT_TRUE(MkdirAll(root_ + "/bad"));
  for (const char* corrupt :
       {"", "{", "not json", "[1, 2]", "\"x\"", "{\"id\": \"bad\", \"pid\": "}) {
    ASSERT_TRUE(WriteFile(root_ + "/bad/state.json", corrupt));
    r = LoadRecord(root_, "bad");
    ASSERT_FALSE(r) << corrupt;
    EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << corrupt;
    EXPECT_EQ(r.error().message(), "container \"bad\": state.json is corrupt");
  }
  // Valid JSON of the wrong shape is corrupt too, not a crash.
  for (const char* wrong : {R"({"pid": "12"})", R"({"annotations": [1]})",
                            R"({"annotations": {"a": 1}})", R"({"id": 5})"}) {
    ASSERT_TRUE(WriteFile(root_ + "/bad/state.json", wrong));
    r = LoadRecord(root_, "bad");
    ASSERT_FALSE(r) << wrong;
    EXPECT_EQ(r.error().code(), ErrorCode::kDataLoss) << wrong;
    EXPECT_EQ(r.error().message().rfind("container \"bad\": state.json", 0), 0u);
  }
}

TEST(StateJsonTest, FormatAndKeyOrder) {
  ContainerRecord rec = Sample();
  EXPECT_EQ(StateJson(rec, Status::kRunning),
            "{\n"
            "  \"ociVersion\": \"1.2.0\",\n"
            "  \"id\": \"web-1\",\n"
            "  \"pid\": 4242,\n"
            "  \"status\": \"running\",\n"
            "  \"bundle\": \"/srv/bundles/web\",\n"
            "  \"rootfs\": \"/srv/bundles/web/rootfs\",\n"
            "  \"created\": \"2024-05-06T07:08:09.123456789Z\",\n"
            "  \"owner\": \"\",\n"
            "  \"annotations\": {\n"
            "    \"b\": \"two words\",\n"
            "    \"org.example\": \"yes\"\n"
            "  }\n"
            "}");
  rec.annotations.clear();
  EXPECT_EQ(StateJson(rec, Status::kStopped, false),
            R"({"ociVersion":"1.2.0","id":"web-1","pid":0,"status":"stopped",)"
            R"("bundle":"/srv/bundles/web","rootfs":"/srv/bundles/web/rootfs",)"
            R"("created":"2024-05-06T07:08:09.123456789Z","owner":""})");
  EXPECT_NE(StateJson(rec, Status::kCreated).find("\"status\": \"created\""), std::string::npos);
  EXPECT_NE(StateJson(rec, Status::kPaused).find("\"pid\": 4242"), std::string::npos);
}

TEST(StateJsonTest, StatusNames) {
  EXPECT_EQ(StatusName(Status::kCreating), "creating");
  EXPECT_EQ(StatusName(Status::kCreated), "created");
  EXPECT_EQ(StatusName(Status::kRunning), "running");
  EXPECT_EQ(StatusName(Status::kPaused), "paused");
  EXPECT_EQ(StatusName(Status::kStopped), "stopped");
}

TEST_F(StateTest, ComputeStatus) {
  ContainerRecord rec = Sample();
  rec.pid = ::getpid();
  rec.start_time = ProcessStartTime(rec.pid);
  ASSERT_NE(rec.start_time, 0u);
  ASSERT_TRUE(MkdirAll(StateDir(root_, rec.id)));
  EXPECT_EQ(ComputeStatus(root_, rec, false), Status::kRunning);
  EXPECT_EQ(ComputeStatus(root_, rec, true), Status::kPaused);
  ASSERT_TRUE(WriteFile(StateDir(root_, rec.id) + "/exec.fifo", ""));
  EXPECT_EQ(ComputeStatus(root_, rec, false), Status::kCreated);
  // A reused pid (another start time) or a pid that is gone is stopped.
  rec.start_time += 1;
  EXPECT_EQ(ComputeStatus(root_, rec, false), Status::kStopped);
  rec.pid = 0;
  EXPECT_EQ(ComputeStatus(root_, rec, false), Status::kStopped);
  EXPECT_EQ(ProcessStartTime(-1), 0u);
}

TEST(ParseSignalTest, NamesAndNumbers) {
  EXPECT_EQ(ParseSignal("KILL"), SIGKILL);
  EXPECT_EQ(ParseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(ParseSignal("kill"), SIGKILL);
  EXPECT_EQ(ParseSignal("sigterm"), SIGTERM);
  EXPECT_EQ(ParseSignal("TERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("USR1"), SIGUSR1);
  EXPECT_EQ(ParseSignal("WINCH"), SIGWINCH);
  EXPECT_EQ(ParseSignal("9"), 9);
  EXPECT_EQ(ParseSignal("15"), 15);
  EXPECT_EQ(ParseSignal("64"), 64);
  // Unknown: 0.
  EXPECT_EQ(ParseSignal("0"), 0);
  EXPECT_EQ(ParseSignal("65"), 0);
  EXPECT_EQ(ParseSignal("-9"), 0);
  EXPECT_EQ(ParseSignal("9x"), 0);
  EXPECT_EQ(ParseSignal("99999999999999999999"), 0);
  EXPECT_EQ(ParseSignal("FOO"), 0);
  EXPECT_EQ(ParseSignal("SIG"), 0);
  EXPECT_EQ(ParseSignal(""), 0);
}

}  // namespace
}  // namespace berth::runtime::container
