#include "store/content/content_store.h"

namespace berth::store::content {

Result<std::string> ReadBlob(const ContentProvider& provider, const oci::Digest& digest,
                             size_t max_bytes) {
  auto reader = BERTH_TRY(provider.OpenReader(digest));
  if (reader->Size() < 0 || static_cast<uint64_t>(reader->Size()) > max_bytes)
    return Error::InvalidArgument("read " + digest.str() + ": blob of " +
                                  std::to_string(reader->Size()) + " bytes is larger than " +
                                  std::to_string(max_bytes));
  std::string out(reader->Size(), '\0');
  size_t done = 0;
  while (done < out.size()) {
    auto buf = std::as_writable_bytes(std::span(out.data() + done, out.size() - done));
    size_t n = BERTH_TRY(reader->ReadAt(buf, done));
    if (n == 0) return Error::DataLoss("read " + digest.str() + ": blob shorter than its size");
    done += n;
  }
  return out;
}

}  // namespace berth::store::content
