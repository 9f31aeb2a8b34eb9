// Transport plugins (include/ipcmark/plugin.h) through the built ipcmark: the example plugin
// (examples/plugin, built in-tree as tests/plugins/libseqpacket.so) works wherever a built-in
// transport does, and each kind of bad plugin (tests/plugins) gets one clear line, never a
// crash of the harness. The example built out of tree against an installed ipcmark is
// tests/plugins/example_plugin_test.sh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/channels.hpp"
#include "tests/support/files.hpp"
#include "tests/support/processes.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;
using testing::ipcmark;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string plugin(const std::string& name) { return std::string(IPCMARK_TEST_PLUGINS) + "/lib" + name + ".so"; }

// The iteration rows of a results file (which is removed).
std::vector<json> rows_of(const std::string& path) {
  const json doc = json::parse(testing::slurp(path), nullptr, /*allow_exceptions=*/false);
  std::remove(path.c_str());
  std::vector<json> rows;
  if (doc.is_object() && doc.contains("benchmarks"))
    for (const json& row : doc["benchmarks"])
      if (row.value("run_type", "") == "iteration") rows.push_back(row);
  return rows;
}

std::vector<std::string> run_args(const std::string& plugin_path, const std::string& transport,
                                  const std::string& pattern, const std::string& messages, const std::string& out) {
  return {"run",      "--plugin", plugin_path, "--transports", transport, "--pattern", pattern,   "--sizes", "64",
          "--messages", messages, "--warmup",  "10",  "--repetitions", "1", "--timeout", "20", "--no-floor", "--out", out};
}

void expect_one_line_exit_2(const testing::CommandResult& r, const std::string& says) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(says));
}

TEST(PluginTransport, ListShowsItWithTheFileItCameFrom) {
  const auto r = ipcmark({"list", "--plugin", plugin("seqpacket")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("seqpacket"));
  EXPECT_THAT(r.out, HasSubstr("plugin " + std::filesystem::canonical(plugin("seqpacket")).string()));
  EXPECT_THAT(r.out, ::testing::StartsWith("shm ")) << "the built-in transports come first";
}

TEST(PluginTransport, ConformPassesEveryClause) {
  const auto r = ipcmark({"conform", "--transports", "seqpacket", "--plugin", plugin("seqpacket")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("\nfail "))) << r.out;
  EXPECT_THAT(r.out, HasSubstr("pass seqpacket MessagesOfOneByteMidAndMaxSizeArriveWholeInOrderOnceAcrossProcesses"));
  EXPECT_THAT(r.out, HasSubstr("pass seqpacket AReaderKilledMidStreamStopsNeitherTheOthersNorTheWriter"));
}

TEST(PluginTransport, RunsEveryPatternWithNoDataErrors) {
  const std::string out = testing::temp_path("plugin-run.json");
  std::vector<std::string> args = run_args(plugin("seqpacket"), "seqpacket", "pingpong,stream,oneshot,fanout", "500", out);
  args.insert(args.end(), {"--readers", "2"});
  const auto r = ipcmark(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> rows = rows_of(out);
  EXPECT_EQ(rows.size(), 4u);
  for (const json& row : rows) {
    EXPECT_EQ(row.value("transport", ""), "seqpacket") << row.dump();
    EXPECT_TRUE(row["error"].is_null()) << row.dump();
    EXPECT_EQ(row.value("lost", -1), 0) << row.dump();
    EXPECT_EQ(row.value("reordered", -1), 0) << row.dump();
  }
}

// The ABI's optional parts (tests/plugins/capable.c): loans and views, and a native fanout,
// through ipcmark's bridge — every clause, and runs with `--copy zero` and fanout.
TEST(PluginTransport, LoansViewsAndNativeFanoutPassEveryClause) {
  const auto r = ipcmark({"conform", "--transports", "capable", "--plugin", plugin("capable")}, 120);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("pass capable LoanedMessagesArriveWholeInOrderThroughViewsAcrossProcesses"));
  EXPECT_THAT(r.out, HasSubstr("pass capable AReaderKilledMidStreamStopsNeitherTheOthersNorTheWriter"));
  EXPECT_THAT(r.out, HasSubstr("conform: 14 passed, 0 failed, 1 skipped")) << "only the no-loans clause skips";
}

TEST(PluginTransport, RunsZeroCopyAndNativeFanoutWithNoDataErrors) {
  const std::string out = testing::temp_path("plugin-capable-run.json");
  std::vector<std::string> args = run_args(plugin("capable"), "capable", "pingpong,stream,fanout", "500", out);
  args.insert(args.end(), {"--readers", "3", "--copy", "copy,zero"});
  const auto r = ipcmark(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::vector<json> rows = rows_of(out);
  EXPECT_EQ(rows.size(), 5u) << "pingpong and stream in both modes, fanout (copy only, as for every transport)";
  const auto count = [&](const char* field, const char* value) {
    return std::count_if(rows.begin(), rows.end(), [&](const json& row) { return row.value(field, "") == value; });
  };
  EXPECT_EQ(count("copy", "zero"), 2);
  EXPECT_EQ(count("pattern", "fanout"), 1);
  for (const json& row : rows) {
    EXPECT_TRUE(row["error"].is_null()) << row.dump();
    EXPECT_EQ(row.value("lost", -1), 0) << row.dump();
    EXPECT_EQ(row.value("reordered", -1), 0) << row.dump();
    EXPECT_EQ(row.value("corrupted", -1), 0) << row.dump();
  }
}

// serve loads the plugin from the search path (a directory), read from --plugin: the same file
// twice is one plugin, not a clash.
TEST(PluginTransport, ServeAndReadFromTheSearchPathOrTheFlag) {
  const std::string channel = testing::unique_name("ipcmark-it-", "plugin-seed");
  const std::string dir = std::filesystem::path(plugin("seqpacket")).parent_path().string() + "/search";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(plugin("seqpacket"), dir + "/libseqpacket.so",
                             std::filesystem::copy_options::overwrite_existing);
  testing::Launched server({"serve", "--transport", "seqpacket", "--channel", channel, "--message", "hello plugin",
                            "--hold", "30"},
                           {"IPCMARK_PLUGIN_PATH=" + dir});
  testing::CommandResult read;
  for (int attempt = 0; attempt < 200; ++attempt) {  // until the server has served the channel
    read = ipcmark({"read", "--transport", "seqpacket", "--channel", channel, "--plugin", dir + "/libseqpacket.so"}, 20);
    if (read.exit_code == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(read.exit_code, 0) << read.err;
  EXPECT_EQ(read.out, "hello plugin\n");
  ::kill(server.pid(), SIGTERM);
  const testing::Outcome o = server.finish(10s);
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_THAT(testing::names_with_prefix(channel), ::testing::IsEmpty());
}

TEST(PluginTransport, ASearchPathEntryThatDoesNotExistIsOneLineAndExit2) {
  const auto r = ipcmark({"list"}, 20);  // (no variable: fine)
  EXPECT_EQ(r.exit_code, 0);
  testing::Launched bad({"list"}, {"IPCMARK_PLUGIN_PATH=/nonexistent/plugins"});
  const testing::Outcome o = bad.finish(20s);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(testing::count_lines(o.err), 1) << o.err;
  EXPECT_THAT(o.err, HasSubstr("IPCMARK_PLUGIN_PATH: no such file or directory: /nonexistent/plugins"));
}

TEST(PluginTransport, ReportAndCompareReadItsRowsWithoutLoadingIt) {
  const std::string out = testing::temp_path("plugin-report.json");
  ASSERT_EQ(ipcmark(run_args(plugin("seqpacket"), "seqpacket", "pingpong", "200", out)).exit_code, 0);
  const std::string copy = out + ".copy.json";
  std::filesystem::copy_file(out, copy);
  const auto report = ipcmark({"report", out});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_THAT(report.out, HasSubstr("seqpacket"));
  const auto compare = ipcmark({"compare", out, copy});
  EXPECT_THAT(compare.out, HasSubstr("seqpacket/pingpong/64")) << compare.err;
  const auto recommend = ipcmark({"recommend", "--results", out, "--size", "64"});
  EXPECT_EQ(recommend.exit_code, 0) << recommend.err;
  EXPECT_THAT(recommend.out, HasSubstr("seqpacket"));
  std::remove(out.c_str());
  std::remove(copy.c_str());
}

// ---- bad plugins: one line, exit 2 (or the failing row), the harness never crashes ----------------

TEST(BadPlugin, WithoutTheEntrySymbolIsOneLineAndExit2) {
  expect_one_line_exit_2(ipcmark({"list", "--plugin", plugin("no_entry")}), "no ipcmark_plugin_entry symbol");
}

TEST(BadPlugin, OfAnotherAbiVersionIsOneLineAndExit2) {
  expect_one_line_exit_2(ipcmark({"run", "--plugin", plugin("wrong_abi"), "--transports", "shm"}),
                         "built for plugin ABI version 2, this ipcmark speaks version 1");
}

TEST(BadPlugin, WhoseNameClashesWithABuiltInOrAnotherPluginIsOneLineAndExit2) {
  expect_one_line_exit_2(ipcmark({"list", "--plugin", plugin("clashing")}),
                         "its transport 'pipe' clashes with the built-in transport");
  const std::string twin = testing::temp_path("libseqpacket-twin.so");
  std::filesystem::copy_file(plugin("seqpacket"), twin, std::filesystem::copy_options::overwrite_existing);
  expect_one_line_exit_2(ipcmark({"list", "--plugin", plugin("seqpacket"), "--plugin", twin}),
                         "its transport 'seqpacket' clashes with the plugin ");
  std::remove(twin.c_str());
}

// The crash happens in a spawned peer (run) or in conform's child for the clause, never in the
// process the user started: the row names the dead peer, conform fails that clause and goes on.
TEST(BadPlugin, ThatCrashesInsideSendKillsThePeerNotTheHarness) {
  const std::string out = testing::temp_path("plugin-crash.json");
  const auto run = ipcmark(run_args(plugin("crashing"), "crashy", "pingpong", "500", out));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const std::vector<json> rows = rows_of(out);
  ASSERT_EQ(rows.size(), 1u);
  const std::string error = rows[0].value("error", "");
  EXPECT_THAT(error, ::testing::AnyOf(HasSubstr("client"), HasSubstr("server"))) << error;
  // SIGSEGV, or under ASan its report and exit code 1.
  EXPECT_THAT(error, ::testing::AnyOf(HasSubstr("signal 11"), HasSubstr("exited with code"))) << error;

  const auto conform = ipcmark({"conform", "--transports", "crashy", "--plugin", plugin("crashing")});
  EXPECT_EQ(conform.exit_code, 1) << conform.err;
  EXPECT_THAT(conform.out, HasSubstr("fail crashy EveryReaderGetsEveryMessageWholeAndInOrder"));
  EXPECT_THAT(conform.out, HasSubstr("conform: "));  // it went on to the end
}

TEST(BadPlugin, ThatDropsMessagesFailsConformNamingTheClauseAndARunCountsThemLost) {
  const auto conform = ipcmark({"conform", "--transports", "dropping", "--plugin", plugin("dropping")});
  EXPECT_EQ(conform.exit_code, 1) << conform.err;
  EXPECT_THAT(conform.out, HasSubstr("fail dropping EveryReaderGetsEveryMessageWholeAndInOrder"));
  EXPECT_THAT(conform.out, HasSubstr("a message lost, reordered or torn"));

  const std::string out = testing::temp_path("plugin-drop.json");
  const auto run = ipcmark(run_args(plugin("dropping"), "dropping", "stream", "1000", out));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const std::vector<json> rows = rows_of(out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].value("lost", -1), 2) << rows[0].dump();
}

TEST(BadPlugin, ThatReordersMessagesFailsConformNamingTheClauseAndARunCountsThemReordered) {
  const auto conform = ipcmark({"conform", "--transports", "reordering", "--plugin", plugin("reordering")});
  EXPECT_EQ(conform.exit_code, 1) << conform.err;
  EXPECT_THAT(conform.out, HasSubstr("fail reordering EveryReaderGetsEveryMessageWholeAndInOrder"));

  const std::string out = testing::temp_path("plugin-reorder.json");
  const auto run = ipcmark(run_args(plugin("reordering"), "reordering", "stream", "1000", out));
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const std::vector<json> rows = rows_of(out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].value("reordered", -1), 1) << rows[0].dump();
}

TEST(BadPlugin, ThatHangsInsideSendFailsTheClauseByTimeoutAndConformEnds) {
  const auto conform = ipcmark(
      {"conform", "--transports", "hanging", "--plugin", plugin("hanging"), "--clause-timeout", "2"}, 90);
  EXPECT_EQ(conform.exit_code, 1) << conform.err;
  EXPECT_THAT(conform.out, HasSubstr("fail hanging EveryReaderGetsEveryMessageWholeAndInOrder"));
  EXPECT_THAT(conform.out, HasSubstr("timed out after 2 s (killed)"));
  EXPECT_THAT(testing::processes_with({"conform", "hanging"}), ::testing::IsEmpty());
}

TEST(Conform, AnUnknownTransportIsOneLineAndExit2) {
  expect_one_line_exit_2(ipcmark({"conform", "--transports", "shm,nope"}), "unknown transport 'nope'");
}

}  // namespace
}  // namespace ipcmark
