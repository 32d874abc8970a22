#pragma once

// SHA-256 over OpenSSL's EVP interface: one-shot and streaming, lowercase hex output (the form
// digests take in "sha256:<hex>" and in blobs/sha256/<hex>).
//
//   Sha256 h = BERTH_TRY(Sha256::New());
//   BERTH_TRY(h.Update(chunk));            // any number of times
//   std::string hex = BERTH_TRY(h.HexDigest());

#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"

namespace berth {

/// The lowercase hex SHA-256 of data (64 characters).
Result<std::string> Sha256Hex(std::string_view data);

/// A streaming SHA-256. Move-only; not thread-safe. After HexDigest() the object is finished:
/// further Update() or HexDigest() calls are FailedPrecondition errors.
class Sha256 {
 public:
  /// A fresh hash; fails only if OpenSSL cannot allocate or initialise a context.
  static Result<Sha256> New();

  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  ~Sha256();

  Result<void> Update(std::string_view data);
  /// Finishes the hash and returns its lowercase hex digest.
  Result<std::string> HexDigest();

 private:
  struct Ctx;
  explicit Sha256(std::unique_ptr<Ctx> ctx);
  std::unique_ptr<Ctx> ctx_;
  bool finished_ = false;
};

}  // namespace berth
