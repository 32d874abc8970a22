#pragma once

// A client of one registry (OCI distribution-spec, Docker Registry HTTP API v2) for one
// repository's pulls: manifests by tag or digest, blobs as streams. It answers 401 challenges
// itself (auth.h: Basic, or a Bearer token asked from the challenge's realm for
// repository:NAME:pull, kept for the requests after) and follows redirects (a blob served from
// other storage; Authorization is dropped when the host changes).
//
//   RegistryClient reg = BERTH_TRY(RegistryClient::Create("127.0.0.1:5000", "busybox", {}));
//   Manifest m = BERTH_TRY(reg.GetManifest("latest", kManifestAccept));
//   auto body = BERTH_TRY(reg.OpenBlob(layer.digest));   // stream it
//
// Every registry is spoken to over HTTPS with its certificate verified, except insecure ones
// (loopback registries and those listed in insecure_registries), as dockerd does: HTTPS
// without verification first, and plain HTTP when the registry does not speak TLS (the first
// request finds out which; the client keeps it).
// Thread safety: OpenBlob and ReadBlob may be called from many threads at once.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "distribution/auth.h"
#include "distribution/http_client.h"
#include "distribution/url.h"
#include "oci/digest.h"
#include "util/result.h"

namespace berth::distribution {

/// The Accept header of a manifest request: Docker schema 2 and OCI, manifests and indexes.
extern const char kManifestAccept[];
/// The largest manifest or config taken from a registry.
inline constexpr size_t kMaxManifestBytes = 4u << 20;

struct RegistryOptions {
  Credentials credentials;
  /// host[:port] of registries spoken to over plain HTTP besides loopback ones.
  std::vector<std::string> insecure_registries;
  /// CA certificates for a registry: DIR/HOST[:PORT]/*.crt (docker's layout), besides the
  /// system's.
  std::string certs_dir = "/etc/docker/certs.d";
};

struct FetchedManifest {
  std::string bytes;
  std::string media_type;  // Content-Type, else detected from the document
  oci::Digest digest;      // sha256 of bytes (checked against Docker-Content-Digest if sent)
};

class RegistryClient {
 public:
  /// domain: "127.0.0.1:5000", "docker.io" (→ registry-1.docker.io); repository: its path
  /// ("library/busybox"). InvalidArgument for a domain that is not host[:port].
  static Result<std::unique_ptr<RegistryClient>> Create(const std::string& domain,
                                                        const std::string& repository,
                                                        const RegistryOptions& options,
                                                        const std::string& actions = "pull");

  /// GET /v2/NAME/manifests/REF. NotFound "manifest unknown: …" for 404; PermissionDenied
  /// for a refused pull; the digest is verified when reference is a digest (DataLoss).
  Result<FetchedManifest> GetManifest(const std::string& reference);
  /// GET /v2/NAME/blobs/DIGEST: the response, 200, its body to read. With offset > 0, asks
  /// for the bytes from offset on (Range): a 206 answers from there; a registry that ignores
  /// the Range answers 200 from the start, whose first offset bytes are skipped here.
  Result<std::unique_ptr<HttpResponse>> OpenBlob(const oci::Digest& digest, int64_t offset = 0);
  /// A small blob (a config) read whole and verified: DataLoss if its bytes hash otherwise.
  Result<std::string> ReadBlob(const oci::Digest& digest, size_t max_bytes = kMaxManifestBytes);

  // Push (push.h drives these). Create the client with actions "pull,push".

  /// GET /v2/ through the challenge flow: whether the credentials are good (docker login).
  /// PermissionDenied "unauthorized: incorrect username or password" for 401.
  Result<void> Ping();
  /// HEAD /v2/NAME/blobs/DIGEST: whether the repository has the blob.
  Result<bool> HasBlob(const oci::Digest& digest);
  /// POST /v2/NAME/blobs/uploads/, with ?mount=DIGEST&from=REPO when from is not empty.
  /// Returns "" when the registry mounted the blob (201), else the upload's location (202).
  Result<std::string> StartUpload(const oci::Digest& digest, const std::string& from);
  /// Sends size bytes of read to the upload at location and commits it under digest: one PUT
  /// when size <= chunk, else PATCH chunks of chunk bytes with Content-Range, then the PUT.
  /// progress(bytes sent) after each piece.
  Result<void> UploadBlob(const std::string& location, const oci::Digest& digest, int64_t size,
                          const std::function<Result<size_t>(char*, size_t)>& read, int64_t chunk,
                          const std::function<void(int64_t)>& progress);
  /// PUT /v2/NAME/manifests/REF.
  Result<void> PutManifest(const std::string& reference, const std::string& media_type,
                           const std::string& bytes);
  /// Asks the token server for this scope too (repository:FROM:pull, for a mount).
  void AddScope(std::string scope);

  const std::string& repository() const { return repository_; }

 private:
  RegistryClient(Url base, std::string repository, RegistryOptions options, std::string actions,
                 bool insecure)
      : base_(std::move(base)),
        repository_(std::move(repository)),
        options_(std::move(options)),
        actions_(std::move(actions)),
        insecure_(insecure) {}
  /// For an insecure registry, once: HTTPS if it answers a TLS handshake, else plain HTTP.
  Result<void> ChooseScheme();
  /// The TLS settings of a request to url.
  void SetTls(HttpRequest* request) const;
  /// Sends, answering a 401 challenge once and following redirects.
  Result<std::unique_ptr<HttpResponse>> Do(
      const std::string& method, const std::string& target,
      std::vector<std::pair<std::string, std::string>> headers);
  /// The same for a request to url (an upload's location); a request with a body_source is
  /// sent once (no challenge answered: the requests before it got the authorization).
  Result<std::unique_ptr<HttpResponse>> DoUrl(HttpRequest request);
  /// An error of a response that is not the one expected, its body read for the message.
  Error ResponseError(const std::string& what, HttpResponse& res);
  /// The Authorization value for a challenge (asks the token server for Bearer).
  Result<std::string> Authorize(const std::vector<Challenge>& challenges);
  std::string CurrentAuthorization();

  Url base_;
  std::string repository_;
  RegistryOptions options_;
  std::string actions_;
  bool insecure_ = false;
  std::once_flag scheme_once_;
  std::optional<Error> scheme_error_;
  std::vector<std::string> extra_scopes_;  // GUARDED_BY(mu_)
  std::mutex mu_;
  std::string authorization_;  // GUARDED_BY(mu_)
};

/// A registry's error body ({"errors":[{"code","message"}]}) as Docker prints it:
/// "manifest unknown: manifest unknown"; the HTTP status text when the body is not one.
std::string RegistryErrorText(int status, std::string_view body);

}  // namespace berth::distribution
