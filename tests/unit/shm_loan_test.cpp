// The SPSC ring's zero-copy API (loan/commit, view/release) over a plain 128-aligned buffer, in one
// process: round trips, the wrap, what stays invisible or reserved until commit/release, refused
// sizes and misuse, corrupt records seen through view(), and two threads moving 100k messages.
#include <gtest/gtest.h>

#include <atomic>
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

const std::string kName = "loan-ring";

using namespace test_support;

void expect_corrupt(const Error& e, const std::string& detail) { test_support::expect_corrupt(e, kName, detail); }

// ---- round trips ------------------------------------------------------------------------------

TEST(ShmLoan, LoanCommitThenViewReleaseRoundTripsInPlace) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  const std::span<std::byte> loan = writer.loan<SpinWait>(40, past());
  ASSERT_EQ(loan.size(), 40u);
  EXPECT_EQ(loan.data(), memory.data() + sizeof(RecordHeader)) << "the loan is the record's payload in the ring";
  fill(loan, 7);
  writer.commit();
  EXPECT_EQ(memory.writer_block().tail, record_bytes(40));

  const std::span<const std::byte> view = reader.view<SpinWait>(past());
  EXPECT_EQ(view.data(), loan.data()) << "the reader sees the very bytes the writer wrote: no copy";
  ASSERT_EQ(view.size(), 40u);
  EXPECT_TRUE(has_contents(view, 7));
  EXPECT_EQ(memory.reader_block().head, 0u) << "a view keeps its record until release()";
  reader.release();
  EXPECT_EQ(memory.reader_block().head, record_bytes(40));
  EXPECT_EQ(error_from([&] { reader.view<SpinWait>(past()); }).code(), Errc::Timeout);
}

TEST(ShmLoan, LoansAndSendsInterleaveWithViewsAndReceives) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  std::vector<std::byte> message(30), out(64);
  for (std::uint64_t seq = 0; seq < 20; ++seq) {  // wraps several times
    if (seq % 2 == 0) {
      fill(writer.loan<SpinWait>(30, past()), seq);
      writer.commit();
    } else {
      fill(message, seq);
      writer.send<SpinWait>(message, past());
    }
    if (seq % 3 == 0) {
      ASSERT_EQ(reader.receive<SpinWait>(out, past()), 30u);
      EXPECT_TRUE(has_contents(std::span(out).first(30), seq)) << "message " << seq;
    } else {
      const std::span<const std::byte> view = reader.view<SpinWait>(past());
      ASSERT_EQ(view.size(), 30u);
      EXPECT_TRUE(has_contents(view, seq)) << "message " << seq;
      reader.release();
    }
  }
}

TEST(ShmLoan, ManyVariableSizesAcrossTheWrapArriveIntact) {
  RingMemory memory(256, 100);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  std::uint64_t sent = 0, received = 0;
  auto size_of = [](std::uint64_t seq) { return std::size_t{1} + (seq * 37) % 100; };
  auto view_one = [&] {
    const std::span<const std::byte> view = reader.view<SpinWait>(past());
    ASSERT_EQ(view.size(), size_of(received)) << "message " << received;
    ASSERT_TRUE(has_contents(view, received)) << "message " << received;
    reader.release();
    ++received;
  };
  // Bursts of 1..3 loans, so records land at every offset and often need padding before the
  // wrap; a loan that finds the ring too full (Timeout, nothing reserved) makes room by viewing one.
  for (int round = 0; round < 3000 && !HasFatalFailure(); ++round) {
    for (int i = 0; i <= round % 3; ++i, ++sent) {
      for (;;) {
        try {
          const std::span<std::byte> loan = writer.loan<SpinWait>(size_of(sent), past());
          ASSERT_EQ(loan.size(), size_of(sent));
          ASSERT_GE(loan.data(), memory.data());
          ASSERT_LE(loan.data() + loan.size(), memory.data() + 256) << "a loan never straddles the wrap";
          fill(loan, sent);
          writer.commit();
          break;
        } catch (const Error& e) {
          ASSERT_EQ(e.code(), Errc::Timeout);
          ASSERT_FALSE(writer.has_loan()) << "a loan that timed out must leave no loan behind";
          ASSERT_LT(received, sent);
          view_one();
        }
      }
    }
    while (received < sent && !HasFatalFailure()) view_one();
  }
  EXPECT_GT(memory.writer_block().tail, 100u * 256) << "the ring should have wrapped many times";
  EXPECT_EQ(memory.writer_block().tail, memory.reader_block().head);
}

// ---- what a loan and a view hold back -------------------------------------------------------------

TEST(ShmLoan, ALoanIsInvisibleToTheReaderUntilCommit) {
  RingMemory memory(256, 120);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  for (std::uint64_t seq = 0; seq < 3; ++seq) {  // move both sides to offset 192, so the next loan pads
    fill(writer.loan<SpinWait>(56, past()), seq);
    writer.commit();
    reader.view<SpinWait>(past());
    reader.release();
  }
  fill(writer.loan<SpinWait>(100, past()), 3);  // 112 B after a 64 B padding record
  EXPECT_TRUE(writer.has_loan());
  EXPECT_EQ(memory.writer_block().tail, 192u) << "nothing is published before commit()";
  EXPECT_EQ(error_from([&] { reader.view<SpinWait>(past()); }).code(), Errc::Timeout);
  std::vector<std::byte> out(120);
  EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(out, past()); }).code(), Errc::Timeout);
  EXPECT_EQ(memory.reader_block().head, 192u) << "not even the padding is consumed before commit()";
  writer.commit();
  EXPECT_FALSE(writer.has_loan());
  EXPECT_EQ(memory.writer_block().tail, 192u + 64 + 112);
  const std::span<const std::byte> view = reader.view<SpinWait>(past());
  EXPECT_EQ(view.data(), memory.data() + sizeof(RecordHeader)) << "the record starts after the wrap";
  ASSERT_EQ(view.size(), 100u);
  EXPECT_TRUE(has_contents(view, 3));
  reader.release();
  EXPECT_EQ(memory.reader_block().head, memory.writer_block().tail);
}

TEST(ShmLoan, AViewKeepsItsRecordFromBeingOverwrittenUntilRelease) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  for (std::uint64_t seq = 0; seq < 3; ++seq) {  // 3 × 64 B: full (8 bytes stay free for the end mark)
    fill(writer.loan<SpinWait>(56, past()), seq);
    writer.commit();
  }
  const std::span<const std::byte> view = reader.view<SpinWait>(past());
  ASSERT_TRUE(has_contents(view, 0));
  // Viewed is not consumed: the writer still finds no room, with either wait.
  EXPECT_EQ(error_from([&] { writer.loan<SpinWait>(56, past()); }).code(), Errc::Timeout);
  EXPECT_EQ(error_from([&] { writer.loan<BlockWait>(56, Clock::now() + 5ms); }).code(), Errc::Timeout);
  EXPECT_FALSE(writer.has_loan());
  EXPECT_TRUE(has_contents(view, 0)) << "the viewed bytes are untouched";

  // A writer thread blocked for room goes on only after release() has made room.
  std::atomic<bool> released{false};
  bool loaned_before_release = false;
  std::string writer_error;
  std::thread blocked([&] {
    try {
      const std::span<std::byte> loan = writer.loan<BlockWait>(56, generous());
      loaned_before_release = !released.load(std::memory_order_acquire);
      if (loan.data() != memory.data() + 192 + sizeof(RecordHeader)) writer_error = "the loan is not at the tail";
      fill(loan, 4);
      writer.commit();
    } catch (const Error& e) {
      writer_error = e.what();
    }
  });
  std::this_thread::sleep_for(30ms);  // long enough for the writer to spin and go to sleep
  EXPECT_TRUE(has_contents(view, 0)) << "overwritten while still viewed";
  released.store(true, std::memory_order_release);
  reader.release();
  blocked.join();
  EXPECT_EQ(writer_error, "");
  EXPECT_FALSE(loaned_before_release) << "the writer reused viewed room before release()";
  for (std::uint64_t seq : {1, 2, 4}) {
    const std::span<const std::byte> next = reader.view<SpinWait>(past());
    EXPECT_TRUE(has_contents(next, seq)) << "message " << seq;
    reader.release();
  }
}

// ---- refused sizes and misuse -------------------------------------------------------------------

TEST(ShmLoan, SizeZeroAndAboveMaxAreRefusedBeforeAnythingIsReserved) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  const Error empty = error_from([&] { writer.loan<SpinWait>(0, generous()); });
  EXPECT_EQ(empty.code(), Errc::InvalidArgument) << empty.what();
  const Error large = error_from([&] { writer.loan<SpinWait>(65, generous()); });
  EXPECT_EQ(large.code(), Errc::MessageTooLarge);
  EXPECT_STREQ(large.what(), "message of 65 bytes exceeds the channel's max_message of 64 bytes");
  EXPECT_FALSE(writer.has_loan());
  EXPECT_EQ(memory.writer_block().tail, 0u);
  EXPECT_EQ(writer.loan<SpinWait>(64, past()).size(), 64u) << "a refused loan leaves the writer usable";
}

TEST(ShmLoan, ASecondLoanOrASendBeforeCommitIsInvalidArgument) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  fill(writer.loan<SpinWait>(16, past()), 0);
  const Error again = error_from([&] { writer.loan<SpinWait>(16, past()); });
  EXPECT_EQ(again.code(), Errc::InvalidArgument);
  EXPECT_STREQ(again.what(), "a loan of 'loan-ring' is not committed yet: commit() it before the next loan or send");
  std::vector<std::byte> message(16);
  EXPECT_EQ(error_from([&] { writer.send<SpinWait>(message, past()); }).code(), Errc::InvalidArgument);
  writer.commit();  // the first loan is intact and arrives alone
  const std::span<const std::byte> view = reader.view<SpinWait>(past());
  ASSERT_EQ(view.size(), 16u);
  EXPECT_TRUE(has_contents(view, 0));
  EXPECT_EQ(memory.writer_block().tail, record_bytes(16));
}

TEST(ShmLoan, ASecondViewOrAReceiveBeforeReleaseIsInvalidArgument) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  for (std::uint64_t seq = 0; seq < 2; ++seq) {
    fill(writer.loan<SpinWait>(16, past()), seq);
    writer.commit();
  }
  const std::span<const std::byte> view = reader.view<SpinWait>(past());
  const Error again = error_from([&] { reader.view<SpinWait>(past()); });
  EXPECT_EQ(again.code(), Errc::InvalidArgument);
  EXPECT_STREQ(again.what(), "a view of 'loan-ring' is not released yet: release() it before the next view or receive");
  std::vector<std::byte> out(64);
  EXPECT_EQ(error_from([&] { reader.receive<SpinWait>(out, past()); }).code(), Errc::InvalidArgument);
  EXPECT_TRUE(has_contents(view, 0));
  EXPECT_TRUE(reader.has_view());
  reader.release();
  EXPECT_FALSE(reader.has_view());
  ASSERT_EQ(reader.receive<SpinWait>(out, past()), 16u);
  EXPECT_TRUE(has_contents(std::span(out).first(16), 1)) << "nothing was skipped or consumed twice";
}

TEST(ShmLoan, CommitWithoutALoanAndReleaseWithoutAViewMoveNothing) {
  RingMemory memory(256, 64);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  writer.commit();
  reader.release();
  EXPECT_EQ(memory.writer_block().tail, 0u);
  EXPECT_EQ(memory.reader_block().head, 0u);
}

// ---- corrupt records seen through view() ------------------------------------------------------------

TEST(ShmLoan, CorruptRecordHeadersSeenThroughViewAreCorruptRegion) {
  struct Case {
    std::uint64_t start;  // where both indices begin
    std::uint32_t length;
    std::uint32_t kind;
    std::string detail;
  };
  const std::uint32_t data = static_cast<std::uint32_t>(RecordKind::Data);
  const std::uint32_t padding = static_cast<std::uint32_t>(RecordKind::Padding);
  const std::vector<Case> cases{
      {0, 121, data, "record length 121 at offset 0 is outside 1..120"},
      {0, 0, data, "record length 0"},
      {0, 8, 7, "unknown record kind 7"},
      {192, 100, data, "crosses the wrap point"},
      {0, 24, padding, "padding record"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.detail);
    RingMemory memory(256, 120);
    memory.writer_block().tail = memory.reader_block().head = c.start;
    RingReader reader(memory.span(), kName);
    memory.put_record(c.start % 256, c.length, c.kind);
    expect_corrupt(error_from([&] { reader.view<SpinWait>(generous()); }), c.detail);
    EXPECT_FALSE(reader.has_view()) << "a rejected record is never under view";
  }
}

// ---- two threads --------------------------------------------------------------------------------------

// The producer loans, fills and commits; the consumer checks every byte in place and releases.
template <class Wait>
void loans_between_two_threads(bool peers_may_sleep) {
  constexpr std::uint64_t kMessages = 100'000;
  constexpr std::uint32_t kMax = 200;
  auto size_of = [](std::uint64_t seq) { return std::size_t{1} + (seq * 7919) % kMax; };
  RingMemory memory(1024, kMax);
  RingWriter writer(memory.span(), kName);
  RingReader reader(memory.span(), kName);
  writer.set_peer_may_sleep(peers_may_sleep);
  reader.set_peer_may_sleep(peers_may_sleep);
  const Deadline deadline = generous();
  std::uint32_t consumer_closed = 0;  // the producer gives up (PeerGone) if the consumer fails

  std::string producer_error;
  std::thread producer([&] {
    try {
      for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
        fill(writer.loan<Wait>(size_of(seq), deadline, Peer{0, &consumer_closed}), seq);
        writer.commit();
      }
    } catch (const Error& e) {
      producer_error = e.what();
    }
  });
  std::uint64_t wrong = 0;
  std::string consumer_error;
  try {
    for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
      const std::span<const std::byte> view = reader.view<Wait>(deadline);
      if (view.size() != size_of(seq) || !has_contents(view, seq)) ++wrong;
      reader.release();
    }
  } catch (const Error& e) {
    consumer_error = e.what();
    std::atomic_ref(consumer_closed).store(1, std::memory_order_release);
  }
  producer.join();
  EXPECT_EQ(producer_error, "");
  EXPECT_EQ(consumer_error, "");
  EXPECT_EQ(wrong, 0u) << "messages arrived out of order or damaged";
  EXPECT_EQ(memory.writer_block().tail, memory.reader_block().head);
}

TEST(ShmLoan, HundredThousandLoansCrossBetweenTwoSpinningThreadsInOrder) {
  loans_between_two_threads<SpinWait>(false);
}

TEST(ShmLoan, HundredThousandLoansCrossBetweenTwoBlockingThreadsInOrder) {
  loans_between_two_threads<BlockWait>(true);
}

}  // namespace
}  // namespace ipcmark::shm
