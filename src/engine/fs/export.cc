#include "engine/fs/export.h"

#include <fcntl.h>

#include "store/archive/write.h"
#include "util/fd.h"

namespace berth::engine::fs {

Result<void> ExportRootfs(const std::string& rootfs, int out_fd) {
  Fd dir = BERTH_TRY_CTX(Fd::Open(rootfs, O_RDONLY | O_DIRECTORY), "export " + rootfs);
  BERTH_TRY_CTX(store::archive::WriteLayerTar(dir.get(), out_fd), "export " + rootfs);
  return {};
}

}  // namespace berth::engine::fs
