// The nng transport's own logic, in one process (server, client and raw nng sockets in threads):
// where names go and how they are taken and given back, the peer seen leaving through pipe
// events, and the goodbye that keeps a closing sender's last messages. The contract itself,
// across processes, is tests/conformance.
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/errors.hpp"
#include "transports/names.hpp"
#include "transports/nng/nng.hpp"
#include "transports/nng/nng_endpoints.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using testing::contains;
using testing::error_from;

constexpr auto kPatience = 20s;  // deadlines that must never be reached in a passing test

const Transport& nng() { return nng_transport(); }
Deadline in(Clock::duration d) { return Clock::now() + d; }
bool exists(const std::string& path) { return std::filesystem::exists(std::filesystem::symlink_status(path)); }

class NngTransport : public ::testing::Test {
 protected:
  ChannelConfig config(std::size_t max_message = 64) const { return {channel_, max_message, WaitKind::Block}; }
  std::string path() const { return private_runtime_dir() + "/" + channel_ + ".nng"; }
  void TearDown() override {
    nng().channel.remove(channel_);
    EXPECT_FALSE(exists(path()));
  }

  std::string channel_ = testing::unique_name("ipcmark-nng-test-");
};

// A bare pair1 socket dialing the channel: a peer that can vanish without saying goodbye.
class RawPeer {
 public:
  explicit RawPeer(const std::string& path) {
    EXPECT_EQ(nng_pair1_open(&socket_), 0);
    EXPECT_EQ(nng_dial(socket_, ("ipc://" + path).c_str(), nullptr, 0), 0);
  }
  ~RawPeer() { close(); }
  void close() {
    if (open_) nng_close(socket_);
    open_ = false;
  }

 private:
  nng_socket socket_ = NNG_SOCKET_INITIALIZER;
  bool open_ = true;
};

TEST_F(NngTransport, AChannelIsASocketFileNamedAfterItInThePrivateDirectory) {
  EXPECT_EQ(nng_endpoints::socket_path(channel_, nng_endpoints::kChannelSuffix), path());
  EXPECT_EQ(nng_endpoints::socket_path(channel_, nng_endpoints::kNewsSuffix), path() + "-news");
  auto server = nng().channel.serve(config());
  struct stat st {};
  ASSERT_EQ(::lstat(path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  // Only the channel's name: nng's private listening name is gone once the channel's is linked.
  for (const auto& entry : std::filesystem::directory_iterator(private_runtime_dir()))
    EXPECT_EQ(entry.path().filename().string().find("ipcmark-" + std::to_string(::getpid()) + "-nng-"),
              std::string::npos)
        << entry.path();
}

TEST_F(NngTransport, ANameTooLongForASocketPathIsInvalidArgumentNamingThePath) {
  const std::string long_channel(150, 'n');
  const Error e = error_from([&] { nng().channel.serve({long_channel, 64, WaitKind::Block}); });
  EXPECT_EQ(e.code(), Errc::InvalidArgument) << e.what();
  EXPECT_TRUE(contains(e, private_runtime_dir() + "/" + long_channel + ".nng")) << e.what();
  EXPECT_NO_THROW(nng().channel.remove(long_channel));  // nothing to remove, and no error
}

// nng's own listener would connect to a stale socket file, find nobody, and take it over.
TEST_F(NngTransport, AStaleSocketFileIsAlreadyExistsAndLeftAlone) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path().c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);  // bound, never listening: what a crashed server leaves
  struct stat before {};
  ASSERT_EQ(::lstat(path().c_str(), &before), 0);

  const Error e = error_from([&] { nng().channel.serve(config()); });
  EXPECT_EQ(e.code(), Errc::AlreadyExists) << e.what();
  EXPECT_TRUE(contains(e, path())) << e.what();
  struct stat after {};
  ASSERT_EQ(::lstat(path().c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
}

TEST_F(NngTransport, AServerWhoseNameWasTakenOverLeavesTheSuccessorsFile) {
  auto server = nng().channel.serve(config());
  ASSERT_EQ(::unlink(path().c_str()), 0);  // what --replace does before the new server binds
  std::ofstream(path()) << "successor";
  server.reset();
  EXPECT_TRUE(exists(path()));
}

TEST_F(NngTransport, ConnectingToAFileThatIsNotASocketIsCorrupt) {
  std::ofstream(path()) << "not a socket";
  const Error e = error_from([&] { nng().channel.connect(config()); });
  EXPECT_EQ(e.code(), Errc::Corrupt) << e.what();
}

TEST_F(NngTransport, APeerThatVanishesWithoutGoodbyeEndsAWaitingReceiveAtOnce) {
  auto server = nng().channel.serve(config());
  RawPeer peer(path());
  server->accept(in(kPatience));
  std::thread closer([&] {
    std::this_thread::sleep_for(100ms);
    peer.close();
  });
  std::vector<std::byte> buffer(64);
  const auto start = Clock::now();
  const Error e = error_from([&] { server->receive(buffer, in(kPatience)); });
  closer.join();
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  EXPECT_LT(Clock::now() - start, 5s);  // the pipe event, not the deadline
  EXPECT_EQ(error_from([&] { server->send(std::span(buffer).first(8), in(kPatience)); }).code(), Errc::PeerGone);
}

TEST_F(NngTransport, ASecondClientIsNotTakenForThePeer) {
  auto server = nng().channel.serve(config());
  RawPeer first(path());
  server->accept(in(kPatience));
  {
    RawPeer second(path());  // pair1 refuses it; its leaving must not look like the peer's
  }
  std::vector<std::byte> buffer(64);
  EXPECT_EQ(error_from([&] { server->receive(buffer, in(300ms)); }).code(), Errc::Timeout);
  first.close();
  EXPECT_EQ(error_from([&] { server->receive(buffer, in(kPatience)); }).code(), Errc::PeerGone);
}

TEST_F(NngTransport, AClientThatClosesRightAfterSendingHasEveryMessageDelivered) {
  constexpr int kMessages = 2000;
  auto server = nng().channel.serve(config(4096));
  std::thread client_thread([&] {
    auto client = nng().channel.connect(config(4096));
    client->accept(in(kPatience));
    std::vector<std::byte> message(4096);
    for (int m = 0; m < kMessages; ++m) {
      for (std::size_t i = 0; i < message.size(); ++i) message[i] = testing::pattern_byte(m, i);
      client->send(std::span(message).first(1 + m % 4096), in(kPatience));
    }
  });  // destroyed at once: the goodbye keeps what nng still held
  server->accept(in(kPatience));
  std::vector<std::byte> buffer(4096);
  for (int m = 0; m < kMessages; ++m) {
    std::this_thread::sleep_for(m == 0 ? 200ms : 0ms);  // let the client reach its destructor first
    const std::size_t n = server->receive(buffer, in(kPatience));
    ASSERT_EQ(n, 1u + m % 4096) << "message " << m;
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(buffer[i], testing::pattern_byte(m, i)) << "message " << m;
  }
  const Error e = error_from([&] { server->receive(buffer, in(kPatience)); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  EXPECT_TRUE(contains(e, "closed the channel")) << e.what();
  client_thread.join();
}

TEST_F(NngTransport, AReceiveWithNothingToReadTimesOutByItsDeadline) {
  auto server = nng().channel.serve(config());
  RawPeer peer(path());
  server->accept(in(kPatience));
  std::vector<std::byte> buffer(64);
  const auto start = Clock::now();
  EXPECT_EQ(error_from([&] { server->receive(buffer, start + 100ms); }).code(), Errc::Timeout);
  EXPECT_GE(Clock::now() - start, 100ms);
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST_F(NngTransport, AServerWithNoClientTimesOutInAccept) {
  auto server = nng().channel.serve(config());
  EXPECT_EQ(error_from([&] { server->accept(in(100ms)); }).code(), Errc::Timeout);
}

TEST_F(NngTransport, FramesAboveTheChannelsMaximumAreRefusedBeforeSending) {
  auto server = nng().channel.serve(config(64));
  std::vector<std::byte> big(65), empty;
  EXPECT_EQ(error_from([&] { server->send(big, in(1s)); }).code(), Errc::MessageTooLarge);
  EXPECT_EQ(error_from([&] { server->send(empty, in(1s)); }).code(), Errc::MessageTooLarge);
  EXPECT_EQ(error_from([&] { nng().channel.serve({channel_ + "-big", (16u << 20) + 1, WaitKind::Block}); }).code(),
            Errc::MessageTooLarge);
}

}  // namespace
}  // namespace ipcmark
