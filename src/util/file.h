#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace berth {

/// Reads a whole file; a file larger than max_bytes is an InvalidArgument error.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 64u << 20);
/// Writes data to an existing or new file in one write(2) where possible: the form cgroup,
/// proc and sysfs files need (O_WRONLY|O_TRUNC, no temp file).
Result<void> WriteFile(const std::string& path, std::string_view data, mode_t mode = 0644);
/// Durable replace: a temp file beside path, fsync, rename over path, fsync the directory.
Result<void> WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644);
/// WriteFileAtomic without the two fsyncs: readers still see the old or the new content, never
/// a mix, but a crash of the machine may lose it. For files that do not outlive the boot, such
/// as a container's state.json (runc and crun do not fsync theirs either): the fsyncs cost
/// 1-3 ms per container start on ext4 (bench/README.md).
Result<void> WriteFileReplace(const std::string& path, std::string_view data, mode_t mode = 0644);
/// mkdir -p; existing directories are fine.
Result<void> MkdirAll(const std::string& path, mode_t mode = 0755);
/// rm -rf without following symlinks and without crossing into other mounts; a missing path is
/// fine.
Result<void> RemoveAll(const std::string& path);
/// Whether path exists (lstat succeeds).
bool PathExists(const std::string& path);
/// The names in a directory, without "." and "..".
Result<std::vector<std::string>> ListDir(const std::string& path);
/// "a/b" + "c" → "a/b/c", without doubling slashes.
std::string JoinPath(std::string_view a, std::string_view b);
/// Splits s at each sep; empty pieces are kept unless skip_empty.
std::vector<std::string> Split(std::string_view s, char sep, bool skip_empty = false);
/// s without leading and trailing white space.
std::string_view Trim(std::string_view s);

}  // namespace berth
