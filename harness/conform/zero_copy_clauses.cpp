#include "harness/conform/zero_copy_clauses.hpp"

#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "harness/conform/channel_setup.hpp"
#include "harness/conform/forked_peer.hpp"

namespace ipcmark::conform {
namespace {

using namespace std::chrono_literals;

std::size_t zero_copy_size(std::size_t m, std::size_t max) {
  switch (m % 5) {
    case 0: return 1;
    case 1: return max;
    default: return 1 + (m * 7919) % max;  // every alignment, often padded at the wrap
  }
}

}  // namespace

std::string loaned_messages_arrive_through_views(const Transport& t, WaitKind wait) {
  if (!t.zero_copy) skip(std::string(t.name) + " does not lend its memory");
  ChannelSetup s(t, wait);
  // Not a power of two, so records end at odd places; no more than the transport carries.
  const std::size_t max = std::min<std::size_t>(100'000, s.max_message());
  constexpr std::size_t kStream = 600, kBack = 50;  // ~24 MB one way: the ring fills and wraps many times
  ForkedPeer client([&] {
    auto c = t.channel.connect(s.config(max));
    const Deadline deadline = Clock::now() + 60s;
    c->accept(deadline);
    for (std::size_t m = 0; m < kStream; ++m) {
      const std::span<const std::byte> v = c->view(deadline);
      if (v.size() != zero_copy_size(m, max)) return 10;
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
  auto server = t.channel.serve(s.config(max));
  client.start();
  const Deadline deadline = Clock::now() + 60s;
  server->accept(deadline);
  for (std::size_t m = 0; m < kStream; ++m) {
    const std::span<std::byte> b = server->loan(zero_copy_size(m, max), deadline);
    require(b.size() == zero_copy_size(m, max), "loan " + std::to_string(m) + " has " + std::to_string(b.size()) +
                                                     " bytes, asked " + std::to_string(zero_copy_size(m, max)));
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = pattern_byte(m, i);
    server->commit();
  }
  for (std::size_t m = 0; m < kBack; ++m) {
    const std::size_t size = zero_copy_size(m, max);
    const std::span<std::byte> b = server->loan(size, deadline);
    for (std::size_t i = 0; i < size; ++i) b[i] = pattern_byte(m + kStream, i);
    server->commit();
    const std::span<const std::byte> echo = server->view(deadline);
    require(echo.size() == size, "echo " + std::to_string(m) + " has " + std::to_string(echo.size()) + " bytes");
    for (std::size_t i = 0; i < size; ++i)
      require(echo[i] == pattern_byte(m + kStream, i), "echo " + std::to_string(m) + " differs at byte " + std::to_string(i));
    server->release();
  }
  const int code = client.wait();
  require(code == 0, "client " + client.describe(code) + " (10: wrong size, 11: wrong byte)");
  require_error(Errc::MessageTooLarge, "loaning max_message + 1 bytes", [&] { server->loan(max + 1, deadline); });
  return std::to_string(kStream) + " loans viewed in place, " + std::to_string(kBack) + " echoed back";
}

std::string loans_and_views_are_refused(const Transport& t, WaitKind wait) {
  if (t.zero_copy) skip(std::string(t.name) + " lends its memory");
  ChannelSetup s(t, wait);
  auto server = t.channel.serve(s.config(64));
  const Deadline deadline = Clock::now() + 1s;
  const std::vector<std::pair<const char*, std::function<void()>>> calls{
      {"loan", [&] { server->loan(8, deadline); }},
      {"commit", [&] { server->commit(); }},
      {"view", [&] { server->view(deadline); }},
      {"release", [&] { server->release(); }},
  };
  for (const auto& [name, call] : calls) require_error(Errc::InvalidArgument, std::string(name) + "()", call);
  return "loan, commit, view and release are InvalidArgument";
}

}  // namespace ipcmark::conform
