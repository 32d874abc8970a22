// berth logs and berth wait.

#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/commands/container_internal.h"
#include "cli/commands/flags.h"
#include "util/fd.h"

namespace berth::cli {
namespace {

// docker's timetypes.GetTimestamp: a Go duration ("42m", "1h30m", "10s") is that long before
// now; an RFC 3339 time or date is converted; anything else (unix seconds) is sent as is.
std::string Timestamp(const std::string& value) {
  if (value.empty()) return value;
  // A duration: digits (with a fraction) and units h, m, s, ms, us, ns.
  {
    double total = 0;
    size_t i = 0;
    bool ok = true;
    while (i < value.size() && ok) {
      size_t j = i;
      while (j < value.size() &&
             (std::isdigit(static_cast<unsigned char>(value[j])) || value[j] == '.'))
        ++j;
      if (j == i) {
        ok = false;
        break;
      }
      double n = std::strtod(value.substr(i, j - i).c_str(), nullptr);
      size_t k = j;
      while (k < value.size() && std::isalpha(static_cast<unsigned char>(value[k]))) ++k;
      std::string unit = value.substr(j, k - j);
      double mult = unit == "h"    ? 3600
                    : unit == "m"  ? 60
                    : unit == "s"  ? 1
                    : unit == "ms" ? 1e-3
                    : unit == "us" ? 1e-6
                    : unit == "ns" ? 1e-9
                                   : -1;
      if (mult < 0) ok = false;
      total += n * mult;
      i = k;
    }
    if (ok) {
      struct timespec now;
      ::clock_gettime(CLOCK_REALTIME, &now);
      double t = static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9 - total;
      long long sec = static_cast<long long>(t);
      long long nsec = static_cast<long long>((t - static_cast<double>(sec)) * 1e9);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%lld.%09lld", sec, nsec);
      return buf;
    }
  }
  // RFC 3339: 2013-01-02T13:23:37[.frac](Z|+hh:mm), or a bare date.
  struct tm tm = {};
  int y, mo, d, h = 0, mi = 0, s = 0, consumed = 0;
  if (std::sscanf(value.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) == 3) {
    std::string rest = value.substr(static_cast<size_t>(consumed));
    std::string frac = "000000000";
    long offset = 0;
    if (!rest.empty() && rest[0] == 'T') {
      int c2 = 0;
      if (std::sscanf(rest.c_str(), "T%2d:%2d:%2d%n", &h, &mi, &s, &c2) != 3) return value;
      rest = rest.substr(static_cast<size_t>(c2));
      if (!rest.empty() && rest[0] == '.') {
        size_t e = 1;
        while (e < rest.size() && std::isdigit(static_cast<unsigned char>(rest[e]))) ++e;
        frac = (rest.substr(1, e - 1) + "000000000").substr(0, 9);
        rest = rest.substr(e);
      }
      if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
        int oh = 0, om = 0;
        if (std::sscanf(rest.c_str() + 1, "%2d:%2d", &oh, &om) == 2)
          offset = (rest[0] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
      }
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    long long secs = static_cast<long long>(::timegm(&tm)) - offset;
    return std::to_string(secs) + "." + frac;
  }
  return value;
}

}  // namespace

Result<int> CmdLogs(Env& env) {
  FlagSet fs;
  bool follow = false, timestamps = false, details = false;
  std::string since, until, tail = "all";
  fs.Bool("follow", 'f', &follow);
  fs.Bool("timestamps", 't', &timestamps);
  fs.Bool("details", 0, &details);
  fs.String("since", 0, &since);
  fs.String("until", 0, &until);
  fs.String("tail", 'n', &tail);
  const char* usage = "[OPTIONS] CONTAINER";
  auto args = fs.Parse(env.args, true);
  if (!args) return FlagErrorExit("logs", usage, args.error());
  if (args->size() != 1) return ArgsError("logs", usage, "1 argument");
  api::Client& client = *env.client;
  nlohmann::json c = BERTH_TRY(InspectContainer(client, (*args)[0]));
  std::string id = c.value("Id", (*args)[0]);
  bool tty = c["Config"].value("Tty", false);
  // The query as the Go client encodes it: keys sorted.
  std::string q;
  if (details) q += "details=1&";
  if (follow) q += "follow=1&";
  if (!since.empty()) q += "since=" + QueryEscape(Timestamp(since)) + "&";
  q += "stderr=1&stdout=1&tail=" + QueryEscape(tail);
  if (timestamps) q += "&timestamps=1";
  if (!until.empty()) q += "&until=" + QueryEscape(Timestamp(until));
  auto r = BERTH_TRY(client.Send("GET", ApiPrefix() + "/containers/" + id + "/logs?" + q));
  if (r->status() / 100 != 2) {
    std::string body = r->ReadBody().value_or(std::string());
    return DaemonError(r->status(), body);
  }
  Demuxer demux;
  for (;;) {
    std::string chunk;
    bool more = BERTH_TRY(r->ReadSome(&chunk));
    if (!more) break;
    if (tty) {
      BERTH_TRY(WriteAll(STDOUT_FILENO, chunk));
    } else {
      BERTH_TRY(demux.Feed(chunk, [](int stream, std::string_view p) {
        return WriteAll(stream == 2 ? STDERR_FILENO : STDOUT_FILENO, p);
      }));
    }
  }
  return 0;
}

Result<int> CmdWait(Env& env) {
  FlagSet fs;
  const char* usage = "CONTAINER [CONTAINER...]";
  auto names = fs.Parse(env.args, true);
  if (!names) return FlagErrorExit("wait", usage, names.error());
  if (names->empty()) return ArgsError("wait", usage, "at least 1 argument");
  int code = 0;
  for (const auto& n : *names) {
    auto w = StartWait(*env.client, QueryEscape(n), "");
    if (!w) {
      std::fprintf(stderr, "%s\n", w.error().message().c_str());
      code = 1;
      continue;
    }
    auto body = (*w)->ReadBody();
    auto j = body ? nlohmann::json::parse(*body, nullptr, false) : nlohmann::json();
    if (!j.is_object()) {
      std::fprintf(stderr, "%s\n", body ? body->c_str() : body.error().message().c_str());
      code = 1;
      continue;
    }
    std::printf("%lld\n", j.value("StatusCode", 0LL));
    std::fflush(stdout);
  }
  return code;
}

}  // namespace berth::cli
