// `ipcmark conform` on built-in transports (plugins: plugin_test.cpp): shm's point-to-point
// clauses once per wait asked for, named shm/<wait>, its fanout clauses with block only; a
// transport without wait modes once, named as in `ipcmark list`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/processes.hpp"

namespace ipcmark {
namespace {

using testing::ipcmark;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(Conform, ChecksShmOncePerWaitAndOtherTransportsOnce) {
  const auto r = ipcmark({"conform", "--transports", "shm,pipe", "--wait", "sem,block"}, 120);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("pass shm/sem MessagesOfOneByteMidAndMaxSizeArriveWholeInOrderOnceAcrossProcesses"));
  EXPECT_THAT(r.out, HasSubstr("pass shm/block APeerThatDiesMidStreamIsReportedAsPeerGoneNotAHang"));
  EXPECT_THAT(r.out, HasSubstr("pass shm/block EveryReaderGetsEveryMessageWholeAndInOrder"));
  EXPECT_THAT(r.out, Not(HasSubstr("shm/sem EveryReaderGets")));
  EXPECT_THAT(r.out, HasSubstr("pass pipe MessagesOfOneByteMidAndMaxSizeArriveWholeInOrderOnceAcrossProcesses"));
  EXPECT_THAT(r.out, Not(HasSubstr("pipe/")));
}

}  // namespace
}  // namespace ipcmark
