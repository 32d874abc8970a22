// libFuzzer target for `berth registry serve`: its request router and handlers, its manifest
// checks and its bearer tokens, over a real storage in a temp directory.
//
// The input is a request, "METHOD TARGET\n" then "Name: value\n" headers, a blank line and the
// body, handed to Registry::Handle (with a token authorizer when a header says Authorization).
// The same bytes are also a manifest body for Storage::PutManifest and a token for VerifyToken.
// Checked: nothing crashes; every answer of the registry has a status in 200..599 and, when it
// is an error, the spec's {"errors":[{"code","message"}]} body; PutManifest fails only with
// the errors its contract lists.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/http/router.h"
#include "registry/registry.h"
#include "registry/storage.h"
#include "registry/token.h"
#include "util/file.h"
#include "util/log.h"

namespace {

using namespace berth;
using namespace berth::registry;

struct World {
  std::string root;
  std::unique_ptr<Storage> storage;
  std::shared_ptr<TokenKey> key;
  std::unique_ptr<TokenAuthorizer> tokens;
  size_t uses = 0;

  World() {
    log::Configure(log::Level::kOff, log::Format::kText);
    // libFuzzer ends with _Exit (no destructors): a run removes what dead runs left.
    if (auto names = ListDir("/tmp")) {
      for (const auto& n : *names) {
        if (!n.starts_with("registry_fuzz.")) continue;
        int pid = std::atoi(n.c_str() + 14);
        if (pid > 0 && ::kill(pid, 0) < 0 && errno == ESRCH) (void)RemoveAll("/tmp/" + n);
      }
    }
    root = "/tmp/registry_fuzz." + std::to_string(::getpid());
    (void)RemoveAll(root);
    if (!MkdirAll(root, 0700)) std::abort();
    key = *TokenKey::Generate();
    tokens = std::make_unique<TokenAuthorizer>(TokenOptions{}, key, nullptr);
    Reset();
  }
  ~World() { (void)RemoveAll(root); }
  // A fresh storage now and then, so that a long run does not fill the disk.
  void Reset() {
    storage.reset();
    (void)RemoveAll(root + "/s");
    auto s = Storage::Open(root + "/s");
    if (!s) std::abort();
    storage = std::move(*s);
  }
};

void CheckResponse(const api::Response& r) {
  if (r.status < 200 || r.status > 599) std::abort();
  if (r.status < 400) return;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("errors") || !j["errors"].is_array() || j["errors"].empty() ||
      !j["errors"][0].contains("code") || !j["errors"][0]["code"].is_string())
    std::abort();
}

void FuzzRequest(World& w, std::string_view text) {
  size_t eol = text.find('\n');
  std::string_view line = text.substr(0, eol);
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return;
  api::Request req;
  req.method = std::string(line.substr(0, space));
  req.target = std::string(line.substr(space + 1));
  if (!api::Router::ParseTarget(req.target, &req)) return;
  std::string_view rest = eol == std::string_view::npos ? "" : text.substr(eol + 1);
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view h = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 1);
    if (h.empty()) break;
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    req.headers[std::string(h.substr(0, colon))] = std::string(Trim(h.substr(colon + 1)));
  }
  req.body = std::string(rest);
  bool auth = req.headers.count("Authorization") > 0;
  Registry registry(w.storage.get(), auth ? w.tokens.get() : nullptr);
  CheckResponse(registry.Handle(req));
}

void FuzzManifest(World& w, std::string_view body) {
  for (const char* type : {"", "application/vnd.oci.image.index.v1+json"}) {
    auto r = w.storage->PutManifest("fuzz/repo", "latest", type, body);
    if (r) {
      if (!r->digest.valid()) std::abort();
      auto back = w.storage->GetManifest("fuzz/repo", r->digest.str());
      if (!back || back->body != body) std::abort();
      continue;
    }
    const Error& e = r.error();
    if (!e.IsInvalidArgument() && e.code() != ErrorCode::kFailedPrecondition) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  if (++world.uses % 2000 == 0) world.Reset();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  FuzzRequest(world, text);
  FuzzManifest(world, text);
  auto claims = VerifyToken(*world.key, text, 1'800'000'000);
  if (claims || !claims.error().IsPermissionDenied()) std::abort();  // no input forges a token
  return 0;
}
