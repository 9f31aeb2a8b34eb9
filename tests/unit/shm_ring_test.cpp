// The SPSC ring over a plain 128-aligned buffer: the algorithm and its validation, no processes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/rings.hpp"
#include "transports/shm/spsc_ring.hpp"

namespace ipcmark::shm {
namespace {

using namespace std::chrono_literals;

const std::string kName = "test-ring";

using namespace test_support;

void expect_corrupt(const Error& e, const std::string& detail) { test_support::expect_corrupt(e, kName, detail); }

// ---- basic behaviour --------------------------------------------------------------------------

TEST(ShmRing, ReceiveOnEmptyRingTimesOutWithSpinAndBlockWaits) {
  RingMemory memory(256, 64);
  RingReader reader(memory.span(), kName);
  std::vector<std::byte> out(64);
  const Error spin = error_from([&] { reader.receive<SpinWait>(out, past()); });
  EXPECT_EQ(spin.code(), Errc::Timeout);
  EXPECT_STREQ(spin.what(), "timed out waiting for data");
  EXPECT_EQ(error_from([&] { reader.receive<BlockWait>(out, soon()); }).code(), Errc::Timeout);
  EXPECT_EQ(memory.reader_block().reader_sleeping, 0u) << "a blocked reader must take its flag down on leaving";
}

TEST(ShmRing, MaxSizeMessageRoundTrips) {
  RingMemory memory(256, 120);  // record of 120 bytes = 128 = capacity / 2
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  std::vector<std::byte> out(120);
  for (std::uint64_t seq = 0; seq < 5; ++seq) {  // several times, so the ring wraps
    writer.send<SpinWait>(message(seq, 120), past());
    ASSERT_EQ(reader.receive<SpinWait>(out, past()), 120u);
    EXPECT_TRUE(has_contents(out, seq));
  }
}

TEST(ShmRing, MessageOneByteOverMaxIsRefusedBeforeAnythingIsWritten) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  const Error e = error_from([&] { writer.send<SpinWait>(message(0, 65), generous()); });
  EXPECT_EQ(e.code(), Errc::MessageTooLarge);
  EXPECT_STREQ(e.what(), "message of 65 bytes exceeds the channel's max_message of 64 bytes");
  EXPECT_EQ(memory.writer_block().tail, 0u);
}

TEST(ShmRing, EmptyMessageIsRefusedWithInvalidArgument) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  EXPECT_EQ(error_from([&] { writer.send<SpinWait>({}, generous()); }).code(), Errc::InvalidArgument);
  EXPECT_EQ(memory.writer_block().tail, 0u);
}

TEST(ShmRing, MessageLongerThanTheReceiveBufferStaysInTheRing) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  writer.send<SpinWait>(message(0, 40), past());
  std::vector<std::byte> small(39), enough(64);
  EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(small, past()); }).code(), Errc::InvalidArgument);
  ASSERT_EQ(reader.receive<SpinWait>(enough, past()), 40u);
  EXPECT_TRUE(has_contents(std::span(enough).first(40), 0));
}

TEST(ShmRing, FullRingMakesTheWriterWaitUntilItsDeadline) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  // 3 × 64 B, then 56: the last 8 bytes stay free for the end mark (see spsc_ring.hpp).
  for (std::uint64_t seq = 0; seq < 3; ++seq) writer.send<SpinWait>(message(seq, 56), past());
  writer.send<SpinWait>(message(3, 48), past());
  const Error e = error_from([&] { writer.send<SpinWait>(message(4, 1), past()); });
  EXPECT_EQ(e.code(), Errc::Timeout);
  EXPECT_STREQ(e.what(), "timed out waiting for space");
  EXPECT_EQ(error_from([&] { writer.send<BlockWait>(message(4, 1), soon()); }).code(), Errc::Timeout);
  EXPECT_EQ(memory.writer_block().tail, 248u) << "a refused send must write nothing";
  std::vector<std::byte> out(64);
  for (std::uint64_t seq = 0; seq < 4; ++seq) {
    ASSERT_EQ(reader.receive<SpinWait>(out, past()), seq < 3 ? 56u : 48u);
    EXPECT_TRUE(has_contents(std::span(out).first(seq < 3 ? 56 : 48), seq));
  }
  EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(out, past()); }).code(), Errc::Timeout);
  writer.send<SpinWait>(message(5, 56), past());  // space again once the reader caught up
}

TEST(ShmRing, RecordThatDoesNotFitBeforeTheEndIsPrecededByPadding) {
  RingMemory memory(256, 120);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  std::vector<std::byte> out(120);
  for (std::uint64_t seq = 0; seq < 3; ++seq) {  // 3 × 64 B: the next record starts at offset 192
    writer.send<SpinWait>(message(seq, 56), past());
    ASSERT_EQ(reader.receive<SpinWait>(out, past()), 56u);
  }
  writer.send<SpinWait>(message(3, 100), past());  // 112 B do not fit in the last 64
  const RecordHeader padding = memory.record_at(192);
  EXPECT_EQ(padding.kind, static_cast<std::uint32_t>(RecordKind::Padding));
  EXPECT_EQ(padding.length, 64u - sizeof(RecordHeader));
  EXPECT_EQ(memory.record_at(0).kind, static_cast<std::uint32_t>(RecordKind::Data));
  EXPECT_EQ(memory.writer_block().tail, 192u + 64 + 112);
  ASSERT_EQ(reader.receive<SpinWait>(out, past()), 100u);
  EXPECT_TRUE(has_contents(std::span(out).first(100), 3));
}

TEST(ShmRing, ManyVariableSizesWrapAroundAndArriveIntact) {
  RingMemory memory(256, 100);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  std::vector<std::byte> out(100);
  std::uint64_t sent = 0, received = 0;
  auto size_of = [](std::uint64_t seq) { return std::size_t{1} + (seq * 37) % 100; };
  auto receive_one = [&] {
    ASSERT_EQ(reader.receive<SpinWait>(out, past()), size_of(received)) << "message " << received;
    ASSERT_TRUE(has_contents(std::span(out).first(size_of(received)), received)) << "message " << received;
    ++received;
  };
  // Bursts of 1..3 messages, so records land at every offset and often straddle the end; a send
  // that finds the ring too full (Timeout, nothing written) makes room by receiving one.
  for (int round = 0; round < 3000 && !HasFatalFailure(); ++round) {
    for (int i = 0; i <= round % 3; ++i, ++sent) {
      for (;;) {
        try {
          writer.send<SpinWait>(message(sent, size_of(sent)), past());
          break;
        } catch (const Error& e) {
          ASSERT_EQ(e.code(), Errc::Timeout);
          ASSERT_LT(received, sent);
          receive_one();
        }
      }
    }
    while (received < sent && !HasFatalFailure()) receive_one();
  }
  EXPECT_GT(memory.writer_block().tail, 100u * 256) << "the ring should have wrapped many times";
}

// ---- an untrusted header ----------------------------------------------------------------------

TEST(ShmRing, HeaderWithBadMagicIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  memory.header().magic ^= 1;
  expect_corrupt(error_from([&] { RingReader(memory.span(), kName); }), "bad magic");
  expect_corrupt(error_from([&] { RingWriter(memory.span(), kName); }), "bad magic");
}

TEST(ShmRing, UninitialisedMemoryIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  std::memset(memory.span().data(), 0, memory.span().size());
  expect_corrupt(error_from([&] { RingReader(memory.span(), kName); }), "bad magic 0x0000000000000000");
}

TEST(ShmRing, HeaderWithUnknownVersionIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  memory.header().version = kRingVersion + 1;
  expect_corrupt(error_from([&] { RingReader(memory.span(), kName); }),
                 "unsupported version " + std::to_string(kRingVersion + 1));
}

TEST(ShmRing, HeaderWithWrongHeaderSizeIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  memory.header().header_bytes = 256;
  expect_corrupt(error_from([&] { RingWriter(memory.span(), kName); }), "header_bytes is 256");
}

TEST(ShmRing, CapacityThatIsNotAPowerOfTwoIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  memory.header().capacity = 192;
  expect_corrupt(error_from([&] { RingReader(memory.span(), kName); }), "capacity 192 is not a power of two");
}

TEST(ShmRing, CapacityThatDoesNotMatchTheMappedSizeIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  memory.header().capacity = 512;
  expect_corrupt(error_from([&] { RingReader(memory.span(), kName); }), "does not match the mapped size");
  memory.header().capacity = 128;
  expect_corrupt(error_from([&] { RingWriter(memory.span(), kName); }), "does not match the mapped size");
}

TEST(ShmRing, SpanTooShortForAHeaderIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  expect_corrupt(error_from([&] { RingReader(memory.span().first(100), kName); }), "cannot hold");
}

TEST(ShmRing, MaxMessageThatDoesNotFitHalfTheRingIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  memory.header().max_message = 121;  // record of 136 > 128
  expect_corrupt(error_from([&] { RingReader(memory.span(), kName); }), "max_message 121 does not fit");
  memory.header().max_message = 0;
  expect_corrupt(error_from([&] { RingWriter(memory.span(), kName); }), "max_message 0 does not fit");
}

// ---- untrusted indices ------------------------------------------------------------------------

// The reader takes its work from record headers, never from the tail: an inconsistent tail is
// refused when a reader attaches (the ring was broken before it came), and ignored afterwards.
TEST(ShmRing, TailMoreThanCapacityAheadOfHeadIsRejectedWhenAReaderAttaches) {
  RingMemory memory(256, 64);
  memory.writer_block().tail = 256 + 8;
  expect_corrupt(error_from([&] { RingReader(memory.span(), kName); }), "more than the capacity");
}

TEST(ShmRing, TailBehindHeadIsRejectedWhenAReaderAttaches) {
  RingMemory memory(256, 64);
  memory.reader_block().head = 16;
  memory.writer_block().tail = 8;
  expect_corrupt(error_from([&] { RingReader(memory.span(), kName); }), "tail is behind head");
}

TEST(ShmRing, MisalignedTailIsRejectedWhenAReaderAttaches) {
  RingMemory memory(256, 64);
  memory.writer_block().tail = 12;
  expect_corrupt(error_from([&] { RingReader(memory.span(), kName); }), "not 8-byte aligned");
}

TEST(ShmRing, ATailScribbledAfterAttachGivesTheReaderNothing) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  std::vector<std::byte> out(64);
  writer.send<SpinWait>(message(0, 8), past());
  ASSERT_EQ(reader.receive<SpinWait>(out, past()), 8u);
  for (const std::uint64_t tail : {std::uint64_t{8}, std::uint64_t{12}, std::uint64_t{256 + 64}}) {
    memory.writer_block().tail = tail;
    EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(out, past()); }).code(), Errc::Timeout) << tail;
  }
}

// A record header left by an earlier lap must not pass for a new record: the writer zeroed the
// slot after its last record (the end mark) before publishing that record.
TEST(ShmRing, ALapOldRecordAtTheReadersHeadIsNotReadAgain) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  std::vector<std::byte> out(64);
  for (std::uint64_t seq = 0; seq < 4; ++seq) {  // 4 × 64 B: one lap, back at offset 0
    writer.send<SpinWait>(message(seq, 56), past());
    ASSERT_EQ(reader.receive<SpinWait>(out, past()), 56u);
    ASSERT_TRUE(has_contents(std::span(out).first(56), seq));
  }
  EXPECT_EQ(memory.record_at(0).kind, 0u) << "the end mark at offset 0";
  EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(out, past()); }).code(), Errc::Timeout);
  writer.send<SpinWait>(message(4, 24), past());
  ASSERT_EQ(reader.receive<SpinWait>(out, past()), 24u);
  EXPECT_TRUE(has_contents(std::span(out).first(24), 4));
}

TEST(ShmRing, HeadAheadOfTailIsRejectedAsCorruptByTheWriter) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  for (std::uint64_t seq = 0; seq < 3; ++seq) writer.send<SpinWait>(message(seq, 56), past());  // full
  memory.reader_block().head = 256 + 64;  // beyond everything written
  expect_corrupt(error_from([&] { writer.send<SpinWait>(message(3, 56), generous()); }), "tail is behind head");
}

// ---- untrusted records ------------------------------------------------------------------------

TEST(ShmRing, RecordLongerThanMaxMessageIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  RingReader reader(memory.span(), kName);
  memory.put_record(0, 65, static_cast<std::uint32_t>(RecordKind::Data));
  std::vector<std::byte> out(128);
  expect_corrupt(error_from([&] { reader.receive<SpinWait>(out, generous()); }), "record length 65 at offset 0");
}

TEST(ShmRing, RecordOfLengthZeroIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  RingReader reader(memory.span(), kName);
  memory.put_record(0, 0, static_cast<std::uint32_t>(RecordKind::Data));
  std::vector<std::byte> out(64);
  expect_corrupt(error_from([&] { reader.receive<SpinWait>(out, generous()); }), "record length 0");
}

TEST(ShmRing, RecordCrossingTheWrapPointIsRejectedAsCorrupt) {
  RingMemory memory(256, 120);
  memory.writer_block().tail = memory.reader_block().head = 192;  // both sides at offset 192
  RingReader reader(memory.span(), kName);
  memory.put_record(192, 100, static_cast<std::uint32_t>(RecordKind::Data));  // 112 B, only 64 left
  std::vector<std::byte> out(120);
  expect_corrupt(error_from([&] { reader.receive<SpinWait>(out, generous()); }), "crosses the wrap point");
}

TEST(ShmRing, PayloadWithoutAPublishedHeaderIsNotRead) {
  RingMemory memory(256, 64);
  RingReader reader(memory.span(), kName);
  memory.put_record(0, 40, 0);  // a length, but kind 0: "nothing yet"
  memory.writer_block().tail = 56;
  std::vector<std::byte> out(64);
  EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(out, past()); }).code(), Errc::Timeout);
  EXPECT_EQ(error_from([&] { reader.receive<BlockWait>(out, soon()); }).code(), Errc::Timeout);
}

// Padding only ever precedes a record that did not fit before the wrap point, so it is shorter
// than the largest record. A padding record filling the whole ring from offset 0 would otherwise
// send the reader back to offset 0, to the same padding, forever (the fuzzer found it).
TEST(ShmRing, PaddingWhereTheLargestRecordWouldFitIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  RingReader reader(memory.span(), kName);
  memory.put_record(0, 256 - sizeof(RecordHeader), static_cast<std::uint32_t>(RecordKind::Padding));
  std::vector<std::byte> out(64);
  expect_corrupt(error_from([&] { reader.receive<SpinWait>(out, generous()); }), "padding record of 248 bytes at offset 0");
  RingMemory wide(256, 64);
  wide.reader_block().head = wide.writer_block().tail = 128;  // 128 bytes to the wrap: a 72-byte record fits
  RingReader late(wide.span(), kName);
  wide.put_record(128, 128 - sizeof(RecordHeader), static_cast<std::uint32_t>(RecordKind::Padding));
  expect_corrupt(error_from([&] { late.receive<SpinWait>(out, generous()); }), "would have fitted");
}

TEST(ShmRing, RecordOfUnknownKindIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  RingReader reader(memory.span(), kName);
  memory.put_record(0, 8, 7);
  std::vector<std::byte> out(64);
  expect_corrupt(error_from([&] { reader.receive<SpinWait>(out, generous()); }), "unknown record kind 7");
}

TEST(ShmRing, PaddingThatDoesNotEndAtTheWrapPointIsRejectedAsCorrupt) {
  RingMemory memory(256, 64);
  RingReader reader(memory.span(), kName);
  memory.put_record(0, 24, static_cast<std::uint32_t>(RecordKind::Padding));
  std::vector<std::byte> out(64);
  expect_corrupt(error_from([&] { reader.receive<SpinWait>(out, generous()); }), "padding record");
}

// The reader stores head once it has freed 1/64 of the ring, and before it waits (spsc_ring.hpp).
TEST(ShmRing, RoomIsGivenBackOnceA64thOfTheRingIsReadAndBeforeTheReaderWaits) {
  RingMemory memory(4096, 64);  // gives back every 64 bytes: four records of 8-byte messages
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  for (std::uint64_t seq = 0; seq < 5; ++seq) writer.send<SpinWait>(message(seq, 8), generous());
  std::vector<std::byte> out(64);
  for (std::uint64_t seq = 0; seq < 3; ++seq) ASSERT_EQ(reader.receive<SpinWait>(out, generous()), 8u);
  EXPECT_EQ(memory.reader_block().head, 0u) << "48 bytes read: not given back yet";
  reader.receive<SpinWait>(out, generous());
  EXPECT_EQ(memory.reader_block().head, 4 * record_bytes(8));
  reader.receive<SpinWait>(out, generous());
  EXPECT_EQ(memory.reader_block().head, 4 * record_bytes(8)) << "16 bytes past the last give-back";
  EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(out, past()); }).code(), Errc::Timeout);
  EXPECT_EQ(memory.reader_block().head, memory.writer_block().tail) << "a reader about to wait gives all back";
}

// The price of giving back in batches: room the reader has read is not the writer's until then.
TEST(ShmRing, AFullRingHasRoomForTheWriterOnceTheReaderGivesItBack) {
  RingMemory memory(4096, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  const auto try_send = [&](std::uint64_t seq) {
    try {
      writer.send<SpinWait>(message(seq, 8), past());
      return true;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::Timeout) << e.what();
      return false;
    }
  };
  std::uint64_t sent = 0;
  while (try_send(sent)) ++sent;
  ASSERT_GT(sent, 200u);
  std::vector<std::byte> out(64);
  ASSERT_EQ(reader.receive<SpinWait>(out, generous()), 8u);
  EXPECT_FALSE(try_send(sent)) << "16 bytes read, not given back";
  for (std::uint64_t seq = 1; seq < 4; ++seq) ASSERT_EQ(reader.receive<SpinWait>(out, generous()), 8u);
  ASSERT_TRUE(try_send(sent++)) << "64 bytes read: given back";
  for (std::uint64_t seq = 4; seq < sent; ++seq) {
    ASSERT_EQ(reader.receive<SpinWait>(out, generous()), 8u);
    ASSERT_TRUE(has_contents(std::span(out).first(8), seq)) << seq;
  }
}

// ---- two threads ------------------------------------------------------------------------------

// A ring of 1 KiB gives room back after every record; one of 64 KiB every kilobyte or so.
template <class Wait>
void stream_between_two_threads(bool peers_may_sleep, std::uint64_t capacity = 1024) {
  constexpr std::uint64_t kMessages = 1'000'000;
  constexpr std::uint32_t kMax = 200;
  auto size_of = [](std::uint64_t seq) { return std::size_t{1} + (seq * 7919) % kMax; };
  RingMemory memory(capacity, kMax);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  writer.set_peer_may_sleep(peers_may_sleep);
  reader.set_peer_may_sleep(peers_may_sleep);
  const Deadline deadline = generous();

  std::string producer_error;
  std::thread producer([&] {
    try {
      std::vector<std::byte> out(kMax);
      for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
        const std::size_t size = size_of(seq);
        for (std::size_t i = 0; i < size; ++i) out[i] = pattern(seq, i);
        writer.send<Wait>(std::span(out).first(size), deadline);
      }
    } catch (const Error& e) {
      producer_error = e.what();
    }
  });
  std::vector<std::byte> in(kMax);
  std::uint64_t wrong = 0;
  std::string consumer_error;
  try {
    for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
      const std::size_t n = reader.receive<Wait>(in, deadline);
      if (n != size_of(seq) || !has_contents(std::span(in).first(n), seq)) ++wrong;
    }
  } catch (const Error& e) {
    consumer_error = e.what();
  }
  producer.join();
  EXPECT_EQ(producer_error, "");
  EXPECT_EQ(consumer_error, "");
  EXPECT_EQ(wrong, 0u) << "messages arrived out of order or damaged";
  EXPECT_LT(memory.writer_block().tail - memory.reader_block().head, capacity / 64 + record_bytes(kMax));
  EXPECT_EQ(error_from([&] { reader.receive<Wait>(in, past()); }).code(), Errc::Timeout);
  EXPECT_EQ(memory.writer_block().tail, memory.reader_block().head) << "all given back once the reader would wait";
}

TEST(ShmRing, MillionMessagesCrossBetweenTwoSpinningThreadsInOrder) { stream_between_two_threads<SpinWait>(false); }

TEST(ShmRing, MillionMessagesCrossBetweenTwoBlockingThreadsInOrder) { stream_between_two_threads<BlockWait>(true); }

TEST(ShmRing, MillionMessagesCrossBetweenTwoSpinningThreadsThroughARingGivenBackInBatches) {
  stream_between_two_threads<SpinWait>(false, 64 * 1024);
}

TEST(ShmRing, MillionMessagesCrossBetweenTwoBlockingThreadsThroughARingGivenBackInBatches) {
  stream_between_two_threads<BlockWait>(true, 64 * 1024);
}

}  // namespace
}  // namespace ipcmark::shm
