#include "harness/run/scenario.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

std::string parse_error(const json& j) {
  try {
    parse_scenario(j, "test.json");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Scenario, EmptyObjectGivesTheDefaults) {
  const Scenario s = parse_scenario(json::object(), "test.json");
  const Scenario defaults;
  EXPECT_EQ(s.transports, defaults.transports);
  EXPECT_EQ(s.sizes, defaults.sizes);
  EXPECT_EQ(s.repetitions, defaults.repetitions);
}

TEST(Scenario, ReadsEveryKey) {
  const Scenario s = parse_scenario(json::parse(R"({
    "name": "x", "description": "d", "transports": ["pipe"], "patterns": ["stream"],
    "sizes": [16, 100], "messages": {"stream": 7}, "warmup_messages": 3, "repetitions": 2,
    "wait": ["spin"], "timeout_s": 9})"),
                                    "test.json");
  EXPECT_EQ(s.name, "x");
  EXPECT_EQ(s.transports, std::vector<std::string>{"pipe"});
  EXPECT_EQ(s.patterns, std::vector<Pattern>{Pattern::Stream});
  EXPECT_EQ(s.sizes, (std::vector<std::size_t>{16, 100}));
  EXPECT_EQ(s.messages[static_cast<std::size_t>(Pattern::Stream)], 7u);
  EXPECT_EQ(s.warmup_messages[static_cast<std::size_t>(Pattern::Pingpong)], 3u);
  EXPECT_EQ(s.repetitions, 2);
  EXPECT_EQ(s.waits, std::vector<WaitKind>{WaitKind::Spin});
  EXPECT_EQ(s.timeout.count(), 9);
}

struct BadScenario {
  const char* json_text;
  const char* expected_in_message;
};

class ScenarioRejects : public ::testing::TestWithParam<BadScenario> {};

TEST_P(ScenarioRejects, WithOneLineNamingFileAndKey) {
  const std::string message = parse_error(json::parse(GetParam().json_text));
  EXPECT_THAT(message, HasSubstr("test.json"));
  EXPECT_THAT(message, HasSubstr(GetParam().expected_in_message));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    BadInputs, ScenarioRejects,
    ::testing::Values(BadScenario{R"({"mesages": 5})", "unknown key"},
                      BadScenario{R"({"sizes": [0]})", "'sizes'"},
                      BadScenario{R"({"sizes": []})", "empty"},
                      BadScenario{R"({"sizes": [-4]})", "'sizes'"},
                      BadScenario{R"({"sizes": ["64"]})", "expected an integer"},
                      BadScenario{R"({"sizes": [99999999999]})", "'sizes'"},
                      BadScenario{R"({"sizes": 64})", "expected a list"},
                      BadScenario{R"({"transports": ["carrier-pigeon"]})", "unknown transport 'carrier-pigeon'"},
                      BadScenario{R"({"transports": []})", "empty"},
                      BadScenario{R"({"patterns": ["broadcast"]})", "unknown pattern 'broadcast'"},
                      BadScenario{R"({"wait": ["yield"]})", "unknown wait 'yield'"},
                      BadScenario{R"({"messages": 0})", "'messages'"},
                      BadScenario{R"({"messages": {"echo": 5}})", "unknown pattern 'echo'"},
                      BadScenario{R"({"messages": 1.5})", "expected an integer"},
                      BadScenario{R"({"repetitions": 0})", "'repetitions'"},
                      BadScenario{R"({"timeout_s": "soon"})", "expected an integer"},
                      BadScenario{R"({"name": 5})", "expected a string"},
                      BadScenario{R"([1, 2])", "top level"}));

TEST(Scenario, LoadingMalformedJsonNamesTheFile) {
  const std::string path = ::testing::TempDir() + "/truncated.json";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("{\"sizes\": [64", f);
  std::fclose(f);
  try {
    load_scenario(path);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("not valid JSON"));
  }
}

TEST(Scenario, MissingFileIsAUsageError) { EXPECT_THROW(load_scenario("/nonexistent/x.json"), UsageError); }

TEST(Scenario, ExpandCoversEveryCombinationAndNamesWaitOnlyWhereItMatters) {
  Scenario s;
  s.transports = {"shm", "pipe"};
  s.patterns = {Pattern::Pingpong};
  s.sizes = {64, 4096};
  s.waits = {WaitKind::Spin, WaitKind::Block};
  std::vector<std::string> names;
  for (const RunSpec& r : expand(s, {0, 1})) names.push_back(r.name());
  EXPECT_EQ(names, (std::vector<std::string>{"shm/pingpong/64/spin/cross", "shm/pingpong/64/block/cross",
                                             "shm/pingpong/4096/spin/cross", "shm/pingpong/4096/block/cross",
                                             "pipe/pingpong/64/cross", "pipe/pingpong/4096/cross"}));
}

TEST(Scenario, EveryWaitIsParsedByNameAndNamedInShmRowsOnly) {
  const Scenario s0 = parse_scenario(json::parse(R"({"wait": ["spin", "block", "futex", "eventfd", "sem", "uds"]})"),
                                     "test.json");
  EXPECT_EQ(s0.waits, (std::vector<WaitKind>{WaitKind::Spin, WaitKind::Block, WaitKind::Futex, WaitKind::Eventfd,
                                             WaitKind::Sem, WaitKind::Uds}));
  for (WaitKind w : kWaitKinds) EXPECT_EQ(parse_wait(to_string(w)), w);
  EXPECT_THAT(parse_error(json::parse(R"({"wait": ["foo"]})")),
              HasSubstr("unknown wait 'foo' (use spin, block, futex, eventfd, sem or uds)"));
  Scenario s;
  s.transports = {"shm", "pipe"};
  s.patterns = {Pattern::Pingpong};
  s.sizes = {64};
  s.waits = {WaitKind::Futex, WaitKind::Eventfd, WaitKind::Sem, WaitKind::Uds};
  std::vector<std::string> names;
  for (const RunSpec& r : expand(s, {0, 1})) names.push_back(r.name());
  // pipe has no wait modes: one row, as with spin and block.
  EXPECT_EQ(names, (std::vector<std::string>{"shm/pingpong/64/futex/cross", "shm/pingpong/64/eventfd/cross",
                                             "shm/pingpong/64/sem/cross", "shm/pingpong/64/uds/cross",
                                             "pipe/pingpong/64/cross"}));
}

TEST(Scenario, TheShmFanoutRefusesTheWaitsItDoesNotTakeOrSkipsThemBesideOnesItTakes) {
  Scenario s;
  s.transports = {"shm"};
  s.patterns = {Pattern::Fanout};
  s.sizes = {64};
  s.readers = {1};
  s.waits = {WaitKind::Eventfd};
  try {
    expand(s, {0, 1});
    ADD_FAILURE() << "fanout with eventfd was expanded";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("shm/fanout cannot wait with eventfd (it takes spin or block)"));
  }
  s.waits = {WaitKind::Block, WaitKind::Sem};
  std::vector<std::string> skipped, names;
  for (const RunSpec& r : expand(s, {0, 1}, &skipped)) names.push_back(r.name());
  EXPECT_EQ(names, (std::vector<std::string>{"shm/fanout/64/block/cross/readers=1"}));
  EXPECT_THAT(skipped, ::testing::Contains(HasSubstr("shm/fanout cannot wait with sem")));
}

TEST(Scenario, ExpandRunsEachPlacementButNeverSpinsOnOneCpu) {
  Scenario s;
  s.transports = {"shm", "pipe"};
  s.patterns = {Pattern::Pingpong};
  s.sizes = {64};
  s.placements = {"cross", "same"};
  std::vector<std::string> names;
  for (const RunSpec& r : expand(s, {2, 3})) {
    names.push_back(r.name());
    EXPECT_EQ(r.placement.cpus.server, 2) << r.name();
    EXPECT_EQ(r.placement.cpus.client, r.placement.placement == Placement::Same ? 2 : 3) << r.name();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"shm/pingpong/64/spin/cross", "shm/pingpong/64/block/cross",
                                             "shm/pingpong/64/block/same", "pipe/pingpong/64/cross",
                                             "pipe/pingpong/64/same"}));
}

TEST(Scenario, RatesApplyToStreamOnlyAndNeedIt) {
  Scenario s;
  s.transports = {"pipe"};
  s.patterns = {Pattern::Stream, Pattern::Pingpong};
  s.sizes = {64};
  s.rates = {0, 10'000};
  std::vector<std::string> names;
  for (const RunSpec& r : expand(s, {0, 1})) names.push_back(r.name());
  EXPECT_EQ(names, (std::vector<std::string>{"pipe/stream/64/cross", "pipe/stream/64/cross/rate=10000",
                                             "pipe/pingpong/64/cross"}));
  s.patterns = {Pattern::Pingpong};
  EXPECT_THROW(expand(s, {0, 1}), UsageError);
}

TEST(Scenario, PlacementsRatesWarmupAndInterleaveAreParsedStrictly) {
  const Scenario s = parse_scenario(
      json{{"placements", {"cross", "same", "0,1"}}, {"rates", {0, 5000}}, {"warmup_ms", 50}, {"interleave", false}}, "t");
  EXPECT_EQ(s.placements, (std::vector<std::string>{"cross", "same", "0,1"}));
  EXPECT_EQ(s.rates, (std::vector<std::uint64_t>{0, 5000}));
  EXPECT_EQ(s.warmup_ms, 50u);
  EXPECT_FALSE(s.interleave);
  for (const json& bad : {json{{"placements", {"diagonal"}}}, json{{"placements", {"0,x"}}}, json{{"rates", {-1}}},
                          json{{"warmup_ms", "long"}}, json{{"interleave", 1}}})
    EXPECT_THROW(parse_scenario(bad, "t"), UsageError) << bad.dump();
}

TEST(Scenario, ASizeOneTransportCannotCarryIsSkippedAndSaidNotSilentlyClamped) {
  Scenario s;
  s.transports = {"unix-dgram", "pipe"};  // unix-dgram carries at most 256 KiB
  s.patterns = {Pattern::Stream};
  s.sizes = {1u << 20};
  std::vector<std::string> skipped;
  const auto runs = expand(s, {0, 1}, &skipped);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].name(), "pipe/stream/1048576/cross");
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_THAT(skipped[0], HasSubstr("unix-dgram"));
  EXPECT_THROW(expand(s, {0, 1}), UsageError);  // asked for nothing to be skipped
  s.transports = {"unix-dgram"};
  EXPECT_THROW(expand(s, {0, 1}, &skipped), UsageError);  // nothing left to run
}

TEST(Scenario, MaxBytesCapsTheStreamVolumeOfBigMessages) {
  Scenario s;
  s.transports = {"pipe"};
  s.patterns = {Pattern::Stream, Pattern::Pingpong};
  s.sizes = {64, 65536};
  s.messages = {20, 50'000, 1'000};
  s.max_bytes = 64u << 20;
  const auto runs = expand(s, {0, 1});
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].messages, 50'000u);  // 64 B × 50000 is under the cap
  EXPECT_EQ(runs[1].messages, 1'024u);   // 64 MiB / 64 KiB
  EXPECT_EQ(runs[3].messages, 1'000u);   // pingpong is not capped
}

TEST(Scenario, ZeroCopyRunsOnlyWhereTheTransportLendsItsMemory) {
  Scenario s;
  s.transports = {"shm", "pipe"};
  s.patterns = {Pattern::Stream, Pattern::Oneshot};
  s.sizes = {64};
  s.waits = {WaitKind::Spin};
  s.zero_copy = {false, true};
  std::vector<std::string> names;
  for (const RunSpec& r : expand(s, {0, 1})) names.push_back(r.name());
  EXPECT_EQ(names, (std::vector<std::string>{"shm/stream/64/spin/cross", "shm/stream/64/spin/zero-copy/cross",
                                             "shm/oneshot/64/cross", "pipe/stream/64/cross", "pipe/oneshot/64/cross"}));
  s.transports = {"pipe"};
  EXPECT_THROW(expand(s, {0, 1}), UsageError);  // nothing here can lend its memory
  EXPECT_THROW(parse_copy_mode("none"), UsageError);
}

TEST(Scenario, AScenarioWhoseEveryRunIsSkippedIsAUsageError) {
  Scenario s;
  s.transports = {"shm"};
  s.waits = {WaitKind::Spin};
  s.placements = {"same"};  // spinning is never run on one CPU
  EXPECT_THROW(expand(s, {0, 1}), UsageError);
}

TEST(Scenario, OnlyAvailableCpusCanBePinned) {
  Scenario s;
  s.placements = {"0,7"};
  EXPECT_THROW(expand(s, {0, 1}), UsageError);
  s.placements = {"cross"};
  EXPECT_THROW(expand(s, {0}), UsageError);  // cross needs two
  s.placements = {""};
  EXPECT_EQ(expand(s, {0}).front().placement.placement, Placement::Unpinned);  // the default degrades
}

TEST(Scenario, ExpandRejectsSizesOutsideTheTransportLimits) {
  Scenario s;
  s.sizes = {std::size_t{1} << 30};
  EXPECT_THROW(expand(s), UsageError);
  s.sizes = {8};  // below the 16-byte sequence + timestamp header
  EXPECT_THROW(expand(s), UsageError);
  s.patterns = {Pattern::Oneshot};  // one-shot carries raw text: any size from 1
  EXPECT_NO_THROW(expand(s));
}

}  // namespace
}  // namespace ipcmark

namespace ipcmark {
namespace {

TEST(ScenarioFanout, ReadersComeFromTheFileAndEveryCountIsItsOwnRow) {
  Scenario s = parse_scenario(json::parse(R"({"transports": ["pipe"], "patterns": ["fanout"], "sizes": [64],
                                              "readers": [1, 2, 4], "rates": [0, 1000]})"),
                              "test.json");
  EXPECT_EQ(s.readers, (std::vector<int>{1, 2, 4}));
  std::vector<std::string> names;
  for (const RunSpec& r : expand(s, {0, 1})) names.push_back(r.name());
  EXPECT_EQ(names, (std::vector<std::string>{"pipe/fanout/64/cross/readers=1", "pipe/fanout/64/cross/readers=2",
                                             "pipe/fanout/64/cross/readers=4", "pipe/fanout/64/cross/readers=1/rate=1000",
                                             "pipe/fanout/64/cross/readers=2/rate=1000",
                                             "pipe/fanout/64/cross/readers=4/rate=1000"}));
  for (const char* bad : {R"({"readers": [0]})", R"({"readers": [17]})", R"({"readers": []})", R"({"readers": 2})"})
    EXPECT_THAT(parse_error(json::parse(bad)), HasSubstr("'readers'")) << bad;
}

TEST(ScenarioFanout, SpinningReadersThatWouldShareACpuAreSkippedAndSaid) {
  Scenario s;
  s.transports = {"shm"};
  s.patterns = {Pattern::Fanout};
  s.sizes = {64};
  s.readers = {1, 2};
  std::vector<std::string> names, skipped;
  for (const RunSpec& r : expand(s, {0, 1}, &skipped)) names.push_back(r.name());
  EXPECT_EQ(names, (std::vector<std::string>{"shm/fanout/64/spin/cross/readers=1", "shm/fanout/64/block/cross/readers=1",
                                             "shm/fanout/64/block/cross/readers=2"}));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_THAT(skipped[0], HasSubstr("shm/fanout/64/spin/cross/readers=2"));
  // Unpinned on four CPUs, two spinning readers and the writer each have one.
  s.placements = {"none"};
  skipped.clear();
  EXPECT_EQ(expand(s, {0, 1, 2, 3}, &skipped).size(), 4u);
  EXPECT_TRUE(skipped.empty());
}

TEST(ScenarioFanout, ReadersWithoutFanoutAndZeroCopyFanoutAreRefusedOrSkipped) {
  Scenario s;
  s.transports = {"pipe"};
  s.patterns = {Pattern::Stream};
  s.readers = {2};
  EXPECT_THROW(expand(s, {0, 1}), UsageError);
  s.transports = {"shm"};
  s.patterns = {Pattern::Fanout};
  s.waits = {WaitKind::Block};
  s.zero_copy = {true};
  EXPECT_THROW(expand(s, {0, 1}), UsageError);  // fanout readers have no loans: nothing left
  s.zero_copy = {false, true};
  EXPECT_EQ(expand(s, {0, 1}).size(), 3u);  // 64, 4096, 65536 bytes, copy only
}

}  // namespace
}  // namespace ipcmark

namespace ipcmark {
namespace {

TEST(ScenarioPerPattern, SizesAndPlacementsMayDifferByPattern) {
  const Scenario s = parse_scenario(json::parse(R"({"transports": ["pipe"], "patterns": ["stream", "fanout"],
      "sizes": {"stream": [64, 4096], "fanout": [64]}, "placements": {"stream": ["cross", "same"]}})"),
                                    "test.json");
  std::vector<std::string> names;
  for (const RunSpec& r : expand(s, {0, 1})) names.push_back(r.name());
  EXPECT_EQ(names, (std::vector<std::string>{"pipe/stream/64/cross", "pipe/stream/64/same", "pipe/stream/4096/cross",
                                             "pipe/stream/4096/same", "pipe/fanout/64/cross/readers=1"}));
  for (const char* bad : {R"({"sizes": {"broadcast": [64]}})", R"({"sizes": {}})", R"({"sizes": {"stream": 64}})",
                          R"({"placements": {"fanout": ["diagonal"]}})"})
    EXPECT_THAT(parse_error(json::parse(bad)), HasSubstr("test.json")) << bad;
}

}  // namespace
}  // namespace ipcmark
