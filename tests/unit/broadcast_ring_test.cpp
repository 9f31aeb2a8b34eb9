// The shm fanout: the broadcast ring over a plain 128-aligned buffer (threads play the readers),
// its validation against hostile slot and record values, and the Transport hooks over real
// regions, with forked reader processes (children _exit, never return into gtest).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/rings.hpp"
#include "transports/fanout.hpp"
#include "transports/shm/broadcast_ring.hpp"
#include "transports/shm/fanout.hpp"
#include "transports/shm/shm.hpp"

namespace ipcmark::shm {
namespace {

using namespace std::chrono_literals;
using namespace test_support;

// ---- every reader gets every message ----------------------------------------------------------

struct StreamCase {
  int readers;
  WaitKind wait;
};

class FanoutStream : public ::testing::TestWithParam<StreamCase> {};

template <class Wait>
void stream(int readers, WaitKind wait) {
  constexpr std::uint64_t kMessages = 100'000;
  constexpr std::uint32_t kMax = 300;
  FanMemory memory(64 * 1024, kMax, readers, wait == WaitKind::Spin ? kWaitsSpin : kWaitsBlock);
  BroadcastWriter writer(memory.span(), kName);
  std::vector<std::string> problems(readers);
  std::vector<std::thread> threads;
  for (int r = 0; r < readers; ++r)
    threads.emplace_back([&, r] {
      try {
        BroadcastReader reader(memory.span(), kName, r, static_cast<std::int32_t>(::getpid()), wait);
        reader.accept(generous());
        problems[r] = read_all<Wait>(reader, 0, kMessages, kMax);
      } catch (const Error& e) {
        problems[r] = e.what();
      }
    });
  writer.accept(generous());
  for (std::uint64_t seq = 0; seq < kMessages; ++seq) writer.send<Wait>(message(seq, size_of(seq, kMax)), generous());
  for (auto& t : threads) t.join();
  for (int r = 0; r < readers; ++r) EXPECT_EQ(problems[r], "") << "reader " << r;
  EXPECT_EQ(writer.readers_lost(), 0) << "readers that read everything and closed are not lost";
}

TEST_P(FanoutStream, EveryReaderGetsEveryMessageWholeAndInOrder) {
  if (GetParam().wait == WaitKind::Spin)
    stream<SpinWait>(GetParam().readers, GetParam().wait);
  else
    stream<BlockWait>(GetParam().readers, GetParam().wait);
}

INSTANTIATE_TEST_SUITE_P(ReadersAndWaits, FanoutStream,
                         ::testing::Values(StreamCase{2, WaitKind::Spin}, StreamCase{2, WaitKind::Block},
                                           StreamCase{4, WaitKind::Spin}, StreamCase{4, WaitKind::Block}),
                         [](const auto& info) {
                           return std::to_string(info.param.readers) + "Readers" +
                                  (info.param.wait == WaitKind::Spin ? "Spin" : "Block");
                         });

// ---- back-pressure and departures, single-threaded --------------------------------------------

TEST(FanoutRing, WriterWaitsForTheSlowestReaderAndNothingIsLost) {
  constexpr std::uint32_t kMax = 100;
  FanMemory memory(1024, kMax, 2);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader fast(memory.span(), kName, 0, 0, WaitKind::Spin);
  BroadcastReader paused(memory.span(), kName, 1, 0, WaitKind::Spin);
  writer.accept(past());
  std::uint64_t sent = 0;
  std::uint64_t fast_read = 0;
  // Send until full; the fast reader keeps up, the paused one reads nothing.
  for (;;) {
    try {
      writer.send<SpinWait>(message(sent, size_of(sent, kMax)), past());
      ++sent;
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), Errc::Timeout) << e.what();
      EXPECT_TRUE(contains(e, "reader 1 is")) << e.what();
      break;
    }
    ASSERT_EQ(read_all<SpinWait>(fast, fast_read, 1, kMax), "");
    ++fast_read;
  }
  ASSERT_GT(sent, 5u);
  EXPECT_GT(memory.tail(), 1024u - 2 * record_bytes(kMax)) << "the ring was used up to the paused reader";
  // The paused reader then gets every message, from the first, whole.
  ASSERT_EQ(read_all<SpinWait>(paused, 0, sent, kMax), "");
  writer.send<SpinWait>(message(sent, size_of(sent, kMax)), past());  // room again
  ASSERT_EQ(read_all<SpinWait>(fast, sent, 1, kMax), "");
  ASSERT_EQ(read_all<SpinWait>(paused, sent, 1, kMax), "");
  EXPECT_EQ(writer.readers_lost(), 0);
}

TEST(FanoutRing, ClosedReaderIsDroppedCountedAndTheWriterContinues) {
  constexpr std::uint32_t kMax = 100;
  FanMemory memory(1024, kMax, 2);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader live(memory.span(), kName, 0, 0, WaitKind::Spin);
  auto leaving = std::make_unique<BroadcastReader>(memory.span(), kName, 1, 0, WaitKind::Spin);
  writer.accept(past());
  std::uint64_t read = 0;
  send_with_reader(writer, live, 0, 3, kMax, read);
  leaving.reset();  // closes with 3 messages unread
  send_with_reader(writer, live, 3, 200, kMax, read);  // many times the ring
  EXPECT_EQ(writer.readers_lost(), 1);
  EXPECT_EQ(writer.live_readers(), 1);
  EXPECT_EQ(slot_state(memory.slot(1).state), SlotState::Free) << "the slot is released";
  ASSERT_EQ(read_all<SpinWait>(live, read, 203 - read, kMax), "");
}

TEST(FanoutRing, ReaderThatClosesAfterReadingEverythingIsNotLost) {
  FanMemory memory(1024, 100, 2);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader stays(memory.span(), kName, 0, 0, WaitKind::Spin);
  auto done = std::make_unique<BroadcastReader>(memory.span(), kName, 1, 0, WaitKind::Spin);
  writer.accept(past());
  writer.send<SpinWait>(message(0, size_of(0, 100)), past());
  ASSERT_EQ(read_all<SpinWait>(*done, 0, 1, 100), "");
  done.reset();
  EXPECT_EQ(writer.readers_lost(), 0);
  writer.send<SpinWait>(message(1, size_of(1, 100)), past());  // this one it misses
  EXPECT_EQ(writer.readers_lost(), 1);
}

TEST(FanoutRing, DeadReaderProcessIsDroppedWhileTheWriterWaits) {
  for (const WaitKind wait : {WaitKind::Spin, WaitKind::Block}) {
    const pid_t child = ::fork();  // the reader process of slot 1, which will die
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::pause();
      ::_exit(0);
    }
    constexpr std::uint32_t kMax = 100;
    FanMemory memory(1024, kMax, 2);
    BroadcastWriter writer(memory.span(), kName);
    BroadcastReader live(memory.span(), kName, 0, 0, WaitKind::Spin);
    BroadcastReader dead(memory.span(), kName, 1, child, WaitKind::Block);  // never reads
    writer.accept(past());
    ::kill(child, SIGKILL);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // reaped: its pid is gone
    std::string problem;
    std::thread reader([&] { problem = read_all<SpinWait>(live, 0, 300, kMax); });
    for (std::uint64_t seq = 0; seq < 300; ++seq) {
      if (wait == WaitKind::Spin)
        writer.send<SpinWait>(message(seq, size_of(seq, kMax)), generous());
      else
        writer.send<BlockWait>(message(seq, size_of(seq, kMax)), generous());
    }
    reader.join();
    EXPECT_EQ(problem, "");
    EXPECT_EQ(writer.readers_lost(), 1);
    EXPECT_EQ(writer.live_readers(), 1);
  }
}

TEST(FanoutRing, EveryReaderGoneIsPeerGone) {
  FanMemory memory(1024, 100, 1);
  BroadcastWriter writer(memory.span(), kName);
  auto reader = std::make_unique<BroadcastReader>(memory.span(), kName, 0, 0, WaitKind::Spin);
  writer.accept(past());
  reader.reset();
  Error e(Errc::System, "");
  for (int i = 0; i < 3; ++i) {  // the publish after the close notices it at the latest
    try {
      writer.send<SpinWait>(message(i, 10), past());
    } catch (const Error& caught) {
      e = caught;
      break;
    }
  }
  EXPECT_EQ(e.code(), Errc::PeerGone);
  EXPECT_STREQ(e.what(), "every reader has gone");
  EXPECT_EQ(writer.readers_lost(), 1);
}

TEST(FanoutRing, ReaderDrainsThenSeesTheWriterGone) {
  FanMemory memory(1024, 100, 1);
  auto writer = std::make_unique<BroadcastWriter>(memory.span(), kName);
  BroadcastReader reader(memory.span(), kName, 0, 0, WaitKind::Block);
  writer->accept(past());
  for (int i = 0; i < 3; ++i) writer->send<SpinWait>(message(i, size_of(i, 100)), past());
  writer.reset();
  ASSERT_EQ(read_all<BlockWait>(reader, 0, 3, 100), "");
  std::vector<std::byte> out(100);
  const Error e = error_from([&] { reader.receive<BlockWait>(out, generous()); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  EXPECT_TRUE(contains(e, "closed it")) << e.what();
  EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(out, past()); }).code(), Errc::PeerGone);
}

TEST(FanoutRing, ReceiveTimesOutAndTakesItsSleepingBitDown) {
  FanMemory memory(1024, 100, 1);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader reader(memory.span(), kName, 0, 0, WaitKind::Block);
  writer.accept(past());
  std::vector<std::byte> out(100);
  const Error e = error_from([&] { reader.receive<BlockWait>(out, Clock::now() + 20ms); });
  EXPECT_EQ(e.code(), Errc::Timeout);
  EXPECT_STREQ(e.what(), "timed out waiting for data");
  EXPECT_EQ(memory.attention(), 0u);
}

TEST(FanoutRing, LateReaderStartsAtTheWritersCurrentPosition) {
  constexpr std::uint32_t kMax = 100;
  FanMemory memory(1024, kMax, 2);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader first(memory.span(), kName, 0, 0, WaitKind::Spin);
  auto leaving = std::make_unique<BroadcastReader>(memory.span(), kName, 1, 0, WaitKind::Spin);
  writer.accept(past());
  std::uint64_t read = 0;
  send_with_reader(writer, first, 0, 3, kMax, read);
  leaving.reset();
  send_with_reader(writer, first, 3, 37, kMax, read);  // drops slot 1, then wraps the ring several times
  BroadcastReader late(memory.span(), kName, 1, 0, WaitKind::Spin);
  EXPECT_EQ(error_from([&] { late.accept(past()); }).code(), Errc::Timeout) << "adopted by the next publish only";
  for (; read < 40; ++read) ASSERT_EQ(read_all<SpinWait>(first, read, 1, kMax), "");
  send_with_reader(writer, first, 40, 1, kMax, read);  // room without waiting: adopts it after publishing 40
  late.accept(past());
  std::uint64_t late_read = 41;
  for (std::uint64_t seq = 41; seq < 70; ++seq) {  // the ring is small: both readers keep up
    writer.send<SpinWait>(message(seq, size_of(seq, kMax)), past());
    for (; read <= seq; ++read) ASSERT_EQ(read_all<SpinWait>(first, read, 1, kMax), "");
    for (; late_read <= seq; ++late_read) ASSERT_EQ(read_all<SpinWait>(late, late_read, 1, kMax), "");
  }
  EXPECT_EQ(writer.readers_lost(), 1);
}

TEST(FanoutRing, WriterAcceptTimesOutNamingHowManyJoined) {
  FanMemory memory(1024, 100, 3);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader one(memory.span(), kName, 1, 0, WaitKind::Spin);
  const Error e = error_from([&] { writer.accept(Clock::now() + 20ms); });
  EXPECT_EQ(e.code(), Errc::Timeout);
  EXPECT_STREQ(e.what(), "timed out waiting for readers of channel 'fan-test': 1 of 3 joined");
  writer.send<SpinWait>(message(0, size_of(0, 100)), past());  // the reader that joined already gets the stream
  ASSERT_EQ(read_all<SpinWait>(one, 0, 1, 100), "");
}

TEST(FanoutRing, SlotErrors) {
  FanMemory memory(1024, 100, 2);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader zero(memory.span(), kName, 0, 77, WaitKind::Spin);
  const Error taken = error_from([&] { BroadcastReader again(memory.span(), kName, 0, 0, WaitKind::Spin); });
  EXPECT_EQ(taken.code(), Errc::AlreadyExists);
  EXPECT_STREQ(taken.what(), "reader slot 0 of channel 'fan-test' is taken (by process 77)");
  const Error outside = error_from([&] { BroadcastReader r(memory.span(), kName, 2, 0, WaitKind::Spin); });
  EXPECT_EQ(outside.code(), Errc::InvalidArgument);
  EXPECT_TRUE(contains(outside, "has 2 reader slots")) << outside.what();
  EXPECT_EQ(error_from([&] { BroadcastReader r(memory.span(), kName, -1, 0, WaitKind::Spin); }).code(),
            Errc::InvalidArgument);
  writer.close();
  EXPECT_EQ(error_from([&] { BroadcastReader r(memory.span(), kName, 1, 0, WaitKind::Spin); }).code(), Errc::PeerGone);
}

TEST(FanoutRing, RefusedSizesWriteNothing) {
  FanMemory memory(1024, 100, 1);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader reader(memory.span(), kName, 0, 0, WaitKind::Spin);
  writer.accept(past());
  EXPECT_EQ(error_from([&] { writer.send<SpinWait>({}, past()); }).code(), Errc::InvalidArgument);
  EXPECT_EQ(error_from([&] { writer.send<SpinWait>(message(0, 101), past()); }).code(), Errc::MessageTooLarge);
  EXPECT_EQ(memory.tail(), 0u);
  writer.send<SpinWait>(message(0, 60), past());
  std::vector<std::byte> small(59);
  EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(small, past()); }).code(), Errc::InvalidArgument);
  ASSERT_EQ(read_all<SpinWait>(reader, 0, 0, 100), "");
}

TEST(FanoutRing, LoanAndViewAreZeroCopy) {
  FanMemory memory(1024, 100, 2);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader a(memory.span(), kName, 0, 0, WaitKind::Spin);
  BroadcastReader b(memory.span(), kName, 1, 0, WaitKind::Spin);
  writer.accept(past());
  for (std::uint64_t seq = 0; seq < 50; ++seq) {
    const auto bytes = message(seq, size_of(seq, 100));
    std::span<std::byte> room = writer.loan<SpinWait>(bytes.size(), past());
    std::memcpy(room.data(), bytes.data(), bytes.size());
    writer.commit();
    for (BroadcastReader* r : {&a, &b}) {
      const std::span<const std::byte> seen = r->view<SpinWait>(past());
      ASSERT_EQ(seen.size(), bytes.size());
      EXPECT_TRUE(has_contents(seen, seq));
      EXPECT_GE(seen.data(), memory.data()) << "in place";
      r->release();
    }
  }
}

// ---- hostile slots and records ------------------------------------------------------------------

struct BadCursor {
  const char* name;
  std::uint64_t (*value)(std::uint64_t tail, std::uint64_t capacity);
};

void PrintTo(const BadCursor& bad, std::ostream* os) { *os << bad.name; }

class HostileCursor : public ::testing::TestWithParam<BadCursor> {};

TEST_P(HostileCursor, DropsThatReaderOnly) {
  constexpr std::uint32_t kMax = 100;
  FanMemory memory(1024, kMax, 2);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader honest(memory.span(), kName, 0, 0, WaitKind::Spin);
  BroadcastReader hostile(memory.span(), kName, 1, 0, WaitKind::Spin);
  writer.accept(past());
  for (std::uint64_t seq = 0; seq < 30; ++seq) {  // both keep up; the ring wraps
    writer.send<SpinWait>(message(seq, size_of(seq, kMax)), past());
    ASSERT_EQ(read_all<SpinWait>(honest, seq, 1, kMax), "");
    ASSERT_EQ(read_all<SpinWait>(hostile, seq, 1, kMax), "");
  }
  ASSERT_GT(memory.tail(), 1024u + 8);
  memory.slot(1).cursor = GetParam().value(memory.tail(), 1024);
  std::uint64_t read = 30;
  send_with_reader(writer, honest, 30, 100, kMax, read);
  EXPECT_EQ(writer.readers_lost(), 1);
  EXPECT_EQ(writer.live_readers(), 1);
  std::vector<std::byte> out(kMax);
  const Error e = error_from([&] { hostile.receive<SpinWait>(out, past()); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  EXPECT_TRUE(contains(e, "dropped reader 1")) << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    Values, HostileCursor,
    ::testing::Values(BadCursor{"AheadOfTheTail", [](std::uint64_t t, std::uint64_t c) { return t + 64 * c; }},
                      BadCursor{"Misaligned", [](std::uint64_t t, std::uint64_t) { return t - 4; }},
                      BadCursor{"MoreThanTheCapacityBehind", [](std::uint64_t t, std::uint64_t c) { return t - c - 8; }},
                      BadCursor{"Huge", [](std::uint64_t, std::uint64_t) { return ~std::uint64_t{0}; }}),
    [](const auto& info) { return std::string(info.param.name); });

struct BadRecord {
  const char* name;
  std::uint32_t length;
  std::uint32_t kind;
  const char* detail;
};

void PrintTo(const BadRecord& bad, std::ostream* os) { *os << bad.name; }

class HostileRecord : public ::testing::TestWithParam<BadRecord> {};

TEST_P(HostileRecord, ReaderReportsCorrupt) {
  FanMemory memory(1024, 100, 1);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader reader(memory.span(), kName, 0, 0, WaitKind::Spin);
  writer.accept(past());
  writer.send<SpinWait>(message(0, 40), past());
  const RecordHeader bad{GetParam().length, GetParam().kind};
  std::memcpy(memory.data(), &bad, sizeof bad);
  std::vector<std::byte> out(100);
  const Error e = error_from([&] { reader.receive<SpinWait>(out, past()); });
  EXPECT_EQ(e.code(), Errc::Corrupt) << e.what();
  EXPECT_TRUE(contains(e, "corrupt fanout region of channel 'fan-test': ")) << e.what();
  EXPECT_TRUE(contains(e, GetParam().detail)) << e.what();
}

INSTANTIATE_TEST_SUITE_P(
    Values, HostileRecord,
    ::testing::Values(BadRecord{"HugeLength", 0xffff'fff0u, 1, "is outside 1..100"},
                      BadRecord{"ZeroLength", 0, 1, "is outside 1..100"},
                      BadRecord{"PastTheTail", 100, 1, "extends past the tail"},
                      BadRecord{"UnknownKind", 8, 7, "unknown record kind 7"},
                      BadRecord{"PaddingNotToTheWrap", 8, 2, "does not end at the wrap point"},
                      BadRecord{"PaddingPastTheTail", 1016, 2, "extends past the tail (48 bytes published)"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(FanoutRing, HostileTailIsCorruptForTheReader) {
  FanMemory memory(1024, 100, 1);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader reader(memory.span(), kName, 0, 0, WaitKind::Spin);
  writer.accept(past());
  std::vector<std::byte> out(100);
  for (const std::uint64_t tail : {std::uint64_t{12}, std::uint64_t{1024 + 8}, ~std::uint64_t{0} - 7}) {
    memory.writer_block().tail = tail;
    EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(out, past()); }).code(), Errc::Corrupt) << tail;
  }
}

// The SPSC ring's rule, from the same codec: padding precedes only a record that did not fit, so
// one from offset 0 to the wrap point (which would bring the reader round to itself) is corrupt.
TEST(FanoutRing, PaddingWhereAnyRecordWouldHaveFittedIsCorrupt) {
  FanMemory memory(1024, 100, 1);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader reader(memory.span(), kName, 0, 0, WaitKind::Spin);
  writer.accept(past());
  const RecordHeader whole_ring{1024 - 8, static_cast<std::uint32_t>(RecordKind::Padding)};
  std::memcpy(memory.data(), &whole_ring, sizeof whole_ring);
  memory.writer_block().tail = 1024;  // a full ring published
  std::vector<std::byte> out(100);
  const Error e = error_from([&] { reader.receive<SpinWait>(out, past()); });
  EXPECT_EQ(e.code(), Errc::Corrupt) << e.what();
  EXPECT_TRUE(contains(e, "where any record would have fitted")) << e.what();
}

TEST(FanoutRing, HostileAttentionBitsAndSlotStatesDoNotStopTheWriter) {
  constexpr std::uint32_t kMax = 100;
  FanMemory memory(1024, kMax, 3);
  BroadcastWriter writer(memory.span(), kName);
  BroadcastReader a(memory.span(), kName, 0, 0, WaitKind::Spin);
  BroadcastReader b(memory.span(), kName, 1, 0, WaitKind::Spin);
  BroadcastReader c(memory.span(), kName, 2, 0, WaitKind::Spin);
  writer.accept(past());
  memory.slot(5).state = 2;  // Live, in a slot beyond the reader count
  memory.slot(5).cursor = 0;
  std::atomic_ref(memory.attention()).fetch_or(~std::uint64_t{0} & ~(std::uint64_t{0b111} << kClosedBits));
  std::uint64_t read_a = 0;
  send_with_reader(writer, a, 0, 1, kMax, read_a);
  EXPECT_EQ(writer.live_readers(), 3) << "join bits of live slots and stray bits change nothing";
  EXPECT_EQ(memory.attention() >> kJoiningBits, 0u) << "doorbells and stray bits are cleared";
  memory.slot(2).state = 1234;  // garbage state in a live slot: that reader is dropped
  ASSERT_EQ(read_all<SpinWait>(b, 0, 1, kMax), "");
  std::uint64_t read_b = 1;
  for (std::uint64_t seq = 1; seq < 100; ++seq) {
    for (;;) {
      try {
        writer.send<SpinWait>(message(seq, size_of(seq, kMax)), Clock::now() + 5ms);
        break;
      } catch (const Error& e) {
        ASSERT_EQ(e.code(), Errc::Timeout) << e.what();
        for (; read_a < seq; ++read_a) ASSERT_EQ(read_all<SpinWait>(a, read_a, 1, kMax), "");
        for (; read_b < seq; ++read_b) ASSERT_EQ(read_all<SpinWait>(b, read_b, 1, kMax), "");
      }
    }
  }
  EXPECT_EQ(writer.live_readers(), 2);
  EXPECT_EQ(writer.readers_lost(), 1);
}

TEST(FanoutRing, CorruptHeaderIsRejected) {
  const auto corrupt_with = [](auto&& damage) {
    FanMemory memory(1024, 100, 2);
    damage(memory.header());
    return error_from([&] { BroadcastReader r(memory.span(), kName, 0, 0, WaitKind::Spin); });
  };
  EXPECT_EQ(corrupt_with([](BroadcastHeader& h) { h.magic = 1; }).code(), Errc::Corrupt);
  EXPECT_EQ(corrupt_with([](BroadcastHeader& h) { h.version = 1; }).code(), Errc::Corrupt);
  EXPECT_EQ(corrupt_with([](BroadcastHeader& h) { h.capacity = 2048; }).code(), Errc::Corrupt);
  EXPECT_EQ(corrupt_with([](BroadcastHeader& h) { h.max_message = 600; }).code(), Errc::Corrupt);
  EXPECT_EQ(corrupt_with([](BroadcastHeader& h) { h.readers = 0; }).code(), Errc::Corrupt);
  EXPECT_EQ(corrupt_with([](BroadcastHeader& h) { h.readers = 17; }).code(), Errc::Corrupt);
  EXPECT_EQ(corrupt_with([](BroadcastHeader& h) { h.writer_pid = -3; }).code(), Errc::Corrupt);
  EXPECT_EQ(corrupt_with([](BroadcastHeader& h) { h.writer_waits = 9; }).code(), Errc::Corrupt);
}

// ---- the Transport hooks over real regions ------------------------------------------------------

std::string unique_channel(const std::string& what) { return "fan-" + what + "-" + std::to_string(::getpid()); }

bool region_exists(const std::string& channel) {
  struct stat st {};
  return ::stat(("/dev/shm/" + channel + ".fan").c_str(), &st) == 0;
}

FanoutConfig fan_config(const std::string& channel, int readers, WaitKind wait = WaitKind::Block) {
  return FanoutConfig{ChannelConfig{channel, 4096, wait}, readers};
}

TEST(ShmFanout, ServeConnectErrorsAndNames) {
  const std::string channel = unique_channel("errors");
  const Transport& shm = shm_transport();
  const ChannelConfig reader_config{channel, 4096, WaitKind::Block};
  EXPECT_EQ(error_from([&] { connect_fanout(shm, reader_config, 0); }).code(), Errc::DoesNotExist);
  {
    auto writer = serve_fanout(shm, fan_config(channel, 2));
    EXPECT_TRUE(region_exists(channel));
    EXPECT_EQ(error_from([&] { serve_fanout(shm, fan_config(channel, 2)); }).code(), Errc::AlreadyExists);
    auto r0 = connect_fanout(shm, reader_config, 0);
    const Error taken = error_from([&] { connect_fanout(shm, reader_config, 0); });
    EXPECT_EQ(taken.code(), Errc::AlreadyExists);
    EXPECT_TRUE(contains(taken, "reader slot 0 of channel '" + channel + "' is taken")) << taken.what();
    EXPECT_EQ(error_from([&] { connect_fanout(shm, reader_config, 2); }).code(), Errc::InvalidArgument);
    EXPECT_EQ(error_from([&] { connect_fanout(shm, reader_config, 16); }).code(), Errc::InvalidArgument);
    ChannelConfig too_big = reader_config;
    too_big.max_message = 4097;
    EXPECT_EQ(error_from([&] { connect_fanout(shm, too_big, 1); }).code(), Errc::MessageTooLarge);
    auto r1 = connect_fanout(shm, reader_config, 1);
    writer->accept(Clock::now() + 5s);
    r0->accept(Clock::now() + 5s);
    const std::vector<std::byte> hello = message(0, 5);
    EXPECT_EQ(error_from([&] { r0->send(hello, past()); }).code(), Errc::InvalidArgument);
    std::vector<std::byte> out(4096);
    EXPECT_EQ(error_from([&] { writer->receive(out, past()); }).code(), Errc::InvalidArgument);
    writer->send(hello, Clock::now() + 5s);
    ASSERT_EQ(r0->receive(out, Clock::now() + 5s), 5u);
    ASSERT_EQ(r1->receive(out, Clock::now() + 5s), 5u);
    EXPECT_TRUE(has_contents(std::span(out).first(5), 0));
    EXPECT_EQ(writer->readers_lost(), 0);
  }
  EXPECT_FALSE(region_exists(channel)) << "destroying the writer removes the name";
  EXPECT_FALSE(region_exists(channel + ".r0"));
}

TEST(ShmFanout, RemoveFanoutCleansUpAfterACrashedWriter) {
  const std::string channel = unique_channel("crash");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto writer = serve_fanout(shm_transport(), fan_config(channel, 1));
      ::_exit(0);  // no destructors: the name is left behind
    } catch (...) {
      ::_exit(1);
    }
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(region_exists(channel));
  // A reader of the dead writer's channel is told at once.
  const Error e = error_from([&] { connect_fanout(shm_transport(), ChannelConfig{channel, 16, WaitKind::Spin}, 0); });
  EXPECT_EQ(e.code(), Errc::PeerGone) << e.what();
  remove_fanout(shm_transport(), channel);
  EXPECT_FALSE(region_exists(channel));
  remove_fanout(shm_transport(), channel);  // none: no error
  remove_fanout(shm_transport(), std::string(199, 'x'));  // too long for the ".fan" name: no error
}

// Forked readers: each connects, receives kMessages, exits 0 when all arrived whole and in order.
// `die_after` >= 0: that reader kills itself (SIGKILL, no goodbye) after that many messages.
constexpr std::uint64_t kProcessMessages = 20'000;
constexpr std::size_t kProcessMax = 2000;

[[noreturn]] void reader_process(const std::string& channel, int reader, WaitKind wait, int die_after) {
  int code = 10;
  try {
    auto connection = connect_fanout(shm_transport(), ChannelConfig{channel, kProcessMax, wait}, reader);
    connection->accept(Clock::now() + 30s);
    std::vector<std::byte> out(kProcessMax);
    code = 0;
    for (std::uint64_t seq = 0; seq < kProcessMessages && code == 0; ++seq) {
      if (static_cast<int>(seq) == die_after) ::kill(::getpid(), SIGKILL);
      const std::size_t n = connection->receive(out, Clock::now() + 30s);
      if (n != size_of(seq, kProcessMax)) code = 11;
      else if (!has_contents(std::span(out).first(n), seq)) code = 12;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "reader %d: %s\n", reader, e.what());
    code = 13;
  } catch (...) {
    code = 14;
  }
  ::_exit(code);
}

struct ProcessCase {
  WaitKind wait;
  int die_after;  // reader 0's, or -1
};

class ShmFanoutProcesses : public ::testing::TestWithParam<ProcessCase> {};

TEST_P(ShmFanoutProcesses, ThreeReaderProcessesGetEveryMessage) {
  const ProcessCase param = GetParam();
  const std::string channel = unique_channel("procs");
  auto writer = serve_fanout(shm_transport(), FanoutConfig{ChannelConfig{channel, kProcessMax, param.wait}, 3});
  std::vector<pid_t> children;
  for (int r = 0; r < 3; ++r) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) reader_process(channel, r, param.wait, r == 0 ? param.die_after : -1);
    children.push_back(child);
  }
  struct Reap {  // on any way out: no child outlives the test
    std::vector<pid_t>& pids;
    ~Reap() {
      for (const pid_t pid : pids) {
        if (pid <= 0) continue;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reap{children};
  writer->accept(Clock::now() + 30s);
  for (std::uint64_t seq = 0; seq < kProcessMessages; ++seq)
    writer->send(message(seq, size_of(seq, kProcessMax)), Clock::now() + 30s);
  for (int r = 0; r < 3; ++r) {
    int status = 0;
    ASSERT_EQ(::waitpid(children[r], &status, 0), children[r]);
    children[r] = 0;
    if (r == 0 && param.die_after >= 0) {
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "reader 0 status " << status;
    } else {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader " << r << " status " << status;
    }
  }
  EXPECT_EQ(writer->readers_lost(), param.die_after >= 0 ? 1 : 0);
}

INSTANTIATE_TEST_SUITE_P(Waits, ShmFanoutProcesses,
                         ::testing::Values(ProcessCase{WaitKind::Block, -1}, ProcessCase{WaitKind::Spin, -1},
                                           ProcessCase{WaitKind::Block, 1000}, ProcessCase{WaitKind::Spin, 1000}),
                         [](const auto& info) {
                           return std::string(info.param.wait == WaitKind::Spin ? "Spin" : "Block") +
                                  (info.param.die_after >= 0 ? "OneKilled" : "");
                         });

}  // namespace
}  // namespace ipcmark::shm
