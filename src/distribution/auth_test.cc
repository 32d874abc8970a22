#include "distribution/auth.h"

#include <gtest/gtest.h>

#include "distribution/url.h"
#include "util/base64.h"

namespace berth::distribution {
namespace {

TEST(WwwAuthenticate, Bearer) {
  auto c = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].Param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(c[0].Param("service"), "registry.docker.io");
  EXPECT_EQ(c[0].Param("scope"), "repository:library/busybox:pull");
}

TEST(WwwAuthenticate, BasicAndCase) {
  auto c = ParseWwwAuthenticate(R"(BASIC Realm="Registry Realm")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].Param("REALM"), "Registry Realm");
}

TEST(WwwAuthenticate, SeveralChallengesSpacesAndEscapes) {
  auto c = ParseWwwAuthenticate(
      R"(Basic realm="a, b" , Bearer realm="http://127.0.0.1:1/t", error="invalid_token",  service=reg, x="q\"uote")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].Param("realm"), "a, b");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].Param("realm"), "http://127.0.0.1:1/t");
  EXPECT_EQ(c[1].Param("error"), "invalid_token");
  EXPECT_EQ(c[1].Param("service"), "reg");
  EXPECT_EQ(c[1].Param("x"), "q\"uote");
}

TEST(WwwAuthenticate, Token68AndJunkNeverFatal) {
  auto c = ParseWwwAuthenticate("Negotiate abc123==, Basic realm=x");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "negotiate");
  EXPECT_EQ(c[1].scheme, "basic");
  EXPECT_EQ(c[1].Param("realm"), "x");
  EXPECT_TRUE(ParseWwwAuthenticate("").empty());
  EXPECT_TRUE(ParseWwwAuthenticate(" , ,").empty());
  auto u = ParseWwwAuthenticate(R"(Bearer realm="unterminated)");
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].Param("realm"), "");
  (void)ParseWwwAuthenticate("=,=\"\\");  // no crash
}

TEST(TokenUrl, ServiceAndScopes) {
  auto c = ParseWwwAuthenticate(
      R"(Bearer realm="http://127.0.0.1:5001/token",service="my reg",scope="repository:a:pull repository:b:pull")");
  ASSERT_EQ(c.size(), 1u);
  auto url = TokenUrl(c[0], {"repository:a:pull"});
  ASSERT_TRUE(url) << url.error().message();
  EXPECT_EQ(*url,
            "http://127.0.0.1:5001/token?service=my%20reg&scope=repository%3Aa%3Apull&scope="
            "repository%3Ab%3Apull");
  Challenge no_realm{"bearer", {}};
  EXPECT_TRUE(TokenUrl(no_realm, {}).error().IsInvalidArgument());
}

TEST(TokenResponse, TokenOrAccessToken) {
  EXPECT_EQ(*ParseTokenResponse(R"({"token":"t1","expires_in":300})"), "t1");
  EXPECT_EQ(*ParseTokenResponse(R"({"access_token":"t2"})"), "t2");
  EXPECT_FALSE(ParseTokenResponse(R"({"token":""})"));
  EXPECT_FALSE(ParseTokenResponse("nope"));
}

TEST(RegistryAuth, DecodesDockerHeader) {
  auto c =
      DecodeRegistryAuth(Base64Encode(R"({"username":"u","password":"p","serveraddress":"x"})"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "u");
  EXPECT_EQ(c->password, "p");
  auto a = DecodeRegistryAuth(Base64Encode(R"({"auth":")" + Base64Encode("me:se:cret") + R"("})"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->username, "me");
  EXPECT_EQ(a->password, "se:cret");
  EXPECT_TRUE(DecodeRegistryAuth("")->empty());
  EXPECT_TRUE(DecodeRegistryAuth(Base64Encode("{}"))->empty());
  EXPECT_TRUE(DecodeRegistryAuth("!!!").error().IsInvalidArgument());
  EXPECT_TRUE(DecodeRegistryAuth(Base64Encode("[1]")).error().IsInvalidArgument());
  EXPECT_EQ(BasicAuthorization({"user", "pass"}), "Basic dXNlcjpwYXNz");
}

TEST(Url, ParseResolveLoopback) {
  auto u = ParseUrl("http://127.0.0.1:5000/v2/?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "5000");
  EXPECT_EQ(u->target, "/v2/?x=1");
  auto v6 = ParseUrl("https://[::1]/t");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->Authority(), "[::1]");
  EXPECT_FALSE(ParseUrl("ftp://x/"));
  EXPECT_FALSE(ParseUrl("http://u:p@x/"));
  EXPECT_FALSE(ParseUrl("http://x:99999/"));
  EXPECT_EQ(ResolveUrl(*u, "/blobs/a")->String(), "http://127.0.0.1:5000/blobs/a");
  EXPECT_EQ(ResolveUrl(*u, "http://s3.local/b")->String(), "http://s3.local/b");
  EXPECT_EQ(ResolveUrl(*u, "//other:81/c")->String(), "http://other:81/c");

  EXPECT_TRUE(IsLoopbackHost("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackHost("127.9.8.7"));
  EXPECT_TRUE(IsLoopbackHost("localhost:1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]:5000"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1:5000"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.example.com"));
  EXPECT_FALSE(IsLoopbackHost("docker.io"));
  EXPECT_FALSE(IsLoopbackHost("[::2]"));
}

}  // namespace
}  // namespace berth::distribution
