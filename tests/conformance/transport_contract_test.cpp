// The contract of transports/transport.hpp, run over every transport in the registry:
// a transport added to transports/registry.cpp is tested here with no other change. shm runs it
// once per wait as well: each wakes a sleeping side its own way.
// The clauses themselves are harness/conform/transport_clauses.cpp and zero_copy_clauses.cpp
// (`ipcmark conform` runs the same code); each one is a test case here.
#include <gtest/gtest.h>

#include "tests/conformance/clause_test.hpp"
#include "tests/support/channels.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

struct Subject {
  const Transport* transport;
  WaitKind wait;
};
void PrintTo(const Subject& s, std::ostream* os) { *os << s.transport->name << "/" << to_string(s.wait); }

class TransportContract : public ::testing::TestWithParam<Subject> {
 protected:
  const Transport& transport() const { return *GetParam().transport; }
  WaitKind wait() const { return GetParam().wait; }
};

// Every transport with block (the test is named after the transport alone).
std::vector<Subject> every_transport() {
  std::vector<Subject> subjects;
  for (const Transport* t : all_transports()) subjects.push_back({t, WaitKind::Block});
  return subjects;
}

// shm with every other wait (named shm_<wait>): the wake-up matrix's ways of waking a sleeper.
std::vector<Subject> every_other_shm_wait() {
  std::vector<Subject> subjects;
  for (WaitKind w : kWaitKinds)
    if (w != WaitKind::Block) subjects.push_back({find_transport("shm"), w});
  return subjects;
}

std::string subject_name(const ::testing::TestParamInfo<Subject>& info) {
  const ::testing::TestParamInfo<const Transport*> transport(info.param.transport, info.index);
  const std::string name = testing::transport_test_name(transport);
  return info.param.wait == WaitKind::Block ? name : name + "_" + std::string(to_string(info.param.wait));
}

IPCMARK_CLAUSE_TEST(TransportContract, ConnectingToAMissingChannelFailsWithDoesNotExist)
IPCMARK_CLAUSE_TEST(TransportContract, ServingAnExistingChannelFailsWithAlreadyExists)
IPCMARK_CLAUSE_TEST(TransportContract, MessagesOfOneByteMidAndMaxSizeArriveWholeInOrderOnceAcrossProcesses)
IPCMARK_CLAUSE_TEST(TransportContract, MessagesSentAndReceivedThroughCopiesArriveAsWithout)
IPCMARK_CLAUSE_TEST(TransportContract, APeerThatDiesMidStreamIsReportedAsPeerGoneNotAHang)
IPCMARK_CLAUSE_TEST(TransportContract, DestroyingTheServerRemovesEveryName)
IPCMARK_CLAUSE_TEST(TransportContract, OneShotPublicationIsReadByFetchAndRemovedAfter)
IPCMARK_CLAUSE_TEST(TransportContract, LoanedMessagesArriveWholeInOrderThroughViewsAcrossProcesses)
IPCMARK_CLAUSE_TEST(TransportContract, TransportsThatDoNotLendMemoryRefuseLoansAndViewsWithInvalidArgument)

TEST(TransportContractClauses, EveryClauseOfTheHarnessIsATestCaseHere) {
  testing::expect_every_clause_tested("TransportContract", conform::transport_clauses());
}

INSTANTIATE_TEST_SUITE_P(AllTransports, TransportContract, ::testing::ValuesIn(every_transport()), subject_name);
INSTANTIATE_TEST_SUITE_P(EveryWait, TransportContract, ::testing::ValuesIn(every_other_shm_wait()), subject_name);

}  // namespace
}  // namespace ipcmark
