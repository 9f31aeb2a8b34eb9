// harness/conform/names_left.hpp — the names a channel may leave behind, and fresh channel names.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipcmark::conform {

// "<prefix><pid>-<infix><n>": unique in this process and apart from other processes' names, so a
// leftover check by prefix sees only this caller's names.
std::string unique_name(const std::string& prefix = "ipcmark-test-", const std::string& infix = "");
inline constexpr const char* kClauseChannelPrefix = "ipcmark-contract-";  // then "<pid>-<n>"
inline std::string unique_channel() { return unique_name(kClauseChannelPrefix); }

// Byte i of message `message`: any reordering, loss or tear shows up.
inline std::byte pattern_byte(std::size_t message, std::size_t i) { return std::byte((message * 131 + i * 7 + 1) & 0xff); }

// Entries of `dir` whose name starts with `prefix`.
std::vector<std::string> entries_with_prefix(const std::string& dir, const std::string& prefix);

// The mqueue directory, or "" when there is none; said once per process on stderr, so a
// leftover check that could not look at mq names does not pass in silence.
std::string mqueue_dir_or_empty();
// Whether this process could mount an mqueue filesystem: effective CAP_SYS_ADMIN.
bool can_mount();

// Names whose first characters are `prefix`, wherever a transport may create them: /dev/shm,
// the mqueue mount (where it can be listed), the private runtime dir (FIFOs, sockets, port files).
std::vector<std::string> names_with_prefix(const std::string& prefix);
inline std::vector<std::string> leftovers(const std::string& channel) { return names_with_prefix(channel); }

// For a clause about the names of `transport` (only "mq" needs a mount): nothing when they can be
// listed; else why not, and whether that is a failure (this process could mount one: that is
// scripts/setup's job) or a skip (the machine cannot list them).
struct NameListing {
  bool fail;
  std::string why;
};
std::optional<NameListing> names_unlistable(std::string_view transport);

}  // namespace ipcmark::conform
