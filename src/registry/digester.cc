#include "registry/digester.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace berth::registry {

struct Digester::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md;
};

Digester::Digester(std::unique_ptr<Ctx> ctx, std::string algorithm)
    : ctx_(std::move(ctx)), algorithm_(std::move(algorithm)) {}
Digester::Digester(Digester&&) noexcept = default;
Digester& Digester::operator=(Digester&&) noexcept = default;
Digester::~Digester() = default;

Result<Digester> Digester::New(std::string_view algorithm) {
  const EVP_MD* md = algorithm == "sha256"   ? EVP_sha256()
                     : algorithm == "sha512" ? EVP_sha512()
                                             : nullptr;
  if (!md)
    return Error::InvalidArgument("unsupported digest algorithm \"" + std::string(algorithm) +
                                  "\"");
  auto ctx = std::make_unique<Ctx>();
  ctx->md.reset(EVP_MD_CTX_new());
  if (!ctx->md || EVP_DigestInit_ex(ctx->md.get(), md, nullptr) != 1)
    return Error::Internal("digest: EVP init failed");
  return Digester(std::move(ctx), std::string(algorithm));
}

Result<void> Digester::Update(std::string_view data) {
  if (!ctx_) return Error::FailedPrecondition("digest: update after finish");
  if (EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()) != 1)
    return Error::Internal("digest: EVP update failed");
  return {};
}

Result<oci::Digest> Digester::Finish() {
  if (!ctx_) return Error::FailedPrecondition("digest: already finished");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md.get(), md, &len) != 1)
    return Error::Internal("digest: EVP final failed");
  ctx_.reset();
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return oci::Digest::FromHex(algorithm_, hex);
}

Result<oci::Digest> DigestOf(std::string_view algorithm, std::string_view data) {
  Digester d = BERTH_TRY(Digester::New(algorithm));
  BERTH_TRY(d.Update(data));
  return d.Finish();
}

Result<oci::Digest> DigestOfFd(std::string_view algorithm, int fd) {
  Digester d = BERTH_TRY(Digester::New(algorithm));
  std::vector<char> buf(1 << 20);
  off_t off = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno(errno, "read blob");
    }
    if (n == 0) break;
    BERTH_TRY(d.Update(std::string_view(buf.data(), static_cast<size_t>(n))));
    off += n;
  }
  return d.Finish();
}

}  // namespace berth::registry
