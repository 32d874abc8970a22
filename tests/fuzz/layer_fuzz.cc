// libFuzzer target for layer unpacking: store::archive::ApplyLayer on arbitrary bytes (plain,
// gzip or zstd tar) into a fresh directory. Any input must unpack or fail with an error; nothing
// may be created outside the layer directory. Devices are refused (as for untrusted layers) so a
// run needs no privileges; the directory is removed after each input.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "store/archive/apply.h"
#include "util/fd.h"
#include "util/file.h"

namespace {

// A canary beside the layer directory: an escaping entry would have to write through "..".
// A plain array: it outlives the atexit handler that removes it.
char g_base[] = "/tmp/berth-layer-fuzz.XXXXXX";

std::string Base() {
  static const bool made = [] {
    if (!::mkdtemp(g_base)) std::abort();
    std::atexit([] { (void)berth::RemoveAll(g_base); });
    return true;
  }();
  (void)made;
  return g_base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string layer = Base() + "/layer";
  if (::mkdir(layer.c_str(), 0755) != 0) std::abort();
  int in = ::memfd_create("layer", MFD_CLOEXEC);
  if (in < 0) std::abort();
  berth::Fd input(in);
  if (size && !berth::WriteAll(in, std::string_view(reinterpret_cast<const char*>(data), size)))
    std::abort();
  ::lseek(in, 0, SEEK_SET);
  {
    berth::Fd dir(::open(layer.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    berth::store::archive::ApplyOptions options;
    options.allow_devices = false;
    options.preserve_ownership = false;
    options.max_bytes = 64u << 20;
    auto r = berth::store::archive::ApplyLayer(dir.get(), in, options);
    if (!r && r.error().message().empty()) std::abort();
  }
  // Only the layer directory may exist under the base.
  auto names = berth::ListDir(Base());
  if (!names || names->size() != 1 || (*names)[0] != "layer") std::abort();
  if (!berth::RemoveAll(layer)) std::abort();
  return 0;
}
