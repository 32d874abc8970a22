// CompileCached(): compiled programs kept on disk by a hash of the profile.
//
//   <cache_dir>/
//     <sha256 hex of key>.bpf     header (below) + struct sock_filter[] bytes
//
// key = format version, libseccomp version, native arch, canonical profile. A file is
// used only if its magic, sizes and the sha256 of its bpf bytes check out; otherwise the
// profile is compiled again and the file rewritten (WriteFileAtomic: never seen half-written).

#include <seccomp.h>

#include <cerrno>
#include <cstring>

#include "runtime/seccomp/seccomp.h"
#include "runtime/seccomp/seccomp_internal.h"
#include "util/file.h"
#include "util/log.h"
#include "util/sha256.h"

namespace berth::runtime::seccomp {
namespace internal {
namespace {

void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }
void PutStr(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}
void PutOpt(std::string* out, const std::optional<uint32_t>& v) {
  PutU64(out, v.has_value());
  PutU64(out, v.value_or(0));
}
void PutStrs(std::string* out, const std::vector<std::string>& v) {
  PutU64(out, v.size());
  for (const auto& s : v) PutStr(out, s);
}

}  // namespace

std::string CanonicalProfile(const oci::Seccomp& p) {
  std::string out;
  out.reserve(64 + 32 * p.syscalls.size());
  PutStr(&out, p.default_action);
  PutOpt(&out, p.default_errno_ret);
  PutStrs(&out, p.architectures);
  PutStrs(&out, p.flags);
  PutStr(&out, p.listener_path);
  PutStr(&out, p.listener_metadata);
  PutU64(&out, p.syscalls.size());
  for (const auto& s : p.syscalls) {
    PutStrs(&out, s.names);
    PutStr(&out, s.action);
    PutOpt(&out, s.errno_ret);
    PutU64(&out, s.args.size());
    for (const auto& a : s.args) {
      PutU64(&out, a.index);
      PutU64(&out, a.value);
      PutU64(&out, a.value_two);
      PutStr(&out, a.op);
    }
  }
  return out;
}

}  // namespace internal

namespace {

// Bump when the key, the header or the compilation (attributes, rule shapes) change.
constexpr uint32_t kFormatVersion = 1;
constexpr char kMagic[8] = {'B', 'E', 'R', 'T', 'H', 'B', 'P', 'F'};

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t flags;
  uint32_t notify;
  uint32_t bpf_size;
  char bpf_sha256[64];  // hex
};
static_assert(sizeof(Header) == 88);

Result<std::string> CacheKey(const oci::Seccomp& profile) {
  const scmp_version* v = seccomp_version();
  std::string key = "berth-seccomp-cache " + std::to_string(kFormatVersion) + " libseccomp " +
                    std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                    std::to_string(v->micro) + " native " + std::to_string(seccomp_arch_native()) +
                    "\n";
  key += internal::CanonicalProfile(profile);
  return Sha256Hex(key);
}

// The program stored in a cache file, or nullopt if the file is not a valid one.
std::optional<Program> Decode(std::string_view data) {
  Header h;
  if (data.size() < sizeof(h)) return std::nullopt;
  std::memcpy(&h, data.data(), sizeof(h));
  std::string_view bpf = data.substr(sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0 || h.version != kFormatVersion ||
      h.notify > 1 || h.bpf_size != bpf.size() || bpf.empty() || bpf.size() % 8 != 0)
    return std::nullopt;
  auto sum = Sha256Hex(bpf);
  if (!sum || std::string_view(h.bpf_sha256, sizeof(h.bpf_sha256)) != *sum) return std::nullopt;
  Program p;
  p.bpf.assign(bpf);
  p.flags = h.flags;
  p.notify = h.notify != 0;
  return p;
}

Result<std::string> Encode(const Program& p) {
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kFormatVersion;
  h.flags = p.flags;
  h.notify = p.notify ? 1 : 0;
  h.bpf_size = static_cast<uint32_t>(p.bpf.size());
  std::string sum = BERTH_TRY(Sha256Hex(p.bpf));
  std::memcpy(h.bpf_sha256, sum.data(), sizeof(h.bpf_sha256));
  std::string out(reinterpret_cast<const char*>(&h), sizeof(h));
  out += p.bpf;
  return out;
}

}  // namespace

Result<Program> CompileCached(const oci::Seccomp& profile, const std::string& cache_dir) {
  const auto& log = log::Get("runtime");
  std::string hex = BERTH_TRY_CTX(CacheKey(profile), "seccomp cache key");
  std::string path = JoinPath(cache_dir, hex + ".bpf");

  if (auto data = ReadFile(path, 1u << 20)) {
    if (auto p = Decode(*data)) return std::move(*p);
    log.Warn({{"path", path}}, "seccomp cache: invalid file, compiling again");
  } else if (!data.error().IsNotFound()) {
    log.Warn({{"path", path}, {"error", data.error().message()}},
             "seccomp cache: unreadable file, compiling again");
  }

  Program program = BERTH_TRY(Compile(profile));
  // The cache only saves time: failing to write it must not fail a container start.
  auto stored = [&]() -> Result<void> {
    BERTH_TRY(MkdirAll(cache_dir, 0700));
    std::string bytes = BERTH_TRY(Encode(program));
    return WriteFileAtomic(path, bytes, 0600);
  }();
  if (!stored)
    log.Warn({{"path", path}, {"error", stored.error().message()}}, "seccomp cache: write failed");
  return program;
}

}  // namespace berth::runtime::seccomp
