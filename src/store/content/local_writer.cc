#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>

#include "store/content/local_writer_internal.h"
#include "util/file.h"
#include "util/log.h"

namespace berth::store::content::internal {

namespace {

constexpr char kHex[] = "0123456789abcdef";

Result<void> FsyncDir(const std::string& dir) {
  Fd d = BERTH_TRY(Fd::Open(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(d.get()) < 0) return Error::FromErrno(errno, "fsync " + dir);
  return {};
}

// rename(2) that fails with EEXIST instead of replacing; falls back to link+unlink where the
// filesystem lacks RENAME_NOREPLACE (renameat2(2): EINVAL).
int RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (::link(from.c_str(), to.c_str()) < 0) return -1;
  ::unlink(from.c_str());
  return 0;
}

}  // namespace

Result<Digester> Digester::New() {
  Digester d;
  d.ctx_.reset(EVP_MD_CTX_new());
  if (!d.ctx_) return Error::Internal("sha256: cannot allocate a context");
  BERTH_TRY(d.Reset());
  return d;
}

Result<void> Digester::Reset() {
  if (EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
    return Error::Internal("sha256: init failed");
  return {};
}

Result<void> Digester::Update(std::span<const std::byte> data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1)
    return Error::Internal("sha256: update failed");
  return {};
}

Result<oci::Digest> Digester::Current() const {
  std::unique_ptr<EVP_MD_CTX, Free> copy(EVP_MD_CTX_new());
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), ctx_.get()) != 1)
    return Error::Internal("sha256: cannot copy a context");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(copy.get(), md, &len) != 1) return Error::Internal("sha256: final failed");
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[md[i] >> 4]);
    hex.push_back(kHex[md[i] & 15]);
  }
  return oci::Digest::Sha256Hex(hex);
}

Result<int64_t> HashFd(int fd, Digester& d, int64_t size) {
  std::array<std::byte, 1 << 16> buf;
  int64_t done = 0;
  while (size < 0 || done < size) {
    size_t want = buf.size();
    if (size >= 0 && static_cast<int64_t>(want) > size - done) want = size - done;
    ssize_t n = ::pread(fd, buf.data(), want, done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "read");
    }
    if (n == 0) break;
    BERTH_TRY(d.Update(std::span(buf.data(), n)));
    done += n;
  }
  return done;
}

LocalWriter::LocalWriter(LocalContentStore* store, std::string ref, std::string key, Fd data,
                         Digester digester, int64_t offset, std::optional<oci::Descriptor> expected,
                         Time started_at)
    : store_(store),
      ref_(std::move(ref)),
      key_(std::move(key)),
      data_(std::move(data)),
      digester_(std::move(digester)),
      offset_(offset),
      expected_(std::move(expected)),
      started_at_(started_at),
      updated_at_(std::chrono::system_clock::now()) {}

LocalWriter::~LocalWriter() {
  if (!done_) Finish();
}

Result<void> LocalWriter::CheckOpen() const {
  if (done_) return Error::FailedPrecondition("ingest " + ref_ + ": writer is closed");
  return {};
}

void LocalWriter::Finish() {
  done_ = true;
  data_.Reset();
  store_->UnlockRef(ref_);
}

Result<void> LocalWriter::RemoveIngest() { return RemoveAll(store_->layout().IngestDir(key_)); }

Result<void> LocalWriter::Write(std::span<const std::byte> data) {
  BERTH_TRY(CheckOpen());
  if (expected_ && expected_->size > 0 &&
      offset_ + static_cast<int64_t>(data.size()) > expected_->size) {
    return Error::InvalidArgument("ingest " + ref_ + ": write past the expected size " +
                                  std::to_string(expected_->size));
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(data_.get(), data.data() + done, data.size() - done, offset_ + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      // What reached the file is not in the hash: cut it off so that both agree.
      (void)::ftruncate(data_.get(), offset_);
      return Error::FromErrno(err, "write ingest " + ref_);
    }
    done += n;
  }
  BERTH_TRY(digester_.Update(data));
  offset_ += data.size();
  updated_at_ = std::chrono::system_clock::now();
  return {};
}

Result<content::Status> LocalWriter::Status() const {
  content::Status s;
  s.ref = ref_;
  s.offset = offset_;
  if (expected_) {
    s.total = expected_->size;
    s.expected = expected_->digest;
  }
  s.started_at = started_at_;
  s.updated_at = updated_at_;
  return s;
}

Result<void> LocalWriter::Truncate(int64_t size) {
  BERTH_TRY(CheckOpen());
  if (size < 0 || size > offset_)
    return Error::InvalidArgument("ingest " + ref_ + ": truncate to " + std::to_string(size) +
                                  " past offset " + std::to_string(offset_));
  if (::ftruncate(data_.get(), size) < 0) return Error::FromErrno(errno, "truncate ingest " + ref_);
  BERTH_TRY(digester_.Reset());
  offset_ = BERTH_TRY_CTX(HashFd(data_.get(), digester_, size), "rehash ingest " + ref_);
  return {};
}

Result<oci::Digest> LocalWriter::Commit(std::optional<int64_t> size, const oci::Digest& expected,
                                        const Labels& /*labels*/) {
  BERTH_TRY(CheckOpen());
  const Layout& layout = store_->layout();
  const std::string data_path = layout.IngestDataPath(key_);
  if (::fsync(data_.get()) < 0) return Error::FromErrno(errno, "fsync " + data_path);
  struct stat st;
  if (::fstat(data_.get(), &st) < 0) return Error::FromErrno(errno, "stat " + data_path);
  if (!size && expected_ && (expected_->size > 0 || expected_->digest.valid()))
    size = expected_->size;
  if (st.st_size != offset_ || (size && *size != offset_)) {
    return Error::FailedPrecondition("commit " + ref_ + ": unexpected commit size: expected " +
                                     std::to_string(size.value_or(offset_)) + ", got " +
                                     std::to_string(st.st_size));
  }
  oci::Digest want = expected;
  if (!want.valid() && expected_) want = expected_->digest;
  oci::Digest got = BERTH_TRY(digester_.Current());
  if (want.valid() && want != got) {
    (void)RemoveIngest();
    Finish();
    return Error::InvalidArgument("commit " + ref_ + ": digest mismatch: expected " + want.str() +
                                  ", got " + got.str());
  }
  if (::fchmod(data_.get(), 0444) < 0) return Error::FromErrno(errno, "chmod " + data_path);

  const std::string blob = layout.BlobPath(got);
  if (RenameNoReplace(data_path, blob) < 0) {
    int err = errno;
    if (err == EEXIST) {
      (void)RemoveIngest();
      Finish();
      return Error::AlreadyExists("commit " + ref_ + ": content " + got.str() + " already exists");
    }
    Finish();
    return Error::FromErrno(err, "rename " + data_path + " to " + blob);
  }
  // The blob is in place: whatever fails now, the writer is done.
  auto sync = FsyncDir(layout.BlobsDir(got.algorithm()));
  auto removed = RemoveIngest();
  Finish();
  if (!sync) return std::move(sync).error();
  if (!removed) return std::move(removed).error();
  return got;
}

Result<void> LocalWriter::Close() {
  BERTH_TRY(CheckOpen());
  Finish();
  return {};
}

Result<void> LocalWriter::Abort() {
  BERTH_TRY(CheckOpen());
  auto removed = RemoveIngest();
  Finish();
  return removed;
}

}  // namespace berth::store::content::internal
