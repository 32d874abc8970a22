#pragma once

// The build context `berth build` sends: a local directory as a tar stream, produced while the
// request body is read (a context of any size is never held in memory), as the docker CLI
// makes it: names relative to the context, owners 0:0, no entry for what .dockerignore
// excludes (a directory is still walked when an exception may re-include something below
// it), the Dockerfile and .dockerignore always sent.

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

namespace berth::cli {

/// The tar header block(s) of one entry: a GNU long-name entry first when name does not fit
/// ustar's 100 bytes (the same for a long link target). Exposed for tests.
std::string TarHeader(const std::string& name, const struct stat& st, const std::string& link);

class ContextTar {
 public:
  /// Decides, for a path relative to the context ("a/b"), whether it is left out; for a
  /// directory left out, walk says whether something below may still be re-included.
  struct Filter {
    std::function<bool(const std::string& rel)> excluded;
    std::function<bool(const std::string& rel)> walk_excluded_dir;
  };

  /// Walks dir now (names and metadata only; content is read as the tar is).
  /// always: relative paths sent even if the filter excludes them (Dockerfile, .dockerignore).
  static Result<std::unique_ptr<ContextTar>> Open(const std::string& dir, const Filter& filter,
                                                  const std::vector<std::string>& always);

  /// Extra files to append (a Dockerfile read from stdin), name → content.
  void AddFile(std::string name, std::string content) {
    extra_.push_back({std::move(name), std::move(content)});
  }
  /// Replaces the content of an entry (the .dockerignore docker amends), or adds it.
  void ReplaceFile(const std::string& name, std::string content);

  /// Up to n bytes of the tar; 0 at its end.
  Result<size_t> Read(char* buf, size_t n);
  size_t entries() const { return entries_.size() + extra_.size(); }

 private:
  struct Entry {
    std::string rel;  // "a/b"
    struct stat st;
    std::string link;
  };
  struct Extra {
    std::string name;
    std::string content;
  };
  Result<void> Walk(const std::string& rel, const Filter& filter,
                    const std::vector<std::string>& always);
  Result<void> Next();  // fills pending_ with the next header (and content for extras)

  std::string dir_;
  std::vector<Entry> entries_;
  std::vector<Extra> extra_;
  size_t next_entry_ = 0, next_extra_ = 0;
  std::string pending_;  // bytes ready to hand out
  size_t pending_pos_ = 0;
  Fd file_;  // the regular file whose content is being sent
  uint64_t file_left_ = 0, file_pad_ = 0;
  bool ended_ = false;
};

}  // namespace berth::cli
