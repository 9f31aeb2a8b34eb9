// The grpc transport's own logic, in one process (server and client in two threads): what a gRPC
// status means in the contract's terms, the socket file it claims before gRPC binds (gRPC would
// unlink an existing one), a socket file nobody listens on, deadlines on a stream's waits, and
// half-closing. Every test uses its own channel name and leaves nothing in the private runtime dir.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/errors.hpp"
#include "transports/grpc/grpc.hpp"
#include "transports/grpc/grpc_names.hpp"
#include "transports/names.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using testing::contains;
using testing::error_from;

constexpr auto kPatience = 20s;  // deadlines that must never be reached in a passing test

Deadline in(Clock::duration d) { return Clock::now() + d; }

class GrpcTransport : public ::testing::Test {
 protected:
  const Transport& transport() const { return grpc_transport(); }
  ChannelConfig config(std::size_t max_message = 64) const { return {channel_, max_message, WaitKind::Block}; }
  std::string socket_file() const { return private_runtime_dir() + "/" + channel_ + ".grpc"; }
  void TearDown() override {
    transport().channel.remove(channel_);
    struct stat st {};
    EXPECT_NE(::lstat(socket_file().c_str(), &st), 0) << socket_file() << " was left behind";
  }

  // A unix socket file at socket_file() with no listener: what a crashed server leaves.
  void leave_a_dead_socket_file() const {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, socket_file().c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    ::close(fd);
  }

  std::string channel_ = testing::unique_name("ipcmark-grpc-test-");
};

TEST(GrpcStatus, UnavailableIsAMissingServerBeforeTheCallConnectedAndAGonePeerAfter) {
  EXPECT_EQ(grpc_names::errc_for(grpc::StatusCode::UNAVAILABLE, false), Errc::DoesNotExist);
  EXPECT_EQ(grpc_names::errc_for(grpc::StatusCode::UNAVAILABLE, true), Errc::PeerGone);
  EXPECT_EQ(grpc_names::errc_for(grpc::StatusCode::DEADLINE_EXCEEDED, true), Errc::Timeout);
  EXPECT_EQ(grpc_names::errc_for(grpc::StatusCode::CANCELLED, true), Errc::PeerGone);
  EXPECT_EQ(grpc_names::errc_for(grpc::StatusCode::RESOURCE_EXHAUSTED, true), Errc::MessageTooLarge);
  EXPECT_EQ(grpc_names::errc_for(grpc::StatusCode::INTERNAL, true), Errc::System);
}

TEST(GrpcStatus, IsDescribedOnOneLineWithItsCodeName) {
  const std::string line =
      grpc_names::describe("grpc channel 'x'", grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed\nto connect"));
  EXPECT_EQ(line, "grpc channel 'x': UNAVAILABLE: failed to connect");
}

TEST_F(GrpcTransport, AStaleSocketFileIsAlreadyExistsAndIsLeftInPlace) {
  leave_a_dead_socket_file();
  struct stat before {};
  ASSERT_EQ(::lstat(socket_file().c_str(), &before), 0);
  const Error e = error_from([&] { transport().channel.serve(config()); });
  EXPECT_EQ(e.code(), Errc::AlreadyExists) << e.what();
  EXPECT_TRUE(contains(e, socket_file())) << e.what();
  struct stat after {};
  ASSERT_EQ(::lstat(socket_file().c_str(), &after), 0) << "serve() removed the file it refused to take";
  EXPECT_EQ(after.st_ino, before.st_ino);
}

TEST_F(GrpcTransport, ASocketFileNobodyListensOnIsDoesNotExistWithoutBackoff) {
  leave_a_dead_socket_file();
  auto client = transport().channel.connect(config());
  const auto start = Clock::now();
  const Error e = error_from([&] { client->accept(in(kPatience)); });
  EXPECT_EQ(e.code(), Errc::DoesNotExist) << e.what();
  EXPECT_TRUE(contains(e, socket_file())) << e.what();
  EXPECT_LT(Clock::now() - start, 5s) << "gRPC's reconnect backoff turned a missing server into a wait";
}

TEST_F(GrpcTransport, AFileThatIsNotASocketIsCorrupt) {
  std::ofstream(socket_file()) << "not a socket";
  const Error e = error_from([&] { transport().channel.connect(config()); });
  EXPECT_EQ(e.code(), Errc::Corrupt) << e.what();
}

TEST_F(GrpcTransport, MaxMessageAboveSixteenMiBIsRefusedBeforeAnythingIsCreated) {
  const Error e = error_from([&] { transport().channel.serve(config(grpc_names::kMaxMessage + 1)); });
  EXPECT_EQ(e.code(), Errc::MessageTooLarge) << e.what();
}

TEST_F(GrpcTransport, ReceiveWithNothingSentTimesOutByItsDeadlineAndTheStreamStillWorks) {
  auto server = transport().channel.serve(config());
  std::unique_ptr<Connection> client;
  std::thread client_side([&] {
    client = transport().channel.connect(config());
    client->accept(in(kPatience));
  });
  server->accept(in(kPatience));
  client_side.join();
  std::vector<std::byte> buffer(64);
  const auto start = Clock::now();
  const Error e = error_from([&] { server->receive(buffer, in(100ms)); });
  EXPECT_EQ(e.code(), Errc::Timeout) << e.what();
  EXPECT_LT(Clock::now() - start, 2s);
  // The read posted before the timeout is still the one that takes the next message.
  const std::vector<std::byte> hello(5, std::byte{42});
  client->send(hello, in(kPatience));
  ASSERT_EQ(server->receive(buffer, in(kPatience)), hello.size());
  EXPECT_EQ(buffer[4], std::byte{42});
}

TEST_F(GrpcTransport, AClientThatClosesIsPeerGoneAfterItsLastMessageArrived) {
  auto server = transport().channel.serve(config());
  std::thread client_side([&] {
    auto client = transport().channel.connect(config());
    client->accept(in(kPatience));
    const std::vector<std::byte> last(7, std::byte{1});
    client->send(last, in(kPatience));
    // Destroyed here, right after sending: the message must still arrive, then the end.
  });
  server->accept(in(kPatience));
  std::vector<std::byte> buffer(64);
  EXPECT_EQ(server->receive(buffer, in(kPatience)), 7u);
  const Error e = error_from([&] { server->receive(buffer, in(kPatience)); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  client_side.join();
}

TEST_F(GrpcTransport, AServerThatClosesIsPeerGoneForTheClientAfterItsLastMessage) {
  auto server = transport().channel.serve(config());
  auto client = transport().channel.connect(config());
  std::thread server_side([&] {
    server->accept(in(kPatience));
    const std::vector<std::byte> last(9, std::byte{2});
    server->send(last, in(kPatience));
    server.reset();  // removes the socket file too
  });
  client->accept(in(kPatience));
  std::vector<std::byte> buffer(64);
  EXPECT_EQ(client->receive(buffer, in(kPatience)), 9u);
  const Error e = error_from([&] { client->receive(buffer, in(kPatience)); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  server_side.join();
  struct stat st {};
  EXPECT_NE(::lstat(socket_file().c_str(), &st), 0) << "the server's socket file outlived it";
}

}  // namespace
}  // namespace ipcmark
