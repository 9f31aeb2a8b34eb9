// harness/measure/payload.hpp — what every measured message carries, so the reader can prove
// order, completeness and integrity of every byte:
//
//   [u64 sequence][u64 send timestamp, CLOCK_MONOTONIC ns][pattern bytes ...]
//
// The pattern is derived from the sequence number, so a stale or torn copy is caught.
// Filling and checking run at memory speed (8-byte words, vectorisable).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>

namespace ipcmark {

inline constexpr std::size_t kPayloadHeader = 16;  // smallest stream/pingpong message

struct PayloadCheck {
  std::uint64_t sequence;
  std::uint64_t stamp_ns;
  bool intact;  // every pattern byte as the writer made it
};

// Writes header and pattern; message.size() >= kPayloadHeader.
void fill_payload(std::span<std::byte> message, std::uint64_t sequence, std::uint64_t stamp_ns) noexcept;
// fill_payload() into `message` and, in the same pass, into `twin` (as long, not overlapping): the
// stores of one pattern go to both. Its lines are `message`'s (channel_fill.hpp).
void fill_payload_twice(std::span<std::byte> message, std::span<std::byte> twin, std::uint64_t sequence,
                        std::uint64_t stamp_ns) noexcept;
// The same bytes as fill_payload(), for memory another process reads next (a zero-copy loan in
// shared memory). Bodies of kInPlaceScratchBytes and more are made in a private per-thread buffer
// and copied in with one memcpy: writing them straight into lines the peer's core holds, by the
// vector stores of the pattern loop, went at about a quarter of memcpy's speed (64 KiB, AMD EPYC
// KVM guest, docs/notes-2026-12-06-shm-sizes.md); glibc's memcpy of that size is one `rep movsb`.
// Smaller ones are filled in place (no measured gain at 4 KiB). Falls back to filling in place if
// the buffer cannot be allocated.
inline constexpr std::size_t kInPlaceScratchBytes = 32 * 1024;
void fill_payload_in_place(std::span<std::byte> message, std::uint64_t sequence, std::uint64_t stamp_ns) noexcept;
// Rewrites only the timestamp (the sender stamps last, just before sending).
// Inline, as are the two readers below: the stream reader calls them for every message.
inline void stamp_payload(std::span<std::byte> message, std::uint64_t stamp_ns) noexcept {
  std::memcpy(message.data() + 8, &stamp_ns, 8);
}
PayloadCheck check_payload(std::span<const std::byte> message) noexcept;
// Copies `from` into `to` (`from.size()` bytes; `to` is at least as long) and checks it as
// check_payload() checks a message, in one pass: each word is loaded once, stored and compared, so
// the result describes exactly the bytes stored, even if `from` (another process's memory)
// changes meanwhile. For a reader whose transport copies out of its own memory (Connection::
// receive_through): copying and then checking the copy read every byte twice, and at 64 KiB the
// second pass was what kept shm's copy stream under the raw program's (the notes).
PayloadCheck copy_checking_payload(std::span<std::byte> to, std::span<const std::byte> from) noexcept;

// The zero-copy ping-pong server's answer: `request`'s header, and its body with every bit
// inverted, written into `answer` (the same size; it may be `request` itself, as when a transport
// lends the request's own bytes for the reply). The server reads every byte and writes every byte,
// as a copy would, and an answer that was never written (the request's bytes, left where a
// transport answers in place) or half written fails check_answer().
void answer_payload(std::span<std::byte> answer, std::span<const std::byte> request) noexcept;
// check_payload() for an answer: the body must be the pattern inverted.
PayloadCheck check_answer(std::span<const std::byte> message) noexcept;
// 0 for a message shorter than a sequence number.
inline std::uint64_t payload_sequence(std::span<const std::byte> message) noexcept {
  std::uint64_t sequence = 0;
  if (message.size() >= 8) std::memcpy(&sequence, message.data(), 8);
  return sequence;
}
// Warm-up messages carry stamp 0: that is how the reader tells them from measured ones
// when warm-up is time-based and its length is known only to the sender. 0 for a message
// shorter than the header.
inline std::uint64_t payload_stamp(std::span<const std::byte> message) noexcept {
  std::uint64_t stamp = 0;
  if (message.size() >= kPayloadHeader) std::memcpy(&stamp, message.data() + 8, 8);
  return stamp;
}
// The stamp of a measured message that carries no send time (closed-loop streams time one
// message in timed_every(), harness/run/scenario.hpp): not 0, and no CLOCK_MONOTONIC reading.
inline constexpr std::uint64_t kUntimedStamp = ~std::uint64_t{0};

// The one-shot pattern: the seed text repeated to `size` bytes (printable, no NULs, so a
// reader that trims trailing NULs gets it back exactly).
std::string oneshot_text(std::size_t size);

}  // namespace ipcmark
