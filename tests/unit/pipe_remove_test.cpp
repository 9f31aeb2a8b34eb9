// pipe's remove(): the names `ipcmark clean` must clear, including the temporary FIFO name a
// server leaves if it dies between making its FIFO and linking it into place.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "transports/names.hpp"
#include "transports/pipe/pipe.hpp"

namespace ipcmark {
namespace {

bool exists(const std::string& path) { return std::filesystem::exists(std::filesystem::symlink_status(path)); }

std::string make_fifo(const std::string& file) {
  const std::string path = private_runtime_dir() + "/" + file;
  EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
  return path;
}

TEST(PipeRemove, ClearsTheTemporaryNamesACrashedServerLeft) {
  const std::string channel = "ipcmark-test-pipe-remove-" + std::to_string(::getpid());
  const std::string c2s = make_fifo(channel + ".c2s");
  const std::string c2s_temporary = make_fifo(channel + ".c2s.new4242");
  const std::string req_temporary = make_fifo(channel + ".req.new7");
  // Not this channel's: another channel whose name starts with this one, and a name that only
  // looks like a temporary one.
  const std::string other_channel = make_fifo(channel + "x.c2s.new4242");
  const std::string not_a_pid = make_fifo(channel + ".c2s.newest");

  pipe_transport().channel.remove(channel);

  EXPECT_FALSE(exists(c2s));
  EXPECT_FALSE(exists(c2s_temporary));
  EXPECT_FALSE(exists(req_temporary));
  EXPECT_TRUE(exists(other_channel));
  EXPECT_TRUE(exists(not_a_pid));
  ::unlink(other_channel.c_str());
  ::unlink(not_a_pid.c_str());
}

}  // namespace
}  // namespace ipcmark
