#pragma once

// A streaming hash for the digest algorithms the registry accepts (sha256, sha512), over
// OpenSSL's EVP interface.
//
//   Digester d = BERTH_TRY(Digester::New("sha512"));
//   BERTH_TRY(d.Update(chunk));
//   oci::Digest got = BERTH_TRY(d.Finish());

#include <memory>
#include <string>
#include <string_view>

#include "oci/digest.h"
#include "util/result.h"

namespace berth::registry {

class Digester {
 public:
  /// InvalidArgument for an algorithm other than sha256 and sha512.
  static Result<Digester> New(std::string_view algorithm);
  Digester(Digester&&) noexcept;
  Digester& operator=(Digester&&) noexcept;
  ~Digester();

  Result<void> Update(std::string_view data);
  /// The digest of everything passed to Update; the object is finished after it.
  Result<oci::Digest> Finish();

 private:
  struct Ctx;
  Digester(std::unique_ptr<Ctx> ctx, std::string algorithm);
  std::unique_ptr<Ctx> ctx_;
  std::string algorithm_;
};

/// The digest of data with algorithm.
Result<oci::Digest> DigestOf(std::string_view algorithm, std::string_view data);
/// The digest of a whole file, read from its start.
Result<oci::Digest> DigestOfFd(std::string_view algorithm, int fd);

}  // namespace berth::registry
