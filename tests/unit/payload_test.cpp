#include "harness/measure/payload.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

namespace ipcmark {
namespace {

TEST(Payload, FilledMessageChecksIntactWithItsSequenceAndStamp) {
  for (std::size_t size : {16, 17, 23, 24, 64, 4099}) {
    std::vector<std::byte> m(size);
    fill_payload(m, 42, 7);
    stamp_payload(m, 99);
    const PayloadCheck c = check_payload(m);
    EXPECT_TRUE(c.intact) << size;
    EXPECT_EQ(c.sequence, 42u);
    EXPECT_EQ(c.stamp_ns, 99u);
    EXPECT_EQ(payload_sequence(m), 42u);
  }
}

TEST(Payload, AnyFlippedBodyByteIsCaught) {
  std::vector<std::byte> m(77);
  fill_payload(m, 5, 0);
  for (std::size_t i = kPayloadHeader; i < m.size(); ++i) {
    m[i] ^= std::byte{0x10};
    EXPECT_FALSE(check_payload(m).intact) << "byte " << i;
    m[i] ^= std::byte{0x10};
  }
}

// Fill and check start word by word up to the body's first line boundary, then go by lines
// (harness/measure/payload.cpp): wherever a message sits, and wherever it is copied to, the pattern is
// the same and every byte of it is checked.
TEST(Payload, AnyPlacementInALineFillsAndChecksTheSamePattern) {
  constexpr std::size_t kSize = 200;  // a head, whole lines and a tail at every placement
  alignas(64) std::byte written[kSize + 64], copied[kSize + 64];
  for (std::size_t from = 0; from < 64; ++from) {
    const std::span<std::byte> w(written + from, kSize);
    fill_payload(w, 9, 3);
    for (std::size_t to = 0; to < 64; to += 7) {
      const std::span<std::byte> c(copied + to, kSize);
      std::copy(w.begin(), w.end(), c.begin());
      EXPECT_TRUE(check_payload(c).intact) << "filled at +" << from << ", checked at +" << to;
    }
  }
}

TEST(Payload, AnyFlippedBodyByteIsCaughtAtAnyPlacementInALine) {
  constexpr std::size_t kSize = 150;
  alignas(64) std::byte buffer[kSize + 64];
  for (std::size_t at = 0; at < 64; ++at) {
    const std::span<std::byte> m(buffer + at, kSize);
    fill_payload(m, 11, 0);
    for (std::size_t i = kPayloadHeader; i < kSize; ++i) {
      m[i] ^= std::byte{0x01};
      EXPECT_FALSE(check_payload(m).intact) << "message at +" << at << ", byte " << i;
      m[i] ^= std::byte{0x01};
    }
  }
}

TEST(Payload, BodyOfAnotherSequenceIsCaught) {
  std::vector<std::byte> a(64), b(64);
  fill_payload(a, 1, 0);
  fill_payload(b, 2, 0);
  std::copy(b.begin(), b.begin() + 8, a.begin());  // sequence 2 with the body of 1: a stale copy
  EXPECT_FALSE(check_payload(a).intact);
}

// fill_payload_in_place() stages big bodies in a private buffer and copies them in: the bytes
// must be fill_payload()'s exactly, on both sides of the threshold and at any placement, and a
// stale or torn copy must still be caught.
TEST(Payload, InPlaceFillWritesTheSameBytesAsFill) {
  for (std::size_t size : {std::size_t{16}, std::size_t{4096}, kInPlaceScratchBytes - 1, kInPlaceScratchBytes,
                           kInPlaceScratchBytes + 9, std::size_t{65536}}) {
    for (std::size_t at : {0, 8, 13}) {
      std::vector<std::byte> expected(size), got(size + at, std::byte{0x5a});
      fill_payload(expected, 77, 5);
      const std::span<std::byte> m = std::span(got).subspan(at, size);
      fill_payload_in_place(m, 77, 5);
      EXPECT_TRUE(std::equal(expected.begin(), expected.end(), m.begin())) << size << " at +" << at;
      EXPECT_TRUE(check_payload(m).intact) << size << " at +" << at;
    }
  }
}

TEST(Payload, InPlaceFillStaleOrTornIsCaught) {
  const std::size_t size = kInPlaceScratchBytes + 64;
  std::vector<std::byte> first(size), second(size);
  fill_payload_in_place(first, 1, 0);
  fill_payload_in_place(second, 2, 0);  // the staging buffer now holds sequence 2: first is not touched
  EXPECT_TRUE(check_payload(first).intact);
  std::vector<std::byte> torn = second;  // the second's head, the first's last line: torn
  std::copy(first.end() - 64, first.end(), torn.end() - 64);
  EXPECT_FALSE(check_payload(torn).intact);
  std::vector<std::byte> stale = first;  // the first's body under the second's sequence: stale
  std::copy(second.begin(), second.begin() + 8, stale.begin());
  EXPECT_FALSE(check_payload(stale).intact);
}

// copy_checking_payload() copies and checks in one pass: the copy must be byte for byte the
// source, and its verdict check_payload()'s on that copy, at every size and placement.
TEST(Payload, CheckingOnTheWayCopiesEveryByteAndAgreesWithCheck) {
  for (std::size_t size : {1, 15, 16, 17, 23, 64, 200, 4099, 65536}) {
    for (std::size_t from_at : {0, 8, 13}) {
      for (std::size_t to_at : {0, 24, 61}) {
        std::vector<std::byte> source(size + from_at), copy(size + to_at, std::byte{0x5a});
        const std::span<std::byte> m = std::span(source).subspan(from_at, size);
        if (size >= kPayloadHeader) fill_payload(m, 31, 4);
        else std::fill(m.begin(), m.end(), std::byte{0x21});
        const std::span<std::byte> c = std::span(copy).subspan(to_at, size);
        const PayloadCheck got = copy_checking_payload(c, m);
        ASSERT_TRUE(std::equal(m.begin(), m.end(), c.begin())) << size << " from +" << from_at << " to +" << to_at;
        const PayloadCheck want = check_payload(c);
        EXPECT_EQ(got.intact, want.intact) << size;
        EXPECT_EQ(got.intact, size >= kPayloadHeader) << size;
        EXPECT_EQ(got.sequence, want.sequence) << size;
        EXPECT_EQ(got.stamp_ns, want.stamp_ns) << size;
      }
    }
  }
}

TEST(Payload, CheckingOnTheWayCatchesAnyFlippedByteAtAnyPlacement) {
  constexpr std::size_t kSize = 150;  // a head, whole lines and a tail at every placement
  alignas(64) std::byte buffer[kSize + 64];
  std::vector<std::byte> copy(kSize);
  for (std::size_t at = 0; at < 64; ++at) {
    const std::span<std::byte> m(buffer + at, kSize);
    fill_payload(m, 11, 0);
    for (std::size_t i = kPayloadHeader; i < kSize; ++i) {
      m[i] ^= std::byte{0x01};
      EXPECT_FALSE(copy_checking_payload(copy, m).intact) << "message at +" << at << ", byte " << i;
      m[i] ^= std::byte{0x01};
    }
    EXPECT_TRUE(copy_checking_payload(copy, m).intact) << "message at +" << at;
  }
}

TEST(Payload, CheckingOnTheWayCatchesStaleAndTornMessages) {
  const std::size_t size = 65536;
  std::vector<std::byte> first(size), second(size), copy(size);
  fill_payload(first, 1, 0);
  fill_payload(second, 2, 0);
  std::vector<std::byte> torn = second;  // the second's head, the first's last line
  std::copy(first.end() - 64, first.end(), torn.end() - 64);
  EXPECT_FALSE(copy_checking_payload(copy, torn).intact);
  std::vector<std::byte> stale = first;  // the first's body under the second's sequence
  std::copy(second.begin(), second.begin() + 8, stale.begin());
  EXPECT_FALSE(copy_checking_payload(copy, stale).intact);
  EXPECT_TRUE(copy_checking_payload(copy, second).intact);
}

TEST(Payload, AnAnswerChecksAsAnAnswerInAnotherBufferOrInPlace) {
  for (std::size_t size : {16, 17, 23, 64, 4099, 65536}) {
    std::vector<std::byte> request(size), answer(size);
    fill_payload(request, 5, 77);
    answer_payload(answer, request);
    const PayloadCheck c = check_answer(answer);
    EXPECT_TRUE(c.intact) << size;
    EXPECT_EQ(c.sequence, 5u);
    EXPECT_EQ(c.stamp_ns, 77u);
    answer_payload(request, request);  // in place, as shm lends the request's bytes
    EXPECT_EQ(request, answer) << size;
    if (size > kPayloadHeader) {
      EXPECT_FALSE(check_payload(answer).intact) << "an answer is not the request";
    }
  }
}

TEST(Payload, AnAnswerNeverWrittenOrHalfWrittenIsCaught) {
  std::vector<std::byte> request(4096);
  fill_payload(request, 8, 1);
  EXPECT_FALSE(check_answer(request).intact) << "the request left where the answer should be";
  std::vector<std::byte> torn = request;
  answer_payload(std::span(torn).first(2048), std::span(request).first(2048));
  EXPECT_FALSE(check_answer(torn).intact) << "half answered";
  std::vector<std::byte> other(4096), answer(4096);
  fill_payload(other, 9, 1);
  answer_payload(answer, other);
  std::memcpy(answer.data(), request.data(), 8);  // sequence 8, body of 9's answer: stale
  EXPECT_FALSE(check_answer(answer).intact);
}

TEST(Payload, TooShortIsNeverIntact) {
  std::vector<std::byte> m(8);
  EXPECT_FALSE(check_payload(m).intact);
}

TEST(Payload, OneshotTextIsTheSeedMessageAtItsOwnLength) {
  EXPECT_EQ(oneshot_text(24), "The world is going down.");
  EXPECT_EQ(oneshot_text(30), "The world is going down. The w");
  EXPECT_EQ(oneshot_text(10000).size(), 10000u);
}

}  // namespace
}  // namespace ipcmark
