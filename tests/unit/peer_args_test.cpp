#include "harness/run/peer_args.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include <CLI/CLI.hpp>

#include "harness/usage_error.hpp"
#include "transports/registry.hpp"

namespace ipcmark {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Every field of PeerArgs by structured binding: a field added to PeerArgs does not compile
// here until it is named (and set in every_field_set()).
auto fields(const PeerArgs& a) {
  const auto& [role, transport, channel, pattern, message_size, messages, warmup_messages, warmup_ms, rate, wait,
               timeout, zero_copy, readers, reader, cpu, parent_pid] = a;
  return std::tie(role, transport, channel, pattern, message_size, messages, warmup_messages, warmup_ms, rate, wait,
                  timeout, zero_copy, readers, reader, cpu, parent_pid);
}
constexpr std::size_t kFields = std::tuple_size_v<decltype(fields(PeerArgs{}))>;

PeerArgs every_field_set() {
  PeerArgs a;
  a.role = Role::Client;
  a.transport = "pipe";
  a.channel = "ipcmark-1-args";
  a.pattern = Pattern::Fanout;
  a.message_size = 4096;
  a.messages = 12345;
  a.warmup_messages = 678;
  a.warmup_ms = 90;
  a.rate = 250'000;
  a.wait = WaitKind::Spin;
  a.timeout = 17s;
  a.zero_copy = true;
  a.readers = 5;
  a.reader = 3;
  a.cpu = 1;
  a.parent_pid = 4242;
  return a;
}

// What `ipcmark peer` makes of `argv` (which starts with the subcommand).
PeerArgs parse(const std::vector<std::string>& argv) {
  CLI::App app;
  PeerArgs parsed;
  parsed.add_options(*app.add_subcommand(std::string(kPeerCommand)));
  std::vector<std::string> reversed(argv.rbegin(), argv.rend());  // CLI11 takes them last first
  app.parse(reversed);
  return parsed;
}

std::string parse_error(const std::vector<std::string>& argv) {
  try {
    parse(argv);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "(no error)";
}

template <std::size_t... I>
void expect_fields(const PeerArgs& a, const PeerArgs& b, bool equal, std::index_sequence<I...>) {
  const auto check = [&](const auto& x, const auto& y, std::size_t index) {
    EXPECT_EQ(x == y, equal) << "field #" << index << " of PeerArgs (in declaration order)";
  };
  (check(std::get<I>(fields(a)), std::get<I>(fields(b)), I), ...);
}

TEST(PeerArgs, TheFixtureSetsEveryFieldToANonDefaultValue) {
  expect_fields(every_field_set(), PeerArgs{}, /*equal=*/false, std::make_index_sequence<kFields>());
}

TEST(PeerArgs, EveryFieldSurvivesTheCommandLine) {
  const PeerArgs sent = every_field_set();
  const PeerArgs received = parse(sent.to_argv());
  expect_fields(received, sent, /*equal=*/true, std::make_index_sequence<kFields>());
  EXPECT_TRUE(received == sent);
}

TEST(PeerArgs, DefaultsSurviveTheCommandLine) {
  const PeerArgs defaults;
  EXPECT_TRUE(parse(defaults.to_argv()) == defaults);
}

TEST(PeerArgs, ArgvStartsWithTheSubcommandAndWritesEnumsByName) {
  const std::vector<std::string> argv = every_field_set().to_argv();
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv.front(), "peer");
  EXPECT_THAT(argv, ::testing::IsSupersetOf({"client", "fanout", "spin", "--zero-copy"}));
}

TEST(PeerArgs, OptionalFlagsLeftOutKeepTheDefaults) {
  const PeerArgs a = parse({"peer", "--role", "server", "--transport", "shm", "--channel", "c", "--pattern",
                            "pingpong", "--size", "64", "--messages", "10", "--warmup", "0"});
  EXPECT_EQ(a.wait, WaitKind::Block);
  EXPECT_EQ(a.timeout, 30s);
  EXPECT_EQ(a.cpu, -1);
  EXPECT_EQ(a.parent_pid, 0);
  EXPECT_FALSE(a.zero_copy);
}

TEST(PeerArgs, MissingRequiredFlagIsAnErrorNamingIt) {
  std::vector<std::string> argv = every_field_set().to_argv();
  const auto size = std::find(argv.begin(), argv.end(), "--size");
  argv.erase(size, size + 2);
  EXPECT_THAT(parse_error(argv), HasSubstr("--size"));
}

TEST(PeerArgs, UnknownEnumValueIsAnErrorNamingTheFlag) {
  std::vector<std::string> argv = every_field_set().to_argv();
  *(std::find(argv.begin(), argv.end(), "--pattern") + 1) = "burst";
  EXPECT_THAT(parse_error(argv), HasSubstr("--pattern: unknown pattern 'burst'"));
  argv = every_field_set().to_argv();
  *(std::find(argv.begin(), argv.end(), "--role") + 1) = "judge";
  EXPECT_THAT(parse_error(argv), HasSubstr("--role: unknown role 'judge'"));
}

TEST(PeerArgs, RunSpecSurvivesThePeerArgs) {
  RunSpec spec;
  spec.transport = find_transport("pipe");
  ASSERT_NE(spec.transport, nullptr);
  spec.pattern = Pattern::Stream;
  spec.message_size = 512;
  spec.wait = WaitKind::Spin;
  spec.messages = 1000;
  spec.warmup_messages = 100;
  spec.warmup_ms = 5;
  spec.timeout = 9s;
  spec.rate = 10'000;
  spec.readers = 2;
  spec.zero_copy = true;
  const PeerArgs args = PeerArgs::of(spec, Role::Client, "ipcmark-1-spec");
  EXPECT_EQ(args.role, Role::Client);
  EXPECT_EQ(args.channel, "ipcmark-1-spec");
  const RunSpec back = parse(args.to_argv()).run_spec();
  EXPECT_EQ(back.transport, spec.transport);
  EXPECT_EQ(back.pattern, spec.pattern);
  EXPECT_EQ(back.message_size, spec.message_size);
  EXPECT_EQ(back.wait, spec.wait);
  EXPECT_EQ(back.messages, spec.messages);
  EXPECT_EQ(back.warmup_messages, spec.warmup_messages);
  EXPECT_EQ(back.warmup_ms, spec.warmup_ms);
  EXPECT_EQ(back.timeout, spec.timeout);
  EXPECT_EQ(back.rate, spec.rate);
  EXPECT_EQ(back.readers, spec.readers);
  EXPECT_EQ(back.zero_copy, spec.zero_copy);
  EXPECT_EQ(back.timed_every(), spec.timed_every());
}

TEST(PeerArgs, UnknownTransportIsAUsageError) {
  PeerArgs a = every_field_set();
  a.transport = "carrier-pigeon";
  try {
    a.run_spec();
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown transport 'carrier-pigeon'"));
  }
}

}  // namespace
}  // namespace ipcmark
