// Every bad input: exit code 2 and one line on stderr that names the bad value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/integration/command.hpp"

namespace ipcmark {
namespace {

struct BadInput {
  std::vector<std::string> args;
  std::string named;  // must appear in the error line
};

std::string scenario_file(const std::string& name) {
  return std::string(IPCMARK_SOURCE_DIR) + "/tests/data/scenarios/" + name;
}

void PrintTo(const BadInput& input, std::ostream* os) {
  for (const std::string& a : input.args) *os << a << ' ';
}

class BadInputs : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputs, ExitWithCode2AndOneLineNamingTheValue) {
  const auto r = testing::ipcmark(GetParam().args, 30);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr(GetParam().named));
}

const std::string kTiny[] = {"--messages", "10", "--warmup", "0", "--repetitions", "1"};

std::vector<std::string> run_with(std::vector<std::string> extra) {
  std::vector<std::string> args{"run"};
  args.insert(args.end(), std::begin(kTiny), std::end(kTiny));
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

INSTANTIATE_TEST_SUITE_P(
    Cli, BadInputs,
    ::testing::Values(
        BadInput{run_with({"--transports", "carrier-pigeon"}), "carrier-pigeon"},
        BadInput{run_with({"--pattern", "broadcast"}), "broadcast"},
        BadInput{run_with({"--sizes", "0"}), "size 0"},
        BadInput{run_with({"--sizes", "99999999999"}), "99999999999"},
        BadInput{run_with({"--sizes", "abc"}), "abc"},
        BadInput{run_with({"--sizes", "8"}), "size 8"},
        BadInput{run_with({"--wait", "yield"}), "yield"},
        BadInput{{"run", "--messages", "-5"}, "-5"},
        BadInput{{"run", "--repetitions", "0"}, "--repetitions"},
        BadInput{run_with({"--cpus", "0"}), "--cpus '0'"},
        BadInput{run_with({"--cpus", "0,999"}), "999"},
        BadInput{run_with({"--cpus", "0,x"}), "0,x"},
        BadInput{{"run", "--scenario", "/nonexistent/s.json"}, "/nonexistent/s.json"},
        BadInput{{"run", "--scenario", scenario_file("unknown-key.json")}, "mesages"},
        BadInput{{"run", "--scenario", scenario_file("truncated.json")}, "truncated.json"},
        BadInput{{"run", "--scenario", scenario_file("wrong-type.json")}, "sizes"},
        BadInput{{"frobnicate"}, "frobnicate"},
        BadInput{{"read", "--channel", "a/b"}, "a/b"},
        BadInput{{"read", "--channel", ".."}, "'..'"},
        BadInput{{"read", "--channel", std::string(201, 'x')}, "xxxxxxxx"},
        BadInput{{"read", "--transport", "carrier-pigeon", "--channel", "x"}, "carrier-pigeon"},
        BadInput{{"serve", "--channel", "ok", "--message", "too long for it", "--size", "3"}, "--size 3"},
        BadInput{{"serve", "--channel", "ok", "--message", "m", "--size", "0"}, "--size"},
        BadInput{{"serve", "--channel", "bad name", "--message", "m", "--hold", "0"}, "bad name"},
        BadInput{{"serve", "--channel", "x"}, "--message"}),
    [](const ::testing::TestParamInfo<BadInput>& info) {  // e.g. "3_run_sizes_0"
      std::string name = std::to_string(info.index);
      for (const std::string& a : info.param.args) {
        if (a.size() > 16 || a.find('/') != std::string::npos) continue;
        name += "_";
        for (char c : a) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
      }
      return name;
    });

}  // namespace
}  // namespace ipcmark
