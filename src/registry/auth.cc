#include "registry/auth.h"

#include <crypt.h>
#include <strings.h>

#include <cstring>

#include "util/base64.h"
#include "util/file.h"
#include "util/log.h"
#include "util/sha256.h"

namespace berth::registry {
namespace {

const auto& logger = log::Get("registry");

bool Bcrypt(std::string_view hash) {
  return hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$");
}

}  // namespace

Result<std::unique_ptr<HtpasswdAuthorizer>> HtpasswdAuthorizer::Load(const std::string& path,
                                                                     std::string realm) {
  std::string text = BERTH_TRY(ReadFile(path, 16u << 20));
  std::unique_ptr<HtpasswdAuthorizer> a(new HtpasswdAuthorizer());
  a->realm_ = std::move(realm);
  int line_no = 0;
  for (const auto& raw : Split(text, '\n')) {
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      logger.Warn("{}:{}: not user:hash; ignored", path, line_no);
      continue;
    }
    std::string_view hash = line.substr(colon + 1);
    if (!Bcrypt(hash)) {
      logger.Warn("{}:{}: not a bcrypt hash (htpasswd -B); ignored", path, line_no);
      continue;
    }
    a->users_[std::string(line.substr(0, colon))] = std::string(hash);
  }
  if (a->users_.empty()) return Error::InvalidArgument(path + ": no bcrypt entries");
  return a;
}

bool HtpasswdAuthorizer::Check(std::string_view user, std::string_view password) {
  auto it = users_.find(user);
  if (it == users_.end()) return false;
  const std::string& hash = it->second;
  std::string key_src = std::string(user) + '\0' + std::string(password) + '\0' + hash;
  auto key = Sha256Hex(key_src);
  if (!key) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (verified_.count(*key)) return true;
  }
  if (password.find('\0') != std::string_view::npos) return false;
  struct crypt_data data;
  std::memset(&data, 0, sizeof data);
  const char* out = ::crypt_r(std::string(password).c_str(), hash.c_str(), &data);
  if (!out || std::strlen(out) != hash.size() || std::strcmp(out, hash.c_str()) != 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  if (verified_.size() > 10000) verified_.clear();
  verified_.insert(*key);
  return true;
}

Result<std::string> HtpasswdAuthorizer::Authenticate(const api::Request& request) {
  std::string h = request.Header("Authorization");
  auto denied = [] { return Error::PermissionDenied("authentication required"); };
  if (h.size() < 6 || ::strncasecmp(h.c_str(), "basic ", 6) != 0) return denied();
  auto decoded = Base64Decode(Trim(std::string_view(h).substr(6)), Base64::kStrict);
  if (!decoded) return denied();
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return denied();
  std::string user = decoded->substr(0, colon);
  if (!Check(user, std::string_view(*decoded).substr(colon + 1))) return denied();
  return user;
}

Result<void> HtpasswdAuthorizer::Authorize(const api::Request& request, const std::vector<Scope>&) {
  BERTH_TRY(Authenticate(request));
  return {};
}

std::string HtpasswdAuthorizer::Challenge(const api::Request&, const std::vector<Scope>&,
                                          const Error&) const {
  return "Basic realm=\"" + realm_ + "\"";
}

}  // namespace berth::registry
