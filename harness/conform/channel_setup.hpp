// harness/conform/channel_setup.hpp — what every point-to-point clause starts from: a fresh
// channel name on one transport, with the wait its channels use, removed again when the clause
// ends however it ends.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "harness/conform/check.hpp"
#include "harness/conform/names_left.hpp"
#include "transports/transport.hpp"

namespace ipcmark::conform {

struct ChannelSetup {
  ChannelSetup(const Transport& t, WaitKind w) : transport(t), wait(w) {}
  ChannelSetup(const ChannelSetup&) = delete;
  ~ChannelSetup() { transport.channel.remove(channel); }

  ChannelConfig config(std::size_t max_message) const { return {channel, max_message, wait}; }
  std::size_t max_message() const { return std::min<std::size_t>(transport.max_message, 16 << 20); }

  const Transport& transport;
  const WaitKind wait;
  const std::string channel = unique_channel();
};

// Fails unless nothing named after `channel` is left; `when` says after what.
inline void require_no_leftovers(const std::string& channel, const std::string& when) {
  const std::vector<std::string> left = leftovers(channel);
  if (!left.empty()) fail(std::to_string(left.size()) + " name(s) left " + when + ", e.g. " + left.front());
}

// Skips or fails a clause about names when they cannot be listed (names_unlistable).
inline void require_name_listing(std::string_view transport) {
  if (const auto no = names_unlistable(transport)) no->fail ? fail(no->why) : skip(no->why);
}

}  // namespace ipcmark::conform
