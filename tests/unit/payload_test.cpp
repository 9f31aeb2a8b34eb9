#include "harness/payload.hpp"

#include <gtest/gtest.h>

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

TEST(Payload, BodyOfAnotherSequenceIsCaught) {
  std::vector<std::byte> a(64), b(64);
  fill_payload(a, 1, 0);
  fill_payload(b, 2, 0);
  std::copy(b.begin(), b.begin() + 8, a.begin());  // sequence 2 with the body of 1: a stale copy
  EXPECT_FALSE(check_payload(a).intact);
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
