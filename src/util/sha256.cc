#include "util/sha256.h"

#include <openssl/evp.h>

namespace berth {

struct Sha256::Ctx {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md;
};

Sha256::Sha256(std::unique_ptr<Ctx> ctx) : ctx_(std::move(ctx)) {}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

Result<Sha256> Sha256::New() {
  auto ctx = std::make_unique<Ctx>();
  ctx->md.reset(EVP_MD_CTX_new());
  if (!ctx->md) return Error::Internal("sha256: EVP_MD_CTX_new failed");
  if (EVP_DigestInit_ex(ctx->md.get(), EVP_sha256(), nullptr) != 1)
    return Error::Internal("sha256: EVP_DigestInit_ex failed");
  return Sha256(std::move(ctx));
}

Result<void> Sha256::Update(std::string_view data) {
  if (!ctx_ || finished_) return Error::FailedPrecondition("sha256: update after digest");
  if (EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()) != 1)
    return Error::Internal("sha256: EVP_DigestUpdate failed");
  return {};
}

Result<std::string> Sha256::HexDigest() {
  if (!ctx_ || finished_) return Error::FailedPrecondition("sha256: digest already taken");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md.get(), md, &len) != 1)
    return Error::Internal("sha256: EVP_DigestFinal_ex failed");
  finished_ = true;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '\0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 0xf];
  }
  return out;
}

Result<std::string> Sha256Hex(std::string_view data) {
  Sha256 h = BERTH_TRY(Sha256::New());
  BERTH_TRY(h.Update(data));
  return h.HexDigest();
}

}  // namespace berth
