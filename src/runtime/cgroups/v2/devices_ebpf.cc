#include "runtime/cgroups/v2/devices_ebpf.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/fd.h"

namespace berth::runtime::cgroups::v2 {

namespace {

// Instruction encodings, as the kernel's include/linux/filter.h macros build them.
bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}
bpf_insn LoadW(uint8_t dst, uint8_t src, int16_t off) {
  return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0);
}
bpf_insn Alu32Imm(uint8_t op, uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn MovReg(uint8_t dst, uint8_t src) {
  return Insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn MovImm(uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn JumpImm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return Insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// Registers once the prologue ran: r2 device type, r3 access, r4 major, r5 minor; r1 scratch.
constexpr uint8_t kType = 2, kAccess = 3, kMajor = 4, kMinor = 5, kScratch = 1;

Result<int32_t> AccessBits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access.empty() ? std::string("rwm") : access) {
    if (c == 'r')
      bits |= BPF_DEVCG_ACC_READ;
    else if (c == 'w')
      bits |= BPF_DEVCG_ACC_WRITE;
    else if (c == 'm')
      bits |= BPF_DEVCG_ACC_MKNOD;
    else
      return Error::InvalidArgument("linux.resources.devices: bad access " + access);
  }
  return bits;
}

// One rule: a run of "if not this, jump past the block" tests, then r0 = verdict; exit.
Result<std::vector<bpf_insn>> RuleBlock(const oci::DeviceRule& rule) {
  struct Test {
    std::vector<bpf_insn> pre;  // instructions before the conditional jump
    uint8_t op, reg;
    int32_t imm;
  };
  std::vector<Test> tests;
  std::string type = rule.type.empty() ? "a" : rule.type;
  if (type == "c")
    tests.push_back({{}, BPF_JNE, kType, BPF_DEVCG_DEV_CHAR});
  else if (type == "b")
    tests.push_back({{}, BPF_JNE, kType, BPF_DEVCG_DEV_BLOCK});
  else if (type != "a")
    return Error::InvalidArgument("linux.resources.devices: bad device type " + type);
  int32_t bits = BERTH_TRY(AccessBits(rule.access));
  constexpr int32_t kAll = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  if (bits != kAll) {
    if (rule.allow)  // the request must ask for nothing beyond the rule's access
      tests.push_back({{MovReg(kScratch, kAccess), Alu32Imm(BPF_AND, kScratch, ~bits & kAll)},
                       BPF_JNE,
                       kScratch,
                       0});
    else  // the request asks for some access the rule denies
      tests.push_back(
          {{MovReg(kScratch, kAccess), Alu32Imm(BPF_AND, kScratch, bits)}, BPF_JEQ, kScratch, 0});
  }
  if (rule.major && *rule.major >= 0)
    tests.push_back({{}, BPF_JNE, kMajor, static_cast<int32_t>(*rule.major)});
  if (rule.minor && *rule.minor >= 0)
    tests.push_back({{}, BPF_JNE, kMinor, static_cast<int32_t>(*rule.minor)});
  size_t total = 2;  // r0 = verdict; exit
  for (const auto& t : tests) total += t.pre.size() + 1;
  std::vector<bpf_insn> out;
  for (const auto& t : tests) {
    out.insert(out.end(), t.pre.begin(), t.pre.end());
    int16_t skip = static_cast<int16_t>(total - out.size() - 1);  // to the insn after the block
    out.push_back(JumpImm(t.op, t.reg, t.imm, skip));
  }
  out.push_back(MovImm(0, rule.allow ? 1 : 0));
  out.push_back(Exit());
  return out;
}

long Bpf(int cmd, union bpf_attr* attr) { return ::syscall(__NR_bpf, cmd, attr, sizeof(*attr)); }

Result<Fd> LoadProgram(const std::vector<bpf_insn>& insns) {
  static char license[] = "Apache";
  std::string log(64 * 1024, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = reinterpret_cast<uint64_t>(insns.data());
    attr.insn_cnt = static_cast<uint32_t>(insns.size());
    attr.license = reinterpret_cast<uint64_t>(license);
    if (attempt == 1) {  // the verifier's log only to explain a refusal
      attr.log_level = 1;
      attr.log_buf = reinterpret_cast<uint64_t>(log.data());
      attr.log_size = static_cast<uint32_t>(log.size());
    }
    long fd = Bpf(BPF_PROG_LOAD, &attr);
    if (fd >= 0) return Fd(static_cast<int>(fd));
    int err = errno;
    if (attempt == 1) {
      std::string ctx = "load device program (bpf BPF_PROG_LOAD)";
      log.resize(std::strlen(log.c_str()));
      if (!log.empty()) ctx += " [verifier: " + log.substr(0, 400) + "]";
      return Error::FromErrno(err, ctx);
    }
  }
  return Error::Internal("load device program: unreachable");
}

Result<uint32_t> ProgramId(int prog_fd) {
  struct bpf_prog_info info;
  std::memset(&info, 0, sizeof info);
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.info.bpf_fd = static_cast<uint32_t>(prog_fd);
  attr.info.info_len = sizeof info;
  attr.info.info = reinterpret_cast<uint64_t>(&info);
  if (Bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0)
    return Error::FromErrno(errno, "device program info (bpf BPF_OBJ_GET_INFO_BY_FD)");
  return info.id;
}

Result<std::vector<uint32_t>> AttachedIds(int cgroup_fd) {
  std::vector<uint32_t> ids(64);
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (Bpf(BPF_PROG_QUERY, &attr) < 0)
    return Error::FromErrno(errno, "query device programs (bpf BPF_PROG_QUERY)");
  ids.resize(std::min<size_t>(attr.query.prog_cnt, ids.size()));
  return ids;
}

}  // namespace

Result<std::vector<bpf_insn>> BuildDeviceProgram(const std::vector<oci::DeviceRule>& rules) {
  std::vector<bpf_insn> prog = {
      // struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major, minor; }
      LoadW(kType, 1, 0),   Alu32Imm(BPF_AND, kType, 0xFFFF),
      LoadW(kAccess, 1, 0), Alu32Imm(BPF_RSH, kAccess, 16),
      LoadW(kMajor, 1, 4),  LoadW(kMinor, 1, 8),
  };
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    auto block = BERTH_TRY(RuleBlock(*it));
    prog.insert(prog.end(), block.begin(), block.end());
    // A rule that matches everything decides alone; the verifier refuses code after it
    // ("unreachable insn"). The earlier rules are still checked for bad fields above.
    if (block.size() == 2) {
      for (++it; it != rules.rend(); ++it) BERTH_TRY(RuleBlock(*it));
      return prog;
    }
  }
  prog.push_back(MovImm(0, 0));
  prog.push_back(Exit());
  return prog;
}

Result<void> ApplyDeviceRules(const std::string& cgroup_dir,
                              const std::vector<oci::DeviceRule>& rules) {
  auto insns = BERTH_TRY(BuildDeviceProgram(rules));
  Fd prog = BERTH_TRY(LoadProgram(insns));
  uint32_t new_id = BERTH_TRY(ProgramId(prog.get()));
  Fd cg = BERTH_TRY(Fd::Open(cgroup_dir, O_RDONLY | O_DIRECTORY));
  auto old_ids = BERTH_TRY(AttachedIds(cg.get()));

  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cg.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) < 0)
    return Error::FromErrno(errno, "attach device program to " + cgroup_dir);

  // The new program is in force; drop the ones it replaces. Both deciding for a moment only
  // narrows access.
  for (uint32_t id : old_ids) {
    if (id == new_id) continue;
    union bpf_attr get;
    std::memset(&get, 0, sizeof get);
    get.prog_id = id;
    long fd = Bpf(BPF_PROG_GET_FD_BY_ID, &get);
    if (fd < 0) {
      if (errno == ENOENT) continue;
      return Error::FromErrno(errno, "open old device program " + std::to_string(id));
    }
    Fd old(static_cast<int>(fd));
    union bpf_attr det;
    std::memset(&det, 0, sizeof det);
    det.target_fd = static_cast<uint32_t>(cg.get());
    det.attach_bpf_fd = static_cast<uint32_t>(old.get());
    det.attach_type = BPF_CGROUP_DEVICE;
    if (Bpf(BPF_PROG_DETACH, &det) < 0 && errno != ENOENT)
      return Error::FromErrno(errno, "detach old device program from " + cgroup_dir);
  }
  return {};
}

}  // namespace berth::runtime::cgroups::v2
