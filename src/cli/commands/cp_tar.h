#pragma once

// The tar streams of berth cp: written from a local path (ustar with GNU long names) and
// extracted under a local directory (ustar, GNU and PAX headers, as Go's archive/tar and
// libarchive write them). Extraction never leaves the directory: ".." and absolute names are
// refused, and no entry is written through a symlink.

#include <functional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace berth::cli {

/// Appends to out the tar of the local path src (a file, a directory with everything below it,
/// or a symlink as a link), its top entry named root ("x" or "." for a directory's contents).
/// follow: a symlink at src itself is read through.
Result<void> TarPath(const std::string& src, const std::string& root, bool follow,
                     std::string& out);

/// Extracts a tar, fed in pieces through Feed, under dir. Names whose first component is
/// rebase_from become rebase_to (the copy takes its destination's name); "" for none.
class TarExtractor {
 public:
  TarExtractor(std::string dir, std::string rebase_from, std::string rebase_to);
  ~TarExtractor();
  TarExtractor(const TarExtractor&) = delete;
  TarExtractor& operator=(const TarExtractor&) = delete;
  Result<void> Feed(std::string_view data);
  /// The stream ended: an entry cut short is an error.
  Result<void> Finish();
  /// Bytes of file content written.
  uint64_t written() const { return written_; }

 private:
  Result<void> Header();
  Result<void> Begin();
  Result<void> Content(std::string_view data);
  Result<void> End();
  std::string Rebase(const std::string& name) const;

  std::string dir_, rebase_from_, rebase_to_;
  std::string buf_;
  // the entry being read
  char type_ = 0;
  std::string name_, link_;
  uint64_t size_ = 0, left_ = 0, pad_ = 0;
  unsigned mode_ = 0;
  int64_t mtime_ = 0;
  int fd_ = -1;
  std::string meta_;  // a PAX or GNU long-name entry's content
  std::string long_name_, long_link_, pax_path_, pax_link_;
  int64_t pax_size_ = -1;
  bool in_entry_ = false, ended_ = false;
  uint64_t written_ = 0;
};

}  // namespace berth::cli
