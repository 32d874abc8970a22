#include "engine/fs/trash.h"

#include <gtest/gtest.h>

#include "engine/fs/fs_test_util.h"
#include "util/file.h"

namespace berth::engine::fs {
namespace {

using testing::TempDir;
using testing::Write;

TEST(TrashTest, DiscardIsGoneAtOnceAndRemovedInTheBackground) {
  TempDir t;
  std::string tree = t.Dir("container/upper/etc");
  Write(tree + "/passwd", "root:x:0:0");
  Write(t.Sub("container") + "/config.json", "{}");
  Trash trash(t.Sub("trash"));
  ASSERT_TRUE(trash.Discard(t.Sub("container")));
  EXPECT_FALSE(PathExists(t.Sub("container")));
  trash.Drain();
  auto left = ListDir(t.Sub("trash"));
  ASSERT_TRUE(left) << left.error().message();
  EXPECT_TRUE(left->empty());
}

TEST(TrashTest, AMissingPathIsNotAnError) {
  TempDir t;
  Trash trash(t.Sub("trash"));
  EXPECT_TRUE(trash.Discard(t.Sub("never-made")));
}

TEST(TrashTest, LeftoversOfAnEarlierRunAreRemoved) {
  TempDir t;
  Write(t.Dir("trash/123-0/upper") + "/f", "x");
  Write(t.Dir("trash/123-1") + "/g", "y");
  Trash trash(t.Sub("trash"));
  trash.Drain();
  auto left = ListDir(t.Sub("trash"));
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
}

TEST(TrashTest, ManyDiscardsKeepTheirNamesApart) {
  TempDir t;
  Trash trash(t.Sub("trash"));
  for (int i = 0; i < 50; ++i) {
    std::string d = t.Dir("c" + std::to_string(i) + "/work");
    Write(d + "/x", std::to_string(i));
    ASSERT_TRUE(trash.Discard(t.Sub("c" + std::to_string(i))));
  }
  trash.Drain();
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(PathExists(t.Sub("c" + std::to_string(i))));
  EXPECT_TRUE(ListDir(t.Sub("trash"))->empty());
}

}  // namespace
}  // namespace berth::engine::fs
