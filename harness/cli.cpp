#include "harness/cli.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include <CLI/CLI.hpp>

#include "harness/affinity.hpp"
#include "harness/command.hpp"
#include "harness/context.hpp"
#include "harness/list_options.hpp"
#include "harness/output_path.hpp"
#include "harness/peer.hpp"
#include "harness/report.hpp"
#include "harness/results.hpp"
#include "harness/results_reader.hpp"
#include "harness/runner.hpp"
#include "harness/usage_error.hpp"
#include "transports/fanout.hpp"
#include "transports/mq/mq_names.hpp"
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
  std::vector<std::string> transports, patterns, waits, cpus, copies;
  std::vector<std::size_t> sizes;
  std::vector<std::uint64_t> rates;
  std::vector<int> readers;
  std::uint64_t messages = 0, warmup = 0, warmup_ms = 0;
  bool warmup_set = false, warmup_ms_set = false;
  int repetitions = 0, timeout_s = 0;
  std::optional<bool> interleave;
  bool no_floor = false, fail_fast = false;
  std::uint64_t seed = 0;
  std::string out = "results/latest.json";
};

Scenario scenario_with_flags(const RunFlags& f) {
  Scenario s = f.scenario_file.empty() ? Scenario{} : load_scenario(f.scenario_file);
  if (!f.transports.empty()) s.transports = f.transports;
  if (!f.patterns.empty()) {
    s.patterns.clear();
    for (const std::string& p : f.patterns) s.patterns.push_back(parse_pattern(p));
  }
  if (!f.sizes.empty()) {
    s.sizes = f.sizes;
    s.sizes_of.clear();
  }
  if (f.messages != 0) s.messages.fill(f.messages);
  if (f.warmup_set) s.warmup_messages.fill(f.warmup);
  if (f.warmup_ms_set) s.warmup_ms = f.warmup_ms;
  if (f.repetitions != 0) s.repetitions = f.repetitions;
  if (!f.waits.empty()) {
    s.waits.clear();
    for (const std::string& w : f.waits) s.waits.push_back(parse_wait(w));
  }
  if (f.timeout_s != 0) s.timeout = std::chrono::seconds(f.timeout_s);
  if (!f.cpus.empty()) {
    s.placements = f.cpus;
    s.placements_of.clear();
  }
  if (!f.rates.empty()) s.rates = f.rates;
  if (!f.readers.empty()) s.readers = f.readers;
  if (!f.copies.empty()) {
    s.zero_copy.clear();
    for (const std::string& c : f.copies) s.zero_copy.push_back(parse_copy_mode(c));
  }
  if (f.interleave) s.interleave = *f.interleave;
  return s;
}

std::string duration_text(double seconds) {
  const long s = std::lround(seconds);
  return s >= 60 ? std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s" : std::to_string(s) + "s";
}

int command_run(const RunFlags& f) {
  const Scenario s = scenario_with_flags(f);
  const std::vector<int> allowed = allowed_cpus();
  std::vector<std::string> skipped;
  const std::vector<RunSpec> specs = expand(s, allowed, &skipped);
  check_output_path("results", f.out, MissingDirectories::Create);  // before anything is measured
  RunOptions options;
  options.interleave = s.interleave;
  options.fail_fast = f.fail_fast;
  options.seed = f.seed != 0 ? f.seed : std::random_device{}();

  nlohmann::json context = run_context({.scenario = s.name,
                                        .specs = specs,
                                        .interleave = options.interleave,
                                        .shuffle_seed = options.seed,
                                        .measure_floor = !f.no_floor,
                                        .allowed_cpu_count = static_cast<int>(allowed.size()),
                                        .warnings = skipped});

  std::signal(SIGINT, [](int) { interrupt_runs(); });
  std::signal(SIGTERM, [](int) { interrupt_runs(); });

  const bool progress = ::isatty(STDERR_FILENO);
  const auto started = Clock::now();
  std::vector<RunResult> so_far;
  auto next_write = Clock::now();
  const auto results = run_all(specs, options, [&](const RunResult& r, std::size_t done, std::size_t total) {
    so_far.push_back(r);
    if (total >= 2 && done == total / 2) sample_floors(context, specs);  // halfway (floor_drift.hpp)
    // A valid file all along (a killed harness loses at most the last seconds), but not
    // rewritten after every run: with histograms a full suite's file is megabytes.
    if (Clock::now() >= next_write) {
      write_results_file(f.out, results_document(context, so_far));
      next_write = Clock::now() + std::chrono::seconds(5);
    }
    if (progress) {
      const double spent = std::chrono::duration<double>(Clock::now() - started).count();
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s #%d %s, %s left", done, total, r.spec.name().c_str(),
                   r.repetition_index, r.ok() ? "ok" : "FAILED",
                   duration_text(spent / double(done) * double(total - done)).c_str());
    }
    if (!r.ok()) std::fprintf(stderr, "%sipcmark: %s #%d failed: %s\n", progress ? "\n" : "",
                              r.spec.name().c_str(), r.repetition_index, r.error.c_str());
  });
  if (progress) std::fprintf(stderr, "\r\033[K");
  finish_context(context, specs, results, runs_interrupted());
  const nlohmann::json document = results_document(context, results);
  write_results_file(f.out, document);
  print_report(std::cout, read_results(document, f.out));
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

// `serve --readers N`: the news broadcast. Waits (up to --hold) until N `read --reader I`
// processes have joined, sends the message to all of them at once, and leaves.
// Both sides of a broadcast size the channel alike: --size, capped at what the transport carries.
std::size_t broadcast_max_message(const Transport& t, std::size_t size) { return std::min(size, t.max_message); }

int command_broadcast(const std::string& transport, const std::string& channel, std::size_t size,
                      const std::string& message, int readers, int hold_s) {
  const Transport& t = transport_named(transport);
  const std::size_t max_message = broadcast_max_message(t, size);
  if (message.empty()) throw UsageError("--message must not be empty with --readers");
  if (message.size() > max_message)
    throw UsageError("--message of " + std::to_string(message.size()) + " bytes does not fit " +
                     std::to_string(max_message) + " (--size, at most what " + std::string(t.name) + " carries)");
  auto writer = serve_fanout(t, FanoutConfig{ChannelConfig{channel, max_message, WaitKind::Block}, readers, false});
  std::cerr << "ipcmark: channel '" << channel << "' over " << t.name << " waits up to " << hold_s << " s for "
            << readers << " reader(s): ipcmark read --transport " << t.name << " --channel " << channel
            << " --reader 0.." << readers - 1 << std::endl;
  const Deadline deadline = Clock::now() + std::chrono::seconds(hold_s);
  writer->accept(deadline);
  writer->send(std::as_bytes(std::span(message)), deadline);
  // Every transport delivers what was queued after the writer leaves; a short grace lets
  // ZeroMQ's I/O thread flush.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::cerr << "ipcmark: sent to " << readers - writer->readers_lost() << " reader(s)" << std::endl;
  return 0;
}

int command_read_broadcast(const std::string& transport, const std::string& channel, std::size_t size, int reader,
                           int timeout_s) {
  const Transport& t = transport_named(transport);
  const std::size_t max_message = broadcast_max_message(t, size);
  auto connection = connect_fanout(t, ChannelConfig{channel, max_message, WaitKind::Block}, reader);
  const Deadline deadline = Clock::now() + std::chrono::seconds(timeout_s);
  connection->accept(deadline);
  std::vector<std::byte> buffer(max_message);
  const std::size_t n = connection->receive(buffer, deadline);
  std::cout << std::string(reinterpret_cast<const char*>(buffer.data()), n) << std::endl;
  return 0;
}

int command_read(const std::string& transport, const std::string& channel, int timeout_s) {
  const Transport& t = transport_named(transport);
  std::cout << t.fetch(channel, Clock::now() + std::chrono::seconds(timeout_s)) << std::endl;
  return 0;
}

// Removes the names of `channel` on every transport, or with no channel, the names of
// `ipcmark run`s whose process is gone (ipcmark-<pid>-*); never anything else. A place it cannot
// list (mq without an mqueue mount) is a one-line warning, not a failure: the rest is cleaned, and
// on such a machine every clean would otherwise fail, mq used or not.
int command_clean(const std::string& channel) {
  if (!channel.empty()) {
    validate_channel_name(channel);
    for (const Transport* t : all_transports()) {
      t->remove(channel);
      remove_fanout(*t, channel);
    }
    std::cout << "removed channel '" << channel << "' on every transport\n";
    return 0;
  }
  std::vector<std::string> dirs{"/dev/shm", private_runtime_dir()};
  const MqueueDir mqueue = find_mqueue_dir();
  if (mqueue.path.empty())
    std::cerr << "ipcmark: warning: cannot list POSIX message queues: " << mqueue.why_not << '\n';
  else
    dirs.push_back(mqueue.path);
  int removed = 0;
  for (const std::string& dir : dirs) {
    std::error_code ec;
    std::filesystem::directory_iterator entries(dir, ec);
    if (ec) {
      const std::string what = dir == mqueue.path ? "POSIX message queues" : "names in " + dir;
      std::cerr << "ipcmark: warning: cannot list " << what << ": cannot read '" << dir << "': " << ec.message() << '\n';
      continue;
    }
    for (const auto& entry : entries) {
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
  run->add_option("--pattern,--patterns", rf.patterns, "Patterns: oneshot, stream, pingpong, fanout (comma-separated)")
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
  run->add_option("--cpus", rf.cpus,
                  "Placement: SERVER_CPU,CLIENT_CPU, cross (two distinct CPUs, the default), same (both on one) or none; "
                  "repeat for several (--cpus cross --cpus same)");
  run->add_option("--rate", rf.rates, "Open loop: stream/fanout messages/s on a fixed schedule (0 = closed loop); comma-separated")
      ->delimiter(',')
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1'000'000'000}));
  run->add_option("--readers", rf.readers, "Pattern fanout: reader processes, 1 to 16 (comma-separated for several)")
      ->delimiter(',')
      ->check(CLI::Range(1, kMaxReaders));
  run->add_option("--copy", rf.copies,
                  "copy (send/receive, every transport; the default) or zero (shm writes and reads in place); comma-separated")
      ->delimiter(',');
  run->add_option("--warmup-ms", rf.warmup_ms, "Warm-up also lasts at least this long, milliseconds")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{600'000}))
      ->each([&](const std::string&) { rf.warmup_ms_set = true; });
  run->add_flag("--interleave,!--no-interleave", rf.interleave,
                "Shuffle the runs of each repetition round (default on; --no-interleave runs spec by spec)");
  run->add_option("--seed", rf.seed, "Seed of the interleaving shuffle (default: random, recorded in the results)");
  run->add_flag("--no-floor", rf.no_floor, "Do not measure the machine's floor first (saves about a second per placement)");
  run->add_flag("--fail-fast", rf.fail_fast, "Stop at the first failed run");
  run->add_option("--out", rf.out, "Results file (JSON)")->capture_default_str();

  std::string transport = "shm", channel, message;
  std::size_t size = 10000;
  int hold_s = 100, read_timeout_s = 5;
  bool replace = false;
  auto* serve = app.add_subcommand("serve", "Create a channel, write one message, keep it for readers (the seed demo)");
  serve->add_option("--transport", transport, "Transport")->capture_default_str();
  serve->add_option("--channel", channel, "Channel name: letters, digits, '.', '_', '-'")->required();
  serve->add_option("--size", size, "Region size in bytes (shm); with --readers the largest message; the message must fit")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
  serve->add_option("--message", message, "The message text")->required();
  serve->add_option("--hold", hold_s, "Seconds to keep the channel before removing it")->capture_default_str()
      ->check(CLI::Range(0, 86400 * 365));
  serve->add_flag("--replace", replace, "Replace a channel of that name if one exists");
  int serve_readers = 0, read_reader = -1;
  serve->add_option("--readers", serve_readers,
                    "Broadcast: wait for this many `read --reader I` processes, send the message to all, leave")
      ->check(CLI::Range(1, kMaxReaders));

  auto* read = app.add_subcommand("read", "Open an existing channel and print its message");
  read->add_option("--transport", transport, "Transport")->capture_default_str();
  read->add_option("--channel", channel, "Channel name")->required();
  read->add_option("--size", size, "With --reader: the broadcast's --size")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
  read->add_option("--reader", read_reader, "Join a broadcast (`serve --readers N`) as reader I, 0..N-1")
      ->check(CLI::Range(0, kMaxReaders - 1));
  read->add_option("--timeout", read_timeout_s, "Seconds to wait for the message")->capture_default_str()->check(CLI::Range(1, 3600));

  std::string clean_channel;
  auto* clean = app.add_subcommand(
      "clean", "Remove names left by crashed ipcmark runs (or one channel's names). Exit 0 also when mq names "
               "cannot be listed (no mqueue mount; IPCMARK_MQUEUE_DIR overrides where): a warning says so");
  clean->add_option("--channel", clean_channel, "Remove this channel's names on every transport");

  PeerArgs peer_args;
  auto* peer = app.add_subcommand(std::string(kPeerCommand), "internal: one side of a run");
  peer->group("");  // hidden from --help
  peer_args.add_options(*peer);

  // Commands in their own files (harness/command.hpp): one line each.
  std::vector<Command> commands;
  commands.push_back(add_floor_command(app));
  commands.push_back(add_report_command(app));
  commands.push_back(add_compare_command(app));
  commands.push_back(add_recommend_command(app));

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
    for (const CLI::App* sub : app.get_subcommands())
      if (sub->parsed()) refuse_empty_list_elements(*sub, argc, argv);
    if (*list) {
      for (const Transport* t : all_transports())
        std::printf("%-10s %s (messages up to %zu bytes)\n", std::string(t->name).c_str(),
                    std::string(t->summary).c_str(), t->max_message);
      return 0;
    }
    if (*run) return command_run(rf);
    if (*serve && serve_readers > 0) {
      if (replace) throw UsageError("--replace does not apply to --readers (a broadcast channel is never replaced)");
      return command_broadcast(transport, channel, size, message, serve_readers, hold_s);
    }
    if (*serve) return command_serve(transport, channel, size, message, hold_s, replace);
    if (*read && read_reader >= 0)
      return command_read_broadcast(transport, channel, size, read_reader, read_timeout_s);
    if (*read) return command_read(transport, channel, read_timeout_s);
    if (*clean) return command_clean(clean_channel);
    if (*peer) return run_peer(peer_args);
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
