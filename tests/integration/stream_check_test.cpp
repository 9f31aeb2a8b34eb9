// A stream reader checks every byte it receives, whichever way it reads them: copied and then
// checked, copied out of shm's ring by ChannelCheck (messages of 8 KiB and more: its staged way,
// and its straight way, tried at turn FasterWay::kTryOtherEvery / 2), or in place (zero-copy). A
// message whose bytes changed in the channel, or whose body is another message's, is counted as
// corrupted in the client's report; the others are not.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/measure/channel_copy.hpp"
#include "harness/measure/payload.hpp"
#include "tests/support/processes.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using testing::Launched;

struct ReaderCase {
  std::size_t size;
  bool zero_copy;
};

void PrintTo(const ReaderCase& c, std::ostream* out) { *out << c.size << (c.zero_copy ? " B zero-copy" : " B copy"); }

class StreamReaderCheck : public ::testing::TestWithParam<ReaderCase> {};

TEST_P(StreamReaderCheck, CountsBrokenAndStaleMessagesAsCorruptedAndNothingElse) {
  const auto [size, zero_copy] = GetParam();
  // Broken and stale early (read the staged way) and broken where the straight way is tried.
  constexpr std::uint64_t kStale = 20, kBroken = 21, kBrokenWhenTried = FasterWay::kTryOtherEvery / 2;
  constexpr std::uint64_t kMessages = kBrokenWhenTried + 100;
  const std::string channel = conform::unique_name("ipcmark-test-", "check");
  const Transport* shm = find_transport("shm");
  ASSERT_NE(shm, nullptr);
  auto server = shm->channel.serve(ChannelConfig{channel, size, WaitKind::Block});
  std::vector<std::string> args{"peer",       "--role",   "client",  "--transport", "shm",
                                "--channel",  channel,    "--pattern", "stream",    "--size",
                                std::to_string(size), "--messages", std::to_string(kMessages), "--warmup", "0",
                                "--timeout",  "30"};
  if (zero_copy) args.push_back("--zero-copy");
  Launched client(args);
  const Deadline deadline = Clock::now() + 30s;
  server->accept(deadline);
  std::vector<std::byte> message(size), previous(size);
  for (std::uint64_t seq = 0; seq < kMessages; ++seq) {
    fill_payload(message, seq, kUntimedStamp);
    if (seq == kBroken || seq == kBrokenWhenTried) message[size - 1] ^= std::byte{0x04};  // one bit of the last byte
    if (seq == kStale) std::copy(previous.begin() + 8, previous.end(), message.begin() + 8);  // the body of seq - 1
    server->send(message, deadline);
    fill_payload(previous, seq, kUntimedStamp);
  }
  std::vector<std::byte> ack(size);
  server->receive(ack, deadline);  // the client's acknowledgement: it has everything
  const testing::Outcome o = client.finish(30s);
  ASSERT_EQ(o.exit_code, 0) << o.out << o.err;
  const auto report = nlohmann::json::parse(o.out, nullptr, false);  // the peer's report, one object
  ASSERT_TRUE(report.is_object()) << o.out;
  EXPECT_EQ(report["corrupted"], 3) << o.out;
  EXPECT_EQ(report["lost"], 0) << o.out;
  EXPECT_EQ(report["reordered"], 0) << o.out;
}

// 64 B and 4 KiB: copied, then checked; 64 KiB: through ChannelCheck; 4 KiB zero-copy: in place.
INSTANTIATE_TEST_SUITE_P(Shm, StreamReaderCheck,
                         ::testing::Values(ReaderCase{64, false}, ReaderCase{4096, false}, ReaderCase{65536, false},
                                           ReaderCase{4096, true}),
                         [](const auto& info) {
                           return std::to_string(info.param.size) + (info.param.zero_copy ? "Zero" : "Copy");
                         });

}  // namespace
}  // namespace ipcmark
