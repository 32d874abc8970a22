#include "oci/reference.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth::oci {
namespace {

const std::string kHex = "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";
const std::string kDigest = "sha256:" + kHex;

struct Normalized {
  std::string input;
  std::string domain;
  std::string path;
  std::string full;      // String()
  std::string familiar;  // FamiliarString()
};

TEST(ReferenceTest, NormalizesAsTheDockerCli) {
  const std::vector<Normalized> cases = {
      {"busybox", "docker.io", "library/busybox", "docker.io/library/busybox", "busybox"},
      {"busybox:1.36", "docker.io", "library/busybox", "docker.io/library/busybox:1.36",
       "busybox:1.36"},
      {"user/app", "docker.io", "user/app", "docker.io/user/app", "user/app"},
      {"docker.io/debian", "docker.io", "library/debian", "docker.io/library/debian", "debian"},
      {"index.docker.io/library/debian", "docker.io", "library/debian", "docker.io/library/debian",
       "debian"},
      {"index.docker.io/user/app:v1", "docker.io", "user/app", "docker.io/user/app:v1",
       "user/app:v1"},
      {"library/foo/bar", "docker.io", "library/foo/bar", "docker.io/library/foo/bar",
       "library/foo/bar"},
      {"other/library", "docker.io", "other/library", "docker.io/other/library", "other/library"},
      {"store/foo/bar", "docker.io", "store/foo/bar", "docker.io/store/foo/bar", "store/foo/bar"},
      {"localhost/fooo", "localhost", "fooo", "localhost/fooo", "localhost/fooo"},
      {"localhost:5000/x", "localhost:5000", "x", "localhost:5000/x", "localhost:5000/x"},
      {"localhost:5000/x:1", "localhost:5000", "x", "localhost:5000/x:1", "localhost:5000/x:1"},
      {"LOCALDOMAIN/fooo/bar", "LOCALDOMAIN", "fooo/bar", "LOCALDOMAIN/fooo/bar",
       "LOCALDOMAIN/fooo/bar"},
      {"Foo/bar", "Foo", "bar", "Foo/bar", "Foo/bar"},
      {"example.com/a/b:tag", "example.com", "a/b", "example.com/a/b:tag", "example.com/a/b:tag"},
      {"example.com:8000/private/moonbase", "example.com:8000", "private/moonbase",
       "example.com:8000/private/moonbase", "example.com:8000/private/moonbase"},
      {"127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker",
       "127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker"},
      {"192.168.0.1", "docker.io", "library/192.168.0.1", "docker.io/library/192.168.0.1",
       "192.168.0.1"},
      {"192.168.0.1:80", "docker.io", "library/192.168.0.1", "docker.io/library/192.168.0.1:80",
       "192.168.0.1:80"},
      {"[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "[fc00::1]:5000/docker",
       "[fc00::1]:5000/docker"},
      {"[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian",
       "[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian"},
      {"docker.io/" + kHex, "docker.io", "library/" + kHex, "docker.io/library/" + kHex, kHex},
      {"busybox@" + kDigest, "docker.io", "library/busybox", "docker.io/library/busybox@" + kDigest,
       "busybox@" + kDigest},
      {"busybox:latest@" + kDigest, "docker.io", "library/busybox",
       "docker.io/library/busybox:latest@" + kDigest, "busybox:latest@" + kDigest},
      {"dock__er/doc-ker", "docker.io", "dock__er/doc-ker", "docker.io/dock__er/doc-ker",
       "dock__er/doc-ker"},
      {"docker---rules/d", "docker.io", "docker---rules/d", "docker.io/docker---rules/d",
       "docker---rules/d"},
      {"jess/t", "docker.io", "jess/t", "docker.io/jess/t", "jess/t"},
      {"ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base",
       "docker.io/library/ubuntu-12.04-base", "ubuntu-12.04-base"},
      {"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app",
       "b.gcr.io/test.example.com/my-app:test.example.com",
       "b.gcr.io/test.example.com/my-app:test.example.com"},
      {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage",
       "xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com"},
      {"busybox:Latest", "docker.io", "library/busybox", "docker.io/library/busybox:Latest",
       "busybox:Latest"},
  };
  for (const auto& c : cases) {
    auto ref = Reference::ParseNormalized(c.input);
    ASSERT_TRUE(ref) << c.input << ": " << ref.error().message();
    EXPECT_EQ(ref->domain(), c.domain) << c.input;
    EXPECT_EQ(ref->path(), c.path) << c.input;
    EXPECT_EQ(ref->String(), c.full) << c.input;
    EXPECT_EQ(ref->FamiliarString(), c.familiar) << c.input;
    // The full and the familiar forms read back to the same reference.
    auto full = Reference::ParseNormalized(ref->String());
    ASSERT_TRUE(full) << c.input;
    EXPECT_EQ(*full, *ref) << c.input;
    // (Except a 64-hex familiar name, which reads as an image id.)
    if (IsImageIdLike(c.familiar)) continue;
    auto familiar = Reference::ParseNormalized(ref->FamiliarString());
    ASSERT_TRUE(familiar) << c.input;
    EXPECT_EQ(*familiar, *ref) << c.input;
  }
}

TEST(ReferenceTest, DockerRefAddsLatestAndDropsTheTagBesideADigest) {
  auto a = Reference::ParseDockerRef("busybox");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->String(), "docker.io/library/busybox:latest");
  EXPECT_EQ(a->FamiliarString(), "busybox:latest");
  EXPECT_EQ(a->FamiliarName(), "busybox");
  EXPECT_EQ(a->Name(), "docker.io/library/busybox");

  auto b = Reference::ParseDockerRef("busybox:latest@" + kDigest);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->String(), "docker.io/library/busybox@" + kDigest);
  EXPECT_FALSE(b->has_tag());
  EXPECT_EQ(b->digest().str(), kDigest);

  auto c = Reference::ParseDockerRef("localhost:5000/x:1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->String(), "localhost:5000/x:1");

  auto d = Reference::ParseDockerRef("user/app");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->String(), "docker.io/user/app:latest");
}

TEST(ReferenceTest, WithTagDigestAndNameOnly) {
  Reference r = *Reference::ParseNormalized("busybox");
  EXPECT_TRUE(r.name_only());
  EXPECT_EQ(r.WithDefaultTag().tag(), "latest");
  auto t = r.WithTag("v2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->FamiliarString(), "busybox:v2");
  auto bad = r.WithTag("-v2");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "invalid tag format");
  Reference d = t->WithDigest(Digest::Sha256Hex(kHex));
  EXPECT_EQ(d.FamiliarString(), "busybox:v2@" + kDigest);
  EXPECT_EQ(d.WithDefaultTag(), d);
  EXPECT_EQ(d.NameOnly().String(), "docker.io/library/busybox");
}

struct Invalid {
  std::string input;
  std::string error;
};

TEST(ReferenceTest, RefusesWithDockersMessages) {
  const std::string kFormat = "invalid reference format";
  const std::vector<Invalid> cases = {
      {"", kFormat},
      {"Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"},
      {"Busybox:Latest",
       "invalid reference format: repository name (library/Busybox) must be lowercase"},
      {"docker/Docker",
       "invalid reference format: repository name (docker/Docker) must be lowercase"},
      {"docker.io/docker/Docker",
       "invalid reference format: repository name (docker/Docker) must be lowercase"},
      {"test:5000/Uppercase/lowercase:tag",
       "invalid reference format: repository name (Uppercase/lowercase) must be lowercase"},
      {kHex, "invalid repository name (" + kHex + "), cannot specify 64-byte hexadecimal strings"},
      {"https://github.com/docker/docker", kFormat},
      {"-docker", kFormat},
      {"-docker/docker", kFormat},
      {"docker-/docker", kFormat},
      {"-docker.io/docker/docker", kFormat},
      {"docker///docker", kFormat},
      {"docker.io/docker///docker", kFormat},
      {"____/____", kFormat},
      {"_docker/_docker", kFormat},
      {"dock..er/docker", kFormat},
      {"dock_.er/docker", kFormat},
      {"dock-.er/docker", kFormat},
      {"dock___er/docker", kFormat},
      {"docker/", kFormat},
      {"[fc00::1]", kFormat},
      {"[fc00::1]:5000", kFormat},
      {"fc00::1:5000/debian", kFormat},
      {"[fe80::1%eth0]:5000/debian", kFormat},
      {"[2001:db8:3:4::192.0.2.33]:5000/debian", kFormat},
      {"busybox:", kFormat},
      {"busybox@", kFormat},
      {":justtag", kFormat},
      {"@" + kDigest, kFormat},
      {"busybox:-tag", kFormat},
      {"busybox:.tag", kFormat},
      {"busybox:" + std::string(129, 'a'), kFormat},
      {"busybox:a:b", kFormat},
      {"bu sybox", kFormat},
      {"busybox\n", kFormat},
      {"aa/asdf$$^/aa", kFormat},
      {"busybox@sha256:abc", kFormat},
      {"busybox@" + kDigest + "@" + kDigest, kFormat},
      {"busybox@sha256:" + std::string(32, 'f'), "invalid checksum digest length"},
      {"busybox@sha256:" + std::string(64, 'F'), "invalid checksum digest format"},
      {"busybox@md5:" + std::string(32, 'f'), "unsupported digest algorithm"},
      // As in docker: the lowercase check sees everything before the first ':'.
      {"busybox@SHA256:" + kHex,
       "invalid reference format: repository name (library/busybox@SHA256) must be lowercase"},
      {"a/" + std::string(256, 'a'), "repository name must not be more than 255 characters"},
      {std::string(256, 'a'), "repository name must not be more than 255 characters"},
  };
  for (const auto& c : cases) {
    auto ref = Reference::ParseNormalized(c.input);
    ASSERT_FALSE(ref) << c.input << " parsed as " << ref->String();
    EXPECT_TRUE(ref.error().IsInvalidArgument()) << c.input;
    EXPECT_EQ(ref.error().message(), c.error) << c.input;
  }
}

struct Plain {
  std::string input;
  std::string domain;
  std::string path;
  std::string tag;
  std::string digest;
};

TEST(ReferenceTest, ParseKeepsTheReferenceAsWritten) {
  const std::string ff = "sha256:" + std::string(64, 'f');
  const std::vector<Plain> cases = {
      {"test_com", "", "test_com", "", ""},
      {"test.com:tag", "", "test.com", "tag", ""},
      {"test.com:5000", "", "test.com", "5000", ""},
      {"test.com/repo:tag", "test.com", "repo", "tag", ""},
      {"test:5000/repo", "test:5000", "repo", "", ""},
      {"test:5000/repo@" + ff, "test:5000", "repo", "", ff},
      {"test:5000/repo:tag@" + ff, "test:5000", "repo", "tag", ff},
      {"foo/bar", "foo", "bar", "", ""},
      {"foo_bar.com:8080", "", "foo_bar.com", "8080", ""},
      {"foo/foo_bar.com:8080", "foo", "foo_bar.com", "8080", ""},
      {"a_b.c/d", "", "a_b.c/d", "", ""},  // a_b.c is no host name, so no domain
      {"lowercase:Uppercase", "", "lowercase", "Uppercase", ""},
      {"192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", ""},
      {"[2001:db8::1]/repo", "[2001:db8::1]", "repo", "", ""},
      {"[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "", ""},
      {"[::1]:5000/repo:tag@" + ff, "[::1]:5000", "repo", "tag", ff},
      {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
       "some-long-tag", ""},
      {"x@sha512:" + std::string(128, 'a'), "", "x", "", "sha512:" + std::string(128, 'a')},
  };
  for (const auto& c : cases) {
    auto ref = Reference::Parse(c.input);
    ASSERT_TRUE(ref) << c.input << ": " << ref.error().message();
    EXPECT_EQ(ref->domain(), c.domain) << c.input;
    EXPECT_EQ(ref->path(), c.path) << c.input;
    EXPECT_EQ(ref->tag(), c.tag) << c.input;
    EXPECT_EQ(ref->digest().str(), c.digest) << c.input;
    EXPECT_EQ(ref->String(), c.input) << c.input;
  }
  // 255 characters of path under a one-letter domain, then a tag: the tag does not count.
  std::string long_name;
  for (int i = 0; i < 127; ++i) long_name += "a/";
  long_name += "a";
  auto ref = Reference::Parse(long_name + ":tag-puts-this-over-max");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->domain(), "a");
}

TEST(ReferenceTest, ParseErrors) {
  const std::vector<Invalid> cases = {
      {"", "repository name must have at least one component"},
      {"Uppercase:tag", "repository name must be lowercase"},
      {"test:5000/Uppercase/lowercase:tag", "repository name must be lowercase"},
      {"[2001:db8::1]", "invalid reference format"},
      {"[2001:db8::1]:5000", "invalid reference format"},
      {"[2001:db8::1]:tag", "invalid reference format"},
      {"[fe80::1%@invalidzone]:5000/repo", "invalid reference format"},
      {"domain/" + std::string(256, 'a') + ":tag",
       "repository name must not be more than 255 characters"},
      {"repo@sha256:" + std::string(34, 'f'), "invalid checksum digest length"},
      {"x@SHA256:" + std::string(64, 'f'), "invalid checksum digest format"},
      {"validname@invaliddigest:" + std::string(64, 'f'), "unsupported digest algorithm"},
  };
  for (const auto& c : cases) {
    auto ref = Reference::Parse(c.input);
    ASSERT_FALSE(ref) << c.input;
    EXPECT_EQ(ref.error().message(), c.error) << c.input;
  }
}

TEST(ReferenceTest, AnyReferenceTakesIdsAndDigests) {
  EXPECT_TRUE(IsImageIdLike(kHex));
  EXPECT_FALSE(IsImageIdLike(kHex.substr(1)));
  EXPECT_FALSE(IsImageIdLike(std::string(64, 'A')));
  EXPECT_FALSE(IsImageIdLike(kDigest));

  auto id = ParseAnyReference(kHex);
  ASSERT_TRUE(id);
  EXPECT_FALSE(id->named);
  EXPECT_EQ(id->id.str(), kDigest);

  auto dg = ParseAnyReference(kDigest);
  ASSERT_TRUE(dg);
  EXPECT_FALSE(dg->named);
  EXPECT_EQ(dg->id.str(), kDigest);

  auto named = ParseAnyReference("busybox:1");
  ASSERT_TRUE(named);
  ASSERT_TRUE(named->named);
  EXPECT_FALSE(named->id.valid());
  EXPECT_EQ(named->named->String(), "docker.io/library/busybox:1");

  // A short hex prefix is a name: docker looks it up as an id prefix separately.
  auto prefix = ParseAnyReference(kHex.substr(0, 12));
  ASSERT_TRUE(prefix);
  EXPECT_TRUE(prefix->named);
  EXPECT_FALSE(ParseAnyReference("Busybox"));
}

TEST(ReferenceTest, Tags) {
  EXPECT_TRUE(IsValidTag("latest"));
  EXPECT_TRUE(IsValidTag("_x"));
  EXPECT_TRUE(IsValidTag("1.36.1-glibc"));
  EXPECT_TRUE(IsValidTag(std::string(128, 'a')));
  EXPECT_FALSE(IsValidTag(std::string(129, 'a')));
  EXPECT_FALSE(IsValidTag(""));
  EXPECT_FALSE(IsValidTag("-x"));
  EXPECT_FALSE(IsValidTag("a/b"));
  EXPECT_FALSE(IsValidTag("a+b"));
}

TEST(ReferenceTest, HostileInputIsLinear) {
  // Inputs that make backtracking matchers explode; each must finish at once and fail cleanly.
  const std::vector<std::string> inputs = {
      std::string(1 << 20, 'a'),
      std::string(1 << 20, '/'),
      [] {
        std::string s;
        for (int i = 0; i < 100000; ++i) s += "a-";
        return s + "!";
      }(),
      [] {
        std::string s;
        for (int i = 0; i < 100000; ++i) s += "a.";
        return s + "/b:" + std::string(5000, 'x');
      }(),
      std::string(100000, '[') + "/a",
      "a@" + std::string(1 << 20, 'f'),
  };
  for (const auto& s : inputs) {
    EXPECT_FALSE(Reference::ParseNormalized(s));
    EXPECT_FALSE(Reference::Parse(s));
  }
}

}  // namespace
}  // namespace berth::oci
