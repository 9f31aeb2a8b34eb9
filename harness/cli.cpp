#include "harness/cli.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "harness/command.hpp"
#include "harness/console.hpp"
#include "harness/context.hpp"
#include "harness/peer.hpp"
#include "harness/results.hpp"
#include "harness/runner.hpp"
#include "harness/usage_error.hpp"
#include "transports/names.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

const Transport& transport_named(const std::string& name) {
  const Transport* t = find_transport(name);
  if (t == nullptr) throw UsageError("unknown transport '" + name + "' (see `ipcmark list`)");
  return *t;
}

// ---- run ----------------------------------------------------------------------------

struct RunFlags {
  std::string scenario_file;
  std::vector<std::string> transports, patterns, waits;
  std::vector<std::size_t> sizes;
  std::uint64_t messages = 0, warmup = 0;
  bool warmup_set = false;
  int repetitions = 0, timeout_s = 0;
  std::string cpus;
  std::string out = "results/latest.json";
};

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) == 0)
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

// "" (default: two distinct CPUs when there are two), "A,B", "same", or "none".
RunOptions parse_cpus(const std::string& text) {
  const std::vector<int> allowed = allowed_cpus();
  RunOptions o;
  if (text == "none") return o;
  if (text.empty()) {
    // Unpinned, two busy-polling peers can share one CPU until the scheduler moves one:
    // milliseconds of noise. Two distinct CPUs is the placement every figure assumes.
    if (allowed.size() >= 2) o = {allowed[0], allowed[1]};
    return o;
  }
  if (text == "same") {
    if (!allowed.empty()) o = {allowed[0], allowed[0]};
    return o;
  }
  const auto comma = text.find(',');
  try {
    if (comma == std::string::npos) throw std::invalid_argument(text);
    std::size_t used = 0;
    o.server_cpu = std::stoi(text.substr(0, comma), &used);
    if (used != comma) throw std::invalid_argument(text);
    o.client_cpu = std::stoi(text.substr(comma + 1), &used);
    if (used != text.size() - comma - 1) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    throw UsageError("--cpus '" + text + "': expected SERVER_CPU,CLIENT_CPU (e.g. 0,1), same, or none");
  }
  for (int cpu : {o.server_cpu, o.client_cpu})
    if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end())
      throw UsageError("--cpus '" + text + "': CPU " + std::to_string(cpu) + " is not available to this process");
  return o;
}

int command_run(const RunFlags& f) {
  Scenario s = f.scenario_file.empty() ? Scenario{} : load_scenario(f.scenario_file);
  if (!f.transports.empty()) s.transports = f.transports;
  if (!f.patterns.empty()) {
    s.patterns.clear();
    for (const std::string& p : f.patterns) s.patterns.push_back(parse_pattern(p));
  }
  if (!f.sizes.empty()) s.sizes = f.sizes;
  if (f.messages != 0) s.messages.fill(f.messages);
  if (f.warmup_set) s.warmup_messages.fill(f.warmup);
  if (f.repetitions != 0) s.repetitions = f.repetitions;
  if (!f.waits.empty()) {
    s.waits.clear();
    for (const std::string& w : f.waits) s.waits.push_back(parse_wait(w));
  }
  if (f.timeout_s != 0) s.timeout = std::chrono::seconds(f.timeout_s);
  const std::vector<RunSpec> specs = expand(s);
  const RunOptions options = parse_cpus(f.cpus);

  nlohmann::json context = machine_context();
  context["scenario"] = s.name;
  context["pinning"] = {{"server", options.server_cpu}, {"client", options.client_cpu}};

  std::signal(SIGINT, [](int) { interrupt_runs(); });
  std::signal(SIGTERM, [](int) { interrupt_runs(); });

  const bool progress = ::isatty(STDERR_FILENO);
  std::vector<RunResult> so_far;
  const auto results = run_all(specs, options, [&](const RunResult& r, std::size_t done, std::size_t total) {
    so_far.push_back(r);
    write_results_file(f.out, results_document(context, so_far));  // valid JSON after every run
    if (progress)
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s #%d %s", done, total, r.spec.name().c_str(), r.repetition_index,
                   r.ok() ? "ok" : "FAILED");
    if (!r.ok()) std::fprintf(stderr, "%sipcmark: %s #%d failed: %s\n", progress ? "\n" : "",
                              r.spec.name().c_str(), r.repetition_index, r.error.c_str());
  });
  if (progress) std::fprintf(stderr, "\r\033[K");
  write_results_file(f.out, results_document(context, results));
  print_table(std::cout, results);
  std::cout << "results: " << f.out << '\n';
  if (runs_interrupted()) {
    std::cerr << "ipcmark: interrupted; " << results.size() << " completed runs are in " << f.out << '\n';
    return 130;
  }
  for (const RunResult& r : results)
    if (!r.ok()) return 1;
  return 0;
}

// ---- serve / read / clean -----------------------------------------------------------

Deadline g_hold_until;
bool hold_over() { return stop_requested() || Clock::now() >= g_hold_until; }

int command_serve(const std::string& transport, const std::string& channel, std::size_t size,
                  const std::string& message, int hold_s, bool replace) {
  const Transport& t = transport_named(transport);
  if (size == 0) throw UsageError("--size must be at least 1 byte");
  if (message.size() > size)
    throw UsageError("--message of " + std::to_string(message.size()) + " bytes does not fit --size " +
                     std::to_string(size));
  auto publication = t.publish(channel, size, std::as_bytes(std::span(message)), replace);
  std::signal(SIGINT, [](int) { request_stop(); });
  std::signal(SIGTERM, [](int) { request_stop(); });
  g_hold_until = Clock::now() + std::chrono::seconds(hold_s);
  std::cerr << "ipcmark: serving channel '" << channel << "' over " << t.name << " for " << hold_s
            << " s (Ctrl-C to stop)" << std::endl;
  publication->serve_readers(&hold_over);
  return 0;  // the publication's destructor removes the name
}

int command_read(const std::string& transport, const std::string& channel, int timeout_s) {
  const Transport& t = transport_named(transport);
  std::cout << t.fetch(channel, Clock::now() + std::chrono::seconds(timeout_s)) << std::endl;
  return 0;
}

// Removes the names of `channel` on every transport, or with no channel, the names of
// `ipcmark run`s whose process is gone (ipcmark-<pid>-*); never anything else.
int command_clean(const std::string& channel) {
  if (!channel.empty()) {
    validate_channel_name(channel);
    for (const Transport* t : all_transports()) t->remove(channel);
    std::cout << "removed channel '" << channel << "' on every transport\n";
    return 0;
  }
  int removed = 0;
  for (const std::string& dir : {std::string("/dev/shm"), private_runtime_dir()}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const std::string file = entry.path().filename().string();
      int pid = 0;
      char rest[256];
      if (std::sscanf(file.c_str(), "ipcmark-%d-%255s", &pid, rest) != 2 || pid <= 0) continue;
      if (::kill(pid, 0) == 0 || errno == EPERM) continue;  // that run is still going
      std::filesystem::remove(entry.path(), ec);
      if (!ec) {
        std::cout << "removed " << entry.path().string() << '\n';
        ++removed;
      }
    }
  }
  std::cout << removed << " stale name(s) removed\n";
  return 0;
}

// ---- peer (internal) ----------------------------------------------------------------

struct PeerFlags {
  std::string role, transport, pattern, wait = "block";
  PeerOptions options;
  int timeout_s = 30;
};

int command_peer(PeerFlags& f) {
  PeerOptions& o = f.options;
  o.role = f.role == "server" ? Role::Server : Role::Client;
  o.spec.transport = &transport_named(f.transport);
  o.spec.pattern = parse_pattern(f.pattern);
  o.spec.wait = parse_wait(f.wait);
  o.spec.timeout = std::chrono::seconds(f.timeout_s);
  return run_peer(o);
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an EPIPE error, not a silent death

  CLI::App app{"ipcmark: which IPC transport should I use on this machine, and did my change make it slower?"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");

  auto* list = app.add_subcommand("list", "List the transports");

  RunFlags rf;
  auto* run = app.add_subcommand("run", "Run a suite of server/client process pairs and write JSON results");
  run->add_option("--scenario", rf.scenario_file, "Scenario JSON file (see scenarios/)")->check(CLI::ExistingFile);
  run->add_option("--transports,--transport", rf.transports, "Transports, comma-separated (see `ipcmark list`)")
      ->delimiter(',');
  run->add_option("--pattern,--patterns", rf.patterns, "Patterns: oneshot, stream, pingpong (comma-separated)")
      ->delimiter(',');
  run->add_option("--sizes,--size", rf.sizes, "Message sizes in bytes, comma-separated")->delimiter(',');
  run->add_option("--messages", rf.messages, "Measured messages (or round trips) per run")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1'000'000'000}));
  run->add_option("--warmup", rf.warmup, "Warm-up messages per run, not measured")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1'000'000'000}))
      ->each([&](const std::string&) { rf.warmup_set = true; });
  run->add_option("--repetitions", rf.repetitions, "Repetitions, each a fresh process pair")->check(CLI::Range(1, 1000));
  run->add_option("--wait", rf.waits, "Wait strategies for shm: spin, block (comma-separated)")->delimiter(',');
  run->add_option("--timeout", rf.timeout_s, "Deadline of each run, seconds")->check(CLI::Range(1, 3600));
  run->add_option("--cpus", rf.cpus, "Pin server,client to CPUs: A,B, same (both on one), or none (default: two distinct CPUs)");
  run->add_option("--out", rf.out, "Results file (JSON)")->capture_default_str();

  std::string transport = "shm", channel, message;
  std::size_t size = 10000;
  int hold_s = 100, read_timeout_s = 5;
  bool replace = false;
  auto* serve = app.add_subcommand("serve", "Create a channel, write one message, keep it for readers (the seed demo)");
  serve->add_option("--transport", transport, "Transport")->capture_default_str();
  serve->add_option("--channel", channel, "Channel name: letters, digits, '.', '_', '-'")->required();
  serve->add_option("--size", size, "Region size in bytes (shm); the message must fit")->capture_default_str();
  serve->add_option("--message", message, "The message text")->required();
  serve->add_option("--hold", hold_s, "Seconds to keep the channel before removing it")->capture_default_str()
      ->check(CLI::Range(0, 86400 * 365));
  serve->add_flag("--replace", replace, "Replace a channel of that name if one exists");

  auto* read = app.add_subcommand("read", "Open an existing channel and print its message");
  read->add_option("--transport", transport, "Transport")->capture_default_str();
  read->add_option("--channel", channel, "Channel name")->required();
  read->add_option("--timeout", read_timeout_s, "Seconds to wait for the message")->capture_default_str()->check(CLI::Range(1, 3600));

  std::string clean_channel;
  auto* clean = app.add_subcommand("clean", "Remove names left by crashed ipcmark runs (or one channel's names)");
  clean->add_option("--channel", clean_channel, "Remove this channel's names on every transport");

  PeerFlags pf;
  auto* peer = app.add_subcommand("peer", "internal: one side of a run");
  peer->group("");  // hidden from --help
  peer->add_option("--role", pf.role)->required()->check(CLI::IsMember({"server", "client"}));
  peer->add_option("--transport", pf.transport)->required();
  peer->add_option("--channel", pf.options.channel)->required();
  peer->add_option("--pattern", pf.pattern)->required();
  peer->add_option("--size", pf.options.spec.message_size)->required();
  peer->add_option("--messages", pf.options.spec.messages)->required();
  peer->add_option("--warmup", pf.options.spec.warmup_messages)->required();
  peer->add_option("--wait", pf.wait);
  peer->add_option("--timeout", pf.timeout_s);
  peer->add_option("--cpu", pf.options.cpu);
  peer->add_option("--parent-pid", pf.options.parent_pid);

  // Commands in their own files (harness/command.hpp): one line each.
  std::vector<Command> commands;

  std::string known_names;
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_group().empty()) continue;  // hidden (peer)
    known_names += (known_names.empty() ? "" : ", ") + sub->get_name();
    if (argc > 1 && sub->get_name() == argv[1]) known = true;
  }
  if (argc > 1 && argv[1][0] != '-' && !known && std::string(argv[1]) != "peer") {
    std::cerr << "ipcmark: error: unknown command '" << argv[1] << "' (commands: " << known_names << ")\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ipcmark: error: " << e.what() << " (see --help)\n";
    return 2;
  }

  try {
    if (*list) {
      for (const Transport* t : all_transports())
        std::printf("%-10s %s (messages up to %zu bytes)\n", std::string(t->name).c_str(),
                    std::string(t->summary).c_str(), t->max_message);
      return 0;
    }
    if (*run) return command_run(rf);
    if (*serve) return command_serve(transport, channel, size, message, hold_s, replace);
    if (*read) return command_read(transport, channel, read_timeout_s);
    if (*clean) return command_clean(clean_channel);
    if (*peer) return command_peer(pf);
    for (const Command& c : commands)
      if (*c.app) return c.body();
  } catch (const UsageError& e) {
    std::cerr << "ipcmark: error: " << e.what() << '\n';
    return 2;
  } catch (const Error& e) {
    std::cerr << "ipcmark: error: " << e.what() << '\n';
    return e.code() == Errc::InvalidArgument || e.code() == Errc::MessageTooLarge ? 2 : 1;
  } catch (const std::exception& e) {
    std::cerr << "ipcmark: error: " << e.what() << '\n';
    return 1;
  }
  return 2;
}

}  // namespace ipcmark
