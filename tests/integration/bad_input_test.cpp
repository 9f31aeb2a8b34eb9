// Every bad input: exit code 2, one line on stderr that names the bad value, and nothing left
// behind (no shm object, FIFO, socket file or queue of that process or of the channel it
// named, no child process). One table across run, serve, read and scenario files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/support/processes.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;

struct BadInput {
  std::vector<std::string> args;
  std::string named;  // must appear in the error line
};

std::string scenario_file(const std::string& name) {
  return std::string(IPCMARK_SOURCE_DIR) + "/tests/data/scenarios/" + name;
}

void PrintTo(const BadInput& input, std::ostream* os) {
  for (const std::string& a : input.args) *os << a.substr(0, 40) << ' ';
}

// The channel a row names, if any: whatever it might have created carries it.
std::string channel_of(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--channel") return args[i + 1];
  return "";
}

class BadInputs : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputs, ExitWithCode2AndOneLineNamingTheValueAndLeaveNothing) {
  testing::Launched ipcmark(GetParam().args);
  ASSERT_GT(ipcmark.pid(), 0);
  const testing::Outcome r = ipcmark.finish(30s);
  EXPECT_FALSE(r.hung) << "a bad input must be refused at once";
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, ::testing::StartsWith("ipcmark: error: "));
  EXPECT_THAT(r.err, ::testing::HasSubstr(GetParam().named));

  const std::string pid = std::to_string(ipcmark.pid());
  EXPECT_THAT(testing::names_with_prefix("ipcmark-" + pid + "-"), ::testing::IsEmpty());
  const std::string channel = channel_of(GetParam().args);
  if (!channel.empty() && channel[0] != '.' && channel.find('/') == std::string::npos) {
    EXPECT_THAT(testing::names_with_prefix(channel), ::testing::IsEmpty());
  }
  EXPECT_THAT(testing::processes_with({"--parent-pid " + pid + " "}), ::testing::IsEmpty());
}

const std::string kTiny[] = {"--messages", "10", "--warmup", "0", "--repetitions", "1", "--no-floor"};

std::vector<std::string> run_with(std::vector<std::string> extra) {
  std::vector<std::string> args{"run"};
  args.insert(args.end(), std::begin(kTiny), std::end(kTiny));
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"--out", testing::temp_path("never-written.json")});
  return args;
}

std::vector<std::string> scenario(const std::string& file) { return run_with({"--scenario", scenario_file(file)}); }

const std::string kLongName(201, 'x');
const std::string kSocketBuster(150, 's');  // a valid name, too long for a socket path
const std::string kSuffixBuster(195, 'b');  // a valid name, too long once bip-mq adds ".bq-peers"

INSTANTIATE_TEST_SUITE_P(
    Cli, BadInputs,
    ::testing::Values(
        // run: flags
        BadInput{run_with({"--transports", "carrier-pigeon"}), "carrier-pigeon"},
        BadInput{run_with({"--pattern", "broadcast"}), "broadcast"},
        BadInput{run_with({"--sizes", "0"}), "size 0"},
        BadInput{run_with({"--sizes", "99999999999"}), "99999999999"},
        BadInput{run_with({"--sizes", "abc"}), "abc"},
        BadInput{run_with({"--sizes", "8"}), "size 8"},
        BadInput{run_with({"--transports", "mq", "--sizes", "100000"}), "100000"},
        BadInput{run_with({"--transports", "unix-dgram", "--sizes", "300000"}), "300000"},
        BadInput{run_with({"--transports", "bip-mq", "--sizes", "5000000"}), "5000000"},
        BadInput{run_with({"--transports", "shm", "--sizes", "20000000"}), "20000000"},
        BadInput{run_with({"--wait", "yield"}), "yield"},
        BadInput{run_with({"--wait", "foo"}), "use spin, block, futex, eventfd, sem or uds"},
        BadInput{run_with({"--transports", "shm", "--pattern", "fanout", "--wait", "eventfd"}), "it takes spin or block"},
        BadInput{run_with({"--transports", "iceoryx", "--wait", "eventfd"}), "iceoryx cannot wait with eventfd"},
        BadInput{{"run", "--messages", "-5"}, "-5"},
        BadInput{{"run", "--messages", "abc"}, "abc"},
        BadInput{{"run", "--messages", "99999999999999"}, "99999999999999"},
        BadInput{{"run", "--warmup", "-3"}, "-3"},
        BadInput{{"run", "--repetitions", "0"}, "--repetitions"},
        BadInput{{"run", "--repetitions", "-1"}, "-1"},
        BadInput{{"run", "--timeout", "0"}, "--timeout"},
        BadInput{{"run", "--rate", "fast"}, "fast"},
        BadInput{run_with({"--pattern", "fanout", "--readers", "0"}), "0"},
        BadInput{run_with({"--pattern", "fanout", "--readers", "17"}), "17"},
        BadInput{run_with({"--pattern", "stream", "--readers", "2"}), "--readers"},
        BadInput{run_with({"--cpus", "0"}), "--cpus '0'"},
        BadInput{run_with({"--cpus", "0,999"}), "999"},
        BadInput{run_with({"--cpus", "0,x"}), "0,x"},
        BadInput{run_with({"--cpus", "0,0,0"}), "0,0,0"},
        BadInput{{"frobnicate"}, "frobnicate"},
        // run: an empty element of a list (CLI11 would drop it and run the rest)
        BadInput{run_with({"--transports", "shm,,pipe"}), "--transports 'shm,,pipe'"},
        BadInput{run_with({"--transport=shm,"}), "--transport 'shm,'"},
        BadInput{run_with({"--pattern", ",pingpong"}), "--pattern ',pingpong'"},
        BadInput{run_with({"--sizes", "64,,4096"}), "--sizes '64,,4096'"},
        BadInput{run_with({"--wait", "spin,"}), "--wait 'spin,'"},
        BadInput{run_with({"--copy", "copy,,zero"}), "--copy 'copy,,zero'"},
        BadInput{run_with({"--rate", "0,"}), "--rate '0,'"},
        BadInput{run_with({"--pattern", "fanout", "--readers", "1,,2"}), "--readers '1,,2'"},
        BadInput{run_with({"--cpus", "cross", "--cpus", ""}), "--cpus ''"},
        BadInput{{"floor", "--cpus", ""}, "--cpus ''"},
        // run: a results file that cannot be written, refused before anything runs
        BadInput{{"run", "--transports", "shm", "--sizes", "64", "--out", "/proc/nope/x.json"},
                 "cannot write results to '/proc/nope/x.json'"},
        BadInput{{"run", "--transports", "shm", "--sizes", "64", "--out", "/etc/hostname/x.json"},
                 "cannot write results to '/etc/hostname/x.json'"},
        BadInput{{"run", "--transports", "shm", "--sizes", "64", "--out", "/tmp"}, "cannot write results to '/tmp'"},
        BadInput{{"floor", "--json", "/proc/nope/floor.json"}, "'/proc/nope/floor.json'"},
        // run: scenario files
        BadInput{{"run", "--scenario", "/nonexistent/s.json"}, "/nonexistent/s.json"},
        BadInput{scenario("unknown-key.json"), "mesages"},
        BadInput{scenario("truncated.json"), "truncated.json"},
        BadInput{scenario("empty.json"), "empty.json"},
        BadInput{scenario("wrong-type.json"), "sizes"},
        BadInput{scenario("not-an-object.json"), "not-an-object.json"},
        BadInput{scenario("empty-list.json"), "'sizes'"},
        BadInput{scenario("zero-size.json"), "'sizes': 0"},
        BadInput{scenario("negative-messages.json"), "-5"},
        BadInput{scenario("huge-repetitions.json"), "100000"},
        BadInput{scenario("count-beyond-64-bits.json"), "'messages'"},
        BadInput{scenario("fractional-timeout.json"), "1.5"},
        BadInput{scenario("size-as-string.json"), "\"64\""},
        BadInput{scenario("unknown-transport.json"), "carrier-pigeon"},
        BadInput{scenario("unknown-pattern-in-messages.json"), "broadcast"},
        BadInput{scenario("unknown-wait.json"), "doze"},
        BadInput{scenario("size-above-transport-limit.json"), "100000"},
        BadInput{scenario("results-file-not-scenario.json"), "'benchmarks'"},
        // read
        BadInput{{"read", "--channel", "a/b"}, "a/b"},
        BadInput{{"read", "--channel", ".."}, "'..'"},
        BadInput{{"read", "--channel", ""}, "''"},
        BadInput{{"read", "--channel", kLongName}, "xxxxxxxx"},
        BadInput{{"read", "--transport", "carrier-pigeon", "--channel", "x"}, "carrier-pigeon"},
        BadInput{{"read", "--channel", "x", "--timeout", "0"}, "--timeout"},
        BadInput{{"read", "--channel", "x", "--reader", "16"}, "16"},
        BadInput{{"read", "--channel", "x", "--reader", "-1"}, "-1"},
        // serve
        BadInput{{"serve", "--channel", "ok", "--message", "too long for it", "--size", "3"}, "--size 3"},
        BadInput{{"serve", "--channel", "ok", "--message", "m", "--size", "0"}, "--size"},
        BadInput{{"serve", "--channel", "bad name", "--message", "m", "--hold", "0"}, "bad name"},
        BadInput{{"serve", "--channel", "../etc", "--message", "m", "--hold", "0"}, "../etc"},
        BadInput{{"serve", "--channel", "x", "--message", "m", "--hold", "-1"}, "-1"},
        BadInput{{"serve", "--channel", "x"}, "--message"},
        BadInput{{"serve", "--channel", "x", "--message", "m", "--readers", "17"}, "17"},
        BadInput{{"serve", "--channel", "x", "--message", "m", "--readers", "0"}, "0"},
        BadInput{{"serve", "--channel", "x", "--message", "too long", "--size", "4", "--readers", "2"}, "--size"},
        BadInput{{"serve", "--transport", "unix", "--channel", kSocketBuster, "--message", "m", "--hold", "0"},
                 "ssssssss"},
        BadInput{{"serve", "--transport", "zmq", "--channel", kSocketBuster, "--message", "m", "--hold", "0"},
                 "ssssssss"},
        BadInput{{"serve", "--transport", "unix-dgram", "--channel", kSocketBuster, "--message", "m", "--hold", "0"},
                 "ssssssss"},
        BadInput{{"serve", "--transport", "bip-mq", "--channel", kSuffixBuster, "--message", "m", "--hold", "0"},
                 "too long for bip-mq"},
        BadInput{{"serve", "--transport", "nng", "--channel", kSocketBuster, "--message", "m", "--hold", "0"},
                 "ssssssss"},
        BadInput{{"serve", "--transport", "grpc", "--channel", kSocketBuster, "--message", "m", "--hold", "0"},
                 "ssssssss"},
        // conform
        BadInput{{"conform", "--transports", "shm", "--wait", "doorknock"}, "doorknock"},
        BadInput{{"conform", "--transports", "shm", "--wait", "futex,,uds"}, "--wait"}),
    [](const ::testing::TestParamInfo<BadInput>& info) {  // e.g. "3_run_sizes_0"
      std::string name = std::to_string(info.index);
      for (const std::string& a : info.param.args) {
        if (a.empty() || a.size() > 16 || a.find('/') != std::string::npos) continue;
        name += "_";
        for (char c : a) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      return name;
    });

// `compare` and `recommend` read result files: the bad ones are written here, so the table
// does not depend on fixtures of other tests.
std::string bad_results(const std::string& name) { return testing::temp_path("bad-results-" + name); }

class ResultFileInputs : public BadInputs {
 public:
  static void SetUpTestSuite() {
    const std::string row = R"({"name": "shm/pingpong/64/block/cross", "run_name": "shm/pingpong/64/block/cross",
        "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "iterations": 10, "real_time": 1000,
        "cpu_time": 900, "time_unit": "ns", "transport": "shm", "pattern": "pingpong", "message_size": 64})";
    const std::string context = R"({"json_schema_version": 2, "caches": []})";
    std::ofstream(bad_results("ok.json")) << R"({"context": )" << context << R"(, "benchmarks": [)" << row << "]}";
    std::ofstream(bad_results("truncated.json")) << R"({"context": )" << context << R"(, "benchmarks": [)";
    std::ofstream(bad_results("schema99.json")) << R"({"context": {"json_schema_version": 99}, "benchmarks": []})";
    std::ofstream(bad_results("no-name.json"))
        << R"({"context": )" << context << R"(, "benchmarks": [{"run_type": "iteration", "real_time": 1, "time_unit": "ns"}]})";
    std::ofstream(bad_results("unit.json"))
        << R"({"context": )" << context
        << R"(, "benchmarks": [{"name": "x", "run_type": "iteration", "real_time": 1, "cpu_time": 1, "time_unit": "fortnights"}]})";
    std::ofstream(bad_results("not-an-array.json")) << R"({"context": )" << context << R"(, "benchmarks": {}})";
  }
  static void TearDownTestSuite() {
    for (const char* name : {"ok.json", "truncated.json", "schema99.json", "no-name.json", "unit.json", "not-an-array.json"})
      std::remove(bad_results(name).c_str());
  }
};

TEST_P(ResultFileInputs, ExitWithCode2AndOneLineNamingTheValue) {
  testing::Launched ipcmark(GetParam().args);
  const testing::Outcome r = ipcmark.finish(60s);
  EXPECT_FALSE(r.hung);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, ::testing::StartsWith("ipcmark: error: "));
  EXPECT_THAT(r.err, ::testing::HasSubstr(GetParam().named));
  EXPECT_THAT(testing::processes_with({"--parent-pid " + std::to_string(ipcmark.pid()) + " "}), ::testing::IsEmpty());
}

const std::string kSeedScenario = std::string(IPCMARK_SOURCE_DIR) + "/scenarios/seed.json";

INSTANTIATE_TEST_SUITE_P(
    CompareAndRecommend, ResultFileInputs,
    ::testing::Values(
        BadInput{{"compare", "/nonexistent/a.json", bad_results("ok.json")}, "/nonexistent/a.json"},
        BadInput{{"compare", bad_results("ok.json")}, "got 1"},
        BadInput{{"compare", kSeedScenario, bad_results("ok.json")}, "seed.json"},
        BadInput{{"compare", bad_results("truncated.json"), bad_results("ok.json")}, "truncated.json"},
        BadInput{{"compare", bad_results("schema99.json"), bad_results("ok.json")}, "99"},
        BadInput{{"compare", bad_results("no-name.json"), bad_results("ok.json")}, "benchmarks[0]: 'name' is missing"},
        BadInput{{"compare", bad_results("unit.json"), bad_results("ok.json")}, "fortnights"},
        BadInput{{"compare", bad_results("not-an-array.json"), bad_results("ok.json")}, "benchmarks"},
        BadInput{{"compare", "/tmp", bad_results("ok.json")}, "'/tmp'"},
        BadInput{{"compare", "--base", bad_results("ok.json"), "--base", bad_results("ok.json"), "--new",
                  bad_results("ok.json")},
                 "twice"},
        BadInput{{"compare", "--alpha", "2", bad_results("ok.json"), bad_results("ok.json")}, "--alpha"},
        BadInput{{"compare", "--threshold", "-5", bad_results("ok.json"), bad_results("ok.json")}, "--threshold"},
        // (checked before the files are read: the error is the output path, not schema 99)
        BadInput{{"compare", bad_results("ok.json"), bad_results("schema99.json"), "--json", "/proc/nope/c.json"},
                 "'/proc/nope/c.json'"},
        BadInput{{"report", bad_results("ok.json"), "--markdown", "/proc/nope/r.md"}, "'/proc/nope/r.md'"},
        BadInput{{"report", bad_results("ok.json"), "--html", "/proc/nope/r.html"}, "'/proc/nope/r.html'"},
        BadInput{{"recommend", "--size", "0", "--results", bad_results("ok.json")}, "--size"},
        BadInput{{"recommend", "--size", "abc", "--results", bad_results("ok.json")}, "abc"},
        BadInput{{"recommend", "--size", "64", "--results", "/nonexistent/r.json"}, "/nonexistent/r.json"},
        BadInput{{"recommend", "--size", "64", "--results", kSeedScenario}, "benchmarks"},
        BadInput{{"recommend", "--size", "64", "--results", bad_results("truncated.json")}, "truncated.json"},
        BadInput{{"recommend", "--size", "64", "--cpu-budget-percent", "50", "--results", bad_results("ok.json")},
                 "--cpu-budget-percent"}),
    [](const ::testing::TestParamInfo<BadInput>& info) {
      std::string name = std::to_string(info.index) + "_" + info.param.args[0];
      for (std::size_t i = 1; i < info.param.args.size(); ++i)
        if (info.param.args[i].rfind("--", 0) == 0) name += "_" + info.param.args[i].substr(2);
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

// A results path that cannot be written is refused before anything is measured (no header on
// stdout, no floor, no peer), with the reason, and no probe or temporary file is left beside it.
TEST(BadOutPath, IsRefusedBeforeAnythingRunsWithTheReason) {
  const std::string blocker = testing::temp_path("out-file");
  std::ofstream(blocker) << "a file where a directory is needed";
  const std::string out = blocker + "/made/x.json";
  testing::Launched run({"run", "--transports", "shm", "--sizes", "64", "--out", out});
  const testing::Outcome r = run.finish(30s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "ipcmark: error: cannot write results to '" + out + "': '" + blocker + "' is not a directory\n");
  EXPECT_EQ(r.out, "") << "nothing measured, nothing reported";
  std::remove(blocker.c_str());
}

TEST(BadOutPath, ADirectoryIsRefusedAndNoTemporaryFileIsLeftBesideIt) {
  const std::string dir = testing::temp_path("out-dir");
  std::filesystem::create_directory(dir);
  testing::Launched run({"run", "--transports", "shm", "--sizes", "64", "--no-floor", "--out", dir});
  const testing::Outcome r = run.finish(30s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "ipcmark: error: cannot write results to '" + dir + "': it is a directory\n");
  const std::string name = std::filesystem::path(dir).filename().string();
  EXPECT_THAT(testing::entries_with_prefix(::testing::TempDir(), name), ::testing::ElementsAre(name));
  std::filesystem::remove_all(dir);
  for (const std::string& left : testing::entries_with_prefix(::testing::TempDir(), name + ".tmp."))
    std::remove((::testing::TempDir() + "/" + left).c_str());
}

// CLI11 would clamp a value past 64 bits to SIZE_MAX; the range check names it as given.
TEST(BadInputsKnown, ServeSizeBeyond64BitsIsNamedAsGiven) {
  const auto r = testing::ipcmark({"serve", "--channel", "x", "--message", "m", "--size", "99999999999999999999"}, 30);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr("99999999999999999999"));
}

}  // namespace
}  // namespace ipcmark
