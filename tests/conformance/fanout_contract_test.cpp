// The fanout contract (FanoutWriter in transports/transport.hpp) over every transport in
// the registry, native (shm, zmq) or generic (one channel per reader). The clauses are
// harness/conform/fanout_clauses.cpp (`ipcmark conform` runs the same code).
#include <gtest/gtest.h>

#include <csignal>

#include "tests/conformance/clause_test.hpp"
#include "tests/support/channels.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

class FanoutContract : public ::testing::TestWithParam<const Transport*> {
 protected:
  // As in `ipcmark`: a reader that vanished is EPIPE on a pipe, not a killed test.
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }
  const Transport& transport() const { return *GetParam(); }
  static WaitKind wait() { return WaitKind::Block; }  // the fanout ring takes spin and block only
};

IPCMARK_CLAUSE_TEST(FanoutContract, EveryReaderGetsEveryMessageWholeAndInOrder)
IPCMARK_CLAUSE_TEST(FanoutContract, AReaderKilledMidStreamStopsNeitherTheOthersNorTheWriter)
IPCMARK_CLAUSE_TEST(FanoutContract, ServingTwiceIsAlreadyExistsAndAMissingChannelIsDoesNotExist)
IPCMARK_CLAUSE_TEST(FanoutContract, ReaderCountsOutsideOneToSixteenAreInvalid)
IPCMARK_CLAUSE_TEST(FanoutContract, TheWriterOnlySendsAndAReaderOnlyReceives)
IPCMARK_CLAUSE_TEST(FanoutContract, NamesAreGoneAfterTheWriterAndAfterRemoveFanout)

TEST(FanoutContractClauses, EveryClauseOfTheHarnessIsATestCaseHere) {
  testing::expect_every_clause_tested("FanoutContract", conform::fanout_clauses());
}

INSTANTIATE_TEST_SUITE_P(AllTransports, FanoutContract, ::testing::ValuesIn(all_transports()),
                         testing::transport_test_name);

}  // namespace
}  // namespace ipcmark
