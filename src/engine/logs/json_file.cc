#include "engine/logs/json_file.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace berth::engine::logs {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Go's utf8.DecodeRune: the length of the valid sequence at s[0], or 0 if s[0] starts none
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t Utf8Length(std::string_view s, uint32_t* rune) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  size_t n;
  uint32_t r;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, r = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, r = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, r = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; i++) {
    unsigned char x = b(i);
    if (x < (i == 1 ? lo : 0x80) || x > (i == 1 ? hi : 0xBF)) return 0;
    r = (r << 6) | (x & 0x3F);
  }
  *rune = r;
  return n;
}

void AppendJsonString(std::string_view data, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(data, out);
  out->push_back('"');
}

}  // namespace

void AppendJsonEscaped(std::string_view data, std::string* out) {
  size_t start = 0;  // bytes [start, i) are copied as they are
  auto flush = [&](size_t i) { out->append(data.substr(start, i - start)); };
  for (size_t i = 0; i < data.size();) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
        i++;
        continue;
      }
      flush(i);
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
      }
      start = ++i;
      continue;
    }
    uint32_t rune = 0;
    size_t n = Utf8Length(data.substr(i), &rune);
    if (n == 0) {
      flush(i);
      out->append("\\ufffd");
      start = ++i;
    } else if (rune == 0x2028 || rune == 0x2029) {
      flush(i);
      out->append(rune == 0x2028 ? "\\u2028" : "\\u2029");
      start = i += n;
    } else {
      i += n;
    }
  }
  flush(data.size());
}

std::string EncodeEntry(std::string_view stream, std::string_view line, int64_t time_ns) {
  std::string out;
  out.reserve(line.size() + 80);
  out.append("{\"log\":");
  AppendJsonString(line, &out);
  out.append(",\"stream\":");
  AppendJsonString(stream, &out);
  out.append(",\"time\":\"");
  out.append(FormatRfc3339Nano(time_ns));
  out.append("\"}\n");
  return out;
}

namespace {

std::string FormatTime(int64_t time_ns, bool fixed) {
  int64_t sec = time_ns / 1000000000, nsec = time_ns % 1000000000;
  if (nsec < 0) nsec += 1000000000, sec -= 1;
  time_t t = static_cast<time_t>(sec);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  char frac[16];
  snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nsec));
  std::string f = frac;
  if (!fixed) {
    while (!f.empty() && f.back() == '0') f.pop_back();
    if (f == ".") f.clear();
  }
  return out + f + "Z";
}

}  // namespace

std::string FormatRfc3339Nano(int64_t time_ns) { return FormatTime(time_ns, false); }
std::string FormatTimestamp(int64_t time_ns) { return FormatTime(time_ns, true); }

Result<int64_t> ParseRfc3339(std::string_view s) {
  auto bad = [&] { return Error::InvalidArgument("invalid time '" + std::string(s) + "'"); };
  auto digits = [&](size_t pos, size_t n, int* out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; i++) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  struct tm tm = {};
  int year, mon, day, hour, min, sec;
  if (!digits(0, 4, &year) || s.size() < 19 || s[4] != '-' || !digits(5, 2, &mon) || s[7] != '-' ||
      !digits(8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(11, 2, &hour) || s[13] != ':' || !digits(14, 2, &min) || s[16] != ':' ||
      !digits(17, 2, &sec))
    return bad();
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return bad();
  size_t pos = 19;
  int64_t nsec = 0;
  if (pos < s.size() && s[pos] == '.') {
    pos++;
    size_t ndig = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (ndig < 9) nsec = nsec * 10 + (s[pos] - '0');
      ndig++, pos++;
    }
    if (ndig == 0) return bad();
    for (size_t i = ndig; i < 9; i++) nsec *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    pos++;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(pos + 4, 2, &om))
      return bad();
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  tm.tm_year = year - 1900, tm.tm_mon = mon - 1, tm.tm_mday = day;
  tm.tm_hour = hour, tm.tm_min = min, tm.tm_sec = sec;
  int64_t t = static_cast<int64_t>(timegm(&tm)) - offset;
  return t * 1000000000 + nsec;
}

std::string Frame(int stream, std::string_view payload) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(payload.size());
  out[4] = static_cast<char>(n >> 24);
  out[5] = static_cast<char>(n >> 16);
  out[6] = static_cast<char>(n >> 8);
  out[7] = static_cast<char>(n);
  out.append(payload);
  return out;
}

Result<int64_t> ParseSize(std::string_view s) {
  auto bad = [&] { return Error::InvalidArgument("invalid size: '" + std::string(s) + "'"); };
  // ^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$, as go-units' sizeRegex.
  size_t i = 0;
  auto digit = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
  if (!digit(0)) return bad();
  while (digit(i)) i++;
  size_t num_end = i;
  while (i < s.size() && s[i] == '.') {
    if (!digit(i + 1)) return bad();
    i++;
    while (digit(i)) i++;
    num_end = i;
  }
  std::string num(s.substr(0, num_end));
  if (i < s.size() && s[i] == ' ') i++;
  double mult = 1;
  if (i < s.size()) {
    switch (s[i]) {
      case 'k':
      case 'K':
        mult = 1024.0, i++;
        break;
      case 'm':
      case 'M':
        mult = 1024.0 * 1024, i++;
        break;
      case 'g':
      case 'G':
        mult = 1024.0 * 1024 * 1024, i++;
        break;
      case 't':
      case 'T':
        mult = 1024.0 * 1024 * 1024 * 1024, i++;
        break;
      case 'p':
      case 'P':
        mult = 1024.0 * 1024 * 1024 * 1024 * 1024, i++;
        break;
    }
  }
  if (i < s.size() && (s[i] == 'i' || s[i] == 'I')) i++;
  if (i < s.size() && (s[i] == 'b' || s[i] == 'B')) i++;
  if (i != s.size()) return bad();
  // "1.2.3" matches the pattern but is no number: ParseFloat fails, as in go-units.
  char* end = nullptr;
  errno = 0;
  double v = strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || errno == ERANGE) return bad();
  double bytes = v * mult;
  if (!std::isfinite(bytes) || bytes >= 9.2e18) return bad();
  return static_cast<int64_t>(bytes);
}

Result<LogLimits> ParseLogOptions(const std::map<std::string, std::string>& opts) {
  static const char* const kKnown[] = {"max-file",     "max-size", "compress",  "labels",
                                       "labels-regex", "env",      "env-regex", "tag"};
  for (const auto& [key, value] : opts) {
    bool known = false;
    for (const char* k : kKnown) known = known || key == k;
    if (!known)
      return Error::InvalidArgument("unknown log opt '" + key + "' for json-file log driver");
  }
  LogLimits limits;
  auto size = opts.find("max-size");
  auto files = opts.find("max-file");
  if (size != opts.end()) {
    limits.max_size = BERTH_TRY(ParseSize(size->second));
    if (limits.max_size <= 0) return Error::InvalidArgument("max-size must be a positive number");
    limits.max_files = 1;
  }
  if (files != opts.end()) {
    const std::string& v = files->second;
    char* end = nullptr;
    errno = 0;
    long n = v.empty() ? 0 : strtol(v.c_str(), &end, 10);
    if (v.empty() || end != v.c_str() + v.size() || errno == ERANGE || n > 1 << 30 ||
        n < -(1 << 30))
      return Error::InvalidArgument("strconv.Atoi: parsing \"" + v + "\": invalid syntax");
    if (n < 1) return Error::InvalidArgument("max-file cannot be less than 1");
    limits.max_files = static_cast<int>(n);
  }
  if (auto c = opts.find("compress"); c != opts.end()) {
    const std::string& v = c->second;
    if (v != "true" && v != "false" && v != "1" && v != "0" && v != "t" && v != "f" && v != "T" &&
        v != "F" && v != "TRUE" && v != "FALSE" && v != "True" && v != "False")
      return Error::InvalidArgument(
          "error reading compress log option: strconv.ParseBool: "
          "parsing \"" +
          v + "\": invalid syntax");
  }
  return limits;
}

Result<JsonFileWriter> JsonFileWriter::Open(const std::string& path, int64_t max_size,
                                            int max_files) {
  JsonFileWriter w;
  w.path_ = path;
  w.max_size_ = max_size;
  w.max_files_ = max_files < 1 ? 1 : max_files;
  w.fd_ = BERTH_TRY(Fd::Open(path, O_WRONLY | O_APPEND | O_CREAT, 0640));
  struct stat st;
  if (fstat(w.fd_.get(), &st) < 0) return Error::FromErrno(errno, "stat " + path);
  w.size_ = st.st_size;
  return w;
}

Result<void> JsonFileWriter::Rotate() {
  if (max_files_ < 2) {
    if (ftruncate(fd_.get(), 0) < 0) return Error::FromErrno(errno, "truncate " + path_);
    size_ = 0;
    return {};
  }
  // <path>.N-2 → .N-1, ..., <path> → <path>.1: a reader that holds an old file keeps reading
  // it; the oldest is replaced by the rename over it.
  for (int i = max_files_ - 1; i >= 1; i--) {
    std::string from = i == 1 ? path_ : path_ + "." + std::to_string(i - 1);
    std::string to = path_ + "." + std::to_string(i);
    if (rename(from.c_str(), to.c_str()) < 0 && errno != ENOENT)
      return Error::FromErrno(errno, "rotate " + from);
  }
  fd_ = BERTH_TRY(Fd::Open(path_, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0640));
  size_ = 0;
  return {};
}

// Entries are gathered in out_ and written with one write(2) at the end of each Write or
// Flush, or before a rotation.
Result<void> JsonFileWriter::Emit(std::string_view stream, std::string_view line, int64_t time_ns) {
  std::string entry = EncodeEntry(stream, line, time_ns);
  int64_t have = size_ + static_cast<int64_t>(out_.size());
  if (max_size_ > 0 && have > 0 && have + static_cast<int64_t>(entry.size()) > max_size_) {
    BERTH_TRY(WriteOut());
    BERTH_TRY(Rotate());
  }
  out_ += entry;
  return {};
}

Result<void> JsonFileWriter::WriteOut() {
  if (out_.empty()) return {};
  std::string data = std::move(out_);
  out_.clear();
  BERTH_TRY_CTX(WriteAll(fd_.get(), data), "write " + path_);
  size_ += static_cast<int64_t>(data.size());
  return {};
}

Result<void> JsonFileWriter::Write(std::string_view stream, std::string_view data,
                                   int64_t time_ns) {
  std::string& partial = stream == "stderr" ? partial_stderr_ : partial_stdout_;
  while (!data.empty()) {
    size_t nl = data.find('\n');
    size_t room = kMaxLineSize - partial.size();
    if (nl != std::string_view::npos && nl <= room) {
      // One complete line: the kept bytes, these, and the newline.
      if (partial.empty()) {
        BERTH_TRY(Emit(stream, data.substr(0, nl + 1), time_ns));
      } else {
        partial.append(data.substr(0, nl + 1));
        BERTH_TRY(Emit(stream, partial, time_ns));
        partial.clear();
      }
      data.remove_prefix(nl + 1);
      continue;
    }
    if (data.size() < room) {
      partial.append(data);
      break;
    }
    // A full buffer without a newline in it: Docker's partial entry.
    partial.append(data.substr(0, room));
    data.remove_prefix(room);
    BERTH_TRY(Emit(stream, partial, time_ns));
    partial.clear();
  }
  return WriteOut();
}

Result<void> JsonFileWriter::Flush(int64_t time_ns) {
  for (auto* p : {&partial_stdout_, &partial_stderr_}) {
    if (p->empty()) continue;
    p->push_back('\n');
    BERTH_TRY(Emit(p == &partial_stdout_ ? "stdout" : "stderr", *p, time_ns));
    p->clear();
  }
  return WriteOut();
}

}  // namespace berth::engine::logs
