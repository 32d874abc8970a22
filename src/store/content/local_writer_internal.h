#pragma once

// Module-private pieces of LocalContentStore: a copyable streaming sha256 (the digest of an
// ingest so far, without finishing it) and the writer.

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>

#include "store/content/local_content_store.h"
#include "util/fd.h"

namespace berth::store::content::internal {

/// SHA-256 over EVP that can report the digest of what it has seen and keep going.
class Digester {
 public:
  static Result<Digester> New();
  Result<void> Update(std::span<const std::byte> data);
  /// The digest so far; the digester keeps its state.
  Result<oci::Digest> Current() const;
  Result<void> Reset();

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

/// Hashes the first size bytes of fd (all of it if size < 0) into d; returns the count read.
Result<int64_t> HashFd(int fd, Digester& d, int64_t size = -1);

class LocalWriter final : public ContentWriter {
 public:
  LocalWriter(LocalContentStore* store, std::string ref, std::string key, Fd data,
              Digester digester, int64_t offset, std::optional<oci::Descriptor> expected,
              Time started_at);
  ~LocalWriter() override;

  Result<void> Write(std::span<const std::byte> data) override;
  Result<oci::Digest> Digest() const override { return digester_.Current(); }
  int64_t Offset() const override { return offset_; }
  Result<content::Status> Status() const override;
  Result<void> Truncate(int64_t size) override;
  Result<oci::Digest> Commit(std::optional<int64_t> size, const oci::Digest& expected,
                             const Labels& labels) override;
  Result<void> Close() override;
  Result<void> Abort() override;

 private:
  Result<void> CheckOpen() const;
  void Finish();  // releases the ref; the writer is done
  Result<void> RemoveIngest();

  LocalContentStore* store_;
  std::string ref_;
  std::string key_;
  Fd data_;
  Digester digester_;
  int64_t offset_;
  std::optional<oci::Descriptor> expected_;
  Time started_at_;
  Time updated_at_;
  bool done_ = false;
};

}  // namespace berth::store::content::internal
