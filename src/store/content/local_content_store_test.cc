#include "store/content/local_content_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "util/file.h"
#include "util/sha256.h"

namespace berth::store::content {
namespace {

oci::Digest DigestOf(std::string_view data) {
  return oci::Digest::Sha256Hex(Sha256Hex(data).value());
}

oci::Descriptor Desc(std::string_view data) {
  oci::Descriptor d;
  d.media_type = "application/octet-stream";
  d.digest = DigestOf(data);
  d.size = static_cast<int64_t>(data.size());
  return d;
}

class LocalContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-content-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    layout_ = std::make_unique<Layout>(root_);
    auto s = LocalContentStore::Open(*layout_);
    ASSERT_TRUE(s) << s.error().message();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    ASSERT_TRUE(RemoveAll(root_));
  }

  oci::Digest Put(std::string_view data, const std::string& ref = "put") {
    auto w = store_->Writer(ref, std::nullopt);
    EXPECT_TRUE(w) << w.error().message();
    EXPECT_TRUE((*w)->Write(data));
    auto d = (*w)->Commit(static_cast<int64_t>(data.size()), DigestOf(data));
    EXPECT_TRUE(d) << d.error().message();
    return *d;
  }

  std::string root_;
  std::unique_ptr<Layout> layout_;
  std::unique_ptr<LocalContentStore> store_;
};

TEST_F(LocalContentStoreTest, WriteCommitInfoRead) {
  const std::string data = "hello, berth";
  auto w = store_->Writer("ref-1", Desc(data));
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->Write(data.substr(0, 5)));
  ASSERT_TRUE((*w)->Write(data.substr(5)));
  EXPECT_EQ((*w)->Offset(), 12);
  EXPECT_EQ((*w)->Digest().value(), DigestOf(data));
  auto st = (*w)->Status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->ref, "ref-1");
  EXPECT_EQ(st->total, 12);
  auto d = (*w)->Commit(std::nullopt, oci::Digest());  // expected from the descriptor
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(*d, DigestOf(data));
  EXPECT_FALSE((*w)->Write("more"));  // finished

  auto info = store_->Info(*d);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->size, 12);
  auto r = store_->OpenReader(*d);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->Size(), 12);
  EXPECT_GE((*r)->fd(), 0);
  std::string buf(5, '\0');
  auto n = (*r)->ReadAt(std::as_writable_bytes(std::span(buf.data(), buf.size())), 7);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 5u);
  EXPECT_EQ(buf, "berth");
  EXPECT_EQ(ReadBlob(*store_, *d).value(), data);
  EXPECT_TRUE(ReadBlob(*store_, *d, 4).error().IsInvalidArgument());

  // The blob is read-only and the ingest is gone.
  struct stat sb;
  ASSERT_EQ(::stat(layout_->BlobPath(*d).c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0444);
  EXPECT_TRUE(ListDir(layout_->IngestRoot()).value().empty());
  EXPECT_TRUE(store_->Verify(*d));
}

TEST_F(LocalContentStoreTest, MissingBlob) {
  auto d = DigestOf("nothing");
  EXPECT_TRUE(store_->Info(d).error().IsNotFound());
  EXPECT_TRUE(store_->OpenReader(d).error().IsNotFound());
  EXPECT_TRUE(store_->Delete(d).error().IsNotFound());
  EXPECT_TRUE(store_->Verify(d).error().IsNotFound());
}

TEST_F(LocalContentStoreTest, WalkAndDelete) {
  auto a = Put("a", "ra");
  auto b = Put("bb", "rb");
  // A stray file in blobs/sha256 is not a blob.
  ASSERT_TRUE(WriteFile(layout_->BlobsDir() + "/.tmp-x", "junk"));
  std::map<oci::Digest, int64_t> seen;
  ASSERT_TRUE(store_->Walk([&](const Info& i) -> Result<void> {
    seen[i.digest] = i.size;
    return {};
  }));
  EXPECT_EQ(seen, (std::map<oci::Digest, int64_t>{{a, 1}, {b, 2}}));
  auto stop = store_->Walk([&](const Info&) -> Result<void> { return Error::Canceled("stop"); });
  EXPECT_EQ(stop.error().code(), ErrorCode::kCanceled);
  ASSERT_TRUE(store_->Delete(a));
  EXPECT_TRUE(store_->Info(a).error().IsNotFound());
  EXPECT_TRUE(store_->Info(b));
}

TEST_F(LocalContentStoreTest, UpdateIsNotImplemented) {
  auto a = Put("a");
  EXPECT_TRUE(store_->Update(a, {{"k", "v"}}).error().IsNotImplemented());
}

TEST_F(LocalContentStoreTest, DigestMismatchRemovesIngest) {
  auto w = store_->Writer("bad", std::nullopt).value();
  ASSERT_TRUE(w->Write("actual bytes"));
  auto d = w->Commit(12, DigestOf("other bytes!"));
  ASSERT_FALSE(d);
  EXPECT_TRUE(d.error().IsInvalidArgument());
  EXPECT_NE(d.error().message().find("digest mismatch: expected " + DigestOf("other bytes!").str() +
                                     ", got " + DigestOf("actual bytes").str()),
            std::string::npos)
      << d.error().message();
  EXPECT_TRUE(store_->IngestStatus("bad").error().IsNotFound());
  EXPECT_TRUE(store_->Info(DigestOf("actual bytes")).error().IsNotFound());
  // The ref is free again.
  EXPECT_TRUE(store_->Writer("bad", std::nullopt));
}

TEST_F(LocalContentStoreTest, SizeMismatchKeepsIngest) {
  const std::string data = "0123456789";
  auto w = store_->Writer("short", std::nullopt).value();
  ASSERT_TRUE(w->Write(data.substr(0, 4)));
  auto d = w->Commit(10, DigestOf(data));
  ASSERT_FALSE(d);
  EXPECT_TRUE(d.error().IsFailedPrecondition()) << d.error().message();
  ASSERT_TRUE(w->Write(data.substr(4)));
  EXPECT_EQ(w->Commit(10, DigestOf(data)).value(), DigestOf(data));
}

TEST_F(LocalContentStoreTest, WritePastExpectedSize) {
  auto w = store_->Writer("big", Desc("abc")).value();
  EXPECT_TRUE(w->Write("abcd").error().IsInvalidArgument());
  EXPECT_EQ(w->Offset(), 0);
  ASSERT_TRUE(w->Write("abc"));
  EXPECT_TRUE(w->Commit(std::nullopt, oci::Digest()));
}

TEST_F(LocalContentStoreTest, ResumeAfterClose) {
  const std::string data(200000, 'x');
  {
    auto w = store_->Writer("resume", Desc(data)).value();
    ASSERT_TRUE(w->Write(std::string_view(data).substr(0, 70000)));
    ASSERT_TRUE(w->Close());
  }
  auto st = store_->IngestStatus("resume");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->offset, 70000);
  EXPECT_EQ(store_->ListIngests().value().size(), 1u);

  auto w = store_->Writer("resume", Desc(data)).value();
  EXPECT_EQ(w->Offset(), 70000);
  EXPECT_EQ(w->Digest().value(), DigestOf(std::string_view(data).substr(0, 70000)));
  ASSERT_TRUE(w->Write(std::string_view(data).substr(w->Offset())));
  EXPECT_EQ(w->Commit(static_cast<int64_t>(data.size()), DigestOf(data)).value(), DigestOf(data));
  EXPECT_TRUE(store_->Verify(DigestOf(data)));
}

TEST_F(LocalContentStoreTest, ResumeAfterDestructorWithoutClose) {
  {
    auto w = store_->Writer("drop", std::nullopt).value();
    ASSERT_TRUE(w->Write("abc"));
  }  // the destructor releases the ref, the ingest stays
  auto w = store_->Writer("drop", std::nullopt).value();
  EXPECT_EQ(w->Offset(), 3);
}

TEST_F(LocalContentStoreTest, Truncate) {
  auto w = store_->Writer("t", std::nullopt).value();
  ASSERT_TRUE(w->Write("garbage-then-good"));
  ASSERT_TRUE(w->Truncate(7));
  EXPECT_EQ(w->Offset(), 7);
  EXPECT_EQ(w->Digest().value(), DigestOf("garbage"));
  EXPECT_TRUE(w->Truncate(8).error().IsInvalidArgument());
  ASSERT_TRUE(w->Truncate(0));
  ASSERT_TRUE(w->Write("good"));
  EXPECT_EQ(w->Commit(4, DigestOf("good")).value(), DigestOf("good"));
}

TEST_F(LocalContentStoreTest, SecondWriterOfSameRefIsUnavailable) {
  auto w1 = store_->Writer("locked", std::nullopt).value();
  auto w2 = store_->Writer("locked", std::nullopt);
  ASSERT_FALSE(w2);
  EXPECT_EQ(w2.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(w2.error().message(), "ref locked locked");
  EXPECT_EQ(store_->Abort("locked").error().code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(w1->Close());
  EXPECT_TRUE(store_->Abort("locked"));
  EXPECT_TRUE(store_->Abort("locked").error().IsNotFound());
}

TEST_F(LocalContentStoreTest, WriterAbortRemovesIngest) {
  auto w = store_->Writer("a", std::nullopt).value();
  ASSERT_TRUE(w->Write("x"));
  ASSERT_TRUE(w->Abort());
  EXPECT_TRUE(store_->IngestStatus("a").error().IsNotFound());
}

TEST_F(LocalContentStoreTest, WriterForExistingBlobIsAlreadyExists) {
  Put("present");
  auto w = store_->Writer("again", Desc("present"));
  ASSERT_FALSE(w);
  EXPECT_TRUE(w.error().IsAlreadyExists());
}

TEST_F(LocalContentStoreTest, SecondCommitOfSameBlobIsAlreadyExists) {
  auto w1 = store_->Writer("one", std::nullopt).value();
  auto w2 = store_->Writer("two", std::nullopt).value();
  ASSERT_TRUE(w1->Write("same"));
  ASSERT_TRUE(w2->Write("same"));
  ASSERT_TRUE(w1->Commit(4, DigestOf("same")));
  auto second = w2->Commit(4, DigestOf("same"));
  ASSERT_FALSE(second);
  EXPECT_TRUE(second.error().IsAlreadyExists());
  EXPECT_TRUE(store_->ListIngests().value().empty());
  EXPECT_EQ(ListDir(layout_->BlobsDir()).value().size(), 1u);
}

TEST_F(LocalContentStoreTest, ConcurrentWritersOfSameBlob) {
  const std::string data(1 << 20, 'z');
  const oci::Digest want = DigestOf(data);
  constexpr int kThreads = 8;
  std::atomic<int> committed{0}, existed{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto w = store_->Writer("writer-" + std::to_string(i), std::nullopt);
      if (!w) {
        (w.error().IsAlreadyExists() ? existed : other)++;
        return;
      }
      for (size_t off = 0; off < data.size(); off += 4096)
        if (!(*w)->Write(std::string_view(data).substr(off, 4096))) other++;
      auto r = (*w)->Commit(static_cast<int64_t>(data.size()), want);
      if (r)
        committed++;
      else
        (r.error().IsAlreadyExists() ? existed : other)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(committed.load(), 1);
  EXPECT_EQ(existed.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(ListDir(layout_->BlobsDir()).value(),
            std::vector<std::string>{std::string(want.hex())});
  EXPECT_TRUE(ListDir(layout_->IngestRoot()).value().empty());
  EXPECT_TRUE(store_->Verify(want));
}

TEST_F(LocalContentStoreTest, ConcurrentWritersOfSameRef) {
  constexpr int kThreads = 8;
  std::atomic<int> ok{0}, locked{0};
  std::vector<std::unique_ptr<ContentWriter>> writers(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto w = store_->Writer("shared", std::nullopt);
      if (w) {
        ok++;
        writers[i] = std::move(*w);
      } else if (w.error().code() == ErrorCode::kUnavailable) {
        locked++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(locked.load(), kThreads - 1);
}

TEST_F(LocalContentStoreTest, LeftoverIngestWithGarbage) {
  // A crash left an ingest: data of unknown origin and no ref or started file.
  auto key = Layout::IngestKey("crashed").value();
  ASSERT_TRUE(MkdirAll(layout_->IngestDir(key)));
  ASSERT_TRUE(WriteFile(layout_->IngestDataPath(key), "garbage"));
  // Resuming sees the garbage as written bytes; committing with the real digest fails and
  // removes it.
  auto w = store_->Writer("crashed", std::nullopt).value();
  EXPECT_EQ(w->Offset(), 7);
  EXPECT_EQ(w->Digest().value(), DigestOf("garbage"));
  ASSERT_TRUE(w->Write("!"));
  EXPECT_TRUE(w->Commit(std::nullopt, DigestOf("real")).error().IsInvalidArgument());
  EXPECT_FALSE(PathExists(layout_->IngestDir(key)));
}

TEST_F(LocalContentStoreTest, CleanIngests) {
  {
    auto w = store_->Writer("old", std::nullopt).value();
    ASSERT_TRUE(w->Write("x"));
  }
  auto open = store_->Writer("open", std::nullopt).value();
  // A directory with no ref file cannot be resumed by name.
  ASSERT_TRUE(MkdirAll(layout_->IngestRoot() + "/junk"));
  // Nothing is old enough, but the junk goes.
  EXPECT_EQ(store_->CleanIngests(std::chrono::hours(24)).value(), 1);
  EXPECT_EQ(store_->ListIngests().value().size(), 2u);
  // Age zero: everything not open goes.
  EXPECT_EQ(store_->CleanIngests(std::chrono::seconds(0)).value(), 1);
  auto left = store_->ListIngests().value();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].ref, "open");
}

TEST_F(LocalContentStoreTest, VerifyFindsCorruption) {
  auto d = Put("pristine");
  std::string path = layout_->BlobPath(d);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_TRUE(WriteFile(path, "tampered"));
  auto v = store_->Verify(d);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code(), ErrorCode::kDataLoss);
}

TEST_F(LocalContentStoreTest, BlobSurvivesReopen) {
  auto d = Put("durable");
  store_.reset();
  auto s = LocalContentStore::Open(*layout_).value();
  EXPECT_EQ(ReadBlob(*s, d).value(), "durable");
}

TEST_F(LocalContentStoreTest, EmptyRefAndEmptyBlob) {
  EXPECT_TRUE(store_->Writer("", std::nullopt).error().IsInvalidArgument());
  auto w = store_->Writer("empty", Desc("")).value();
  EXPECT_EQ(w->Commit(std::nullopt, oci::Digest()).value(), DigestOf(""));
  EXPECT_EQ(store_->Info(DigestOf("")).value().size, 0);
}

}  // namespace
}  // namespace berth::store::content
