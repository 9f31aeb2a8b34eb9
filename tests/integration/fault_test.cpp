// Faults injected into real `ipcmark run`s on every registered transport: a peer killed with
// SIGKILL at seeded random points, a peer stopped with SIGSTOP, a slow reader, names left by a
// crashed server, a full /dev/shm, Ctrl-C, and a runtime directory planted by someone else.
// Each case checks what a user (or CI) sees: the exit code, the error, the results file, and
// that no process, shm object, FIFO, socket file or queue is left behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include <nlohmann/json.hpp>

#include "tests/support/channels.hpp"
#include "tests/support/processes.hpp"
#include "transports/names.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;
using testing::Launched;
using testing::Outcome;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// Kills per transport: 20, or IPCMARK_FAULT_KILLS (1..1000). The sanitizer presets ask for fewer:
// there each kill's run is several times slower, and the harness code the kills reach is the same
// whichever point they land on, so the full draw stays with the Release build.
int kills_per_transport() {
  const char* text = std::getenv("IPCMARK_FAULT_KILLS");
  const int asked = text != nullptr ? std::atoi(text) : 0;
  return asked >= 1 && asked <= 1000 ? asked : 20;
}

template <class Predicate>
bool eventually(Predicate&& done, std::chrono::milliseconds limit) {
  const auto end = Steady::now() + limit;
  while (!done()) {
    if (Steady::now() >= end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// The `ipcmark peer` processes a run started ("" role: both).
std::vector<int> peers_of(pid_t run, const std::string& role = "") {
  // cmdline NULs read as spaces, so the trailing space stops pid 12 matching 123.
  std::vector<std::string> needles{" peer ", "--parent-pid " + std::to_string(run) + " "};
  if (!role.empty()) needles.push_back("--role " + role + " ");
  return testing::processes_with(needles);
}

std::vector<std::string> leftovers_of_run(pid_t run) {
  return testing::names_with_prefix("ipcmark-" + std::to_string(run) + "-");
}

// CPU time (user + system) a process has used so far, from /proc/<pid>/stat.
double cpu_seconds(int pid) {
  const std::string stat = testing::slurp("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt: fields 3..13
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

// A pid that no process has: a child that has exited and been reaped.
int dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

json results_file(const std::string& path) {
  json doc = json::parse(testing::slurp(path), nullptr, /*allow_exceptions=*/false);
  std::remove(path.c_str());
  return doc;
}

std::vector<json> iteration_rows(const json& doc) {
  std::vector<json> rows;
  if (doc.is_object() && doc.contains("benchmarks"))
    for (const json& row : doc["benchmarks"])
      if (row.value("run_type", "") == "iteration") rows.push_back(row);
  return rows;
}

int lines_containing(const std::string& text, const std::string& needle) {
  int n = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) n += line.find(needle) != std::string::npos;
  return n;
}

// Every flag a run under test needs so that it starts at once and stays on one configuration.
std::vector<std::string> run_args(const std::string& transport, const std::string& pattern, const std::string& size,
                                  const std::string& messages, const std::string& timeout_s, const std::string& out) {
  return {"run", "--transports", transport, "--pattern", pattern, "--sizes", size, "--messages", messages,
          "--warmup", "0", "--repetitions", "1", "--timeout", timeout_s, "--no-floor", "--out", out};
}

using testing::transport_test_name;

class Faults : public ::testing::TestWithParam<const Transport*> {
 protected:
  std::string transport() const { return std::string(GetParam()->name); }
};

// SIGKILL of the server or the client: before it is ready, at the start, mid-stream or during an
// echo (the delay after the victim appears is drawn from a seeded generator, printed on failure).
TEST_P(Faults, SigkillOfEitherPeerAtSeededRandomPointsEndsTheRunCleanly) {
  const unsigned seed = 20261125u + static_cast<unsigned>(std::hash<std::string>{}(transport()) % 1000);
  std::mt19937 random(seed);
  int landed = 0;  // kills that hit a live peer
  const int kills = kills_per_transport();
  for (int i = 0; i < kills; ++i) {
    const bool kill_server = random() % 2 == 0;
    const std::string pattern = random() % 2 == 0 ? "stream" : "pingpong";
    const std::string size = random() % 2 == 0 ? "64" : "4096";
    // shm's waits; a transport without wait modes ignores the choice, iceoryx takes spin or block.
    const WaitKind drawn = kWaitKinds[random() % std::size(kWaitKinds)];
    const auto takes = GetParam()->channel.takes_wait;
    const std::string wait(to_string(takes == nullptr || takes(drawn) ? drawn : WaitKind::Block));
    const int delay_ms = random() % 4 == 0 ? 0 : static_cast<int>(random() % 40);
    const std::string victim_role = kill_server ? "server" : "client";
    SCOPED_TRACE("seed " + std::to_string(seed) + " kill " + std::to_string(i) + ": " + victim_role + " of " +
                 pattern + "/" + size + "/" + wait + " after " + std::to_string(delay_ms) + " ms");

    const std::string out = testing::temp_path("kill.json");
    std::vector<std::string> args = run_args(transport(), pattern, size, "500000000", "20", out);
    args.insert(args.end(), {"--wait", wait});
    Launched run(args);
    ASSERT_GT(run.pid(), 0);
    int victim = 0;
    ASSERT_TRUE(eventually(
        [&] {
          const auto found = peers_of(run.pid(), victim_role);
          victim = found.empty() ? 0 : found.front();
          return victim != 0;
        },
        20s))
        << "the " << victim_role << " never started";
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    landed += ::kill(victim, SIGKILL) == 0;
    const auto killed_at = Steady::now();

    const Outcome o = run.finish(60s);
    const auto took = Steady::now() - killed_at;
    EXPECT_FALSE(o.hung);
    EXPECT_EQ(o.exit_code, 1) << o.err;
    EXPECT_LT(took, 22s) << "the run must end within its deadline (timeout 20 s + 2 s)";
    EXPECT_EQ(lines_containing(o.err, "failed: "), 1) << o.err;

    const json doc = results_file(out);
    const auto rows = iteration_rows(doc);
    ASSERT_EQ(rows.size(), 1u) << doc.dump();
    ASSERT_TRUE(rows[0]["error"].is_string()) << rows[0].dump();
    const std::string error = rows[0]["error"];
    EXPECT_THAT(error, ::testing::AnyOf(::testing::HasSubstr("server"), ::testing::HasSubstr("client"))) << error;
    EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 0) << error;

    EXPECT_THAT(peers_of(run.pid()), ::testing::IsEmpty()) << "orphan peer";
    EXPECT_THAT(leftovers_of_run(run.pid()), ::testing::IsEmpty());
    if (::testing::Test::HasFailure()) break;  // one seeded failure says enough
  }
  EXPECT_GE(landed, kills * 3 / 4) << "most kills must hit a live peer, or the test tests little";
}

// The root cause, not its echo: when the server is killed mid-stream the row says so, naming
// the peer and the signal, not the client's "peer gone".
TEST_P(Faults, KilledServerIsNamedWithItsSignalInTheRow) {
  const std::string out = testing::temp_path("named.json");
  std::vector<std::string> args = run_args(transport(), "stream", "64", "500000000", "20", out);
  args.insert(args.end(), {"--wait", "block"});
  Launched run(args);
  int server = 0;
  ASSERT_TRUE(eventually([&] { return !peers_of(run.pid(), "client").empty(); }, 20s));
  ASSERT_TRUE(eventually(
      [&] {
        const auto found = peers_of(run.pid(), "server");
        server = found.empty() ? 0 : found.front();
        return server != 0;
      },
      1s));
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(::kill(server, SIGKILL), 0);
  const Outcome o = run.finish(60s);
  const auto rows = iteration_rows(results_file(out));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_THAT(rows[0]["error"].get<std::string>(), ::testing::HasSubstr("server killed by signal 9"));
}

// A hung peer (SIGSTOP): the run gives up at its deadline, kills and reaps the peer, and the
// next run of the suite goes on and succeeds.
TEST_P(Faults, StoppedPeerTimesOutIsKilledAndTheSuiteGoesOn) {
  const std::string out = testing::temp_path("stopped.json");
  std::vector<std::string> args = run_args(transport(), "pingpong", "64", "500", "2", out);
  args[std::find(args.begin(), args.end(), "--repetitions") - args.begin() + 1] = "2";
  args.insert(args.end(), {"--wait", "block"});  // one configuration: exactly two runs
  Launched run(args);
  int server = 0;
  ASSERT_TRUE(eventually(
      [&] {
        const auto found = peers_of(run.pid(), "server");
        server = found.empty() ? 0 : found.front();
        return server != 0;
      },
      20s));
  ASSERT_EQ(::kill(server, SIGSTOP), 0);

  const Outcome o = run.finish(60s);
  EXPECT_FALSE(o.hung);
  EXPECT_EQ(o.exit_code, 1) << o.err;
  EXPECT_EQ(::kill(server, 0), -1) << "the stopped server must be killed and reaped";
  EXPECT_EQ(errno, ESRCH);
  const auto rows = iteration_rows(results_file(out));
  ASSERT_EQ(rows.size(), 2u) << o.err;
  ASSERT_TRUE(rows[0]["error"].is_string());
  EXPECT_THAT(rows[0]["error"].get<std::string>(),
              ::testing::AnyOf(::testing::HasSubstr("timed out"), ::testing::HasSubstr("within")));
  EXPECT_TRUE(rows[1]["error"].is_null()) << rows[1]["error"];
  EXPECT_EQ(rows[1]["iterations"], 500);
  EXPECT_THAT(peers_of(run.pid()), ::testing::IsEmpty());
  EXPECT_THAT(leftovers_of_run(run.pid()), ::testing::IsEmpty());
}

// A reader that stops reading for a second: the writer waits (back-pressure), nothing is lost,
// and with --wait block the waiting writer sleeps rather than spins.
TEST_P(Faults, SlowReaderBlocksTheWriterWithoutLossOrBusyLoop) {
  const std::string out = testing::temp_path("slow.json");
  std::vector<std::string> args = run_args(transport(), "stream", "4096", "50000", "60", out);
  args.insert(args.end(), {"--wait", "block"});
  Launched run(args);
  int client = 0, server = 0;
  ASSERT_TRUE(eventually(
      [&] {
        const auto found = peers_of(run.pid(), "client");
        client = found.empty() ? 0 : found.front();
        return client != 0;
      },
      20s));
  ASSERT_EQ(::kill(client, SIGSTOP), 0);
  const auto servers = peers_of(run.pid(), "server");
  ASSERT_EQ(servers.size(), 1u);
  server = servers.front();
  std::this_thread::sleep_for(200ms);  // the channel fills and the writer settles into its wait
  const double cpu_before = cpu_seconds(server);
  const auto wall_before = Steady::now();
  std::this_thread::sleep_for(1s);
  const double cpu_during = cpu_seconds(server) - cpu_before;
  const double wall = std::chrono::duration<double>(Steady::now() - wall_before).count();
  ASSERT_EQ(::kill(client, SIGCONT), 0);

  const Outcome o = run.finish(120s);
  EXPECT_FALSE(o.hung);
  EXPECT_EQ(o.exit_code, 0) << o.err;
  ASSERT_GE(cpu_before, 0.0) << "the server finished before the reader was stopped";
  // Loose: a sleeping writer uses ~0; a spinning one would use most of a CPU.
  EXPECT_LT(cpu_during, 0.25 * wall) << "server CPU while its reader was stopped: " << cpu_during << " s of "
                                     << wall << " s";
  const auto rows = iteration_rows(results_file(out));
  ASSERT_EQ(rows.size(), 1u) << o.err;
  EXPECT_TRUE(rows[0]["error"].is_null()) << rows[0]["error"];
  EXPECT_EQ(rows[0]["iterations"], 50000);
  EXPECT_EQ(rows[0]["lost"], 0);
  EXPECT_EQ(rows[0]["reordered"], 0);
  EXPECT_EQ(rows[0]["corrupted"], 0);
  EXPECT_THAT(leftovers_of_run(run.pid()), ::testing::IsEmpty());
}

// Starts `ipcmark peer --role server` on `channel`, waits for "ready", then SIGKILLs it: the names
// it created stay behind, as after a crash.
void crash_a_server(const std::string& transport, const std::string& channel) {
  Launched server({"peer", "--role", "server", "--transport", transport, "--channel", channel, "--pattern",
                   "pingpong", "--size", "64", "--messages", "10", "--warmup", "0", "--timeout", "30"});
  ASSERT_TRUE(eventually([&] { return server.out().find("ready") != std::string::npos; }, 20s)) << server.out();
  ::kill(server.pid(), SIGKILL);
  server.finish(10s);
}

// Names left by a crashed server: the next server gets "already exists" naming the path and the
// fix; the fix works.
TEST_P(Faults, StaleNamesFromACrashedServerGiveAlreadyExistsNamingThePathAndTheFix) {
  // Not an "ipcmark-<pid>-" name: a plain `ipcmark clean` in a test running alongside leaves it alone.
  IPCMARK_REQUIRE_NAME_LISTING(transport());
  const std::string channel = "rel-stale-" + std::to_string(::getpid()) + "-" + transport_test_name({GetParam(), 0});
  crash_a_server(transport(), channel);
  const auto stale = testing::names_with_prefix(channel);
  ASSERT_THAT(stale, ::testing::Not(::testing::IsEmpty())) << "a crashed server leaves its names";

  Launched second({"peer", "--role", "server", "--transport", transport(), "--channel", channel, "--pattern",
                   "pingpong", "--size", "64", "--messages", "10", "--warmup", "0", "--timeout", "5"});
  const Outcome o = second.finish(30s);
  EXPECT_NE(o.exit_code, 0);
  const json report = json::parse(o.out, nullptr, false);
  ASSERT_TRUE(report.is_object() && report.contains("error")) << o.out;
  const std::string error = report["error"];
  EXPECT_THAT(error, ::testing::HasSubstr("already exists")) << error;
  EXPECT_THAT(error, ::testing::HasSubstr("`ipcmark clean --channel " + channel + "`")) << error;
  // The path it names is one of the names left behind (mq names are "/<name>" in the mqueue mount).
  bool names_a_path = false;
  for (const std::string& path : stale) {
    const std::string mq_name = "/" + path.substr(path.rfind('/') + 1);
    const bool in_mqueue = transport() == "mq" && path.rfind(testing::mqueue_dir_or_empty() + "/", 0) == 0;
    names_a_path = names_a_path || error.find("(" + path + ")") != std::string::npos ||
                   (in_mqueue && error.find("(" + mq_name + ")") != std::string::npos);
  }
  EXPECT_TRUE(names_a_path) << error;

  const auto clean = testing::ipcmark({"clean", "--channel", channel}, 30);
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_THAT(testing::names_with_prefix(channel), ::testing::IsEmpty());
}

// Plain `ipcmark clean` removes the names of runs whose process is gone. (Its own fixture: it
// runs on every transport but mq, see CleanRemovesTheNamesOfACrashedMqRun.)
class CleanAfterCrash : public Faults {};

TEST_P(CleanAfterCrash, CleanRemovesTheNamesOfACrashedRun) {
  const std::string channel = "ipcmark-" + std::to_string(dead_pid()) + "-crashed" + std::to_string(::getpid());
  crash_a_server(transport(), channel);
  ASSERT_THAT(testing::names_with_prefix(channel), ::testing::Not(::testing::IsEmpty()));
  const auto clean = testing::ipcmark({"clean"}, 30);
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_THAT(testing::names_with_prefix(channel), ::testing::IsEmpty()) << clean.out;
  testing::ipcmark({"clean", "--channel", channel}, 30);  // whatever the outcome, leave nothing
}

std::vector<const Transport*> transports_except_mq() {
  std::vector<const Transport*> all;
  for (const Transport* t : all_transports())
    if (t->name != "mq") all.push_back(t);
  return all;
}

INSTANTIATE_TEST_SUITE_P(EveryTransport, Faults, ::testing::ValuesIn(all_transports()), transport_test_name);
INSTANTIATE_TEST_SUITE_P(EveryTransportButMq, CleanAfterCrash, ::testing::ValuesIn(transports_except_mq()),
                         transport_test_name);

// A crashed mq run leaves its queues in the mqueue mount; `ipcmark clean` removes them too.
TEST(FaultsMq, CleanRemovesTheNamesOfACrashedMqRun) {
  IPCMARK_REQUIRE_NAME_LISTING("mq");
  const std::string channel = "ipcmark-" + std::to_string(dead_pid()) + "-crashed" + std::to_string(::getpid());
  crash_a_server("mq", channel);
  ASSERT_THAT(testing::names_with_prefix(channel), ::testing::Not(::testing::IsEmpty()));
  const auto clean = testing::ipcmark({"clean"}, 30);
  EXPECT_THAT(testing::names_with_prefix(channel), ::testing::IsEmpty()) << clean.out;
  testing::ipcmark({"clean", "--channel", channel}, 30);
}

// `ipcmark clean` touches nothing but ipcmark's own names of processes that are gone.
TEST(Clean, LeavesOtherNamesAndLiveRunsAlone) {
  const std::string me = std::to_string(::getpid());
  const std::string dead = std::to_string(dead_pid());
  const std::vector<std::string> dirs{"/dev/shm", private_runtime_dir()};
  const std::vector<std::string> keep{"someone-else-" + me, "ipcmark-" + me + "-live", "ipcmark-x" + dead + "-odd",
                                      "ipcmarkish-" + dead + "-near"};
  const std::string stale = "ipcmark-" + dead + "-gone" + me;
  for (const std::string& dir : dirs)
    for (const std::string& name : keep) std::ofstream(dir + "/" + name) << "x";
  std::ofstream("/dev/shm/" + stale) << "x";

  const auto clean = testing::ipcmark({"clean"}, 30);
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_FALSE(testing::exists("/dev/shm/" + stale)) << clean.out;
  for (const std::string& dir : dirs)
    for (const std::string& name : keep) {
      EXPECT_TRUE(testing::exists(dir + "/" + name)) << dir << "/" << name << " must not be removed";
      std::remove((dir + "/" + name).c_str());
    }
  std::remove(("/dev/shm/" + stale).c_str());
}

// Where no mqueue filesystem can be listed (a fresh machine: /dev/mqueue not mounted), plain
// `ipcmark clean` still cleans the rest, and says in one line on stderr why mq was not looked at
// and how to fix it; it never skips mq silently. IPCMARK_MQUEUE_DIR stands in for the mount.
TEST(Clean, WithoutAnMqueueMountSaysWhyInOneLineAndCleansTheRest) {
  const std::string stale = "/dev/shm/ipcmark-" + std::to_string(dead_pid()) + "-nomq" + std::to_string(::getpid());
  const std::string missing = testing::temp_path("no-mqueue-here");
  std::ofstream(stale) << "x";

  Launched clean({"clean"}, {"IPCMARK_MQUEUE_DIR=" + missing});
  const Outcome o = clean.finish(30s);
  EXPECT_FALSE(o.hung);
  EXPECT_EQ(o.exit_code, 0) << "the rest was cleaned: " << o.err;
  EXPECT_EQ(testing::count_lines(o.err), 1) << o.err;
  EXPECT_THAT(o.err, ::testing::StartsWith("ipcmark: warning: cannot list POSIX message queues: "));
  EXPECT_THAT(o.err, ::testing::HasSubstr(missing));
  EXPECT_THAT(o.err, ::testing::HasSubstr("mount -t mqueue mqueue")) << "the fix";
  EXPECT_FALSE(testing::exists(stale)) << o.out;
  std::remove(stale.c_str());
}

// A region larger than /dev/shm's free room: refused at create time with the sizes, never a SIGBUS
// (nor an OOM kill: a /dev/shm larger than memory is refused by the memory check, saying /dev/shm).
// The margin is a quarter of /dev/shm, not a few MiB: another test freeing room between our
// statvfs and ipcmark's once made the request fit and be reserved, and the OOM killer ended it.
TEST(ShmSpace, RegionLargerThanTheFreeRoomIsAClearErrorAtCreateTime) {
  struct statvfs fs {};
  ASSERT_EQ(::statvfs("/dev/shm", &fs), 0);
  if (fs.f_blocks == 0) GTEST_SKIP() << "/dev/shm has no size limit here";
  const unsigned long long too_big = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize +
                                     static_cast<unsigned long long>(fs.f_blocks) * fs.f_frsize / 4;
  const std::string channel = "rel-too-big-" + std::to_string(::getpid());
  const auto r = testing::ipcmark({"serve", "--transport", "shm", "--channel", channel, "--size",
                                   std::to_string(too_big), "--message", "x", "--hold", "0"},
                                  60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr("/dev/shm")) << r.err;
  EXPECT_THAT(r.err, ::testing::HasSubstr(std::to_string(too_big))) << r.err;
  EXPECT_FALSE(testing::exists("/dev/shm/" + channel));
}

// Ctrl-C in the middle of a suite: exit 130, the finished runs in a valid results file, the
// peers stopped and every name removed.
TEST(Interrupt, CtrlCDuringRunExits130WithValidPartialResultsAndNoLeftovers) {
  const std::string out = testing::temp_path("interrupted.json");
  Launched run({"run", "--transports", "shm,pipe,unix", "--pattern", "pingpong", "--sizes", "64", "--messages",
                "3000", "--warmup", "0", "--repetitions", "20", "--timeout", "20", "--no-floor", "--out", out});
  ASSERT_TRUE(eventually(
      [&] {
        const json doc = json::parse(testing::slurp(out), nullptr, false);
        return !iteration_rows(doc).empty();
      },
      60s))
      << "no run finished";
  ASSERT_TRUE(eventually([&] { return !peers_of(run.pid()).empty(); }, 20s)) << "interrupt mid-run";
  ASSERT_EQ(::kill(run.pid(), SIGINT), 0);
  const Outcome o = run.finish(30s);
  EXPECT_FALSE(o.hung);
  EXPECT_EQ(o.exit_code, 130) << o.err;
  EXPECT_THAT(o.err, ::testing::HasSubstr("interrupted"));
  const json doc = results_file(out);
  ASSERT_TRUE(doc.is_object()) << "not valid JSON";
  const auto rows = iteration_rows(doc);
  EXPECT_GE(rows.size(), 1u);
  EXPECT_LT(rows.size(), 60u);
  for (const json& row : rows) EXPECT_TRUE(row["error"].is_null()) << "a run cut short is dropped: " << row.dump();
  EXPECT_THAT(peers_of(run.pid()), ::testing::IsEmpty());
  EXPECT_THAT(leftovers_of_run(run.pid()), ::testing::IsEmpty());
}

// The private runtime directory (FIFOs, socket files) is never one that someone else planted:
// a symlink, a directory others may write, or one owned by another user is refused.
class PlantedRuntimeDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::temp_path("xdg");
    ::mkdir(root_.c_str(), 0700);
    target_ = root_ + "/elsewhere";
    ::mkdir(target_.c_str(), 0777);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  testing::CommandResult serve_pipe() {
    Launched serve({"serve", "--transport", "pipe", "--channel", "planted", "--message", "m", "--hold", "0"},
                   {"XDG_RUNTIME_DIR=" + root_});
    const Outcome o = serve.finish(30s);
    return {o.exit_code, o.out, o.err};
  }
  void expect_refused(const testing::CommandResult& r) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(testing::count_lines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, ::testing::HasSubstr(root_ + "/ipcmark")) << r.err;
    EXPECT_THAT(r.err, ::testing::HasSubstr("not a private directory")) << r.err;
    EXPECT_THAT(testing::entries_with_prefix(target_, "planted"), ::testing::IsEmpty()) << "followed the plant";
  }

  std::string root_, target_;
};

TEST_F(PlantedRuntimeDir, SymlinkIsRefusedAndNotFollowed) {
  ASSERT_EQ(::symlink(target_.c_str(), (root_ + "/ipcmark").c_str()), 0);
  expect_refused(serve_pipe());
}

TEST_F(PlantedRuntimeDir, DirectoryOthersCanWriteIsRefused) {
  ASSERT_EQ(::mkdir((root_ + "/ipcmark").c_str(), 0700), 0);
  ASSERT_EQ(::chmod((root_ + "/ipcmark").c_str(), 0777), 0);
  expect_refused(serve_pipe());
}

TEST_F(PlantedRuntimeDir, DirectoryOwnedBySomeoneElseIsRefused) {
  if (::getuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  ASSERT_EQ(::mkdir((root_ + "/ipcmark").c_str(), 0700), 0);
  ASSERT_EQ(::chown((root_ + "/ipcmark").c_str(), 65534, 65534), 0);
  expect_refused(serve_pipe());
}

TEST_F(PlantedRuntimeDir, AFreshOneIsCreatedPrivate) {
  const auto r = serve_pipe();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::lstat((root_ + "/ipcmark").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, ::getuid());
}

}  // namespace
}  // namespace ipcmark
