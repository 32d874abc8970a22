#include "registry/registry.h"

#include <crypt.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include <nlohmann/json.hpp>
#include <string>

#include "api/http/router.h"
#include "registry/digester.h"
#include "registry/gc.h"
#include "registry/token.h"
#include "util/file.h"

namespace berth::registry {
namespace {

using nlohmann::json;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/registry_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto s = Storage::Open(root_ + "/root");
    ASSERT_TRUE(s);
    storage_ = std::move(*s);
    registry_ = std::make_unique<Registry>(storage_.get(), nullptr);
  }
  void TearDown() override { (void)RemoveAll(root_); }

  api::Response Do(const std::string& method, const std::string& target,
                   const std::string& body = "",
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    api::Request req;
    req.method = method;
    req.target = target;
    EXPECT_TRUE(api::Router::ParseTarget(target, &req)) << target;
    for (auto& [k, v] : headers) req.headers[k] = v;
    req.body = body;
    return registry_->Handle(req);
  }
  static std::string Header(const api::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }
  static std::string Code(const api::Response& r) {
    auto j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("errors")) return "";
    return j["errors"][0]["code"].get<std::string>();
  }
  // A blob in repo, monolithic; returns its digest.
  std::string PushBlob(const std::string& repo, const std::string& data) {
    std::string d = DigestOf("sha256", data)->str();
    auto r = Do("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + d, data);
    EXPECT_EQ(r.status, 201) << r.body;
    return d;
  }
  std::string ImageManifest(const std::string& config, const std::string& layer,
                            const std::string& extra = "") {
    auto desc = [](const std::string& t, const std::string& d) {
      return json{{"mediaType", t}, {"digest", d}, {"size", 1}};
    };
    json m = {{"schemaVersion", 2},
              {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
              {"config", desc("application/vnd.oci.image.config.v1+json", config)},
              {"layers", json::array({desc("application/vnd.oci.image.layer.v1.tar", layer)})}};
    if (!extra.empty()) m.update(json::parse(extra));
    return m.dump();
  }
  std::vector<std::pair<std::string, std::string>> OciManifestType() {
    return {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}};
  }

  std::string root_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, Base) {
  auto r = Do("GET", "/v2/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Do("GET", "/v2").status, 200);
  EXPECT_EQ(Do("GET", "/v1/").status, 404);
}

TEST_F(RegistryTest, MonolithicBlobGetHeadRange) {
  std::string d = PushBlob("a/b", "hello world");
  auto r = Do("GET", "/v2/a/b/blobs/" + d);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), d);
  ASSERT_TRUE(r.content_length);
  EXPECT_EQ(*r.content_length, 11u);
  r = Do("GET", "/v2/a/b/blobs/" + d, "", {{"Range", "bytes=6-"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(Header(r, "Content-Range"), "bytes 6-10/11");
  EXPECT_EQ(*r.content_length, 5u);
  r = Do("GET", "/v2/a/b/blobs/" + d, "", {{"Range", "bytes=11-"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(Header(r, "Content-Range"), "bytes */11");
  // Not in another repository; an invalid digest is 400.
  EXPECT_EQ(Code(Do("GET", "/v2/other/blobs/" + d)), "BLOB_UNKNOWN");
  r = Do("GET", "/v2/a/b/blobs/sha256:abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
  // A wrong digest for a monolithic upload.
  r = Do("POST", "/v2/a/b/blobs/uploads/?digest=" + DigestOf("sha256", "x")->str(), "y");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
  EXPECT_TRUE(ListDir(root_ + "/root/uploads")->empty());
}

TEST_F(RegistryTest, BlobStoredOnceAcrossRepositories) {
  std::string d = PushBlob("one", "shared bytes");
  EXPECT_EQ(PushBlob("two", "shared bytes"), d);
  EXPECT_EQ(ListDir(root_ + "/root/blobs/sha256")->size(), 1u);
  EXPECT_EQ(Do("GET", "/v2/two/blobs/" + d).status, 200);
  // DELETE unlinks from one repository only.
  EXPECT_EQ(Do("DELETE", "/v2/one/blobs/" + d).status, 202);
  EXPECT_EQ(Do("GET", "/v2/one/blobs/" + d).status, 404);
  EXPECT_EQ(Do("GET", "/v2/two/blobs/" + d).status, 200);
}

TEST_F(RegistryTest, Sha512Blob) {
  std::string data = "sixty-four bytes of hash";
  std::string d = DigestOf("sha512", data)->str();
  auto r = Do("POST", "/v2/x/blobs/uploads/?digest=" + d, data);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Do("GET", "/v2/x/blobs/" + d).status, 200);
  EXPECT_TRUE(PathExists(root_ + "/root/blobs/sha512/" + d.substr(7)));
}

TEST_F(RegistryTest, ChunkedUpload) {
  auto r = Do("POST", "/v2/c/blobs/uploads/");
  ASSERT_EQ(r.status, 202);
  std::string loc = Header(r, "Location");
  ASSERT_EQ(loc.rfind("/v2/c/blobs/uploads/", 0), 0u);
  EXPECT_EQ(Header(r, "Range"), "0-0");
  r = Do("PATCH", loc, "hello ", {{"Content-Range", "0-5"}, {"Content-Length", "6"}});
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Header(r, "Range"), "0-5");
  // Out of order: 416, nothing written.
  r = Do("PATCH", loc, "xx", {{"Content-Range", "10-11"}, {"Content-Length", "2"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(Header(r, "Range"), "0-5");
  // A range that does not match the length.
  r = Do("PATCH", loc, "xx", {{"Content-Range", "6-9"}, {"Content-Length", "2"}});
  EXPECT_EQ(r.status, 400);
  r = Do("GET", loc);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(Header(r, "Range"), "0-5");
  // A streamed chunk (no Content-Range), then the last one with the PUT.
  EXPECT_EQ(Do("PATCH", loc, "wor").status, 202);
  std::string d = DigestOf("sha256", "hello world")->str();
  r = Do("PUT", loc + "?digest=" + d, "ld", {{"Content-Range", "9-10"}, {"Content-Length", "2"}});
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(r, "Location"), "/v2/c/blobs/" + d);
  EXPECT_EQ(Do("GET", loc).status, 404);
  EXPECT_EQ(Do("GET", "/v2/c/blobs/" + d).status, 200);
}

TEST_F(RegistryTest, UploadMismatchCancelAndOwnership) {
  auto r = Do("POST", "/v2/c/blobs/uploads/");
  std::string loc = Header(r, "Location");
  std::string id = Header(r, "Docker-Upload-UUID");
  EXPECT_EQ(Do("PATCH", loc, "abc").status, 202);
  // The upload belongs to c: another repository cannot see it.
  EXPECT_EQ(Code(Do("GET", "/v2/d/blobs/uploads/" + id)), "BLOB_UPLOAD_UNKNOWN");
  EXPECT_EQ(Code(Do("GET", "/v2/c/blobs/uploads/..")), "BLOB_UPLOAD_UNKNOWN");
  r = Do("PUT", loc + "?digest=" + DigestOf("sha256", "abd")->str());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
  EXPECT_EQ(Do("GET", loc).status, 404);
  EXPECT_TRUE(ListDir(root_ + "/root/blobs/sha256")->empty());
  r = Do("POST", "/v2/c/blobs/uploads/");
  loc = Header(r, "Location");
  EXPECT_EQ(Do("DELETE", loc).status, 204);
  EXPECT_EQ(Do("DELETE", loc).status, 404);
  EXPECT_EQ(Code(Do("PUT", loc + "?digest=bad")), "DIGEST_INVALID");
}

TEST_F(RegistryTest, Mount) {
  std::string d = PushBlob("src", "layer");
  auto r = Do("POST", "/v2/dst/blobs/uploads/?mount=" + d + "&from=src");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(Header(r, "Location"), "/v2/dst/blobs/" + d);
  EXPECT_EQ(Do("GET", "/v2/dst/blobs/" + d).status, 200);
  // Unknown in from: an upload session instead.
  r = Do("POST", "/v2/dst2/blobs/uploads/?mount=" + d + "&from=nowhere");
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(Do("GET", "/v2/dst2/blobs/" + d).status, 404);
}

TEST_F(RegistryTest, Manifests) {
  std::string config = DigestOf("sha256", "{}")->str();
  std::string layer = DigestOf("sha256", "layer")->str();
  std::string m = ImageManifest(config, layer);
  auto r = Do("PUT", "/v2/img/manifests/v1", m, OciManifestType());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "MANIFEST_BLOB_UNKNOWN");
  PushBlob("img", "{}");
  PushBlob("img", "layer");
  r = Do("PUT", "/v2/img/manifests/v1", m, OciManifestType());
  ASSERT_EQ(r.status, 201) << r.body;
  std::string d = DigestOf("sha256", m)->str();
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), d);
  EXPECT_EQ(Header(r, "Location"), "/v2/img/manifests/" + d);
  for (const std::string& ref : {std::string("v1"), d}) {
    r = Do("GET", "/v2/img/manifests/" + ref);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, m);
    EXPECT_EQ(Header(r, "Content-Type"), "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(Header(r, "Docker-Content-Digest"), d);
  }
  // By digest: the digest must be the body's.
  r = Do("PUT", "/v2/img/manifests/" + DigestOf("sha256", "x")->str(), m, OciManifestType());
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
  r = Do("PUT", "/v2/img/manifests/" + d, m, OciManifestType());
  EXPECT_EQ(r.status, 201);
  // Invalid bodies.
  EXPECT_EQ(Code(Do("PUT", "/v2/img/manifests/v2", "{not json", OciManifestType())),
            "MANIFEST_INVALID");
  EXPECT_EQ(Code(Do("PUT", "/v2/img/manifests/v2", m,
                    {{"Content-Type", "application/vnd.oci.image.index.v1+json"}})),
            "MANIFEST_INVALID");
  EXPECT_EQ(Code(Do("PUT", "/v2/img/manifests/v2", m, {{"Content-Type", "text/plain"}})),
            "MANIFEST_INVALID");
  r = Do("PUT", "/v2/img/manifests/v2", std::string(Registry::kMaxManifestBytes + 1, ' '),
         OciManifestType());
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Code(Do("PUT", "/v2/img/manifests/.bad", m, OciManifestType())), "TAG_INVALID");
  EXPECT_EQ(Code(Do("GET", "/v2/img/manifests/nope")), "MANIFEST_UNKNOWN");
  EXPECT_EQ(Code(Do("GET", "/v2/img/manifests/sha256:1")), "DIGEST_INVALID");
  // An index of it; then DELETE.
  json index = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests", json::array({{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                  {"digest", d},
                                  {"size", m.size()}}})}};
  r = Do("PUT", "/v2/img/manifests/multi", index.dump(),
         {{"Content-Type", "application/vnd.oci.image.index.v1+json"}});
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Do("PUT", "/v2/other/manifests/multi", index.dump(),
               {{"Content-Type", "application/vnd.oci.image.index.v1+json"}})
                .status,
            400);
  EXPECT_EQ(Do("PUT", "/v2/img/manifests/v3", m, OciManifestType()).status, 201);
  EXPECT_EQ(Do("DELETE", "/v2/img/manifests/v3").status, 202);  // the tag only
  EXPECT_EQ(Do("GET", "/v2/img/manifests/" + d).status, 200);
  EXPECT_EQ(Do("DELETE", "/v2/img/manifests/" + d).status, 202);
  EXPECT_EQ(Do("GET", "/v2/img/manifests/v1").status, 404);
  EXPECT_EQ(Do("GET", "/v2/img/manifests/" + d).status, 404);
  EXPECT_EQ(Do("DELETE", "/v2/img/manifests/" + d).status, 404);
}

TEST_F(RegistryTest, TagsAndCatalogPages) {
  std::string config = PushBlob("p/q", "{}");
  std::string layer = PushBlob("p/q", "layer");
  std::string m = ImageManifest(config, layer);
  for (const char* t : {"c", "a", "b", "d"})
    ASSERT_EQ(Do("PUT", std::string("/v2/p/q/manifests/") + t, m, OciManifestType()).status, 201);
  auto r = Do("GET", "/v2/p/q/tags/list");
  EXPECT_EQ(json::parse(r.body)["tags"], json({"a", "b", "c", "d"}));
  r = Do("GET", "/v2/p/q/tags/list?n=2");
  EXPECT_EQ(json::parse(r.body)["tags"], json({"a", "b"}));
  EXPECT_EQ(Header(r, "Link"), "</v2/p/q/tags/list?n=2&last=b>; rel=\"next\"");
  r = Do("GET", "/v2/p/q/tags/list?n=2&last=b");
  EXPECT_EQ(json::parse(r.body)["tags"], json({"c", "d"}));
  EXPECT_EQ(Header(r, "Link"), "");
  r = Do("GET", "/v2/p/q/tags/list?n=0");
  EXPECT_EQ(json::parse(r.body)["tags"], json::array());
  EXPECT_EQ(Do("GET", "/v2/p/q/tags/list?n=x").status, 400);
  EXPECT_EQ(Code(Do("GET", "/v2/none/tags/list")), "NAME_UNKNOWN");
  PushBlob("p", "x");
  PushBlob("z", "x");
  r = Do("GET", "/v2/_catalog");
  EXPECT_EQ(json::parse(r.body)["repositories"], json({"p", "p/q", "z"}));
  r = Do("GET", "/v2/_catalog?n=1&last=p");
  EXPECT_EQ(json::parse(r.body)["repositories"], json({"p/q"}));
}

TEST_F(RegistryTest, Referrers) {
  std::string config = PushBlob("r", "{}");
  std::string layer = PushBlob("r", "layer");
  std::string subject_body = ImageManifest(config, layer);
  ASSERT_EQ(Do("PUT", "/v2/r/manifests/v1", subject_body, OciManifestType()).status, 201);
  std::string subject = DigestOf("sha256", subject_body)->str();
  auto referrer = [&](const std::string& artifact, const std::string& ann) {
    return ImageManifest(config, layer,
                         json{{"artifactType", artifact},
                              {"subject",
                               {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                {"digest", subject},
                                {"size", subject_body.size()}}},
                              {"annotations", {{"k", ann}}}}
                             .dump());
  };
  std::string sig = referrer("application/x-signature", "1");
  std::string sbom = referrer("application/x-sbom", "2");
  for (const auto& body : {sig, sbom}) {
    std::string d = DigestOf("sha256", body)->str();
    auto r = Do("PUT", "/v2/r/manifests/" + d, body, OciManifestType());
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Header(r, "OCI-Subject"), subject);
  }
  auto r = Do("GET", "/v2/r/referrers/" + subject);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Content-Type"), "application/vnd.oci.image.index.v1+json");
  auto index = json::parse(r.body);
  ASSERT_EQ(index["manifests"].size(), 2u);
  r = Do("GET", "/v2/r/referrers/" + subject + "?artifactType=application/x-sbom");
  index = json::parse(r.body);
  ASSERT_EQ(index["manifests"].size(), 1u);
  EXPECT_EQ(index["manifests"][0]["digest"], DigestOf("sha256", sbom)->str());
  EXPECT_EQ(index["manifests"][0]["artifactType"], "application/x-sbom");
  EXPECT_EQ(index["manifests"][0]["annotations"]["k"], "2");
  EXPECT_EQ(Header(r, "OCI-Filters-Applied"), "artifactType");
  // Deleting a referrer drops it from the list; an unknown subject has none.
  EXPECT_EQ(Do("DELETE", "/v2/r/manifests/" + DigestOf("sha256", sbom)->str()).status, 202);
  EXPECT_EQ(json::parse(Do("GET", "/v2/r/referrers/" + subject).body)["manifests"].size(), 1u);
  r = Do("GET", "/v2/r/referrers/" + DigestOf("sha256", "none")->str());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["manifests"].size(), 0u);
  EXPECT_EQ(Code(Do("GET", "/v2/r/referrers/sha256:x")), "DIGEST_INVALID");
}

TEST_F(RegistryTest, NamesWithPathTricks) {
  for (const char* t :
       {"/v2/a/../b/tags/list", "/v2/a/%2e%2e/b/tags/list", "/v2//a/tags/list", "/v2/A/tags/list",
        "/v2/a/_tags/tags/list", "/v2/a%2F..%2F..%2Fx/tags/list"}) {
    auto r = Do("GET", t);
    EXPECT_EQ(r.status, 400) << t;
    EXPECT_EQ(Code(r), "NAME_INVALID") << t;
  }
  EXPECT_EQ(Do("GET", "/v2/a/nothing").status, 404);
  EXPECT_EQ(Do("POST", "/v2/a/tags/list").status, 405);
}

TEST_F(RegistryTest, HtpasswdBasicAuth) {
  char salt[64];
  ASSERT_NE(::crypt_gensalt_rn("$2y$", 4, nullptr, 0, salt, sizeof salt), nullptr);
  struct crypt_data data = {};
  std::string hash = ::crypt_r("s3cret", salt, &data);
  ASSERT_TRUE(WriteFile(root_ + "/htpasswd", "# users\nalice:" + hash + "\nbob:{SHA}x\n"));
  auto auth = HtpasswdAuthorizer::Load(root_ + "/htpasswd");
  ASSERT_TRUE(auth) << auth.error().message();
  registry_ = std::make_unique<Registry>(storage_.get(), auth->get());
  auto r = Do("GET", "/v2/");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Code(r), "UNAUTHORIZED");
  EXPECT_EQ(Header(r, "WWW-Authenticate"), "Basic realm=\"Berth Registry\"");
  // alice:s3cret, alice:wrong, bob:x (not bcrypt: ignored)
  EXPECT_EQ(Do("GET", "/v2/", "", {{"Authorization", "Basic YWxpY2U6czNjcmV0"}}).status, 200);
  EXPECT_EQ(Do("GET", "/v2/", "", {{"Authorization", "basic YWxpY2U6czNjcmV0"}}).status, 200);
  EXPECT_EQ(Do("GET", "/v2/", "", {{"Authorization", "Basic YWxpY2U6d3Jvbmc="}}).status, 401);
  EXPECT_EQ(Do("GET", "/v2/", "", {{"Authorization", "Basic Ym9iOng="}}).status, 401);
  EXPECT_EQ(Do("GET", "/v2/", "", {{"Authorization", "Bearer x"}}).status, 401);
  EXPECT_EQ(Do("GET", "/v2/_catalog").status, 401);
  ASSERT_TRUE(WriteFile(root_ + "/empty", "bob:{SHA}x\n"));
  EXPECT_FALSE(HtpasswdAuthorizer::Load(root_ + "/empty"));
}

}  // namespace

// Found by registry_fuzz: an error quoting bytes that are not UTF-8 threw from the JSON dump.
TEST_F(RegistryTest, ErrorsQuotingInvalidUtf8) {
  auto r = Do("PATCH",
              "/v2/a/blobs/uploads/0b7c2a4e-6f0e-4a7e-9d\xff\xff"
              "2b-3c1f8e5a9d10",
              "x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "BLOB_UPLOAD_UNKNOWN");
  r = Do("GET", "/v2/a/manifests/sha256:\xfe");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
}

// Bearer tokens.

TEST(Token, Scopes) {
  auto s = ParseScope("repository:library/busybox:pull,push");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->type, "repository");
  EXPECT_EQ(s->name, "library/busybox");
  EXPECT_EQ(s->actions, "pull,push");
  auto colon = ParseScope("repository:host:5000/x:pull");
  ASSERT_TRUE(colon);
  EXPECT_EQ(colon->name, "host:5000/x");
  EXPECT_FALSE(ParseScope("repository:x"));
  EXPECT_FALSE(ParseScope(":x:pull"));
  EXPECT_FALSE(ParseScope("repository::pull"));
  std::vector<TokenAccess> access = {{"repository", "a", {"pull"}},
                                     {"repository", "b", {"pull", "push"}},
                                     {"registry", "catalog", {"*"}}};
  EXPECT_TRUE(Covers(access, {"repository", "a", "pull"}));
  EXPECT_FALSE(Covers(access, {"repository", "a", "pull,push"}));
  EXPECT_TRUE(Covers(access, {"repository", "b", "pull,push"}));
  EXPECT_FALSE(Covers(access, {"repository", "c", "pull"}));
  EXPECT_TRUE(Covers(access, {"registry", "catalog", "*"}));
}

TokenClaims SomeClaims(int64_t now) {
  TokenClaims c;
  c.issuer = "iss";
  c.subject = "alice";
  c.audience = "svc";
  c.issued_at = c.not_before = now;
  c.expires_at = now + 300;
  c.access = {{"repository", "a/b", {"pull", "push"}}};
  return c;
}

void SignAndVerify(const TokenKey& key, const TokenKey& other) {
  int64_t now = 1'800'000'000;
  auto t = SignToken(key, SomeClaims(now));
  ASSERT_TRUE(t) << t.error().message();
  auto c = VerifyToken(key, *t, now + 10);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->subject, "alice");
  EXPECT_EQ(c->issuer, "iss");
  EXPECT_EQ(c->audience, "svc");
  ASSERT_EQ(c->access.size(), 1u);
  EXPECT_EQ(c->access[0].name, "a/b");
  EXPECT_EQ(c->access[0].actions, (std::vector<std::string>{"pull", "push"}));
  // Expired, not yet valid, signed by another key, tampered with, malformed.
  EXPECT_TRUE(VerifyToken(key, *t, now + 300).error().IsPermissionDenied());
  EXPECT_FALSE(VerifyToken(key, *t, now - 3600));
  EXPECT_FALSE(VerifyToken(other, *t, now));
  std::string tampered = *t;
  size_t dot = tampered.find('.');
  auto forged = SomeClaims(now);
  forged.access[0].name = "x/y";
  json claims = {{"iss", "iss"}, {"aud", "svc"}, {"exp", now + 300}};
  tampered = tampered.substr(0, dot + 1) + Base64UrlEncode(claims.dump()) +
             tampered.substr(tampered.rfind('.'));
  EXPECT_FALSE(VerifyToken(key, tampered, now));
  EXPECT_FALSE(VerifyToken(key, "a.b", now));
  EXPECT_FALSE(VerifyToken(key, "", now));
  EXPECT_FALSE(VerifyToken(key, "e30.e30.", now));
  // alg "none" is refused.
  std::string none =
      Base64UrlEncode(R"({"alg":"none"})") + "." + Base64UrlEncode(claims.dump()) + ".";
  EXPECT_FALSE(VerifyToken(key, none, now));
}

TEST(Token, Es256) {
  auto key = TokenKey::Generate();
  ASSERT_TRUE(key);
  auto other = TokenKey::Generate();
  ASSERT_TRUE(other);
  EXPECT_EQ((*key)->alg(), "ES256");
  EXPECT_EQ((*key)->kid().size(), 32u);
  SignAndVerify(**key, **other);
}

TEST(Token, Rs256FromPemAndPublicKeyOnly) {
  char tmpl[] = "/tmp/token_test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  {
    EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
    ASSERT_NE(rsa, nullptr);
    FILE* f = std::fopen((dir + "/rsa.pem").c_str(), "w");
    FILE* g = std::fopen((dir + "/rsa.pub").c_str(), "w");
    ASSERT_TRUE(f && g);
    EXPECT_EQ(PEM_write_PrivateKey(f, rsa, nullptr, nullptr, 0, nullptr, nullptr), 1);
    EXPECT_EQ(PEM_write_PUBKEY(g, rsa), 1);
    std::fclose(f);
    std::fclose(g);
    EVP_PKEY_free(rsa);
  }
  auto key = TokenKey::Load(dir + "/rsa.pem");
  auto pub = TokenKey::Load(dir + "/rsa.pub");
  ASSERT_TRUE(WriteFile(dir + "/junk.pem", "not a key"));
  EXPECT_FALSE(TokenKey::Load(dir + "/junk.pem"));
  (void)RemoveAll(dir);
  ASSERT_TRUE(key) << key.error().message();
  ASSERT_TRUE(pub) << pub.error().message();
  EXPECT_EQ((*key)->alg(), "RS256");
  EXPECT_TRUE((*key)->can_sign());
  EXPECT_FALSE((*pub)->can_sign());
  EXPECT_EQ((*key)->kid(), (*pub)->kid());
  auto other = TokenKey::Generate();
  SignAndVerify(**key, **other);
  int64_t now = 1'800'000'000;
  auto t = SignToken(**key, SomeClaims(now));
  ASSERT_TRUE(t);
  EXPECT_TRUE(VerifyToken(**pub, *t, now));
  EXPECT_FALSE(SignToken(**pub, SomeClaims(now)));
}

TEST_F(RegistryTest, BearerTokenFlow) {
  char salt[64];
  ASSERT_NE(::crypt_gensalt_rn("$2y$", 4, nullptr, 0, salt, sizeof salt), nullptr);
  struct crypt_data data = {};
  std::string hash = ::crypt_r("s3cret", salt, &data);
  ASSERT_TRUE(WriteFile(root_ + "/htpasswd", "alice:" + hash + "\n"));
  auto users = HtpasswdAuthorizer::Load(root_ + "/htpasswd");
  ASSERT_TRUE(users);
  auto key = TokenKey::Generate();
  ASSERT_TRUE(key);
  TokenOptions o;
  o.service = "reg";
  TokenAuthorizer auth(o, *key, std::move(*users));
  registry_ = std::make_unique<Registry>(storage_.get(), &auth);
  const std::vector<std::pair<std::string, std::string>> host = {{"Host", "127.0.0.1:5000"}};

  auto r = Do("GET", "/v2/", "", host);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Header(r, "WWW-Authenticate"),
            R"(Bearer realm="http://127.0.0.1:5000/token",service="reg")");
  r = Do("GET", "/v2/a/b/manifests/1", "", host);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Code(r), "UNAUTHORIZED");
  EXPECT_EQ(Header(r, "WWW-Authenticate"),
            R"(Bearer realm="http://127.0.0.1:5000/token",service="reg",)"
            R"(scope="repository:a/b:pull")");

  // The token endpoint: anonymous and wrong passwords get 401; alice gets what she asks for.
  EXPECT_EQ(Do("GET", "/token?service=reg&scope=repository:a/b:pull").status, 401);
  EXPECT_EQ(Do("GET", "/token?scope=repository:a/b:pull", "",
               {{"Authorization", "Basic YWxpY2U6d3Jvbmc="}})
                .status,
            401);
  EXPECT_EQ(
      Do("GET", "/token?service=other", "", {{"Authorization", "Basic YWxpY2U6czNjcmV0"}}).status,
      400);
  auto token_for = [&](const std::string& query) {
    auto t =
        Do("GET", "/token?service=reg" + query, "", {{"Authorization", "Basic YWxpY2U6czNjcmV0"}});
    EXPECT_EQ(t.status, 200) << t.body;
    auto j = json::parse(t.body, nullptr, false);
    EXPECT_TRUE(j.is_object());
    if (!j.is_object()) return std::string();
    EXPECT_EQ(j["token"], j["access_token"]);
    EXPECT_EQ(j["expires_in"], 300);
    return j["token"].get<std::string>();
  };
  std::string pull = token_for("&scope=repository:a/b:pull");
  std::string both = token_for("&scope=repository:a/b:pull,push&scope=repository:c:pull");
  std::string none = token_for("");
  auto bearer = [](const std::string& t) {
    return std::vector<std::pair<std::string, std::string>>{{"Host", "127.0.0.1:5000"},
                                                            {"Authorization", "Bearer " + t}};
  };
  EXPECT_EQ(Do("GET", "/v2/", "", bearer(none)).status, 200);
  EXPECT_EQ(Do("GET", "/v2/a/b/manifests/1", "", bearer(none)).status, 401);
  EXPECT_EQ(Do("GET", "/v2/a/b/manifests/1", "", bearer(pull)).status, 404);  // let in
  // A push with a pull token: 401 insufficient_scope, naming the scope needed.
  r = Do("POST", "/v2/a/b/blobs/uploads/", "", bearer(pull));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Header(r, "WWW-Authenticate"),
            R"(Bearer realm="http://127.0.0.1:5000/token",service="reg",)"
            R"(scope="repository:a/b:pull,push",error="insufficient_scope")");
  EXPECT_EQ(Do("POST", "/v2/a/b/blobs/uploads/", "", bearer(both)).status, 202);
  // Mounting from c needs pull on c: both has it; a token for a/b alone does not.
  EXPECT_EQ(Do("POST", "/v2/a/b/blobs/uploads/?mount=sha256:" + std::string(64, 'a') + "&from=d",
               "", bearer(both))
                .status,
            401);
  EXPECT_EQ(Do("POST", "/v2/a/b/blobs/uploads/?mount=sha256:" + std::string(64, 'a') + "&from=c",
               "", bearer(both))
                .status,
            202);
  // A token of another issuer, or for another service, is refused though well signed.
  TokenClaims c = SomeClaims(std::time(nullptr));
  c.issuer = "berth-registry";
  c.audience = "elsewhere";
  c.access = {{"repository", "a/b", {"pull"}}};
  auto foreign = SignToken(**key, c);
  ASSERT_TRUE(foreign);
  r = Do("GET", "/v2/a/b/manifests/1", "", bearer(*foreign));
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(Header(r, "WWW-Authenticate").find("error=\"invalid_token\""), std::string::npos);
  c.audience = "reg";
  c.issuer = "someone";
  foreign = SignToken(**key, c);
  EXPECT_EQ(Do("GET", "/v2/a/b/manifests/1", "", bearer(*foreign)).status, 401);
  c.issuer = "berth-registry";
  foreign = SignToken(**key, c);
  EXPECT_EQ(Do("GET", "/v2/a/b/manifests/1", "", bearer(*foreign)).status, 404);
  // The OAuth2 form (containerd's first try): password grants only.
  r = Do("POST", "/token",
         "grant_type=password&username=alice&password=s3cret&service=reg"
         "&scope=repository%3Aa%2Fb%3Apull+repository:c:pull");
  ASSERT_EQ(r.status, 200) << r.body;
  auto oauth = json::parse(r.body);
  EXPECT_EQ(oauth["token_type"], "Bearer");
  std::string posted = oauth["access_token"].get<std::string>();
  EXPECT_EQ(Do("GET", "/v2/c/manifests/1", "", bearer(posted)).status, 404);
  EXPECT_EQ(Do("POST", "/token", "grant_type=password&username=alice&password=x").status, 401);
  EXPECT_EQ(Do("POST", "/token", "grant_type=refresh_token&refresh_token=x").status, 400);
  EXPECT_EQ(Do("PUT", "/token").status, 405);
  // Basic credentials are no bearer token.
  EXPECT_EQ(Do("GET", "/v2/", "", {{"Authorization", "Basic YWxpY2U6czNjcmV0"}}).status, 401);
}

// Garbage collection.

// Sets the mtime of every file under dir to 3 hours ago: as if pushed long before.
void Age(const std::string& dir) {
  auto names = ListDir(dir);
  if (!names) return;
  struct timespec t[2];
  t[0].tv_sec = t[1].tv_sec = ::time(nullptr) - 3 * 3600;
  t[0].tv_nsec = t[1].tv_nsec = 0;
  for (const auto& n : *names) {
    std::string p = dir + "/" + n;
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) Age(p);
    ::utimensat(AT_FDCWD, p.c_str(), t, AT_SYMLINK_NOFOLLOW);
  }
}

TEST_F(RegistryTest, GarbageCollection) {
  std::string shared = PushBlob("a", "shared layer");
  std::string only1 = PushBlob("a", "layer of one");
  std::string cfg1 = PushBlob("a", "{\"config\":1}");
  std::string cfg2 = PushBlob("a", "{\"config\":2}");
  PushBlob("b", "shared layer");  // the same blob in another repository
  auto m1 = ImageManifest(cfg1, shared,
                          R"({"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar",)"
                          R"("digest":")" +
                              only1 + R"(","size":1}]})");
  auto m2 = ImageManifest(cfg2, shared);
  ASSERT_EQ(Do("PUT", "/v2/a/manifests/one", m1, OciManifestType()).status, 201);
  ASSERT_EQ(Do("PUT", "/v2/a/manifests/two", m2, OciManifestType()).status, 201);
  std::string d1 = DigestOf("sha256", m1)->str();
  std::string d2 = DigestOf("sha256", m2)->str();
  std::string orphan = PushBlob("b", "pushed, never in a manifest");
  std::string young = PushBlob("b", "pushed just now");
  ASSERT_EQ(Do("DELETE", "/v2/a/manifests/" + d1).status, 202);
  Age(root_ + "/root");
  // A push in progress: its blob went up hours ago, its manifest comes now (after the mark
  // would have run): naming the blob refreshes it.
  std::string late_cfg = PushBlob("c", "{\"late\":1}");
  std::string late_layer = PushBlob("c", "late layer");
  Age(root_ + "/root/blobs");
  auto young_put = Do("POST", "/v2/b/blobs/uploads/?digest=" + young, "pushed just now");
  ASSERT_EQ(young_put.status, 201);
  ASSERT_EQ(
      Do("PUT", "/v2/c/manifests/late", ImageManifest(late_cfg, late_layer), OciManifestType())
          .status,
      201);

  GcOptions dry;
  dry.dry_run = true;
  auto preview = CollectGarbage(*storage_, dry);
  ASSERT_TRUE(preview) << preview.error().message();
  EXPECT_EQ(preview->deleted, 4u);
  EXPECT_TRUE(PathExists(root_ + "/root/blobs/sha256/" + d1.substr(7)));

  auto stats = CollectGarbage(*storage_, {});
  ASSERT_TRUE(stats) << stats.error().message();
  std::vector<std::string> gone = {d1, only1, cfg1, orphan};
  std::sort(gone.begin(), gone.end());
  EXPECT_EQ(stats->deleted_digests, gone);
  EXPECT_EQ(stats->young, 1u);  // "pushed just now"
  for (const auto& d : gone)
    EXPECT_FALSE(PathExists(root_ + "/root/blobs/sha256/" + d.substr(7))) << d;
  // The other image is whole; the blobs of the late push and the young one stay.
  EXPECT_EQ(Do("GET", "/v2/a/manifests/two").status, 200);
  for (const auto& d : {cfg2, shared, d2})
    EXPECT_EQ(Do("GET", "/v2/a/blobs/" + d).status, 200) << d;
  EXPECT_EQ(Do("GET", "/v2/b/blobs/" + shared).status, 200);
  EXPECT_EQ(Do("GET", "/v2/b/blobs/" + young).status, 200);
  EXPECT_EQ(Do("GET", "/v2/c/blobs/" + late_layer).status, 200);
  EXPECT_EQ(Do("GET", "/v2/b/blobs/" + orphan).status, 404);
  EXPECT_FALSE(PathExists(root_ + "/root/repositories/b/_blobs/sha256/" + orphan.substr(7)));
  // Pushed again, a collected blob is back.
  PushBlob("b", "pushed, never in a manifest");
  EXPECT_EQ(Do("GET", "/v2/b/blobs/" + orphan).status, 200);
  // A second collection finds nothing more.
  auto again = CollectGarbage(*storage_, {});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->deleted, 0u);
}

TEST_F(RegistryTest, GarbageCollectionPurgesStaleUploadsOnly) {
  auto fresh = Do("POST", "/v2/a/blobs/uploads/");
  auto stale = Do("POST", "/v2/a/blobs/uploads/");
  std::string fresh_id = Header(fresh, "Docker-Upload-UUID");
  std::string stale_id = Header(stale, "Docker-Upload-UUID");
  ASSERT_EQ(Do("PATCH", "/v2/a/blobs/uploads/" + stale_id, "abc").status, 202);
  Age(root_ + "/root/uploads/" + stale_id);
  GcOptions o;
  o.upload_expiry_seconds = 3600;
  auto stats = CollectGarbage(*storage_, o);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->uploads, 1u);
  EXPECT_EQ(Do("GET", "/v2/a/blobs/uploads/" + stale_id).status, 404);
  EXPECT_EQ(Do("GET", "/v2/a/blobs/uploads/" + fresh_id).status, 204);
}

TEST(Gc, Durations) {
  int64_t s = 0;
  EXPECT_TRUE(ParseDuration("90", &s));
  EXPECT_EQ(s, 90);
  EXPECT_TRUE(ParseDuration("15m", &s));
  EXPECT_EQ(s, 900);
  EXPECT_TRUE(ParseDuration("2h", &s));
  EXPECT_EQ(s, 7200);
  EXPECT_TRUE(ParseDuration("7d", &s));
  EXPECT_EQ(s, 7 * 86400);
  for (const char* bad : {"", "h", "-1s", "1x", "1.5h", "9999999999h"})
    EXPECT_FALSE(ParseDuration(bad, &s)) << bad;
}

}  // namespace berth::registry
