// The contract of transports/transport.hpp, run over every transport in the registry:
// a transport added to transports/registry.cpp is tested here with no other change.
// Message tests use two real processes: the client is a fork()ed child, forked before
// the server exists so that it inherits no transport state (ZeroMQ contexts, mappings).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/processes.hpp"
#include "transports/names.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using namespace testing;  // tests/support: ClientProcess, leftovers, unique_channel, pattern_byte, ...

class TransportContract : public ::testing::TestWithParam<const Transport*> {
 protected:
  const Transport& transport() const { return *GetParam(); }
  ChannelConfig config(std::size_t max_message) const { return {channel_, max_message, WaitKind::Block}; }
  std::size_t max_message() const { return std::min<std::size_t>(transport().max_message, 16 << 20); }
  void TearDown() override { transport().channel.remove(channel_); }

  std::string channel_ = unique_channel();
};

TEST_P(TransportContract, ConnectingToAMissingChannelFailsWithDoesNotExist) {
  try {
    transport().channel.connect(config(64));
    FAIL() << "connected to a channel that does not exist";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::DoesNotExist) << e.what();
    EXPECT_NE(std::string(e.what()).find(channel_), std::string::npos) << e.what();
  }
}

TEST_P(TransportContract, ServingAnExistingChannelFailsWithAlreadyExists) {
  auto first = transport().channel.serve(config(64));
  try {
    transport().channel.serve(config(64));
    FAIL() << "served the same channel twice";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::AlreadyExists) << e.what();
  }
}

TEST_P(TransportContract, MessagesOfOneByteMidAndMaxSizeArriveWholeInOrderOnceAcrossProcesses) {
  const std::size_t max = max_message();
  const std::vector<std::size_t> sizes{1, 1, std::min<std::size_t>(4096, max), std::min<std::size_t>(4096, max), max,
                                       max, 1, max};
  ClientProcess client([&] {
    auto c = transport().channel.connect(config(max));
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
  auto server = transport().channel.serve(config(max));
  client.start();
  const Deadline deadline = Clock::now() + 30s;
  server->accept(deadline);
  std::vector<std::byte> message(max), echo(max);
  for (std::size_t m = 0; m < sizes.size(); ++m) {
    for (std::size_t i = 0; i < sizes[m]; ++i) message[i] = pattern_byte(m, i);
    server->send(std::span(message).first(sizes[m]), deadline);
    const std::size_t n = server->receive(echo, deadline);
    ASSERT_EQ(n, sizes[m]) << "message " << m;
    ASSERT_TRUE(std::equal(echo.begin(), echo.begin() + n, message.begin())) << "message " << m;
  }
  EXPECT_EQ(client.wait(), 0);

  std::vector<std::byte> too_big(max + 1);
  try {
    server->send(too_big, deadline);
    FAIL() << "sent max_message + 1 bytes";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::MessageTooLarge) << e.what();
  }
}

TEST_P(TransportContract, APeerThatDiesMidStreamIsReportedAsPeerGoneNotAHang) {
  ClientProcess client([&] {
    auto c = transport().channel.connect(config(64));
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
  auto server = transport().channel.serve(config(64));
  client.start();
  const Deadline deadline = Clock::now() + 20s;
  server->accept(deadline);
  std::vector<std::byte> buffer(64);
  ASSERT_EQ(server->receive(buffer, deadline), 64u);
  server->send(buffer, deadline);
  EXPECT_EQ(client.wait(), 0);  // reaped: the peer is gone for good
  try {
    server->receive(buffer, deadline);
    FAIL() << "received from a dead peer";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  }
}

TEST_P(TransportContract, DestroyingTheServerRemovesEveryName) {
  IPCMARK_REQUIRE_NAME_LISTING(transport().name);
  {
    ClientProcess client([&] {
      auto c = transport().channel.connect(config(64));
      c->accept(Clock::now() + 30s);
      return 0;
    });
    auto server = transport().channel.serve(config(64));
    client.start();
    server->accept(Clock::now() + 30s);
    EXPECT_EQ(client.wait(), 0);
  }
  EXPECT_EQ(leftovers(channel_), std::vector<std::string>{});
  EXPECT_THROW(transport().channel.connect(config(64)), Error);
  EXPECT_NO_THROW(transport().channel.serve(config(64)));  // the name is free again
}

TEST_P(TransportContract, OneShotPublicationIsReadByFetchAndRemovedAfter) {
  const std::string text = "The world is going down.";
  {
    ClientProcess reader([&] { return transport().seed.fetch(channel_, Clock::now() + 10s) == text ? 0 : 10; });
    auto publication = transport().seed.publish(channel_, 10000, std::as_bytes(std::span(text)), false);
    reader.start();
    static std::atomic<bool> done;
    done = false;
    std::thread stopper([&] {
      EXPECT_EQ(reader.wait(), 0);
      done = true;
    });
    publication->serve_readers(+[] { return done.load(); });
    stopper.join();
  }
  EXPECT_EQ(leftovers(channel_), std::vector<std::string>{});
}

// ---- zero-copy: loan/commit and view/release (transport.hpp), where Transport::zero_copy ----

std::size_t zero_copy_size(std::size_t m, std::size_t max) {
  switch (m % 5) {
    case 0: return 1;
    case 1: return max;
    default: return 1 + (m * 7919) % max;  // every alignment, often padded at the wrap
  }
}

TEST_P(TransportContract, LoanedMessagesArriveWholeInOrderThroughViewsAcrossProcesses) {
  if (!transport().zero_copy) GTEST_SKIP() << transport().name << " does not lend its memory";
  constexpr std::size_t kMax = 100'000;  // not a power of two: records end at odd places
  constexpr std::size_t kStream = 600, kBack = 50;  // ~24 MB one way: the ring fills and wraps many times
  ClientProcess client([&] {
    auto c = transport().channel.connect(config(kMax));
    const Deadline deadline = Clock::now() + 60s;
    c->accept(deadline);
    for (std::size_t m = 0; m < kStream; ++m) {
      const std::span<const std::byte> v = c->view(deadline);
      if (v.size() != zero_copy_size(m, kMax)) return 10;
      for (std::size_t i = 0; i < v.size(); ++i)  // checked in place, as `--copy zero` does
        if (v[i] != pattern_byte(m, i)) return 11;
      c->release();
    }
    // Back the other way, each reply copied from a view of the server's message into a loan.
    for (std::size_t m = 0; m < kBack; ++m) {
      const std::span<const std::byte> v = c->view(deadline);
      const std::span<std::byte> echo = c->loan(v.size(), deadline);
      std::memcpy(echo.data(), v.data(), v.size());
      c->commit();
      c->release();
    }
    return 0;
  });
  auto server = transport().channel.serve(config(kMax));
  client.start();
  const Deadline deadline = Clock::now() + 60s;
  server->accept(deadline);
  for (std::size_t m = 0; m < kStream; ++m) {
    const std::span<std::byte> b = server->loan(zero_copy_size(m, kMax), deadline);
    ASSERT_EQ(b.size(), zero_copy_size(m, kMax));
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = pattern_byte(m, i);
    server->commit();
  }
  for (std::size_t m = 0; m < kBack; ++m) {
    const std::size_t size = zero_copy_size(m, kMax);
    const std::span<std::byte> b = server->loan(size, deadline);
    for (std::size_t i = 0; i < size; ++i) b[i] = pattern_byte(m + kStream, i);
    server->commit();
    const std::span<const std::byte> echo = server->view(deadline);
    ASSERT_EQ(echo.size(), size) << "echo " << m;
    for (std::size_t i = 0; i < size; ++i) ASSERT_EQ(echo[i], pattern_byte(m + kStream, i)) << "echo " << m;
    server->release();
  }
  EXPECT_EQ(client.wait(), 0);  // 10: wrong size, 11: wrong byte, 92: an Error (on its stderr)

  try {
    server->loan(kMax + 1, deadline);
    FAIL() << "loaned max_message + 1 bytes";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::MessageTooLarge) << e.what();
  }
}

TEST_P(TransportContract, TransportsThatDoNotLendMemoryRefuseLoansAndViewsWithInvalidArgument) {
  if (transport().zero_copy) GTEST_SKIP() << transport().name << " lends its memory";
  auto server = transport().channel.serve(config(64));
  const Deadline deadline = Clock::now() + 1s;
  const std::vector<std::pair<const char*, std::function<void()>>> calls{
      {"loan", [&] { server->loan(8, deadline); }},
      {"commit", [&] { server->commit(); }},
      {"view", [&] { server->view(deadline); }},
      {"release", [&] { server->release(); }},
  };
  for (const auto& [name, call] : calls) {
    try {
      call();
      ADD_FAILURE() << name << "() did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::InvalidArgument) << name << ": " << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTransports, TransportContract, ::testing::ValuesIn(all_transports()), transport_test_name);

}  // namespace
}  // namespace ipcmark
