// bip-mq against shared memory it did not write as expected: leftover, hostile or truncated
// queue objects and peer boards give Errc::Corrupt (never a crash or Boost's endless spin), and a
// peer that dies holding a queue's lock is PeerGone (never a hang).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/processes.hpp"
#include "transports/bip_mq/bip_mq.hpp"
#include "transports/bip_mq/boost_layout.hpp"
#include "transports/bip_mq/peer_board.hpp"
#include "transports/bip_mq/queue.hpp"
#include "transports/bip_mq/queue_check.hpp"
#include "transports/bip_mq/slice_time.hpp"
#include "transports/shm/region.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using namespace bip_mq;

const Transport& transport() { return bip_mq_transport(); }

void expect_corrupt(const std::function<void()>& call, const char* what) {
  try {
    call();
    ADD_FAILURE() << what << ": no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::Corrupt) << what << ": " << e.what();
  }
}

void truncate_object(const std::string& name, off_t size) {
  const int fd = ::shm_open(("/" + name).c_str(), O_RDWR, 0);
  ASSERT_GE(fd, 0) << name;
  ASSERT_EQ(::ftruncate(fd, size), 0);
  ::close(fd);
}

// A real queue's bytes, to be spoilt one field at a time.
class QueueBytes : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = testing::unique_name("ipcmark-bq-test-");
    Queue queue = Queue::create(name, name, 100, 4);
    const shm::SharedRegion region = shm::SharedRegion::open(name, 1 << 20);
    bytes_.assign(region.bytes().begin(), region.bytes().end());
  }
  Header& header() { return *reinterpret_cast<Header*>(bytes_.data() + kUserOffset); }
  std::vector<std::byte> bytes_;
};

TEST_F(QueueBytes, AFreshQueuePassesWithItsShape) {
  const QueueShape shape = check_queue(bytes_, "q");
  EXPECT_EQ(shape.max_message, 100u);
  EXPECT_EQ(shape.depth, 4u);
}

TEST_F(QueueBytes, EveryDamagedFieldIsCorrupt) {
  const std::vector<std::byte> good = bytes_;
  const Layout layout = layout_of(100, 4);
  const std::vector<std::pair<const char*, std::function<void()>>> damage{
      {"empty object", [&] { bytes_.clear(); }},
      {"half the object", [&] { bytes_.resize(bytes_.size() / 2); }},
      {"creator died while creating it", [&] { bytes_[0] = std::byte{1}; }},
      {"depth of a billion", [&] { const_cast<std::size_t&>(header().m_max_num_msg) = 1'000'000'000; }},
      {"messages larger than the object", [&] { const_cast<std::size_t&>(header().m_max_msg_size) = 1 << 20; }},
      {"more messages than slots", [&] { header().m_cur_num_msg = 5; }},
      {"first index past the end", [&] { header().m_cur_first_msg = 4; }},
      {"index moved", [&] { header().mp_index = nullptr; }},
      {"index entry outside the slots",
       [&] { std::memset(bytes_.data() + layout.index + sizeof(SlotPointer), 0x7f, sizeof(SlotPointer)); }},
      {"two entries on one slot",
       [&] {
         auto* index = reinterpret_cast<SlotPointer*>(bytes_.data() + layout.index);
         index[1] = index[0].get();
       }},
      {"a message longer than the slot",
       [&] { reinterpret_cast<MessageHeader*>(bytes_.data() + layout.slots)->len = 101; }},
  };
  for (const auto& [what, spoil] : damage) {
    bytes_ = good;
    spoil();
    expect_corrupt([&] { check_queue(bytes_, "q"); }, what);
  }
}

class HostileChannel : public ::testing::Test {
 protected:
  ChannelConfig config() const { return {channel_, 64, WaitKind::Block}; }
  void TearDown() override { transport().channel.remove(channel_); }
  std::string channel_ = testing::unique_channel();
};

TEST_F(HostileChannel, APeerBoardThatIsGarbageOrTheWrongSizeIsCorrupt) {
  auto server = transport().channel.serve(config());
  const std::string board = channel_ + ".bq-peers";
  truncate_object(board, 10);
  expect_corrupt([&] { transport().channel.connect(config()); }, "10-byte board");
  truncate_object(board, static_cast<off_t>(PeerBoard::size()));  // zeros: no magic
  expect_corrupt([&] { transport().channel.connect(config()); }, "zeroed board");
}

TEST_F(HostileChannel, AQueueLeftEmptyOrHalfMadeIsCorruptNotBoostsEndlessSpin) {
  auto server = transport().channel.serve(config());
  truncate_object(channel_ + ".bq-s2c", 0);  // Boost's open_only would wait for a size forever
  expect_corrupt([&] { transport().channel.connect(config()); }, "empty queue");
}

TEST_F(HostileChannel, ABoardTruncatedUnderAWaitingClientIsCorrupt) {
  auto server = transport().channel.serve(config());
  auto client = transport().channel.connect(config());
  truncate_object(channel_ + ".bq-peers", 0);
  std::vector<std::byte> buffer(64);
  expect_corrupt([&] { client->receive(buffer, Clock::now() + 5s); }, "truncated board");
}

TEST_F(HostileChannel, ConnectingToTheNamesOfAServerThatIsGoneIsPeerGoneNamingTheFix) {
  testing::ClientProcess crashed_server([&] {
    transport().channel.serve(config()).release();  // leaks its names, as a crash would
    return 0;
  });
  crashed_server.start();
  ASSERT_EQ(crashed_server.wait(), 0);
  try {
    transport().channel.connect(config());
    FAIL() << "connected to a channel whose server is gone";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
    EXPECT_NE(std::string(e.what()).find("ipcmark clean --channel " + channel_), std::string::npos) << e.what();
  }
}

// Boost 1.74's lock is not robust; bip-mq makes it so (queue.hpp): the server's next operation
// fails at once instead of blocking forever on a lock whose holder is dead.
TEST_F(HostileChannel, APeerThatDiesHoldingAQueueLockIsPeerGoneNotAHang) {
  // The client takes the lock only once the server has accepted: otherwise the server's accept()
  // can meet the dead owner's lock first (it did, in a loaded CI-style run) and the PeerGone
  // comes from accept(), outside the receive this test is about.
  int accepted[2];
  ASSERT_EQ(::pipe(accepted), 0);
  testing::ClientProcess client([&] {
    auto c = transport().channel.connect(config());
    c->accept(Clock::now() + 10s);
    char go = 0;
    if (::read(accepted[0], &go, 1) != 1) return 11;
    const shm::SharedRegion c2s = shm::SharedRegion::open(channel_ + ".bq-c2s", 1 << 20);
    auto* header = reinterpret_cast<Header*>(c2s.bytes().data() + kUserOffset);
    if (::pthread_mutex_lock(reinterpret_cast<pthread_mutex_t*>(&header->m_mutex)) != 0) return 10;
    ::_exit(0);  // dies holding it
    return 0;
  });
  auto server = transport().channel.serve(config());
  client.start();
  server->accept(Clock::now() + 10s);
  ASSERT_EQ(::write(accepted[1], "g", 1), 1);
  ::close(accepted[0]);
  ::close(accepted[1]);
  EXPECT_EQ(client.wait(), 0);
  std::vector<std::byte> buffer(64);
  const auto start = Clock::now();
  try {
    server->receive(buffer, Clock::now() + 20s);
    FAIL() << "received from a dead peer";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  }
  EXPECT_LT(Clock::now() - start, 5s) << "it waited on the dead peer's lock";
}

// The queues' conditions wait on CLOCK_MONOTONIC (queue.hpp): slice_end must speak that clock,
// which it takes from steady_clock.
TEST(SliceEnd, IsAMonotonicClockTimeCappedAtTheSliceAndNeverBeforeTheDeadline) {
  timespec mono{};
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  const boost::posix_time::ptime epoch(boost::gregorian::date(1970, 1, 1));
  const auto since = [&](const boost::posix_time::ptime& t) { return (t - epoch).total_microseconds(); };
  const long long now_us = static_cast<long long>(mono.tv_sec) * 1'000'000 + mono.tv_nsec / 1000;
  const long long capped = since(slice_end(Clock::now() + 1h, 10ms)) - now_us;
  EXPECT_GE(capped, 10'000);
  EXPECT_LT(capped, 1'000'000) << "not CLOCK_MONOTONIC, or not capped at the slice";
  const Deadline soon = Clock::now() + 3ms;
  EXPECT_GE(since(slice_end(soon, 10ms)) * 1000, soon.time_since_epoch().count());
  EXPECT_LE(since(slice_end(Clock::now() - 1h, 10ms)) - now_us, 1'000'000) << "a past deadline is now";
}

}  // namespace
}  // namespace ipcmark
