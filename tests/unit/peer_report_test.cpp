#include "harness/run/peer_report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ipcmark {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

PeerArgs peer(Role role, Pattern pattern, std::uint64_t rate = 0) {
  PeerArgs a;
  a.role = role;
  a.pattern = pattern;
  a.rate = rate;
  return a;
}

// Reports with every field their peer owes set, and no other, built as peer.cpp builds them.
PeerReport measured() {  // every peer
  PeerReport r;
  r.cpu_ns = 1'000'001;
  r.context_switches = 7;
  return r;
}
PeerReport sender(bool open_loop) {  // stream and fanout servers
  PeerReport r = measured();
  r.first_send_ns = 123'456'789;
  if (open_loop) {
    r.achieved_rate = 99'876.5;
    r.pacing_ns = 3'000;
    r.sleep_margin_ns = 40'000;
  }
  return r;
}
PeerReport fanout_sender(bool open_loop) {
  PeerReport r = sender(open_loop);
  r.readers_lost = 1;
  return r;
}
PeerReport tallied() {  // every client and reader
  PeerReport r = measured();
  r.lost = 10;
  r.reordered = 3;
  r.corrupted = 4;
  r.histogram.record_n(850, 4'000);
  r.histogram.record(1'000'000);
  return r;
}
PeerReport client() {
  PeerReport r = tallied();
  r.messages = 5'000;
  r.elapsed_ns = 9'000'000;
  return r;
}
PeerReport fanout_reader() {
  PeerReport r = tallied();
  r.reader = 2;
  r.received = 4'990;
  r.last_receive_ns = 133'456'789;
  return r;
}

// As the runner reads it: from the text of the line.
PeerReport read(const json& j, const PeerArgs& args) { return PeerReport::from_json(json::parse(j.dump()), args); }

std::string read_error(const json& j, const PeerArgs& args) {
  try {
    read(j, args);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::Corrupt);
    return e.what();
  }
  return "(no error)";
}

struct Shape {
  const char* name;
  PeerArgs args;
  PeerReport sent;
  std::vector<std::string> keys;  // what this peer owes besides "role"
};
void PrintTo(const Shape& shape, std::ostream* os) { *os << shape.name; }

const std::vector<std::string> kCpu{"cpu_ns", "context_switches"};
const std::vector<std::string> kTally{"lost", "reordered", "corrupted", "histogram"};
const std::vector<std::string> kSender{"first_send_ns"};
const std::vector<std::string> kOpenLoop{"achieved_rate", "pacing_ns", "sleep_margin_ns"};
const std::vector<std::string> kClient{"messages", "elapsed_ns"};

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class PeerReportShapes : public ::testing::TestWithParam<Shape> {};

TEST_P(PeerReportShapes, CarriesExactlyTheKeysThisPeerOwes) {
  const json j = GetParam().sent.to_json(GetParam().args);
  std::vector<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.push_back(key);
  EXPECT_THAT(keys, ::testing::UnorderedElementsAreArray(GetParam().keys + std::vector<std::string>{"role"}));
}

TEST_P(PeerReportShapes, SurvivesTheJsonLine) {
  const PeerReport back = read(GetParam().sent.to_json(GetParam().args), GetParam().args);
  EXPECT_TRUE(back == GetParam().sent);
  EXPECT_EQ(back.to_json(GetParam().args), GetParam().sent.to_json(GetParam().args));
  EXPECT_FALSE(back.failed());
}

TEST_P(PeerReportShapes, EachMissingKeyIsAnErrorNamingIt) {
  const PeerArgs& args = GetParam().args;
  const json j = GetParam().sent.to_json(args);
  for (const auto& [key, value] : j.items()) {
    json without = j;
    without.erase(key);
    EXPECT_THAT(read_error(without, args), HasSubstr("bad peer report: missing key '" + key + "'"));
  }
}

TEST_P(PeerReportShapes, EachMistypedKeyIsAnErrorNamingIt) {
  const PeerArgs& args = GetParam().args;
  const json j = GetParam().sent.to_json(args);
  for (const auto& [key, value] : j.items()) {
    for (const json& wrong : {json("12"), json(-1), json::array()}) {
      json mistyped = j;
      mistyped[key] = wrong;
      EXPECT_THAT(read_error(mistyped, args), HasSubstr("bad peer report: '" + key + "'")) << wrong;
    }
  }
}

TEST_P(PeerReportShapes, AKeyThisPeerDoesNotOweIsAnError) {
  const PeerArgs& args = GetParam().args;
  json j = GetParam().sent.to_json(args);
  j["received_all"] = 1;
  EXPECT_THAT(read_error(j, args), HasSubstr("unexpected key 'received_all'"));
}

INSTANTIATE_TEST_SUITE_P(
    EveryPeer, PeerReportShapes,
    ::testing::Values(
        Shape{"PingpongServer", peer(Role::Server, Pattern::Pingpong), measured(), kCpu},
        Shape{"OneshotServer", peer(Role::Server, Pattern::Oneshot), measured(), kCpu},
        Shape{"StreamServer", peer(Role::Server, Pattern::Stream), sender(false), kCpu + kSender},
        Shape{"OpenLoopStreamServer", peer(Role::Server, Pattern::Stream, 1000), sender(true),
              kCpu + kSender + kOpenLoop},
        Shape{"FanoutServer", peer(Role::Server, Pattern::Fanout), fanout_sender(false),
              kCpu + kSender + std::vector<std::string>{"readers_lost"}},
        Shape{"OpenLoopFanoutServer", peer(Role::Server, Pattern::Fanout, 1000), fanout_sender(true),
              kCpu + kSender + kOpenLoop + std::vector<std::string>{"readers_lost"}},
        Shape{"StreamClient", peer(Role::Client, Pattern::Stream), client(), kCpu + kTally + kClient},
        Shape{"PingpongClient", peer(Role::Client, Pattern::Pingpong), client(), kCpu + kTally + kClient},
        Shape{"OneshotClient", peer(Role::Client, Pattern::Oneshot), client(), kCpu + kTally + kClient},
        Shape{"FanoutReader", peer(Role::Client, Pattern::Fanout, 1000), fanout_reader(),
              kCpu + kTally + std::vector<std::string>{"reader", "received", "last_receive_ns"}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PeerReport, FieldsThisPeerDoesNotOweAreNotSentAndReadBackAsZero) {
  const PeerArgs stream_client = peer(Role::Client, Pattern::Stream);
  PeerReport sent = client();
  sent.first_send_ns = 5;
  sent.readers_lost = 2;
  const PeerReport back = read(sent.to_json(stream_client), stream_client);
  EXPECT_EQ(back.first_send_ns, 0u);
  EXPECT_EQ(back.readers_lost, 0);
  EXPECT_TRUE(back == client());
}

TEST(PeerReport, RoleOfAnotherPeerIsAnError) {
  const json j = client().to_json(peer(Role::Client, Pattern::Stream));
  EXPECT_THAT(read_error(j, peer(Role::Server, Pattern::Stream)), HasSubstr("'role' is \"client\", not \"server\""));
}

TEST(PeerReport, AHistogramThatDoesNotParseIsAnErrorNamingTheKey) {
  const PeerArgs pingpong_client = peer(Role::Client, Pattern::Pingpong);
  json j = client().to_json(pingpong_client);
  j["histogram"].erase("count");
  EXPECT_THAT(read_error(j, pingpong_client), HasSubstr("bad peer report: 'histogram': "));
}

TEST(PeerReport, NotAnObjectIsAnError) {
  EXPECT_THAT(read_error(json::array(), peer(Role::Client, Pattern::Stream)), HasSubstr("not a JSON object"));
}

TEST(PeerReport, FailureSurvivesTheJsonLineWhateverThePeer) {
  const PeerReport failed = PeerReport::failure("unable to connect since nothing listens", "DoesNotExist");
  const PeerArgs stream_client = peer(Role::Client, Pattern::Stream);
  EXPECT_EQ(failed.to_json(stream_client), json({{"error", failed.error}, {"code", "DoesNotExist"}}));
  const PeerReport back = read(failed.to_json(stream_client), stream_client);
  EXPECT_TRUE(back.failed());
  EXPECT_TRUE(back == failed);
}

TEST(PeerReport, FailureWithoutAMessageStillFails) {
  EXPECT_TRUE(PeerReport::failure("", "System").failed());
}

TEST(PeerReport, FailureMissingOrMistypedKeysAreErrorsNamingThem) {
  const PeerArgs server = peer(Role::Server, Pattern::Pingpong);
  EXPECT_THAT(read_error({{"error", "boom"}}, server), HasSubstr("missing key 'code'"));
  EXPECT_THAT(read_error({{"error", 3}, {"code", "System"}}, server), HasSubstr("'error' is 3, not a non-empty string"));
  EXPECT_THAT(read_error({{"error", ""}, {"code", "System"}}, server), HasSubstr("'error' is \"\""));
  EXPECT_THAT(read_error({{"error", "boom"}, {"code", "System"}, {"cpu_ns", 1}}, server),
              HasSubstr("unexpected key 'cpu_ns' beside 'error'"));
}

}  // namespace
}  // namespace ipcmark
