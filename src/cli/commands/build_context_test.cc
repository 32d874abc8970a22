#include "cli/commands/build_context.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/file.h"

namespace berth::cli {
namespace {

// The entry names of a ustar stream (GNU long names followed), and each file's content.
std::vector<std::pair<std::string, std::string>> Entries(const std::string& tar) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  std::string long_name;
  while (pos + 512 <= tar.size()) {
    const char* h = tar.data() + pos;
    if (h[0] == 0) break;
    std::string name(h, strnlen(h, 100));
    uint64_t size = std::strtoull(std::string(h + 124, 11).c_str(), nullptr, 8);
    std::string data = tar.substr(pos + 512, size);
    pos += 512 + (size + 511) / 512 * 512;
    if (h[156] == 'L') {
      long_name = data.substr(0, data.find('\0'));
      continue;
    }
    if (!long_name.empty()) name = long_name, long_name.clear();
    out.emplace_back(name, data);
  }
  return out;
}

TEST(ContextTar, WalksSortedFiltersAndStreams) {
  char tmpl[] = "/tmp/berth-ctxtar-XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  std::string dir = tmpl;
  ASSERT_TRUE(MkdirAll(dir + "/b/keep"));
  ASSERT_TRUE(MkdirAll(dir + "/skip"));
  ASSERT_TRUE(WriteFile(dir + "/Dockerfile", "FROM busybox\n"));
  ASSERT_TRUE(WriteFile(dir + "/a.txt", std::string(1000, 'a')));
  ASSERT_TRUE(WriteFile(dir + "/b/keep/x", "x"));
  ASSERT_TRUE(WriteFile(dir + "/b/drop", "d"));
  ASSERT_TRUE(WriteFile(dir + "/skip/y", "y"));
  std::string longname(120, 'n');
  ASSERT_TRUE(WriteFile(dir + "/" + longname, "long"));
  ASSERT_EQ(symlink("a.txt", (dir + "/link").c_str()), 0);
  ContextTar::Filter f;
  // excluded: b (but b/keep re-included), skip, and the Dockerfile (sent anyway: always)
  f.excluded = [](const std::string& p) {
    return p == "b" || p == "b/drop" || p == "skip" || p == "Dockerfile";
  };
  f.walk_excluded_dir = [](const std::string& p) { return p == "b"; };
  auto t = ContextTar::Open(dir, f, {"Dockerfile"});
  ASSERT_TRUE(t) << t.error().message();
  (*t)->AddFile(".hidden", "extra");
  std::string tar;
  char buf[7];  // small reads: headers and contents cut anywhere
  for (;;) {
    auto n = (*t)->Read(buf, sizeof buf);
    ASSERT_TRUE(n);
    if (*n == 0) break;
    tar.append(buf, *n);
  }
  EXPECT_EQ(tar.size() % 512, 0u);
  auto e = Entries(tar);
  std::vector<std::string> names;
  for (const auto& [n, d] : e) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"Dockerfile", "a.txt", "b/keep/", "b/keep/x", "link",
                                             longname, ".hidden"}));
  EXPECT_EQ(e[1].second, std::string(1000, 'a'));
  EXPECT_EQ(e[5].second, "long");
  EXPECT_EQ(e[6].second, "extra");
  (void)RemoveAll(dir);
}

}  // namespace
}  // namespace berth::cli
