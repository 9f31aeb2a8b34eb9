// The contract of transports/transport.hpp, run over every transport in the registry:
// a transport added to transports/registry.cpp is tested here with no other change.
// The clauses themselves are harness/conform/transport_clauses.cpp and zero_copy_clauses.cpp
// (`ipcmark conform` runs the same code); each one is a test case here.
#include <gtest/gtest.h>

#include "tests/conformance/clause_test.hpp"
#include "tests/support/channels.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

class TransportContract : public ::testing::TestWithParam<const Transport*> {
 protected:
  const Transport& transport() const { return *GetParam(); }
};

IPCMARK_CLAUSE_TEST(TransportContract, ConnectingToAMissingChannelFailsWithDoesNotExist)
IPCMARK_CLAUSE_TEST(TransportContract, ServingAnExistingChannelFailsWithAlreadyExists)
IPCMARK_CLAUSE_TEST(TransportContract, MessagesOfOneByteMidAndMaxSizeArriveWholeInOrderOnceAcrossProcesses)
IPCMARK_CLAUSE_TEST(TransportContract, APeerThatDiesMidStreamIsReportedAsPeerGoneNotAHang)
IPCMARK_CLAUSE_TEST(TransportContract, DestroyingTheServerRemovesEveryName)
IPCMARK_CLAUSE_TEST(TransportContract, OneShotPublicationIsReadByFetchAndRemovedAfter)
IPCMARK_CLAUSE_TEST(TransportContract, LoanedMessagesArriveWholeInOrderThroughViewsAcrossProcesses)
IPCMARK_CLAUSE_TEST(TransportContract, TransportsThatDoNotLendMemoryRefuseLoansAndViewsWithInvalidArgument)

TEST(TransportContractClauses, EveryClauseOfTheHarnessIsATestCaseHere) {
  testing::expect_every_clause_tested("TransportContract", conform::transport_clauses());
}

INSTANTIATE_TEST_SUITE_P(AllTransports, TransportContract, ::testing::ValuesIn(all_transports()),
                         testing::transport_test_name);

}  // namespace
}  // namespace ipcmark
