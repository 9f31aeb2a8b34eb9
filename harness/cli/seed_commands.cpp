// harness/cli/seed_commands.cpp — the seed demo: `ipcmark serve` creates a channel and holds one
// message for readers (or, with --readers N, broadcasts it to N joined readers); `ipcmark read`
// opens an existing channel and prints its message.
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include "harness/cli/plugin_options.hpp"
#include "harness/cli/subcommand.hpp"
#include "harness/run/peer.hpp"  // request_stop, stop_requested
#include "harness/usage_error.hpp"
#include "transports/fanout.hpp"

namespace ipcmark {
namespace {

Deadline g_hold_until;
bool hold_over() { return stop_requested() || Clock::now() >= g_hold_until; }

int command_serve(const std::string& transport, const std::string& channel, std::size_t size,
                  const std::string& message, int hold_s, bool replace) {
  const Transport& t = transport_named(transport);
  if (size == 0) throw UsageError("--size must be at least 1 byte");
  if (message.size() > size)
    throw UsageError("--message of " + std::to_string(message.size()) + " bytes does not fit --size " +
                     std::to_string(size));
  auto publication = t.seed.publish(channel, size, std::as_bytes(std::span(message)), replace);
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
  std::cout << t.seed.fetch(channel, Clock::now() + std::chrono::seconds(timeout_s)) << std::endl;
  return 0;
}

struct SeedFlags {
  std::string transport = "shm", channel, message;
  std::size_t size = 10000;
  int hold_s = 100, read_timeout_s = 5;
  bool replace = false;
  int serve_readers = 0, read_reader = -1;
};

}  // namespace

Subcommand add_serve_command(CLI::App& app) {
  auto flags = std::make_shared<SeedFlags>();
  SeedFlags& f = *flags;
  CLI::App* serve = app.add_subcommand("serve", "Create a channel, write one message, keep it for readers (the seed demo)");
  serve->add_option("--transport", f.transport, "Transport")->capture_default_str();
  add_plugin_option(*serve);
  serve->add_option("--channel", f.channel, "Channel name: letters, digits, '.', '_', '-'")->required();
  serve->add_option("--size", f.size, "Region size in bytes (shm); with --readers the largest message; the message must fit")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
  serve->add_option("--message", f.message, "The message text")->required();
  serve->add_option("--hold", f.hold_s, "Seconds to keep the channel before removing it")->capture_default_str()
      ->check(CLI::Range(0, 86400 * 365));
  serve->add_flag("--replace", f.replace, "Replace a channel of that name if one exists");
  serve->add_option("--readers", f.serve_readers,
                    "Broadcast: wait for this many `read --reader I` processes, send the message to all, leave")
      ->check(CLI::Range(1, kMaxReaders));

  return {serve, [flags] {
            const SeedFlags& f = *flags;
            if (f.serve_readers == 0)
              return command_serve(f.transport, f.channel, f.size, f.message, f.hold_s, f.replace);
            if (f.replace)
              throw UsageError("--replace does not apply to --readers (a broadcast channel is never replaced)");
            return command_broadcast(f.transport, f.channel, f.size, f.message, f.serve_readers, f.hold_s);
          }};
}

Subcommand add_read_command(CLI::App& app) {
  auto flags = std::make_shared<SeedFlags>();
  SeedFlags& f = *flags;
  CLI::App* read = app.add_subcommand("read", "Open an existing channel and print its message");
  read->add_option("--transport", f.transport, "Transport")->capture_default_str();
  add_plugin_option(*read);
  read->add_option("--channel", f.channel, "Channel name")->required();
  read->add_option("--size", f.size, "With --reader: the broadcast's --size")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
  read->add_option("--reader", f.read_reader, "Join a broadcast (`serve --readers N`) as reader I, 0..N-1")
      ->check(CLI::Range(0, kMaxReaders - 1));
  read->add_option("--timeout", f.read_timeout_s, "Seconds to wait for the message")->capture_default_str()->check(CLI::Range(1, 3600));

  return {read, [flags] {
            const SeedFlags& f = *flags;
            if (f.read_reader >= 0)
              return command_read_broadcast(f.transport, f.channel, f.size, f.read_reader, f.read_timeout_s);
            return command_read(f.transport, f.channel, f.read_timeout_s);
          }};
}

}  // namespace ipcmark
