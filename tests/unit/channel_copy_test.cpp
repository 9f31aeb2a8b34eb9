#include "harness/measure/channel_copy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "harness/measure/payload.hpp"

namespace ipcmark {
namespace {

// Whichever way each write takes (both are taken over 2,048 writes: the other way is tried every
// kTryOtherEvery), the channel's bytes and the sender's are fill_payload()'s.
TEST(ChannelFill, EveryWriteLeavesFillPayloadsBytesInTheChannelAndInTheSendersBuffer) {
  for (std::size_t size : {16, 17, 1024, 4099, 65536}) {
    ChannelFill fill;
    std::vector<std::byte> channel(size + 8), mine(size), expected(size);
    for (std::uint64_t seq = 0; seq < 2 * FasterWay::kTryOtherEvery; ++seq) {
      const auto to = std::span(channel).subspan(8, size);  // a record's payload: 8 bytes into a line
      fill.fill(to, mine, seq, seq + 5);
      fill_payload(expected, seq, seq + 5);
      ASSERT_TRUE(std::equal(expected.begin(), expected.end(), to.begin())) << size << " bytes, seq " << seq;
      ASSERT_TRUE(std::equal(expected.begin(), expected.end(), mine.begin())) << size << " bytes, seq " << seq;
    }
  }
}

// Whichever way each copy takes, the reader's bytes are the channel's and the verdict
// check_payload()'s: a flipped byte is caught by both ways.
TEST(ChannelFill, EveryWriteInPlaceLeavesFillPayloadsBytesInTheLoan) {
  for (std::size_t size : {16, 17, 1024, 4099, 65536}) {
    ChannelFill fill;
    std::vector<std::byte> channel(size + 8), scratch(size), expected(size);
    for (std::uint64_t seq = 0; seq < 2 * FasterWay::kTryOtherEvery; ++seq) {
      const auto to = std::span(channel).subspan(8, size);
      fill.fill_in_place(to, scratch, seq, 9);
      fill_payload(expected, seq, 9);
      ASSERT_TRUE(std::equal(expected.begin(), expected.end(), to.begin())) << size << " bytes, seq " << seq;
    }
  }
}

TEST(ChannelCheck, EveryCopyHasTheChannelsBytesAndCheckPayloadsVerdict) {
  for (std::size_t size : {1, 16, 17, 1024, 4099, 65536}) {
    ChannelCheck check;
    std::vector<std::byte> channel(size + 8), mine(size);
    const auto from = std::span(channel).subspan(8, size);
    for (std::uint64_t seq = 0; seq < 2 * FasterWay::kTryOtherEvery; ++seq) {
      if (size >= kPayloadHeader) fill_payload(from, seq, 3);
      const bool broken = seq % 3 == 0 && size > kPayloadHeader;
      if (broken) from[size - 1] ^= std::byte{0x40};
      const PayloadCheck got = check.copy(mine, from);
      ASSERT_TRUE(std::equal(from.begin(), from.end(), mine.begin())) << size << " bytes, seq " << seq;
      ASSERT_EQ(got.intact, size >= kPayloadHeader && !broken) << size << " bytes, seq " << seq;
      if (size >= kPayloadHeader) {
        ASSERT_EQ(got.sequence, seq);
      }
    }
  }
}

TEST(FasterWay, TriesTheOtherWayOnceInEveryKTryOtherEveryTurnsAndTimesTheChosenOneInKSampleEvery) {
  FasterWay way;
  int other = 0, timed = 0;
  for (std::uint64_t i = 0; i < 4 * FasterWay::kTryOtherEvery; ++i) {
    const FasterWay::Turn turn = way.next();
    other += turn.way != FasterWay::Staged;
    timed += turn.timed;
  }
  EXPECT_EQ(way.chosen(), FasterWay::Staged) << "nothing learnt, nothing changes";
  EXPECT_EQ(other, 4);
  // The tries fall on turns the chosen way would have been timed in.
  EXPECT_EQ(timed, 4 * static_cast<int>(FasterWay::kTryOtherEvery / FasterWay::kSampleEvery));
}

TEST(FasterWay, TakesTheOtherWayWhenItsTryIsClearlyCheaperAndComesBackWhenItGetsDearer) {
  FasterWay way;
  way.learn(FasterWay::Staged, 1.0);
  way.learn(FasterWay::Straight, 0.97);  // within the margin: noise
  EXPECT_EQ(way.chosen(), FasterWay::Staged);
  way.learn(FasterWay::Straight, 0.90);
  EXPECT_EQ(way.chosen(), FasterWay::Straight);
  way.learn(FasterWay::Straight, 0.90);
  EXPECT_EQ(way.chosen(), FasterWay::Straight);
  way.learn(FasterWay::Straight, 8.0);  // the vCPUs moved apart: seen at the second timing
  EXPECT_EQ(way.chosen(), FasterWay::Straight);
  way.learn(FasterWay::Straight, 8.0);
  EXPECT_EQ(way.chosen(), FasterWay::Staged);
}

TEST(FasterWay, OneSlowTimingOfTheChosenWayDoesNotMakeItLeave) {
  FasterWay way;
  for (int i = 0; i < 3; ++i) way.learn(FasterWay::Staged, 1.0);
  way.learn(FasterWay::Straight, 3.0);  // tried: dearer
  way.learn(FasterWay::Staged, 20.0);   // an interrupt
  EXPECT_EQ(way.chosen(), FasterWay::Staged);
  way.learn(FasterWay::Staged, 1.0);
  way.learn(FasterWay::Staged, 1.0);
  way.learn(FasterWay::Staged, 20.0);  // one slow timing in the last three again
  EXPECT_EQ(way.chosen(), FasterWay::Staged);
  way.learn(FasterWay::Staged, 20.0);  // two in the last three: staged has got dearer
  EXPECT_EQ(way.chosen(), FasterWay::Straight);
}

}  // namespace
}  // namespace ipcmark
