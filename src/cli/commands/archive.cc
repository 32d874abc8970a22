// berth save and berth load: image archives through GET /images/get and POST /images/load.

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "util/fd.h"
#include "util/file.h"

namespace berth::cli {
namespace {

using nlohmann::json;

// The bytes of an answer held back until it is known to be a tar (an error answer is a small
// JSON document): past this much, or once the status is 2xx, they go to the output.
constexpr size_t kHoldBack = 64 * 1024;

Result<void> WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno(errno, "write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Error DaemonError(int status, const std::string& body) {
  std::string msg = body;
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    msg = j["message"].get<std::string>();
  return Error(status == 404 ? ErrorCode::kNotFound : ErrorCode::kInternal,
               "Error response from daemon: " + msg);
}

Result<void> SaveTo(api::Client& client, const std::vector<std::string>& names, int fd) {
  std::string path = ApiPrefix() + "/images/get?";
  for (size_t i = 0; i < names.size(); ++i)
    path += (i ? "&names=" : "names=") + QueryEscape(names[i]);
  std::string held;
  bool flushed = false;
  std::optional<Error> write_error;
  auto r = BERTH_TRY(client.Do("GET", path, {}, {}, [&](std::string_view chunk) {
    if (!flushed) {
      held.append(chunk);
      if (held.size() < kHoldBack) return true;
      flushed = true;
      chunk = held;
    }
    if (auto w = WriteAll(fd, chunk); !w) {
      write_error = std::move(w).error();
      return false;
    }
    held.clear();
    return true;
  }));
  if (write_error) return *write_error;
  if (r.status / 100 != 2) return DaemonError(r.status, held);
  return WriteAll(fd, held);
}

}  // namespace

Result<int> CmdSave(Env& env) {
  std::string output;
  std::vector<std::string> names;
  for (size_t i = 0; i < env.args.size(); ++i) {
    const std::string& a = env.args[i];
    if ((a == "-o" || a == "--output") && i + 1 < env.args.size())
      output = env.args[++i];
    else if (a.rfind("--output=", 0) == 0)
      output = a.substr(9);
    else
      names.push_back(a);
  }
  if (names.empty()) {
    return Error::InvalidArgument(
        "\"berth save\" requires at least 1 argument.\nSee 'berth save --help'.");
  }
  if (output.empty()) {
    if (::isatty(STDOUT_FILENO))
      return Error::InvalidArgument(
          "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    BERTH_TRY(SaveTo(*env.client, names, STDOUT_FILENO));
    return 0;
  }
  // Into a temporary file next to the output, renamed when whole.
  std::string tmp = output + ".berth-tmp";
  {
    Fd fd = BERTH_TRY(Fd::Open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (auto r = SaveTo(*env.client, names, fd.get()); !r) {
      ::unlink(tmp.c_str());
      return std::move(r).error();
    }
  }
  if (::rename(tmp.c_str(), output.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::FromErrno(err, "rename " + tmp);
  }
  return 0;
}

Result<int> CmdLoad(Env& env) {
  std::string input;
  bool quiet = false;
  for (size_t i = 0; i < env.args.size(); ++i) {
    const std::string& a = env.args[i];
    if ((a == "-i" || a == "--input") && i + 1 < env.args.size())
      input = env.args[++i];
    else if (a.rfind("--input=", 0) == 0)
      input = a.substr(8);
    else if (a == "-q" || a == "--quiet")
      quiet = true;
    else
      return Error::InvalidArgument(
          "\"berth load\" accepts no arguments.\nSee 'berth load --help'.");
  }
  std::string body;
  if (input.empty()) {
    if (::isatty(STDIN_FILENO))
      return Error::InvalidArgument(
          "requested load from stdin, but stdin is empty. Use the -i flag or redirect");
    body = BERTH_TRY(ReadAll(STDIN_FILENO, size_t{16} << 30));
  } else {
    Fd fd = BERTH_TRY(Fd::Open(input, O_RDONLY));
    body = BERTH_TRY(ReadAll(fd.get(), size_t{16} << 30));
  }
  std::string r =
      BERTH_TRY(Call(*env.client, "POST", std::string("/images/load?quiet=") + (quiet ? "1" : "0"),
                     body, {{"Content-Type", "application/x-tar"}}));
  for (const auto& line : Split(r, '\n', true)) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_object()) continue;
    if (j.contains("error"))
      return Error::Internal(j["error"].is_string() ? j["error"].get<std::string>() : line);
    if (j.contains("stream") && j["stream"].is_string())
      std::fputs(j["stream"].get<std::string>().c_str(), stdout);
  }
  return 0;
}

}  // namespace berth::cli
