// Request/reply shm channels (ChannelConfig::request_reply): a reply that fits is written over the
// request it answers and read there; one that does not goes through the server's ring; turns are
// enforced on both sides; both sides must agree; an InPlace record that answers nothing, or more
// than the request, is Corrupt. Server and client are two Connections in this one process.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/processes.hpp"
#include "tests/support/rings.hpp"
#include "transports/registry.hpp"
#include "transports/shm/spsc_ring.hpp"

namespace ipcmark::shm {
namespace {

using namespace test_support;
using namespace ipcmark::testing;

constexpr std::size_t kMaxMessage = 4096;  // in place from 1 KiB (shm.cpp)

struct Pair {
  explicit Pair(std::size_t max_message = kMaxMessage)
      : channel(unique_channel()),
        server(shm().channel.serve(ChannelConfig{channel, max_message, WaitKind::Spin, true})),
        client(shm().channel.connect(ChannelConfig{channel, max_message, WaitKind::Spin, true})) {
    server->accept(generous());
  }
  ~Pair() {
    client.reset();
    server.reset();
    shm().channel.remove(channel);
  }
  static const Transport& shm() { return *find_transport("shm"); }

  std::string channel;
  std::unique_ptr<Connection> server, client;
};

Errc code_of(const std::function<void()>& action) { return error_from(action).code(); }

TEST(ShmRequestReply, AReplyThatFitsIsReadInTheRequestsOwnBytes) {
  Pair p;
  const std::span<std::byte> request = p.client->loan(100, generous());
  fill(request, 1);
  p.client->commit();

  const std::span<const std::byte> viewed = p.server->view(generous());
  ASSERT_EQ(viewed.size(), 100u);
  EXPECT_TRUE(has_contents(viewed, 1));
  const std::span<std::byte> reply = p.server->loan(80, generous());
  EXPECT_EQ(reply.data(), viewed.data()) << "the server's loan is the request's own bytes";
  fill(reply, 2);
  p.server->commit();
  p.server->release();

  const std::span<const std::byte> answer = p.client->view(generous());
  EXPECT_EQ(answer.data(), request.data()) << "the client reads the reply where it wrote its request";
  ASSERT_EQ(answer.size(), 80u);
  EXPECT_TRUE(has_contents(answer, 2)) << "the server's bytes, not the request left as it was";
  p.client->release();
}

TEST(ShmRequestReply, CopiedRepliesOfEverySizeArriveWholeAcrossTheWrap) {
  Pair p;
  std::vector<std::byte> buffer(kMaxMessage);
  // ~10 MB each way through 16 KiB rings (request_reply_capacity): both wrap hundreds of times;
  // replies shorter than, as long as and longer than their requests.
  for (std::uint64_t seq = 0; seq < 5000; ++seq) {
    const std::size_t request_size = size_of(seq, kMaxMessage), reply_size = size_of(seq * 7 + 3, kMaxMessage);
    p.client->send(message(seq, request_size), generous());
    ASSERT_EQ(p.server->receive(buffer, generous()), request_size) << seq;
    ASSERT_TRUE(has_contents(std::span(buffer).first(request_size), seq)) << seq;
    p.server->send(message(seq + 1'000'000, reply_size), generous());
    ASSERT_EQ(p.client->receive(buffer, generous()), reply_size) << seq;
    ASSERT_TRUE(has_contents(std::span(buffer).first(reply_size), seq + 1'000'000)) << seq;
  }
}

TEST(ShmRequestReply, ChannelsOfSmallMessagesIgnoreIt) {
  Pair p(512);
  const std::span<std::byte> request = p.client->loan(100, generous());
  fill(request, 1);
  p.client->commit();
  p.client->send(message(2, 10), generous());  // no turns
  const std::span<const std::byte> viewed = p.server->view(generous());
  const std::span<std::byte> reply = p.server->loan(80, generous());
  EXPECT_NE(reply.data(), viewed.data()) << "a reply of the server's ring, not the request's bytes";
  fill(reply, 3);
  p.server->commit();
  p.server->release();
  const std::span<const std::byte> answer = p.client->view(generous());
  EXPECT_TRUE(has_contents(answer, 3));
  p.client->release();
}

TEST(ShmRequestReply, EachSideKeepsItsTurn) {
  Pair p;
  std::vector<std::byte> buffer(kMaxMessage);
  EXPECT_EQ(code_of([&] { p.client->receive(buffer, soon()); }), Errc::InvalidArgument) << "nothing asked yet";
  EXPECT_EQ(code_of([&] { p.server->send(message(1, 10), soon()); }), Errc::InvalidArgument) << "nothing to answer";
  EXPECT_EQ(code_of([&] { p.server->loan(10, soon()); }), Errc::InvalidArgument);
  p.client->send(message(1, 10), generous());
  EXPECT_EQ(code_of([&] { p.client->send(message(2, 10), soon()); }), Errc::InvalidArgument) << "a second request";
  EXPECT_EQ(code_of([&] { p.client->loan(10, soon()); }), Errc::InvalidArgument);
  ASSERT_EQ(p.server->receive(buffer, generous()), 10u);
  EXPECT_EQ(code_of([&] { p.server->receive(buffer, soon()); }), Errc::InvalidArgument) << "not answered yet";
  p.server->send(message(3, 10), generous());
  EXPECT_EQ(code_of([&] { p.server->send(message(4, 10), soon()); }), Errc::InvalidArgument) << "a second reply";
  const std::span<const std::byte> reply = p.client->view(generous());
  EXPECT_TRUE(has_contents(reply, 3));
  EXPECT_EQ(code_of([&] { p.client->send(message(5, 10), soon()); }), Errc::InvalidArgument)
      << "the reply is still viewed: its bytes are the next request's room";
  p.client->release();
  p.client->send(message(5, 10), generous());  // its turn now
  ASSERT_EQ(p.server->receive(buffer, generous()), 10u);
  EXPECT_TRUE(has_contents(std::span(buffer).first(10), 5));
}

TEST(ShmRequestReply, BothSidesMustSayIt) {
  for (const bool server_says : {true, false}) {
    const std::string channel = unique_channel();
    {
      auto server = Pair::shm().channel.serve(ChannelConfig{channel, kMaxMessage, WaitKind::Spin, server_says});
      const Error e = error_from(
          [&] { Pair::shm().channel.connect(ChannelConfig{channel, kMaxMessage, WaitKind::Spin, !server_says}); });
      EXPECT_EQ(e.code(), Errc::InvalidArgument) << e.what();
      EXPECT_NE(std::string(e.what()).find("requests and replies in turn"), std::string::npos) << e.what();
    }
    EXPECT_EQ(leftovers(channel), std::vector<std::string>{});
  }
}

// ---- the InPlace record, at the ring --------------------------------------------------------------

TEST(ShmRequestReply, AnInPlaceReplyToNoRequestIsCorrupt) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), "rr-ring");
  RingReader reader(memory.span(), "rr-ring");
  writer.send_in_place<SpinWait>(10, past());
  std::vector<std::byte> out(64);
  const Error e = error_from([&] { reader.receive<SpinWait>(out, past()); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_NE(std::string(e.what()).find("with no request outstanding"), std::string::npos) << e.what();
}

TEST(ShmRequestReply, AnInPlaceReplyLongerThanItsRequestIsCorrupt) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), "rr-ring");
  RingReader reader(memory.span(), "rr-ring");
  std::vector<std::byte> request(8);
  reader.expect_reply_in(request);
  writer.send_in_place<SpinWait>(16, past());
  std::vector<std::byte> out(64);
  const Error e = error_from([&] { reader.receive<SpinWait>(out, past()); });
  EXPECT_EQ(e.code(), Errc::Corrupt);
  EXPECT_NE(std::string(e.what()).find("answers a request of 8 bytes"), std::string::npos) << e.what();
}

TEST(ShmRequestReply, AnInPlaceReplyTakesOnlyItsHeaderInTheRing) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), "rr-ring");
  RingReader reader(memory.span(), "rr-ring");
  std::vector<std::byte> request = message(9, 40);
  reader.expect_reply_in(request);
  writer.send_in_place<SpinWait>(40, past());
  const std::span<const std::byte> reply = reader.view<SpinWait>(past());
  EXPECT_EQ(reply.data(), request.data());
  EXPECT_EQ(reply.size(), 40u);
  reader.release();
  EXPECT_EQ(memory.writer_block().tail, sizeof(RecordHeader));
  // The next record, without a request expected, is read as any other.
  writer.send<SpinWait>(message(10, 20), past());
  std::vector<std::byte> out(64);
  ASSERT_EQ(reader.receive<SpinWait>(out, past()), 20u);
  EXPECT_TRUE(has_contents(std::span(out).first(20), 10));
}

}  // namespace
}  // namespace ipcmark::shm
