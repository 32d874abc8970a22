#pragma once

// Test helpers: layer tars built with libarchive's write API, compressed with zlib or zstd,
// and handed over as a memfd. Only for *_test.cc.

#include <archive.h>
#include <archive_entry.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "store/archive/apply.h"
#include "util/fd.h"

namespace berth::store::archive::testing {

struct TarEntry {
  std::string name;
  mode_t type = AE_IFREG;
  mode_t perm = 0644;
  std::string data;
  std::string symlink;
  std::string hardlink;
  int64_t uid = 0;
  int64_t gid = 0;
  time_t mtime = 1600000000;
  unsigned dev_major = 0;
  unsigned dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

inline la_ssize_t AppendCallback(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

/// A plain (uncompressed) pax tar of entries.
inline std::string MakeTar(const std::vector<TarEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_per_block(a, 0);
  archive_write_open(a, &out, nullptr, AppendCallback, nullptr);
  for (const auto& t : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.name.c_str());
    archive_entry_set_filetype(e, t.type);
    archive_entry_set_perm(e, t.perm);
    archive_entry_set_uid(e, t.uid);
    archive_entry_set_gid(e, t.gid);
    archive_entry_set_mtime(e, t.mtime, 0);
    if (!t.symlink.empty()) archive_entry_set_symlink(e, t.symlink.c_str());
    if (!t.hardlink.empty()) archive_entry_set_hardlink(e, t.hardlink.c_str());
    if (t.type == AE_IFCHR || t.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(e, t.dev_major);
      archive_entry_set_rdevminor(e, t.dev_minor);
    }
    for (const auto& [k, v] : t.xattrs)
      archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    archive_entry_set_size(e, t.type == AE_IFREG && t.hardlink.empty() ? t.data.size() : 0);
    archive_write_header(a, e);
    if (!t.data.empty() && t.hardlink.empty()) archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

inline std::string Gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

inline std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  out.resize(n);
  return out;
}

inline std::string Compress(const std::string& tar, Compression c) {
  switch (c) {
    case Compression::kGzip:
      return Gzip(tar);
    case Compression::kZstd:
      return Zstd(tar);
    case Compression::kNone:
      break;
  }
  return tar;
}

/// A memfd holding data, positioned at its start.
inline Fd MemFd(const std::string& data) {
  Fd fd(::memfd_create("layer", MFD_CLOEXEC));
  (void)WriteAll(fd.get(), data);
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

/// A raw ustar header (for claims libarchive's writer would not make): name, size, type.
inline std::string RawUstarHeader(const std::string& name, uint64_t size, char type = '0') {
  char h[512];
  std::memset(h, 0, sizeof h);
  std::snprintf(h, 100, "%s", name.c_str());
  std::snprintf(h + 100, 8, "%07o", 0644);
  std::snprintf(h + 108, 8, "%07o", 0);
  std::snprintf(h + 116, 8, "%07o", 0);
  // Base-256 (the GNU extension every reader knows): 11 octal digits stop below 8 GiB.
  h[124] = static_cast<char>(0x80);
  for (int i = 11; i >= 1; --i, size >>= 8) h[124 + i] = static_cast<char>(size & 0xff);
  std::snprintf(h + 136, 12, "%011o", 1600000000);
  h[156] = type;
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  return std::string(h, sizeof h);
}

}  // namespace berth::store::archive::testing
