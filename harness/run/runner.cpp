#include "harness/run/runner.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "harness/run/floor_choice.hpp"
#include "harness/run/peer_report.hpp"
#include "harness/run/spawn.hpp"
#include "transports/fanout.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

std::atomic<bool> g_interrupted{false};

// How long a peer may take to notice that the other one died (shm checks liveness about
// every millisecond while it waits; kernel transports see EOF at once).
constexpr auto kPeerGoneGrace = std::chrono::seconds(3);

std::string unique_channel() {
  static std::atomic<unsigned> counter{0};
  static const unsigned salt = std::random_device{}();
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", salt ^ (counter.fetch_add(1) * 2654435761u));
  return "ipcmark-" + std::to_string(::getpid()) + "-" + suffix;
}

// A peer process started with `args`, and what it has said so far.
struct SpawnedPeer {
  std::string role;  // "server", "client", "reader 2"
  PeerArgs args;
  ChildProcess process;
  std::optional<PeerReport> report;
  std::string bad_report;  // why its report could not be read
  std::optional<ExitStatus> exit;

  static SpawnedPeer spawn(std::string role, const RunSpec& spec, const std::string& channel, Role as, int cpu,
                           int reader = 0) {
    PeerArgs args = PeerArgs::of(spec, as, channel);
    args.cpu = cpu;
    args.reader = reader;
    args.parent_pid = ::getpid();
    std::vector<std::string> argv = args.to_argv();
    argv.insert(argv.begin(), self_executable());
    ChildProcess process = ChildProcess::spawn(argv);
    return SpawnedPeer{std::move(role), std::move(args), std::move(process), {}, {}, {}};
  }

  // A line of its stdout: a JSON object is its report; anything else ("ready") is not.
  void read_line(const std::string& line) {
    const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return;
    try {
      report = PeerReport::from_json(j, args);
    } catch (const Error& e) {
      report.reset();
      bad_report = e.what();
    }
  }
  void absorb_output() {
    const bool open = process.pump_stdout();
    while (auto line = process.take_line()) read_line(*line);
    if (!open) exit = process.wait_or_kill(Clock::now() + kPeerGoneGrace);
  }
  bool done() const { return exit.has_value(); }
  // Why this peer failed, or "" when it succeeded.
  std::string failure() const {
    if (report && report->failed()) return role + ": " + report->error;
    if (exit && !exit->ok()) return role + " " + exit->describe();
    if (!bad_report.empty()) return role + ": " + bad_report;
    if (exit && !report) return role + " exited without a report";
    return "";
  }
};

// Waits until every peer has exited (or the deadline, or Ctrl-C). A one-shot or fanout
// server serves until told to stop; it gets SIGTERM once every client is done.
void wait_for_peers(SpawnedPeer& server, std::vector<SpawnedPeer>& clients, Pattern pattern, Deadline deadline,
                    std::string& error) {
  std::vector<SpawnedPeer*> peers{&server};
  for (SpawnedPeer& c : clients) peers.push_back(&c);
  const bool server_waits_for_stop = pattern == Pattern::Oneshot || pattern == Pattern::Fanout;
  bool stop_sent = false;
  for (;;) {
    const bool clients_done = std::all_of(clients.begin(), clients.end(), [](const SpawnedPeer& c) { return c.done(); });
    if (clients_done && server.done()) return;
    if (runs_interrupted()) {
      error = "interrupted";
      return;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      const auto running = std::count_if(clients.begin(), clients.end(), [](const SpawnedPeer& c) { return !c.done(); });
      error = std::string("timed out") + (server.done() ? "" : "; server still running") +
              (running == 0                  ? ""
               : clients.size() == 1         ? "; client still running"
                                             : "; " + std::to_string(running) + " clients still running");
      return;
    }
    if (server_waits_for_stop && clients_done && !stop_sent) {
      ::kill(server.process.pid(), SIGTERM);
      stop_sent = true;
    }
    // Once one side has failed, the others get a short grace to notice, not the whole run.
    for (SpawnedPeer* p : peers)
      if (p->done() && !p->failure().empty()) deadline = std::min(deadline, now + kPeerGoneGrace);

    std::vector<pollfd> fds;
    std::vector<SpawnedPeer*> owners;
    for (SpawnedPeer* p : peers)
      if (!p->done()) {
        fds.push_back({p->process.stdout_fd(), POLLIN, 0});
        owners.push_back(p);
      }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left, 100)));
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents != 0) owners[i]->absorb_output();
  }
}

// Fanout: every reader's report into one row. Messages are deliveries (sent × readers who got
// them); the window runs from the server's first measured send to the last reader's last
// receive; latency is every reader's one-way latency merged, plus the worst reader's.
void absorb_readers(RunResult& result, const PeerReport& server, const std::vector<SpawnedPeer>& readers) {
  result.readers_lost = server.readers_lost;
  std::uint64_t last_receive = server.first_send_ns;
  for (const SpawnedPeer& reader : readers) {
    const PeerReport& r = *reader.report;
    result.messages += r.received;
    result.lost += result.spec.messages > r.received ? result.spec.messages - r.received : 0;
    result.reordered += r.reordered;
    result.corrupted += r.corrupted;
    result.client_cpu_ns += r.cpu_ns;
    result.client_context_switches += r.context_switches;
    last_receive = std::max(last_receive, r.last_receive_ns);
    const LatencyHistogram& latency = r.histogram;
    result.worst_reader_p50_ns = std::max(result.worst_reader_p50_ns, latency.percentile(50));
    result.worst_reader_p99_ns = std::max(result.worst_reader_p99_ns, latency.percentile(99));
    result.latency.merge(latency);
  }
  result.elapsed_ns = last_receive - server.first_send_ns;
}

}  // namespace

void interrupt_runs() noexcept { g_interrupted.store(true); }
bool runs_interrupted() noexcept { return g_interrupted.load(); }

RunResult run_one(const RunSpec& spec, int repetition_index) {
  RunResult result;
  result.spec = spec;
  result.repetition_index = repetition_index;
  const std::string channel = unique_channel();
  const Deadline deadline = Clock::now() + spec.timeout + std::chrono::seconds(2);

  struct RemoveNames {  // runs last: after every child is reaped
    const RunSpec& spec;
    const std::string& channel;
    ~RemoveNames() {
      if (spec.pattern == Pattern::Fanout) remove_fanout(*spec.transport, channel);
      else spec.transport->channel.remove(channel);
    }
  } remove_names{spec, channel};

  try {
    SpawnedPeer server = SpawnedPeer::spawn("server", spec, channel, Role::Server, spec.placement.cpus.server);
    bool timed_out = false;
    const auto ready = server.process.read_line(deadline, &timed_out);
    if (!ready || *ready != "ready") {
      if (ready) server.read_line(*ready);
      server.exit = server.process.wait_or_kill(Clock::now() + kPeerGoneGrace);
      result.error = timed_out ? "server did not become ready within " + std::to_string(spec.timeout.count()) + " s"
                               : server.failure();
      if (result.error.empty()) result.error = "server exited before it was ready";
      return result;
    }
    std::vector<SpawnedPeer> clients;
    const bool fanout = spec.pattern == Pattern::Fanout;
    for (int i = 0; i < (fanout ? spec.readers : 1); ++i)
      clients.push_back(SpawnedPeer::spawn(fanout ? "reader " + std::to_string(i) : "client", spec, channel,
                                           Role::Client, spec.placement.cpus.client, i));
    wait_for_peers(server, clients, spec.pattern, deadline, result.error);
    // Prefer the root cause: a peer killed by a signal (named first even when the other then
    // timed out waiting for it), else a client (its "peer gone" is usually the echo of the
    // server's own error, which the server then names as well).
    std::vector<const SpawnedPeer*> peers{&server};
    for (const SpawnedPeer& c : clients) peers.push_back(&c);
    for (const SpawnedPeer* p : peers)
      if (p->exit && p->exit->signal != 0) {
        result.error = result.error.empty() ? p->failure() : p->failure() + "; " + result.error;
        break;
      }
    for (const SpawnedPeer& c : clients)
      if (result.error.empty()) result.error = c.failure();
    if (result.error.empty()) result.error = server.failure();
    if (!result.ok()) return result;  // ChildProcess destructors kill and reap what still runs

    const PeerReport& s = *server.report;
    result.server_cpu_ns = s.cpu_ns;
    result.server_context_switches = s.context_switches;
    result.achieved_rate = s.achieved_rate;  // 0 in closed loop, as pacing_ns
    result.pacing_ns = s.pacing_ns;
    if (fanout) {
      absorb_readers(result, s, clients);
    } else {
      PeerReport& c = *clients.front().report;
      result.messages = c.messages;
      result.elapsed_ns = c.elapsed_ns;
      result.lost = c.lost;
      result.reordered = c.reordered;
      result.corrupted = c.corrupted;
      result.client_cpu_ns = c.cpu_ns;
      result.client_context_switches = c.context_switches;
      result.latency = std::move(c.histogram);
    }
    // An open-loop fanout counts drops (zmq PUB drops for a lagging reader); anywhere else
    // a lost message is a broken channel.
    const bool drops_allowed = fanout && spec.rate != 0;
    if ((drops_allowed ? 0 : result.lost) + result.reordered + result.corrupted != 0)
      result.error = "data errors: " + std::to_string(result.lost) + " lost, " + std::to_string(result.reordered) +
                     " reordered, " + std::to_string(result.corrupted) + " corrupted";
  } catch (const std::exception& e) {
    result.error = e.what();
  }
  return result;
}

RunResult run_one_with_floor(const RunSpec& spec, int repetition_index, const RepetitionFloor* previous) {
  if (spec.placement.placement == Placement::Unpinned) return run_one(spec, repetition_index);
  const bool futex = x_floor_of(spec) == FloorKind::Futex;
  const CpuPair cpus = spec.placement.cpus;
  // The floor taken right after the repetition before, on these same CPUs, with nothing run in
  // between, is this one's floor right before: taken once, it halves what floors cost a suite.
  const bool reuse = previous != nullptr && previous->cpus.server == cpus.server &&
                     previous->cpus.client == cpus.client && (!futex || previous->after.futex_rtt_ns);
  const auto start = Clock::now();
  const FloorSample before = reuse ? previous->after : sample_repetition_floor(cpus, futex);
  const auto spent_before = Clock::now() - start;
  RunResult result = run_one(spec, repetition_index);
  const auto after_start = Clock::now();
  const FloorSample after = sample_repetition_floor(cpus, futex);
  const auto spent = spent_before + (Clock::now() - after_start);
  result.floor = RepetitionFloor{before, after, std::chrono::duration<double>(spent).count(), cpus};
  if (!futex) result.floor->before.futex_rtt_ns.reset();  // only what this row is divided by
  return result;
}

std::vector<std::pair<const RunSpec*, int>> run_order(const std::vector<RunSpec>& specs, bool interleave,
                                                      std::uint64_t seed) {
  std::vector<std::pair<const RunSpec*, int>> order;
  if (!interleave) {
    for (const RunSpec& spec : specs)
      for (int rep = 0; rep < spec.repetitions; ++rep) order.emplace_back(&spec, rep);
    return order;
  }
  int rounds = 0;
  for (const RunSpec& s : specs) rounds = std::max(rounds, s.repetitions);
  std::mt19937_64 random(seed);
  for (int rep = 0; rep < rounds; ++rep) {
    const std::size_t round_start = order.size();
    for (const RunSpec& spec : specs)
      if (rep < spec.repetitions) order.emplace_back(&spec, rep);
    std::shuffle(order.begin() + static_cast<std::ptrdiff_t>(round_start), order.end(), random);
  }
  return order;
}

std::vector<RunResult> run_all(
    const std::vector<RunSpec>& specs, const RunOptions& options,
    const std::function<void(const RunResult&, std::size_t done, std::size_t total)>& on_result) {
  auto order = run_order(specs, options.interleave, options.seed);
  std::vector<RunResult> results;
  const auto started = Clock::now();
  std::mt19937_64 random(options.seed ^ 0x5eed);
  std::map<const RunSpec*, int> next_index;
  for (const auto& [spec, rep] : order) next_index[spec] = std::max(next_index[spec], rep + 1);
  for (std::size_t i = 0;; ++i) {
    if (i == order.size()) {
      // The rounds asked for are done: with --repetitions auto, one more round of what is still wide.
      const AutoRepetitions& a = options.auto_repetitions;
      if (!a.on || Clock::now() - started >= a.budget) return results;
      const auto outcomes = auto_outcomes(results, a.half_width);
      const std::size_t round_start = order.size();
      for (const RunSpec& spec : specs) {
        const auto it = outcomes.find(spec.name());
        if (it == outcomes.end() || it->second.reached || next_index[&spec] >= a.most) continue;
        order.emplace_back(&spec, next_index[&spec]++);
      }
      if (order.size() == round_start) return results;
      std::shuffle(order.begin() + static_cast<std::ptrdiff_t>(round_start), order.end(), random);
    }
    const auto& [spec, rep] = order[i];
    if (runs_interrupted()) return results;
    const RunResult* last = results.empty() ? nullptr : &results.back();
    const RepetitionFloor* previous = last && last->floor ? &*last->floor : nullptr;
    results.push_back(options.repetition_floors ? run_one_with_floor(*spec, rep, previous) : run_one(*spec, rep));
    if (runs_interrupted() && !results.back().ok()) {
      results.pop_back();  // a run cut short by Ctrl-C measured nothing
      return results;
    }
    on_result(results.back(), results.size(), order.size());
    if (options.fail_fast && !results.back().ok()) return results;
  }
}

}  // namespace ipcmark
