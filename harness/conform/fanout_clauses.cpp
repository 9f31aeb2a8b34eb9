// harness/conform/fanout_clauses.cpp — the fanout contract (FanoutWriter in transports/transport.hpp),
// native (shm, zmq) or generic (one channel per reader): readers are ForkedPeers, forked before
// the writer exists. The caller ignores SIGPIPE, as `ipcmark` does: a vanished reader is EPIPE.
#include <algorithm>
#include <csignal>
#include <string>
#include <vector>

#include "harness/conform/channel_setup.hpp"
#include "harness/conform/clause.hpp"
#include "harness/conform/forked_peer.hpp"
#include "transports/fanout.hpp"

namespace ipcmark::conform {
namespace {

using namespace std::chrono_literals;

struct FanoutSetup {
  explicit FanoutSetup(const Transport& t) : transport(t) {}
  FanoutSetup(const FanoutSetup&) = delete;
  ~FanoutSetup() { remove_fanout(transport, channel); }

  ChannelConfig config(std::size_t max_message) const { return {channel, max_message, WaitKind::Block}; }
  FanoutConfig fanout(std::size_t max_message, int readers) const { return {config(max_message), readers, false}; }

  // Message m of a stream: its size cycles through `sizes`, every byte depends on m.
  static std::size_t size_of(std::size_t m, const std::vector<std::size_t>& sizes) { return sizes[m % sizes.size()]; }

  // A reader process: receives `count` messages and checks each byte; with `die_after`,
  // kills itself (SIGKILL, nothing closed) after that many.
  ForkedPeer reader(int index, std::size_t count, std::vector<std::size_t> sizes, std::size_t die_after = SIZE_MAX) const {
    return ForkedPeer([=, this] {
      const std::size_t max = *std::max_element(sizes.begin(), sizes.end());
      auto c = connect_fanout(transport, config(max), index);
      const Deadline deadline = Clock::now() + 60s;
      c->accept(deadline);
      std::vector<std::byte> buffer(max);
      for (std::size_t m = 0; m < count; ++m) {
        if (m == die_after) ::kill(::getpid(), SIGKILL);
        const std::size_t n = c->receive(buffer, deadline);
        if (n != size_of(m, sizes)) return 10;
        for (std::size_t i = 0; i < n; ++i)
          if (buffer[i] != pattern_byte(m, i)) return 11;
      }
      return 0;
    });
  }

  static void send_all(FanoutWriter& writer, std::size_t count, const std::vector<std::size_t>& sizes, Deadline deadline) {
    std::vector<std::byte> message(*std::max_element(sizes.begin(), sizes.end()));
    for (std::size_t m = 0; m < count; ++m) {
      const std::size_t n = size_of(m, sizes);
      for (std::size_t i = 0; i < n; ++i) message[i] = pattern_byte(m, i);
      writer.send(std::span(message).first(n), deadline);
    }
  }

  const Transport& transport;
  const std::string channel = unique_channel();
};

// Fails unless reader `index` ended with `expected` (0, or -SIGKILL for the one that killed itself).
void require_reader(ForkedPeer& reader, int index, int expected = 0) {
  const int code = reader.wait();
  require(code == expected, "reader " + std::to_string(index) + " " + reader.describe(code) +
                                " (10: wrong size, 11: wrong byte: a message lost, reordered or torn)");
}

void require_readers_lost(const FanoutWriter& writer, int expected) {
  require(writer.readers_lost() == expected, "the writer counts " + std::to_string(writer.readers_lost()) +
                                                 " readers lost, expected " + std::to_string(expected));
}

// Sends the stream; if the writer fails (every reader gone, say), the failure names what the
// readers said, the likelier cause (a message lost or torn).
void send_or_say_why(FanoutWriter& writer, std::size_t count, const std::vector<std::size_t>& sizes, Deadline deadline,
                     std::vector<ForkedPeer>& readers) {
  try {
    FanoutSetup::send_all(writer, count, sizes, deadline);
  } catch (const Error& e) {
    std::string said;
    for (std::size_t i = 0; i < readers.size(); ++i) {
      const int code = readers[i].wait(Clock::now() + 5s);
      said += "; reader " + std::to_string(i) + " " + readers[i].describe(code);
    }
    fail("the writer failed: " + std::string(to_string(e.code())) + ": " + e.what() + said +
         " (10: wrong size, 11: wrong byte)");
  }
}

std::string every_reader_gets_every_message(const Transport& t, WaitKind) {
  FanoutSetup s(t);
  const std::vector<std::size_t> sizes{1, 100, std::min<std::size_t>(4096, t.max_message)};
  constexpr std::size_t kMessages = 3000;
  std::vector<ForkedPeer> readers;
  for (int i = 0; i < 3; ++i) readers.push_back(s.reader(i, kMessages, sizes));
  auto writer = serve_fanout(t, s.fanout(sizes.back(), 3));
  for (ForkedPeer& r : readers) r.start();
  const Deadline deadline = Clock::now() + 60s;
  writer->accept(deadline);
  send_or_say_why(*writer, kMessages, sizes, deadline, readers);
  for (int i = 0; i < 3; ++i) require_reader(readers[i], i);  // the writer stays until they are done
  require_readers_lost(*writer, 0);
  return "3 readers got " + std::to_string(kMessages) + " messages each";
}

std::string a_reader_killed_mid_stream_stops_nobody(const Transport& t, WaitKind) {
  // 1 KiB × 8000: more than any transport buffers for one reader (shm's 1 MiB ring, socket
  // buffers, mq's queue, zmq's high-water mark), so the writer must get past the dead one.
  FanoutSetup s(t);
  const std::vector<std::size_t> sizes{1024};
  constexpr std::size_t kMessages = 8000;
  std::vector<ForkedPeer> readers;
  readers.push_back(s.reader(0, kMessages, sizes));
  readers.push_back(s.reader(1, kMessages, sizes, /*die_after=*/100));
  readers.push_back(s.reader(2, kMessages, sizes));
  auto writer = serve_fanout(t, s.fanout(1024, 3));
  for (ForkedPeer& r : readers) r.start();
  const Deadline deadline = Clock::now() + 60s;
  writer->accept(deadline);
  send_or_say_why(*writer, kMessages, sizes, deadline, readers);
  require_reader(readers[0], 0);
  require_reader(readers[1], 1, -SIGKILL);
  require_reader(readers[2], 2);
  require_readers_lost(*writer, 1);
  return "the writer and 2 readers finished; 1 reader counted lost";
}

std::string serving_twice_and_missing_channels(const Transport& t, WaitKind) {
  FanoutSetup s(t);
  require_error(Errc::DoesNotExist, "a reader joining a missing channel", [&] { connect_fanout(t, s.config(64), 0); });
  auto first = serve_fanout(t, s.fanout(64, 2));
  require_error(Errc::AlreadyExists, "serving the same fanout channel twice", [&] { serve_fanout(t, s.fanout(64, 2)); });
  return "DoesNotExist, AlreadyExists";
}

std::string reader_counts_outside_one_to_sixteen_are_invalid(const Transport& t, WaitKind) {
  FanoutSetup s(t);
  for (int readers : {0, -1, kMaxReaders + 1})
    require_error(Errc::InvalidArgument, "serving for " + std::to_string(readers) + " readers",
                  [&] { serve_fanout(t, s.fanout(64, readers)); });
  require_no_leftovers(s.channel, "after the refused writers");
  return "0, -1 and 17 readers are InvalidArgument";
}

std::string the_writer_only_sends_and_a_reader_only_receives(const Transport& t, WaitKind) {
  FanoutSetup s(t);
  ForkedPeer one([&] {
    auto c = connect_fanout(t, s.config(64), 0);
    c->accept(Clock::now() + 30s);
    std::vector<std::byte> m(64);
    try {
      c->send(m, Clock::now() + 1s);
      return 20;
    } catch (const Error& e) {
      return e.code() == Errc::InvalidArgument ? 0 : 21;
    }
  });
  auto writer = serve_fanout(t, s.fanout(64, 1));
  one.start();
  writer->accept(Clock::now() + 30s);
  std::vector<std::byte> buffer(64);
  require_error(Errc::InvalidArgument, "receive() on the writer", [&] { writer->receive(buffer, Clock::now() + 1s); });
  const int code = one.wait();
  require(code == 0, "reader " + one.describe(code) + " (20: its send() worked, 21: other error than InvalidArgument)");
  return "writer receive() and reader send() are InvalidArgument";
}

std::string names_are_gone_after_the_writer_and_remove_fanout(const Transport& t, WaitKind) {
  require_name_listing(t.name);
  FanoutSetup s(t);
  // A writer that crashes (no destructor runs) leaves its names for remove_fanout.
  ForkedPeer crashed([&] {
    auto writer = serve_fanout(t, s.fanout(64, 4));
    ::_exit(0);
    return 1;
  });
  {
    auto writer = serve_fanout(t, s.fanout(64, 4));
    require(!leftovers(s.channel).empty(), "a live writer has no names where leftovers are looked for");
  }
  require_no_leftovers(s.channel, "after the writer was destroyed");
  crashed.start();
  const int code = crashed.wait();
  require(code == 0, "crashing writer " + crashed.describe(code));
  remove_fanout(t, s.channel);
  require_no_leftovers(s.channel, "after remove_fanout of a crashed writer");
  return "no names left after the writer, nor after remove_fanout";
}

}  // namespace

std::span<const Clause> fanout_clauses() {
  static const Clause clauses[] = {
      {"EveryReaderGetsEveryMessageWholeAndInOrder", &every_reader_gets_every_message},
      {"AReaderKilledMidStreamStopsNeitherTheOthersNorTheWriter", &a_reader_killed_mid_stream_stops_nobody},
      {"ServingTwiceIsAlreadyExistsAndAMissingChannelIsDoesNotExist", &serving_twice_and_missing_channels},
      {"ReaderCountsOutsideOneToSixteenAreInvalid", &reader_counts_outside_one_to_sixteen_are_invalid},
      {"TheWriterOnlySendsAndAReaderOnlyReceives", &the_writer_only_sends_and_a_reader_only_receives},
      {"NamesAreGoneAfterTheWriterAndAfterRemoveFanout", &names_are_gone_after_the_writer_and_remove_fanout},
  };
  return clauses;
}

}  // namespace ipcmark::conform
