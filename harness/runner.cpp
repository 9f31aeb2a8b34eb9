#include "harness/runner.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>

#include <nlohmann/json.hpp>

#include "harness/process.hpp"

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

std::vector<std::string> peer_args(const RunSpec& spec, const std::string& channel, bool server, int cpu) {
  std::vector<std::string> args{self_executable(),
          "peer",
          "--role", server ? "server" : "client",
          "--transport", std::string(spec.transport->name),
          "--channel", channel,
          "--pattern", std::string(to_string(spec.pattern)),
          "--size", std::to_string(spec.message_size),
          "--messages", std::to_string(spec.messages),
          "--warmup", std::to_string(spec.warmup_messages),
          "--warmup-ms", std::to_string(spec.warmup_ms),
          "--rate", std::to_string(spec.rate),
          "--wait", std::string(to_string(spec.wait)),
          "--timeout", std::to_string(spec.timeout.count()),
          "--cpu", std::to_string(cpu),
          "--parent-pid", std::to_string(::getpid())};
  if (spec.zero_copy) args.push_back("--zero-copy");
  return args;
}

// A peer process and what it has said so far.
struct Peer {
  const char* role;
  ChildProcess process;
  std::optional<json> report;
  std::optional<ExitStatus> exit;

  void absorb_output() {
    const bool open = process.pump_stdout();
    while (auto line = process.take_line()) {
      json j = json::parse(*line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object()) report = std::move(j);
    }
    if (!open) exit = process.wait_or_kill(Clock::now() + kPeerGoneGrace);
  }
  bool done() const { return exit.has_value(); }
  // Why this peer failed, or "" when it succeeded.
  std::string failure() const {
    if (report && report->contains("error")) return std::string(role) + ": " + (*report)["error"].get<std::string>();
    if (exit && !exit->ok()) return std::string(role) + " " + exit->describe();
    if (exit && !report) return std::string(role) + " exited without a report";
    return "";
  }
};

void wait_for_both(Peer& server, Peer& client, Pattern pattern, Deadline deadline, std::string& error) {
  bool stop_sent = false;
  while (!(server.done() && client.done())) {
    if (runs_interrupted()) {
      error = "interrupted";
      return;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      error = std::string("timed out") + (server.done() ? "" : "; server still running") +
              (client.done() ? "" : "; client still running");
      return;
    }
    // A one-shot server serves until told to stop; stop it once the client is done.
    if (pattern == Pattern::Oneshot && client.done() && !stop_sent) {
      ::kill(server.process.pid(), SIGTERM);
      stop_sent = true;
    }
    // Once one side has failed, the other gets a short grace to notice, not the whole run.
    for (Peer* p : {&server, &client})
      if (p->done() && !p->failure().empty()) deadline = std::min(deadline, now + kPeerGoneGrace);

    pollfd fds[2];
    Peer* owners[2];
    nfds_t n = 0;
    for (Peer* p : {&server, &client})
      if (!p->done()) {
        fds[n] = {p->process.stdout_fd(), POLLIN, 0};
        owners[n++] = p;
      }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    ::poll(fds, n, static_cast<int>(std::min<long long>(left, 100)));
    for (nfds_t i = 0; i < n; ++i)
      if (fds[i].revents != 0) owners[i]->absorb_output();
  }
}

std::uint64_t field(const std::optional<json>& report, const char* key) {
  if (!report || !report->contains(key) || !(*report)[key].is_number_unsigned()) return 0;
  return (*report)[key].get<std::uint64_t>();
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

  struct RemoveNames {  // runs last: after both children are reaped
    const RunSpec& spec;
    const std::string& channel;
    ~RemoveNames() { spec.transport->remove(channel); }
  } remove_names{spec, channel};

  try {
    Peer server{"server", ChildProcess::spawn(peer_args(spec, channel, true, spec.placement.cpus.server)), {}, {}};
    bool timed_out = false;
    const auto ready = server.process.read_line(deadline, &timed_out);
    if (!ready || *ready != "ready") {
      if (ready) server.report = json::parse(*ready, nullptr, false);
      if (!server.report || !server.report->is_object()) server.report.reset();
      server.exit = server.process.wait_or_kill(Clock::now() + kPeerGoneGrace);
      result.error = timed_out ? "server did not become ready within " + std::to_string(spec.timeout.count()) + " s"
                               : server.failure();
      if (result.error.empty()) result.error = "server exited before it was ready";
      return result;
    }
    Peer client{"client", ChildProcess::spawn(peer_args(spec, channel, false, spec.placement.cpus.client)), {}, {}};
    wait_for_both(server, client, spec.pattern, deadline, result.error);
    // Prefer the root cause: a peer killed by a signal (named first even when the other then
    // timed out waiting for it), else the client (its "peer gone" is usually the echo of the
    // server's own error, which the server then names as well).
    for (const Peer* p : {&server, &client})
      if (p->exit && p->exit->signal != 0) {
        result.error = result.error.empty() ? p->failure() : p->failure() + "; " + result.error;
        break;
      }
    if (result.error.empty()) result.error = client.failure();
    if (result.error.empty()) result.error = server.failure();
    if (!result.ok()) return result;  // ChildProcess destructors kill and reap what still runs

    const json& c = *client.report;
    result.messages = field(client.report, "messages");
    result.elapsed_ns = field(client.report, "elapsed_ns");
    result.lost = field(client.report, "lost");
    result.reordered = field(client.report, "reordered");
    result.corrupted = field(client.report, "corrupted");
    result.client_cpu_ns = field(client.report, "cpu_ns");
    result.server_cpu_ns = field(server.report, "cpu_ns");
    result.client_context_switches = field(client.report, "context_switches");
    result.server_context_switches = field(server.report, "context_switches");
    if (server.report->contains("achieved_rate")) result.achieved_rate = (*server.report)["achieved_rate"].get<double>();
    result.pacing_ns = field(server.report, "pacing_ns");
    result.latency = LatencyHistogram::from_json(c.at("histogram"));
    if (result.lost + result.reordered + result.corrupted != 0)
      result.error = "data errors: " + std::to_string(result.lost) + " lost, " + std::to_string(result.reordered) +
                     " reordered, " + std::to_string(result.corrupted) + " corrupted";
  } catch (const std::exception& e) {
    result.error = e.what();
  }
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
  const auto order = run_order(specs, options.interleave, options.seed);
  std::vector<RunResult> results;
  for (const auto& [spec, rep] : order) {
    if (runs_interrupted()) return results;
    results.push_back(run_one(*spec, rep));
    if (runs_interrupted() && !results.back().ok()) {
      results.pop_back();  // a run cut short by Ctrl-C measured nothing
      return results;
    }
    on_result(results.back(), results.size(), order.size());
    if (options.fail_fast && !results.back().ok()) return results;
  }
  return results;
}

}  // namespace ipcmark
