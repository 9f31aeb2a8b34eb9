#include "transports/bip_mq/peer_board.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <utility>

#include "transports/bip_mq/queue_check.hpp"
#include "transports/common/process.hpp"
#include "transports/names.hpp"

namespace ipcmark::bip_mq {
namespace {

constexpr std::uint64_t kMagic = 0x7165756d2d706962;  // "bip-mueq"
constexpr std::uint32_t kVersion = 1;

struct Layout {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t depth;
  std::uint64_t max_message;
  std::int32_t pid[2];            // indexed by Side
  std::uint32_t closed[2];
};
static_assert(sizeof(Layout) == 40);

Layout& layout(const shm::SharedRegion& region) { return *reinterpret_cast<Layout*>(region.bytes().data()); }
int index(Side side) { return side == Side::Server ? 0 : 1; }

}  // namespace

std::size_t PeerBoard::size() { return sizeof(Layout); }

PeerBoard::PeerBoard(shm::SharedRegion region, std::string channel)
    : region_(std::move(region)), channel_(std::move(channel)) {}

PeerBoard PeerBoard::create(const std::string& channel, const std::string& name, std::size_t max_message,
                            std::size_t depth) {
  shm::SharedRegion region = [&] {
    try {
      return shm::SharedRegion::create(name, sizeof(Layout));
    } catch (const Error& e) {
      if (e.code() == Errc::AlreadyExists) throw_channel_exists("bip-mq", channel, "/dev/shm/" + name);
      throw;
    }
  }();
  Layout& l = layout(region);
  l.version = kVersion;
  l.depth = static_cast<std::uint32_t>(depth);
  l.max_message = max_message;
  l.pid[index(Side::Server)] = ::getpid();
  // The magic last, released: a reader that sees it sees the rest.
  std::atomic_ref(l.magic).store(kMagic, std::memory_order_release);
  PeerBoard board(std::move(region), channel);
  board.max_message_ = max_message;
  board.depth_ = depth;
  return board;
}

PeerBoard PeerBoard::open(const std::string& channel, const std::string& name) {
  try {
    PeerBoard board(shm::SharedRegion::open(name, sizeof(Layout)), channel);
    board.check_header();
    return board;
  } catch (const Error& e) {
    if (e.code() == Errc::DoesNotExist)
      throw Error(Errc::DoesNotExist, "bip-mq channel '" + channel + "' does not exist (is the server running?)");
    throw;
  }
}

void PeerBoard::check_header() {
  auto corrupt = [&](const std::string& what) {
    throw Error(Errc::Corrupt, "bip-mq channel '" + channel_ + "': /dev/shm/" + region_.name() + " " + what +
                                   ": not an ipcmark peer board; remove it with `ipcmark clean --channel " + channel_ +
                                   "`");
  };
  if (region_.size() != sizeof(Layout))
    corrupt("is " + std::to_string(region_.size()) + " bytes, not " + std::to_string(sizeof(Layout)));
  const Layout& l = layout(region_);
  if (std::atomic_ref(layout(region_).magic).load(std::memory_order_acquire) != kMagic)
    corrupt("has the wrong magic number");
  if (l.version != kVersion) corrupt("is version " + std::to_string(l.version) + ", not " + std::to_string(kVersion));
  const std::uint64_t max_message = l.max_message;
  const std::uint32_t depth = l.depth;
  if (max_message == 0 || max_message > kMaxMessage || depth == 0 || depth > kMaxDepth)
    corrupt("declares " + std::to_string(depth) + " messages of " + std::to_string(max_message) + " bytes");
  region_.check_truncation();
  max_message_ = max_message;
  depth_ = depth;
  if (pid_of(Side::Server) == 0) corrupt("names no server process");
}

void PeerBoard::join_as_client() {
  std::atomic_ref slot(layout(region_).pid[index(Side::Client)]);
  std::int32_t expected = 0;
  const std::int32_t me = ::getpid();
  while (!slot.compare_exchange_strong(expected, me, std::memory_order_acq_rel)) {
    // Taken: by a live client, or by one that died (then it is ours on the next try).
    if (expected < 0) pid_of(Side::Client);  // throws Corrupt
    if (expected > 0 && !process_is_gone(expected))
      throw Error(Errc::AlreadyExists, "bip-mq channel '" + channel_ + "' already has a client (pid " +
                                           std::to_string(expected) + ")");
  }
  region_.check_truncation();
}

pid_t PeerBoard::pid_of(Side side) const {
  const std::int32_t pid = std::atomic_ref(layout(region_).pid[index(side)]).load(std::memory_order_acquire);
  region_.check_truncation();
  if (pid < 0)
    throw Error(Errc::Corrupt, "bip-mq channel '" + channel_ + "': the peer board names pid " + std::to_string(pid));
  return pid;
}

void PeerBoard::mark_closed(Side side) noexcept {
  std::atomic_ref(layout(region_).closed[index(side)]).store(1, std::memory_order_release);
}

bool PeerBoard::closed(Side side) const {
  const bool closed = std::atomic_ref(layout(region_).closed[index(side)]).load(std::memory_order_acquire) != 0;
  region_.check_truncation();
  return closed;
}

}  // namespace ipcmark::bip_mq
