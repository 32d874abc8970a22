#include <array>
#include <cstddef>

#include "image/formats/formats_internal.h"

namespace berth::image::formats {
namespace {
constexpr size_t kChunk = 128 * 1024;
}  // namespace

oci::Compression DetectCompression(std::string_view head) {
  auto b = reinterpret_cast<const unsigned char*>(head.data());
  if (head.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) return oci::Compression::kGzip;
  if (head.size() >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
    return oci::Compression::kZstd;
  return oci::Compression::kNone;
}

Result<std::unique_ptr<Decompressor>> Decompressor::Make(oci::Compression compression) {
  auto d = std::unique_ptr<Decompressor>(new Decompressor(compression));
  d->out_.resize(kChunk);
  if (compression == oci::Compression::kGzip) {
    if (inflateInit2(&d->z_, 16 + MAX_WBITS) != Z_OK) return Error::Internal("inflateInit2");
    d->z_init_ = true;
  } else if (compression == oci::Compression::kZstd) {
    d->zs_ = ZSTD_createDStream();
    if (!d->zs_) return Error::Internal("ZSTD_createDStream");
    ZSTD_initDStream(d->zs_);
  } else if (compression != oci::Compression::kNone) {
    return Error::InvalidArgument("unknown compression");
  }
  return d;
}

Decompressor::~Decompressor() {
  if (z_init_) inflateEnd(&z_);
  if (zs_) ZSTD_freeDStream(zs_);
}

Result<void> Decompressor::Feed(std::string_view in, const Sink& sink) {
  switch (compression_) {
    case oci::Compression::kGzip:
      while (!in.empty()) {
        if (member_done_) {  // another gzip member follows (gzip allows concatenation)
          inflateReset(&z_);
          member_done_ = false;
        }
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
        z_.next_out = reinterpret_cast<Bytef*>(out_.data());
        z_.avail_out = static_cast<uInt>(out_.size());
        int rc = inflate(&z_, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
          member_done_ = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
          return Error::DataLoss(std::string("gzip: ") + (z_.msg ? z_.msg : "corrupt stream"));
        }
        in.remove_prefix(in.size() - z_.avail_in);
        size_t produced = out_.size() - z_.avail_out;
        if (produced > 0) BERTH_TRY(sink(std::string_view(out_.data(), produced)));
        if (rc == Z_BUF_ERROR && produced == 0 && z_.avail_in > 0)
          return Error::DataLoss("gzip: no progress");
      }
      return {};
    case oci::Compression::kZstd: {
      ZSTD_inBuffer zin{in.data(), in.size(), 0};
      while (zin.pos < zin.size) {
        ZSTD_outBuffer zout{out_.data(), out_.size(), 0};
        size_t rc = ZSTD_decompressStream(zs_, &zout, &zin);
        if (ZSTD_isError(rc)) return Error::DataLoss(std::string("zstd: ") + ZSTD_getErrorName(rc));
        frame_done_ = rc == 0;
        if (zout.pos > 0) BERTH_TRY(sink(std::string_view(out_.data(), zout.pos)));
      }
      // Flush what the decoder still holds for this input.
      for (;;) {
        ZSTD_outBuffer zout{out_.data(), out_.size(), 0};
        size_t rc = ZSTD_decompressStream(zs_, &zout, &zin);
        if (ZSTD_isError(rc)) return Error::DataLoss(std::string("zstd: ") + ZSTD_getErrorName(rc));
        frame_done_ = rc == 0;
        if (zout.pos == 0) break;
        BERTH_TRY(sink(std::string_view(out_.data(), zout.pos)));
      }
      return {};
    }
    default:
      if (!in.empty()) BERTH_TRY(sink(in));
      return {};
  }
}

Result<void> Decompressor::Finish() const {
  if (compression_ == oci::Compression::kGzip && !member_done_)
    return Error::DataLoss("gzip stream truncated");
  if (compression_ == oci::Compression::kZstd && !frame_done_)
    return Error::DataLoss("zstd stream truncated");
  return {};
}

Result<DiffIdHasher> DiffIdHasher::New() {
  DiffIdHasher h;
  h.sha_.emplace(BERTH_TRY(Sha256::New()));
  return h;
}

Result<void> DiffIdHasher::Start() {
  started_ = true;
  compression_ = DetectCompression(head_);
  dec_ = BERTH_TRY(Decompressor::Make(compression_));
  std::string head = std::move(head_);
  head_.clear();
  return Update(head);
}

Result<void> DiffIdHasher::Update(std::string_view in) {
  if (!started_) {
    head_.append(in);
    if (head_.size() < 4) return {};
    return Start();
  }
  if (compression_ == oci::Compression::kNone) {  // the diff id is the blob digest
    uncompressed_ += in.size();
    return {};
  }
  return dec_->Feed(in, [this](std::string_view out) -> Result<void> {
    uncompressed_ += out.size();
    return sha_->Update(out);
  });
}

Result<oci::Digest> DiffIdHasher::Finish() {
  if (!started_) BERTH_TRY(Start());
  BERTH_TRY(dec_->Finish());
  if (compression_ == oci::Compression::kNone) return oci::Digest();
  return oci::Digest::Sha256Hex(BERTH_TRY(sha_->HexDigest()));
}

Result<void> ReadBlobChunks(const store::content::ContentProvider& content,
                            const oci::Digest& digest,
                            const std::function<Result<void>(std::string_view)>& fn) {
  auto reader = BERTH_TRY_CTX(content.OpenReader(digest), "blob " + digest.str());
  std::string buf(kChunk, '\0');
  int64_t offset = 0;
  for (;;) {
    size_t n = BERTH_TRY_CTX(
        reader->ReadAt(std::as_writable_bytes(std::span<char>(buf.data(), buf.size())), offset),
        "read blob " + digest.str());
    if (n == 0) break;
    offset += static_cast<int64_t>(n);
    BERTH_TRY(fn(std::string_view(buf.data(), n)));
  }
  if (offset != reader->Size()) return Error::DataLoss("blob " + digest.str() + ": short read");
  return {};
}

}  // namespace berth::image::formats
