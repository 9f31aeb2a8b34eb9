// SharedRegion (named POSIX shared memory) and the shm transport's channel and seed demo, in one
// process. Every test uses its own name and leaves nothing in /dev/shm.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/errors.hpp"
#include "transports/shm/region.hpp"
#include "transports/shm/shm.hpp"

namespace ipcmark::shm {
namespace {

using namespace std::chrono_literals;

std::string unique_name() { return testing::unique_name(); }

bool in_dev_shm(const std::string& name) { return std::filesystem::exists("/dev/shm/" + name); }

using testing::error_from;

std::span<const std::byte> bytes_of(const std::string& text) { return std::as_bytes(std::span(text)); }

// ---- SharedRegion -----------------------------------------------------------------------------

TEST(ShmRegion, CreateThenOpenSeesTheSameBytes) {
  const std::string name = unique_name();
  SharedRegion created = SharedRegion::create(name, 8192);
  ASSERT_EQ(created.size(), 8192u);
  for (std::size_t i = 0; i < created.size(); ++i) ASSERT_EQ(created.bytes()[i], std::byte{0}) << "zero-filled";
  for (std::size_t i = 0; i < created.size(); ++i) created.bytes()[i] = std::byte(i * 13);
  SharedRegion opened = SharedRegion::open(name, SharedRegion::largest_possible());
  ASSERT_EQ(opened.size(), 8192u);
  EXPECT_EQ(std::memcmp(opened.bytes().data(), created.bytes().data(), 8192), 0);
  opened.bytes()[100] = std::byte{0xAB};
  EXPECT_EQ(created.bytes()[100], std::byte{0xAB}) << "both map the same pages";
}

TEST(ShmRegion, CreatingAnExistingNameFailsWithAlreadyExists) {
  const std::string name = unique_name();
  SharedRegion first = SharedRegion::create(name, 4096);
  const Error e = error_from([&] { SharedRegion::create(name, 4096); });
  EXPECT_EQ(e.code(), Errc::AlreadyExists);
  EXPECT_EQ(std::string(e.what()), "shared memory channel '" + name + "' already exists (/dev/shm/" + name +
                                       "); another server is running, or a crashed one left it: pass --replace "
                                       "or run `ipcmark clean --channel " + name + "`");
}

TEST(ShmRegion, CreatingWithReplaceTakesTheNameOverAndTheOldOwnerLeavesItAlone) {
  const std::string name = unique_name();
  auto old_owner = std::make_unique<SharedRegion>(SharedRegion::create(name, 4096));
  SharedRegion new_owner = SharedRegion::create(name, 8192, /*replace=*/true);
  old_owner.reset();
  ASSERT_TRUE(in_dev_shm(name)) << "the old owner must not unlink its successor's object";
  EXPECT_EQ(SharedRegion::open(name, SharedRegion::largest_possible()).size(), 8192u);
}

TEST(ShmRegion, OpeningAMissingNameFailsWithDoesNotExistNamingTheChannel) {
  const std::string name = unique_name();
  const Error e = error_from([&] { SharedRegion::open(name, SharedRegion::largest_possible()); });
  EXPECT_EQ(e.code(), Errc::DoesNotExist);
  EXPECT_EQ(std::string(e.what()), "shared memory channel '" + name + "' does not exist (is the server running?)");
}

TEST(ShmRegion, InvalidNamesAreRefusedWithInvalidArgument) {
  for (const std::string& name : {std::string(""), std::string("a/b"), std::string(".."), std::string(201, 'x')}) {
    EXPECT_EQ(error_from([&] { SharedRegion::create(name, 4096); }).code(), Errc::InvalidArgument) << name;
    EXPECT_EQ(error_from([&] { SharedRegion::open(name, SharedRegion::largest_possible()); }).code(), Errc::InvalidArgument) << name;
    EXPECT_EQ(error_from([&] { SharedRegion::remove(name); }).code(), Errc::InvalidArgument) << name;
  }
}

TEST(ShmRegion, SizeZeroIsRefusedWithInvalidArgument) {
  const std::string name = unique_name();
  EXPECT_EQ(error_from([&] { SharedRegion::create(name, 0); }).code(), Errc::InvalidArgument);
  EXPECT_FALSE(in_dev_shm(name));
}

TEST(ShmRegion, DestroyingTheCreatorRemovesTheName) {
  const std::string name = unique_name();
  {
    SharedRegion created = SharedRegion::create(name, 4096);
    ASSERT_TRUE(in_dev_shm(name));
  }
  EXPECT_FALSE(in_dev_shm(name));
}

TEST(ShmRegion, DestroyingAnOpenerKeepsTheName) {
  const std::string name = unique_name();
  SharedRegion created = SharedRegion::create(name, 4096);
  { SharedRegion opened = SharedRegion::open(name, SharedRegion::largest_possible()); }
  EXPECT_TRUE(in_dev_shm(name));
}

TEST(ShmRegion, MovedFromRegionReleasesNothing) {
  const std::string name = unique_name();
  SharedRegion created = SharedRegion::create(name, 4096);
  { SharedRegion moved = std::move(created); }
  EXPECT_FALSE(in_dev_shm(name)) << "exactly one owner unlinks, once";
}

TEST(ShmRegion, RemoveUnlinksAndIgnoresAMissingName) {
  const std::string name = unique_name();
  SharedRegion created = SharedRegion::create(name, 4096);
  SharedRegion::remove(name);
  EXPECT_FALSE(in_dev_shm(name));
  SharedRegion::remove(name);  // no error
}

// ---- the seed demo ----------------------------------------------------------------------------

TEST(ShmPublication, PublishThenFetchRoundTripsTheTextWithoutTrailingZeros) {
  const std::string name = unique_name();
  const std::string text = "The world is going down.";
  {
    auto publication = shm_transport().seed.publish(name, 10000, bytes_of(text), false);
    EXPECT_EQ(std::filesystem::file_size("/dev/shm/" + name), 10000u);
    EXPECT_EQ(shm_transport().seed.fetch(name, Clock::now() + 1s), text);
    SharedRegion raw = SharedRegion::open(name, SharedRegion::largest_possible());  // the seed's layout: the text at offset 0, then zeros
    EXPECT_EQ(std::memcmp(raw.bytes().data(), text.data(), text.size()), 0);
    EXPECT_EQ(raw.bytes()[text.size()], std::byte{0});
  }
  EXPECT_FALSE(in_dev_shm(name));
}

TEST(ShmPublication, ServeReadersReturnsOnceStopIsTrue) {
  const std::string name = unique_name();
  auto publication = shm_transport().seed.publish(name, 100, bytes_of(std::string("x")), false);
  publication->serve_readers([] { return true; });
}

TEST(ShmPublication, RegionSmallerThanTheMessageIsRefusedNamingBothSizes) {
  const std::string name = unique_name();
  const Error e = error_from([&] { shm_transport().seed.publish(name, 10, bytes_of(std::string(11, 'x')), false); });
  EXPECT_EQ(e.code(), Errc::InvalidArgument);
  EXPECT_NE(std::string(e.what()).find("10 bytes"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("11-byte"), std::string::npos) << e.what();
  EXPECT_FALSE(in_dev_shm(name));
}

TEST(ShmPublication, FetchingAMissingChannelFailsWithDoesNotExist) {
  EXPECT_EQ(error_from([&] { shm_transport().seed.fetch(unique_name(), Clock::now() + 1s); }).code(),
            Errc::DoesNotExist);
}

// ---- channels, both sides in this process -----------------------------------------------------

ChannelConfig config(const std::string& name, WaitKind wait, std::size_t max_message = 1000) {
  return ChannelConfig{name, max_message, wait};
}

TEST(ShmChannel, MessagesCrossBothWaysWhicheverWaitKindEachSideUses) {
  const std::pair<WaitKind, WaitKind> pairs[] = {{WaitKind::Spin, WaitKind::Spin},
                                                 {WaitKind::Block, WaitKind::Block},
                                                 {WaitKind::Spin, WaitKind::Block},
                                                 {WaitKind::Block, WaitKind::Spin}};
  for (const auto& [server_wait, client_wait] : pairs) {
    const std::string name = unique_name();
    auto server = shm_transport().channel.serve(config(name, server_wait));
    auto client = shm_transport().channel.connect(config(name, client_wait));
    server->accept(Clock::now() + 5s);
    client->accept(Clock::now() + 5s);
    std::thread echo([&] {
      std::vector<std::byte> buffer(1000);
      for (int i = 0; i < 1000; ++i) {
        const std::size_t n = server->receive(buffer, Clock::now() + 10s);
        server->send(std::span(buffer).first(n), Clock::now() + 10s);
      }
    });
    std::vector<std::byte> out(1000), in(1000);
    for (int i = 0; i < 1000; ++i) {
      const std::size_t size = 1 + (i * 97) % 1000;
      for (std::size_t k = 0; k < size; ++k) out[k] = std::byte(i + k);
      client->send(std::span(out).first(size), Clock::now() + 10s);
      ASSERT_EQ(client->receive(in, Clock::now() + 10s), size);
      ASSERT_EQ(std::memcmp(in.data(), out.data(), size), 0);
    }
    echo.join();
    client.reset();
    server.reset();
    EXPECT_FALSE(in_dev_shm(name));
  }
}

TEST(ShmChannel, ServingAnExistingChannelFailsWithAlreadyExists) {
  const std::string name = unique_name();
  auto server = shm_transport().channel.serve(config(name, WaitKind::Block));
  EXPECT_EQ(error_from([&] { shm_transport().channel.serve(config(name, WaitKind::Block)); }).code(),
            Errc::AlreadyExists);
}

TEST(ShmChannel, ConnectingToAMissingChannelFailsWithDoesNotExist) {
  EXPECT_EQ(error_from([&] { shm_transport().channel.connect(config(unique_name(), WaitKind::Spin)); }).code(),
            Errc::DoesNotExist);
}

TEST(ShmChannel, SecondClientIsRefusedWithAlreadyExists) {
  const std::string name = unique_name();
  auto server = shm_transport().channel.serve(config(name, WaitKind::Block));
  auto client = shm_transport().channel.connect(config(name, WaitKind::Block));
  EXPECT_EQ(error_from([&] { shm_transport().channel.connect(config(name, WaitKind::Block)); }).code(),
            Errc::AlreadyExists);
}

TEST(ShmChannel, AcceptWithoutAClientTimesOut) {
  const std::string name = unique_name();
  auto server = shm_transport().channel.serve(config(name, WaitKind::Block));
  const Error e = error_from([&] { server->accept(Clock::now() + 20ms); });
  EXPECT_EQ(e.code(), Errc::Timeout);
  EXPECT_STREQ(e.what(), "timed out waiting for the client");
}

TEST(ShmChannel, AcceptReturnsOnceAClientConnectsLater) {
  const std::string name = unique_name();
  auto server = shm_transport().channel.serve(config(name, WaitKind::Block));
  std::thread late([&] {
    std::this_thread::sleep_for(20ms);
    auto client = shm_transport().channel.connect(config(name, WaitKind::Spin));
    client->send(bytes_of(std::string("hi")), Clock::now() + 10s);
  });
  server->accept(Clock::now() + 10s);
  std::vector<std::byte> in(1000);
  EXPECT_EQ(server->receive(in, Clock::now() + 10s), 2u);
  late.join();
}

TEST(ShmChannel, ClosedPeerMakesAWaitingReceiveFailWithPeerGoneAfterTheLastMessage) {
  for (WaitKind wait : {WaitKind::Spin, WaitKind::Block}) {
    const std::string name = unique_name();
    auto server = shm_transport().channel.serve(config(name, wait));
    auto client = shm_transport().channel.connect(config(name, wait));
    server->accept(Clock::now() + 5s);
    client->send(bytes_of(std::string("last words")), Clock::now() + 5s);
    client.reset();
    std::vector<std::byte> in(1000);
    EXPECT_EQ(server->receive(in, Clock::now() + 10s), 10u) << "data sent before closing still arrives";
    const Error e = error_from([&] { server->receive(in, Clock::now() + 10s); });
    EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  }
}

TEST(ShmChannel, OversizedMessageIsRefusedWithMessageTooLarge) {
  const std::string name = unique_name();
  auto server = shm_transport().channel.serve(config(name, WaitKind::Spin, 100));
  EXPECT_EQ(error_from([&] { server->send(bytes_of(std::string(101, 'x')), Clock::now() + 1s); }).code(),
            Errc::MessageTooLarge);
}

TEST(ShmChannel, MaxMessageOutsideTheTransportsRangeIsRefused) {
  EXPECT_EQ(error_from([&] { shm_transport().channel.serve(config(unique_name(), WaitKind::Spin, 0)); }).code(),
            Errc::InvalidArgument);
  EXPECT_EQ(error_from([&] {
              shm_transport().channel.serve(config(unique_name(), WaitKind::Spin, shm_transport().max_message + 1));
            }).code(),
            Errc::MessageTooLarge);
}

TEST(ShmChannel, ConnectingToARegionThatIsNotAChannelFailsWithCorrupt) {
  const std::string name = unique_name();
  auto publication = shm_transport().seed.publish(name, 4096, bytes_of(std::string("not a ring")), false);
  const Error e = error_from([&] { shm_transport().channel.connect(config(name, WaitKind::Spin)); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_NE(std::string(e.what()).find("corrupt region '" + name + "'"), std::string::npos) << e.what();
}

TEST(ShmChannel, RemoveDeletesALeftoverChannel) {
  const std::string name = unique_name();
  SharedRegion leftover = SharedRegion::create(name, 4096);
  shm_transport().channel.remove(name);
  EXPECT_FALSE(in_dev_shm(name));
}

}  // namespace
}  // namespace ipcmark::shm
