// The fanout ring's reader slots over time: occupants that come and go, late doorbells, and readers
// the writer has dropped while they still held a cached tail. Threads play the readers.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/rings.hpp"
#include "transports/shm/broadcast_ring.hpp"

namespace ipcmark::shm {
namespace {

using namespace std::chrono_literals;
using namespace test_support;

constexpr std::uint32_t kMax = 100;

// A reader's process that the test ends when it likes (killed and reaped: its pid is gone).
class ReaderProcess {
 public:
  ReaderProcess() : pid_(::fork()) {
    if (pid_ == 0) {
      ::pause();
      ::_exit(0);
    }
    EXPECT_GT(pid_, 0);
  }
  ~ReaderProcess() { end(); }
  std::int32_t pid() const { return pid_; }
  void end() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    EXPECT_EQ(::waitpid(pid_, nullptr, 0), pid_);
    pid_ = -pid_;
  }

 private:
  pid_t pid_;
};

// accept() with readers still missing ends in Timeout, after it has adopted the joiners and
// (at most every kLivenessPeriod) looked at the live ones.
void attend_and_look(BroadcastWriter& writer) {
  std::this_thread::sleep_for(kLivenessPeriod + 1ms);
  EXPECT_EQ(error_from([&] { writer.accept(past()); }).code(), Errc::Timeout);
}

// close() sets the slot Closed and only then rings the closed doorbell. If the writer sees Closed
// in between (its liveness check), frees the slot and a new reader takes it, the doorbell arrives
// for the new occupant: it must change nothing.
TEST(FanoutSlots, LateClosedDoorbellOfAFormerOccupantLeavesTheNextOneAlone) {
  FanMemory memory(1024, kMax, 2);  // slot 1 stays empty, so accept() keeps looking at slot 0
  BroadcastWriter writer(memory.span(), kName);
  auto former = std::make_unique<BroadcastReader>(memory.span(), kName, 0, 0, WaitKind::Spin);
  attend_and_look(writer);
  ASSERT_EQ(writer.live_readers(), 1);

  // The first half of former's close(), by hand: its word goes Live -> Closed, no doorbell yet.
  const std::uint32_t live = memory.slot(0).state;
  ASSERT_EQ(slot_state(live), SlotState::Live);
  std::atomic_ref(memory.slot(0).state).store(slot_word(SlotState::Closed, slot_generation(live)));
  attend_and_look(writer);
  ASSERT_EQ(writer.live_readers(), 0) << "the writer saw Closed and dropped it";
  ASSERT_EQ(slot_state(memory.slot(0).state), SlotState::Free);

  BroadcastReader next(memory.span(), kName, 0, 0, WaitKind::Spin);
  attend_and_look(writer);
  next.accept(past());
  ASSERT_EQ(writer.live_readers(), 1);

  // The second half of former's close() arrives now.
  std::atomic_ref(memory.attention()).fetch_or(attention_bit(kClosedBits, 0));
  writer.send<SpinWait>(message(0, size_of(0, kMax)), past());  // the publish reads the doorbell
  EXPECT_EQ(writer.live_readers(), 1) << "the doorbell was the former occupant's";
  ASSERT_EQ(read_all<SpinWait>(next, 0, 1, kMax), "");

  former.reset();  // its close() finds the slot no longer its own and leaves it alone
  writer.send<SpinWait>(message(1, size_of(1, kMax)), past());
  EXPECT_EQ(writer.live_readers(), 1);
  EXPECT_EQ(read_all<SpinWait>(next, 1, 1, kMax), "");
  EXPECT_EQ(writer.readers_lost(), 0);
}

// A joining doorbell and a closed one of the same occupant handled in one round: the slot is
// freed once, with a new generation, and the next claimant gets its own words.
TEST(FanoutSlots, ReaderThatLeavesBeforeAdoptionFreesItsSlotForTheNext) {
  FanMemory memory(1024, kMax, 1);
  BroadcastWriter writer(memory.span(), kName);
  const std::uint32_t before = memory.slot(0).state;
  { BroadcastReader gone(memory.span(), kName, 0, 0, WaitKind::Spin); }  // joins and closes at once
  EXPECT_EQ(error_from([&] { writer.accept(past()); }).code(), Errc::Timeout);
  const std::uint32_t after = memory.slot(0).state;
  EXPECT_EQ(slot_state(after), SlotState::Free);
  EXPECT_EQ(slot_generation(after), slot_generation(before) + 1);
  BroadcastReader next(memory.span(), kName, 0, 0, WaitKind::Spin);
  writer.accept(past());
  next.accept(past());
  writer.send<SpinWait>(message(0, size_of(0, kMax)), past());
  EXPECT_EQ(read_all<SpinWait>(next, 0, 1, kMax), "");
}

// A reader the writer drops (here: its process is gone) may hold a tail it cached before; the
// writer then writes over the bytes it has not read. Whatever they now hold, it must not take them.
TEST(FanoutSlots, DroppedReaderRefusesWhatItCachedBeforeTheDrop) {
  FanMemory memory(1024, kMax, 3);  // slot 2 stays empty, so accept() looks at the live ones
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader keeper(memory.span(), kName, 0, 0, WaitKind::Spin);
  ReaderProcess process;
  BroadcastReader stale(memory.span(), kName, 1, process.pid(), WaitKind::Spin);
  attend_and_look(writer);
  ASSERT_EQ(writer.live_readers(), 2);
  for (std::uint64_t seq = 0; seq < 5; ++seq) writer.send<SpinWait>(message(seq, size_of(seq, kMax)), past());
  ASSERT_EQ(read_all<SpinWait>(stale, 0, 1, kMax), "") << "this read caches the tail of all five";

  process.end();
  attend_and_look(writer);
  ASSERT_EQ(writer.live_readers(), 1) << "dropped: its process is gone";
  std::uint64_t read = 0;
  send_with_reader(writer, keeper, 5, 60, kMax, read);  // several rings over stale's unread bytes

  std::vector<std::byte> out(kMax);
  const Error e = error_from([&] { stale.receive<SpinWait>(out, past()); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  EXPECT_TRUE(contains(e, "dropped reader 1")) << e.what();
}

// The same for a view: taken while the reader was live, the drop and the overwrite happen while
// the caller holds it, and release() says so.
TEST(FanoutSlots, ViewHeldAcrossADropIsRefusedOnRelease) {
  FanMemory memory(1024, kMax, 3);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader keeper(memory.span(), kName, 0, 0, WaitKind::Spin);
  ReaderProcess process;
  BroadcastReader stale(memory.span(), kName, 1, process.pid(), WaitKind::Spin);
  attend_and_look(writer);
  writer.send<SpinWait>(message(0, size_of(0, kMax)), past());
  const std::span<const std::byte> seen = stale.view<SpinWait>(past());
  ASSERT_TRUE(has_contents(seen, 0));
  process.end();
  attend_and_look(writer);
  ASSERT_EQ(writer.live_readers(), 1);
  std::uint64_t read = 0;
  send_with_reader(writer, keeper, 1, 60, kMax, read);
  const Error e = error_from([&] { stale.release(); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
}

// ---- churn: readers join and leave while the writer streams --------------------------------------

// Message `seq` carries seq in its first 8 bytes (so a reader that joins mid-stream knows where it
// is) and the pattern of seq after them.
std::vector<std::byte> numbered(std::uint64_t seq) {
  std::vector<std::byte> bytes = message(seq, 8 + size_of(seq, kMax - 8));
  std::memcpy(bytes.data(), &seq, sizeof seq);
  return bytes;
}

// Empty when `bytes` is message `expected` (any, for the first one a reader sees), whole.
std::string check_numbered(std::span<const std::byte> bytes, std::uint64_t& expected, bool first) {
  std::uint64_t seq = 0;
  if (bytes.size() < sizeof seq) return "a message of " + std::to_string(bytes.size()) + " bytes";
  std::memcpy(&seq, bytes.data(), sizeof seq);
  if (!first && seq != expected)
    return "message " + std::to_string(seq) + " where " + std::to_string(expected) + " was due";
  bool whole = bytes.size() == 8 + size_of(seq, kMax - 8);
  for (std::size_t i = sizeof seq; whole && i < bytes.size(); ++i) whole = bytes[i] == pattern(seq, i);
  if (!whole) return "message " + std::to_string(seq) + " is torn";
  expected = seq + 1;
  return "";
}

// Readers 1..3 join, read 0 to 7 messages, and leave, over and over (10,000 times in all), while
// reader 0 reads the whole stream and the writer sends without pause. No reader may be dropped,
// see a message out of order or torn, or be kept out of its slot for good; the writer never
// counts a reader that read all it was given as lost. Blocking waits: seven threads on two CPUs.
TEST(FanoutChurn, TenThousandJoinsAndLeavesUnderLoadDropNoHealthyReader) {
  constexpr int kChurners = 3;
  constexpr int kCycles = 10'000;
  FanMemory memory(4096, kMax, 1 + kChurners);
  BroadcastWriter writer(memory.span(), kName);
  std::atomic<int> cycles{0};
  std::atomic<bool> failed{false};
  std::atomic<bool> reader0_live{false};
  std::vector<std::string> problems(1 + kChurners);
  const auto fail = [&](int who, std::string what) {
    problems[who] = std::move(what);
    failed = true;
  };

  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // reader 0: the whole stream, until the writer closes
    try {
      BroadcastReader reader(memory.span(), kName, 0, 0, WaitKind::Block);
      reader.accept(generous());
      reader0_live = true;
      std::vector<std::byte> out(kMax);
      std::uint64_t expected = 0;
      for (bool first = true;; first = false) {
        const std::size_t n = reader.receive<BlockWait>(out, generous());
        if (std::string p = check_numbered(std::span(out).first(n), expected, first); !p.empty())
          return fail(0, "reader 0: " + p);
      }
    } catch (const Error& e) {
      if (e.code() != Errc::PeerGone || !contains(e, "closed it")) fail(0, std::string("reader 0: ") + e.what());
    }
  });
  for (int slot = 1; slot <= kChurners; ++slot)
    threads.emplace_back([&, slot] {
      std::vector<std::byte> out(kMax);
      for (std::uint64_t round = 0; cycles.fetch_add(1) < kCycles && !failed; ++round) {
        try {
          // The writer frees a closed slot when it next looks at the doorbells; until then the
          // slot is still taken.
          std::unique_ptr<BroadcastReader> reader;
          const Deadline deadline = generous();
          while (!reader) {
            try {
              reader = std::make_unique<BroadcastReader>(memory.span(), kName, slot, 0, WaitKind::Block);
            } catch (const Error& e) {
              if (e.code() != Errc::AlreadyExists || Clock::now() > deadline) throw;
              std::this_thread::yield();
            }
          }
          reader->accept(generous());
          std::uint64_t expected = 0;
          for (std::uint64_t i = 0; i < (round * 7 + slot) % 8; ++i) {
            const std::size_t n = reader->receive<BlockWait>(out, generous());
            if (std::string p = check_numbered(std::span(out).first(n), expected, i == 0); !p.empty())
              return fail(slot, "reader " + std::to_string(slot) + ", round " + std::to_string(round) + ": " + p);
          }
        } catch (const Error& e) {
          return fail(slot, "reader " + std::to_string(slot) + ", round " + std::to_string(round) + ": " + e.what());
        }
      }
    });

  // Reader 0 must be live before the first message, or a moment with only churners, all gone,
  // would end the stream ("every reader has gone"). accept() adopts whoever has joined meanwhile.
  while (!reader0_live && !failed) {
    try {
      writer.accept(Clock::now() + 1ms);
    } catch (const Error& e) {
      if (e.code() != Errc::Timeout) fail(0, std::string("writer: ") + e.what());
    }
  }
  std::uint64_t seq = 0;
  try {
    while (cycles.load() < kCycles + kChurners && !failed) writer.send<BlockWait>(numbered(seq++), generous());
  } catch (const Error& e) {
    fail(0, std::string("writer: ") + e.what());
  }
  writer.close();
  for (auto& t : threads) t.join();
  for (const std::string& p : problems) EXPECT_EQ(p, "");
  EXPECT_GE(cycles.load(), kCycles);
  EXPECT_GT(seq, std::uint64_t{kCycles}) << "the writer streamed throughout";
}

}  // namespace
}  // namespace ipcmark::shm
