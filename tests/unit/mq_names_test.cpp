// Where mq names are listed: IPCMARK_MQUEUE_DIR first, else the mqueue mount in /proc/self/mounts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "transports/mq/mq_names.hpp"

namespace ipcmark {
namespace {

class MqueueDirTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("IPCMARK_MQUEUE_DIR"); }
};

TEST_F(MqueueDirTest, TheOverrideIsUsedWhenItIsADirectory) {
  ::setenv("IPCMARK_MQUEUE_DIR", ::testing::TempDir().c_str(), 1);
  const MqueueDir d = find_mqueue_dir();
  EXPECT_EQ(d.path, ::testing::TempDir());
  EXPECT_EQ(d.why_not, "");
}

TEST_F(MqueueDirTest, AMissingOverrideSaysWhyAndHowToMountIt) {
  ::setenv("IPCMARK_MQUEUE_DIR", "/nonexistent/mqueue", 1);
  const MqueueDir d = find_mqueue_dir();
  EXPECT_EQ(d.path, "");
  EXPECT_THAT(d.why_not, ::testing::HasSubstr("'/nonexistent/mqueue': No such file or directory"));
  EXPECT_THAT(d.why_not, ::testing::HasSubstr("mount -t mqueue mqueue /nonexistent/mqueue"));
  EXPECT_EQ(d.why_not.find('\n'), std::string::npos);
}

TEST_F(MqueueDirTest, WithoutTheOverrideItIsWhereProcSelfMountsSays) {
  std::ifstream mounts("/proc/self/mounts");
  std::string device, dir, type, rest, expected;
  while (mounts >> device >> dir >> type && std::getline(mounts, rest))
    if (type == "mqueue" && expected.empty()) expected = dir;
  const MqueueDir d = find_mqueue_dir();
  EXPECT_EQ(d.path, expected);  // both "" when none is mounted
  if (expected.empty()) {
    EXPECT_THAT(d.why_not, ::testing::HasSubstr("no mqueue filesystem is mounted"));
  }
}

}  // namespace
}  // namespace ipcmark
