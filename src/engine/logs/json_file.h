#pragma once

// Docker's json-file log driver: one JSON object a line,
//
//   {"log":"hello\n","stream":"stdout","time":"2026-12-01T10:00:00.123456789Z"}
//
// written by the container's monitor (JsonFileWriter) and read back by berthd for
// GET /containers/{id}/logs (ReadLogs). Files on disk, as Docker lays them out:
//
//   <path>        the current file, appended to
//   <path>.1      the previous one (after rotation)
//   ...
//   <path>.N-1    the oldest kept (N = max-file)
//
//   auto w = BERTH_TRY(JsonFileWriter::Open(path, kDefaultMaxSize, kDefaultMaxFiles));
//   BERTH_TRY(w.Write("stdout", bytes_from_pipe, NowNs()));
//   BERTH_TRY(w.Flush());                       // at EOF: the last partial line
//
//   ReadOptions o; o.tail = 10; o.follow = true; o.running = [&] { return alive; };
//   BERTH_TRY(ReadLogs(path, o, [&](const LogEntry& e) -> Result<void> { ... }));

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "util/fd.h"
#include "util/result.h"

namespace berth::engine::logs {

/// Berth's caps when a container gives no log options. Docker's json-file default is
/// unbounded (moby#8911: a chatty container fills the disk); Berth keeps 5 files of 20 MiB.
inline constexpr int64_t kDefaultMaxSize = 20 << 20;
inline constexpr int kDefaultMaxFiles = 5;
/// Docker's copier splits a line longer than this into partial entries (no trailing "\n").
inline constexpr size_t kMaxLineSize = 16 * 1024;

struct LogLimits {
  int64_t max_size = kDefaultMaxSize;  // bytes; -1: unbounded (never rotate)
  int max_files = kDefaultMaxFiles;
};

/// The json-file driver's --log-opt map (HostConfig.LogConfig.Config). "max-size" takes
/// Docker's units (10k, 20m, 1g, 1.5m: binary multiples); "max-file" an integer >= 1.
/// Given neither: Berth's defaults. max-size alone: max-file 1, as Docker. max-file alone:
/// Berth's default size. "compress", "labels", "labels-regex", "env", "env-regex" and "tag"
/// are accepted and ignored. Errors are InvalidArgument with Docker's messages:
/// "unknown log opt 'x' for json-file log driver", "invalid size: 'x'",
/// "max-size must be a positive number", "max-file cannot be less than 1".
Result<LogLimits> ParseLogOptions(const std::map<std::string, std::string>& opts);

/// Docker's go-units RAMInBytes: "10k" → 10240, "20m", "1g", "1.5MiB", "100" (bytes).
/// InvalidArgument "invalid size: '<s>'" otherwise.
Result<int64_t> ParseSize(std::string_view s);

/// Writes one container's log. Not thread-safe: the monitor is one thread.
class JsonFileWriter {
 public:
  /// Opens (creating, mode 0640) path for appending. max_size <= 0: never rotate;
  /// max_files == 1: a full file is truncated and restarted.
  static Result<JsonFileWriter> Open(const std::string& path, int64_t max_size, int max_files);

  JsonFileWriter(JsonFileWriter&&) = default;
  JsonFileWriter& operator=(JsonFileWriter&&) = default;

  /// Appends raw bytes read from the container's stdout or stderr (stream is "stdout" or
  /// "stderr"). Each complete line becomes one entry ending in "\n"; the rest is kept per
  /// stream until its newline, or until kMaxLineSize bytes, which are written as a partial
  /// entry without "\n". time_ns (unix nanoseconds) stamps every entry this call writes.
  Result<void> Write(std::string_view stream, std::string_view data, int64_t time_ns);
  /// Writes the kept partial lines (at the end of the streams). As Docker, the last piece of
  /// a stream gets a "\n" (`printf hi` is logged as "hi\n"). time_ns: the entries' time.
  Result<void> Flush(int64_t time_ns);

  /// Bytes in the current file (everything given to Write so far is written).
  int64_t size() const { return size_; }

 private:
  JsonFileWriter() = default;
  Result<void> Emit(std::string_view stream, std::string_view line, int64_t time_ns);
  Result<void> Rotate();
  Result<void> WriteOut();

  std::string path_;
  Fd fd_;
  int64_t max_size_ = 0;
  int max_files_ = 1;
  int64_t size_ = 0;
  std::string partial_stdout_;
  std::string partial_stderr_;
  std::string out_;  // entries not written yet
};

/// One entry in the file format, with its trailing "\n": the form JsonFileWriter writes.
/// Docker's escaping: '"' and '\\' backslashed, \n \r \t short, other control characters and
/// '<' '>' '&' U+2028 U+2029 as \u00XX, invalid UTF-8 as one U+FFFD (\ufffd) per bad byte.
std::string EncodeEntry(std::string_view stream, std::string_view line, int64_t time_ns);
/// data as a JSON string body (without quotes), escaped as EncodeEntry does.
void AppendJsonEscaped(std::string_view data, std::string* out);

/// Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped
/// ("2026-12-01T10:00:00.1234Z", "2026-12-01T10:00:00Z"), as the file's "time".
std::string FormatRfc3339Nano(int64_t time_ns);
/// Docker's RFC3339NanoFixed in UTC, always nine digits ("2026-12-01T10:00:00.123400000Z"):
/// the prefix `docker logs -t` shows (the daemon writes it, then a space, before each line).
std::string FormatTimestamp(int64_t time_ns);
/// RFC 3339 with an optional fraction and a Z or ±hh:mm offset → unix nanoseconds.
Result<int64_t> ParseRfc3339(std::string_view s);

/// Docker's multiplexed stream framing for non-tty logs and attach: an 8-byte header
/// {stream, 0, 0, 0, big-endian uint32 length} then the payload. stream: 1 stdout, 2 stderr.
std::string Frame(int stream, std::string_view payload);

struct LogEntry {
  std::string stream;  // "stdout" or "stderr"
  std::string line;    // the "log" field as stored: ends in "\n" unless a partial piece
  int64_t time_ns = 0;
};

struct ReadOptions {
  bool stdout = true;
  bool stderr = true;
  /// The last N entries (of those the stream and time filters select); -1: all.
  int64_t tail = -1;
  /// Only entries with since_ns <= time and time <= until_ns; 0: no bound.
  int64_t since_ns = 0;
  int64_t until_ns = 0;
  /// After the existing entries, wait for new ones (across rotations) until running()
  /// returns false and the file is drained. A null running means "not running".
  bool follow = false;
  std::function<bool()> running;
  /// How often follow re-checks running() when no data comes (inotify wakes it for data).
  int poll_ms = 200;
};

/// Calls sink for each selected entry in order, oldest file first (<path>.N-1 ... <path>).
/// tail reads from the end of the files backwards, so --tail 10 of a 1 GB log reads a few
/// blocks. Lines that are not valid entries are skipped. Ends with sink's error when sink
/// fails (the client went away). A missing log file is no error (no entries).
Result<void> ReadLogs(const std::string& path, const ReadOptions& options,
                      const std::function<Result<void>(const LogEntry&)>& sink);

/// Parses one line of the file (without its "\n"); false if it is no entry.
bool DecodeEntry(std::string_view json_line, LogEntry* out);

}  // namespace berth::engine::logs
