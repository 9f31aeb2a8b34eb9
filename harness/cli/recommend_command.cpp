// harness/cli/recommend_command.cpp — `ipcmark recommend`: reads --results FILE, or measures a
// quick focused suite first by running this same executable (`ipcmark run` as a child
// process writing a temporary file), then prints harness/views/recommend.hpp's answer.
// Exit codes: 0 at least one transport meets the constraints, 1 none does (or the file
// has no rows for --readers), 2 bad input.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "harness/cli/subcommand.hpp"
#include "harness/views/recommend.hpp"
#include "harness/results/reader.hpp"
#include "harness/usage_error.hpp"
#include "transports/registry.hpp"

extern char** environ;

namespace ipcmark {
namespace {

struct RecommendFlags {
  std::string results;
  std::size_t size = 0;
  double latency_p99_us = 0, throughput_mbps = 0, cpu_budget_percent = 0;
  int readers = 1;
  CLI::Option *latency = nullptr, *throughput = nullptr, *cpu = nullptr;
};

// The quick suite: every transport that takes the size, both patterns, both shm waits,
// 3 repetitions of 2000 messages: about half a minute on the 2-vCPU machine.
constexpr const char* kMessages = "2000";
constexpr const char* kWarmup = "200";
constexpr const char* kRepetitions = "3";

class TemporaryFile {
 public:
  TemporaryFile() {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/ipcmark-recommend-XXXXXX.json";
    const int fd = ::mkstemps(path_.data(), 5);
    if (fd < 0) throw UsageError("cannot create a temporary file in " + path_.substr(0, path_.rfind('/')));
    ::close(fd);
  }
  ~TemporaryFile() { std::remove(path_.c_str()); }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `argv` with stdout discarded and stderr inherited; returns its exit code, or
// 128 + signal. While it runs, Ctrl-C reaches it (same process group) and not us, so
// the temporary file is still removed after it stops.
int run_child(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
  auto* old_int = std::signal(SIGINT, SIG_IGN);
  auto* old_term = std::signal(SIGTERM, SIG_IGN);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  int status = 0;
  if (spawned == 0)
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  if (spawned != 0) throw UsageError("cannot run " + args[0] + ": " + std::strerror(spawned));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

ResultsDocument measure(std::size_t size, int readers) {
  std::string transports;
  int count = 0;
  for (const Transport* t : all_transports())
    if (t->max_message >= size) {
      transports += (transports.empty() ? "" : ",") + std::string(t->name);
      ++count;
    }
  if (count == 0) throw UsageError("--size " + std::to_string(size) + ": no transport takes messages that large");
  TemporaryFile out;
  const bool fanout = readers > 1;
  std::cerr << "ipcmark: no --results given; measuring " << count << " transports at " << size << " B ("
            << (fanout ? "fanout to " + std::to_string(readers) + " readers" : std::string("pingpong and stream"))
            << ", " << kRepetitions << " repetitions of " << kMessages << " messages)" << std::endl;
  const int code = run_child({"/proc/self/exe", "run", "--transports", transports, "--pattern",
                              fanout ? "fanout" : "pingpong,stream", "--readers", std::to_string(readers), "--sizes",
                              std::to_string(size), "--messages", kMessages, "--warmup", kWarmup, "--repetitions",
                              kRepetitions, "--wait", "spin,block", "--out", out.path()});
  if (code == 130 || code == 128 + SIGINT || code == 128 + SIGTERM) throw UsageError("measuring run interrupted");
  if (code == 2) throw UsageError("the measuring run rejected --size " + std::to_string(size) + " (see above)");
  if (code != 0 && code != 1) throw UsageError("the measuring run failed (exit code " + std::to_string(code) + ")");
  if (code == 1) std::cerr << "ipcmark: some measuring runs failed (see above); judging the rest" << std::endl;
  return read_results(out.path());
}

int command_recommend(const RecommendFlags& f) {
  RecommendRequest request;
  request.size = f.size;
  request.readers = f.readers;
  if (f.latency->count()) request.latency_p99_us = f.latency_p99_us;
  if (f.throughput->count()) request.throughput_mbps = f.throughput_mbps;
  if (f.cpu->count()) request.cpu_budget_percent = f.cpu_budget_percent;
  if (request.cpu_budget_percent && !request.throughput_mbps)
    throw UsageError("--cpu-budget-percent needs --throughput-mbps: CPU is counted at that message rate");
  const ResultsDocument results = f.results.empty() ? measure(f.size, request.readers) : read_results(f.results);
  const std::string source = f.results.empty() ? "a quick run just now" : f.results;
  try {
    const Recommendation r = recommend(results, request);
    std::cout << render_recommendation(r, request, source);
    return r.meeting.empty() ? 1 : 0;
  } catch (const NoFanoutRows& e) {
    std::cout << source << " has " << e.what() << ": --readers " << request.readers
              << " needs results of the fanout pattern, which this file does not have\n";
    return 1;
  } catch (const UsageError& e) {
    throw UsageError(source + ": " + e.what());
  }
}

}  // namespace

Subcommand add_recommend_command(CLI::App& app) {
  auto f = std::make_shared<RecommendFlags>();
  CLI::App* sub = app.add_subcommand(
      "recommend", "Which transports meet a latency, throughput and CPU budget at a message size, best first");
  sub->add_option("--results", f->results, "Results file to judge (default: measure a quick suite now)");
  sub->add_option("--size", f->size, "Message size in bytes")->required()->check(CLI::PositiveNumber);
  f->latency = sub->add_option("--latency-p99-us", f->latency_p99_us,
                               "Largest acceptable p99 latency, microseconds (pingpong round trip)")
                   ->check(CLI::PositiveNumber);
  f->throughput = sub->add_option("--throughput-mbps", f->throughput_mbps,
                                  "Smallest acceptable throughput, MB/s (10^6 bytes per second, not megabits)")
                      ->check(CLI::PositiveNumber);
  f->cpu = sub->add_option("--cpu-budget-percent", f->cpu_budget_percent,
                           "Largest CPU use at that throughput, percent of one core (both processes)")
               ->check(CLI::PositiveNumber);
  sub->add_option("--readers", f->readers, "Readers per writer (more than 1 judges fanout rows)")
      ->check(CLI::Range(1, kMaxReaders))
      ->capture_default_str();
  return {sub, [f] { return command_recommend(*f); }};
}

}  // namespace ipcmark
