// harness/conform/transport_clauses.cpp — the point-to-point contract of transports/transport.hpp
// (names, messages, a dead peer, the seed demo). Message clauses use two real processes: the
// client is a ForkedPeer, forked before the server exists.
#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "harness/conform/channel_setup.hpp"
#include "harness/conform/clause.hpp"
#include "harness/conform/forked_peer.hpp"
#include "harness/conform/zero_copy_clauses.hpp"

namespace ipcmark::conform {
namespace {

using namespace std::chrono_literals;

std::string connecting_to_a_missing_channel_fails_with_does_not_exist(const Transport& t, WaitKind wait) {
  ChannelSetup s(t, wait);
  const std::string message =
      require_error(Errc::DoesNotExist, "connecting to a missing channel", [&] { t.channel.connect(s.config(64)); });
  require(message.find(s.channel) != std::string::npos, "the error does not name the channel: " + message);
  return "DoesNotExist naming the channel";
}

std::string serving_an_existing_channel_fails_with_already_exists(const Transport& t, WaitKind wait) {
  ChannelSetup s(t, wait);
  auto first = t.channel.serve(s.config(64));
  require_error(Errc::AlreadyExists, "serving the same channel twice", [&] { t.channel.serve(s.config(64)); });
  return "AlreadyExists";
}

std::string messages_arrive_whole_in_order_once(const Transport& t, WaitKind wait) {
  ChannelSetup s(t, wait);
  const std::size_t max = s.max_message();
  const std::size_t mid = std::min<std::size_t>(4096, max);
  const std::vector<std::size_t> sizes{1, 1, mid, mid, max, max, 1, max};
  ForkedPeer client([&] {
    auto c = t.channel.connect(s.config(max));
    const Deadline deadline = Clock::now() + 30s;
    c->accept(deadline);
    std::vector<std::byte> buffer(max);
    for (std::size_t m = 0; m < sizes.size(); ++m) {
      const std::size_t n = c->receive(buffer, deadline);
      if (n != sizes[m]) return 10;
      for (std::size_t i = 0; i < n; ++i)
        if (buffer[i] != pattern_byte(m, i)) return 11;
      c->send(std::span(buffer).first(n), deadline);  // echo: the other direction too
    }
    return 0;
  });
  auto server = t.channel.serve(s.config(max));
  client.start();
  const Deadline deadline = Clock::now() + 30s;
  server->accept(deadline);
  std::vector<std::byte> message(max), echo(max);
  for (std::size_t m = 0; m < sizes.size(); ++m) {
    for (std::size_t i = 0; i < sizes[m]; ++i) message[i] = pattern_byte(m, i);
    server->send(std::span(message).first(sizes[m]), deadline);
    const std::size_t n = server->receive(echo, deadline);
    require(n == sizes[m], "echo of message " + std::to_string(m) + " has " + std::to_string(n) + " bytes, sent " +
                               std::to_string(sizes[m]));
    require(std::equal(echo.begin(), echo.begin() + n, message.begin()),
            "echo of message " + std::to_string(m) + " differs from what was sent");
  }
  const int code = client.wait();
  require(code == 0, "client " + client.describe(code) + " (10: wrong size, 11: wrong byte)");

  std::vector<std::byte> too_big(max + 1);
  require_error(Errc::MessageTooLarge, "sending max_message + 1 bytes", [&] { server->send(too_big, deadline); });
  return std::to_string(sizes.size()) + " messages of 1.." + std::to_string(max) +
         " bytes each way; max_message + 1 is MessageTooLarge";
}

// A CopyOut that copies as memcpy would and notes how it was called.
class RecordingCopy final : public CopyOut {
 public:
  void copy(std::span<std::byte> to, std::span<const std::byte> from) noexcept override {
    std::copy(from.begin(), from.end(), to.begin());
    ++calls_;
    last_to_ = to.data();
    last_size_ = from.size();
  }
  int calls_ = 0;
  const std::byte* last_to_ = nullptr;
  std::size_t last_size_ = 0;
};

// A CopyIn that makes message `m` (pattern_byte) and copies it as memcpy would.
class PatternMaker final : public CopyIn {
 public:
  explicit PatternMaker(std::size_t m) : m_(m) {}
  void make_and_copy(std::span<std::byte> message, std::span<std::byte> to) noexcept override {
    make(message);
    std::copy(message.begin(), message.end(), to.begin());
  }
  void make(std::span<std::byte> message) noexcept override {
    for (std::size_t i = 0; i < message.size(); ++i) message[i] = pattern_byte(m_, i);
  }

 private:
  std::size_t m_;
};

// send_through() sends what send() would of the message the caller's CopyIn makes, and
// receive_through() delivers what receive() does; a transport that calls the reader's copy calls it
// once per message, into the reader's buffer, for the whole message.
std::string messages_through_copies_arrive_as_without(const Transport& t, WaitKind wait) {
  ChannelSetup s(t, wait);
  const std::size_t max = s.max_message();
  const std::size_t mid = std::min<std::size_t>(4096, max);
  const std::vector<std::size_t> sizes{1, mid, max, 1, max};
  ForkedPeer client([&] {
    auto c = t.channel.connect(s.config(max));
    const Deadline deadline = Clock::now() + 30s;
    c->accept(deadline);
    std::vector<std::byte> buffer(max);
    int copied = 0;
    for (std::size_t m = 0; m < sizes.size(); ++m) {
      RecordingCopy out;
      const std::size_t n = c->receive_through(buffer, deadline, out);
      if (n != sizes[m]) return 10;
      for (std::size_t i = 0; i < n; ++i)
        if (buffer[i] != pattern_byte(m, i)) return 11;
      if (out.calls_ > 1 || (out.calls_ == 1 && (out.last_to_ != buffer.data() || out.last_size_ != n))) return 12;
      copied += out.calls_;
    }
    c->send(std::span(buffer).first(1), deadline);  // done: the server may go
    return copied == 0 || copied == static_cast<int>(sizes.size()) ? 0 : 13;
  });
  auto server = t.channel.serve(s.config(max));
  client.start();
  const Deadline deadline = Clock::now() + 30s;
  server->accept(deadline);
  std::vector<std::byte> message(max);
  for (std::size_t m = 0; m < sizes.size(); ++m) {
    PatternMaker maker(m);
    server->send_through(std::span(message).first(sizes[m]), deadline, maker);
    for (std::size_t i = 0; i < sizes[m]; ++i)
      require(message[i] == pattern_byte(m, i), "message " + std::to_string(m) + " is not made in the sender's buffer");
  }
  server->receive(message, deadline);
  const int code = client.wait();
  require(code == 0, "client " + client.describe(code) +
                         " (10: wrong size, 11: wrong byte, 12: copy called twice or not for the whole message into the "
                         "buffer, 13: copy called for some messages only)");
  return std::to_string(sizes.size()) + " messages of 1.." + std::to_string(max) + " bytes";
}

std::string a_peer_that_dies_mid_stream_is_peer_gone(const Transport& t, WaitKind wait) {
  ChannelSetup s(t, wait);
  ForkedPeer client([&] {
    auto c = t.channel.connect(s.config(64));
    const Deadline deadline = Clock::now() + 30s;
    c->accept(deadline);
    std::vector<std::byte> m(64, std::byte{7});
    c->send(m, deadline);
    // Wait for the echo first: some transports (ZeroMQ) send from a background thread, and
    // dying before it ran would lose the message rather than test the death.
    c->receive(m, deadline);
    ::_exit(0);  // dies without closing anything, mid-stream
    return 0;
  });
  auto server = t.channel.serve(s.config(64));
  client.start();
  const Deadline deadline = Clock::now() + 20s;
  server->accept(deadline);
  std::vector<std::byte> buffer(64);
  const std::size_t n = server->receive(buffer, deadline);
  require(n == 64, "received " + std::to_string(n) + " bytes of a 64-byte message");
  server->send(buffer, deadline);
  const int code = client.wait();  // reaped: the peer is gone for good
  require(code == 0, "client " + client.describe(code));
  require_error(Errc::PeerGone, "receiving from a dead peer", [&] { server->receive(buffer, deadline); });
  return "receive after the client's death is PeerGone";
}

std::string destroying_the_server_removes_every_name(const Transport& t, WaitKind wait) {
  require_name_listing(t.name);
  ChannelSetup s(t, wait);
  {
    ForkedPeer client([&] {
      auto c = t.channel.connect(s.config(64));
      c->accept(Clock::now() + 30s);
      return 0;
    });
    auto server = t.channel.serve(s.config(64));
    client.start();
    server->accept(Clock::now() + 30s);
    const int code = client.wait();
    require(code == 0, "client " + client.describe(code));
  }
  require_no_leftovers(s.channel, "after the server was destroyed");
  try {
    t.channel.connect(s.config(64));
    fail("connected after the server was destroyed");
  } catch (const Error&) {
  }
  t.channel.serve(s.config(64));  // the name is free again (an Error here fails the clause)
  return "no names left; the channel can be served again";
}

std::string one_shot_publication_is_read_by_fetch_and_removed_after(const Transport& t, WaitKind wait) {
  ChannelSetup s(t, wait);
  const std::string text = "The world is going down.";
  int code = -1;
  std::string described;
  {
    ForkedPeer reader([&] { return t.seed.fetch(s.channel, Clock::now() + 10s) == text ? 0 : 10; });
    auto publication = t.seed.publish(s.channel, 10000, std::as_bytes(std::span(text)), false);
    reader.start();
    static std::atomic<bool> done;  // serve_readers takes a plain function
    done = false;
    std::thread stopper([&] {
      code = reader.wait();
      described = reader.describe(code);
      done = true;
    });
    publication->serve_readers(+[] { return done.load(); });
    stopper.join();
  }
  require(code == 0, "reader " + described + " (10: fetched other bytes)");
  require_no_leftovers(s.channel, "after the publication");
  return "fetched whole; no names left";
}

}  // namespace

std::span<const Clause> transport_clauses() {
  static const Clause clauses[] = {
      {"ConnectingToAMissingChannelFailsWithDoesNotExist", &connecting_to_a_missing_channel_fails_with_does_not_exist},
      {"ServingAnExistingChannelFailsWithAlreadyExists", &serving_an_existing_channel_fails_with_already_exists},
      {"MessagesOfOneByteMidAndMaxSizeArriveWholeInOrderOnceAcrossProcesses", &messages_arrive_whole_in_order_once},
      {"MessagesSentAndReceivedThroughCopiesArriveAsWithout", &messages_through_copies_arrive_as_without},
      {"APeerThatDiesMidStreamIsReportedAsPeerGoneNotAHang", &a_peer_that_dies_mid_stream_is_peer_gone},
      {"DestroyingTheServerRemovesEveryName", &destroying_the_server_removes_every_name},
      {"OneShotPublicationIsReadByFetchAndRemovedAfter", &one_shot_publication_is_read_by_fetch_and_removed_after},
      {"LoanedMessagesArriveWholeInOrderThroughViewsAcrossProcesses", &loaned_messages_arrive_through_views},
      {"TransportsThatDoNotLendMemoryRefuseLoansAndViewsWithInvalidArgument", &loans_and_views_are_refused},
  };
  return clauses;
}

}  // namespace ipcmark::conform
