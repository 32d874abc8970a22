#include "registry/registry.h"

#include <crypt.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "api/http/router.h"
#include "registry/digester.h"
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
}  // namespace berth::registry
