#include "harness/measure/payload.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

namespace ipcmark {
namespace {

constexpr std::uint64_t kSequenceKey = 0x9E3779B97F4A7C15ULL;  // golden ratio: spreads bits
constexpr std::uint64_t kWordStep = 0xBF58476D1CE4E5B9ULL;

// Word i of the pattern is key + i * step: an induction the compiler vectorises with plain
// 64-bit adds, so filling and checking run at memory speed (a multiply per word did not).
std::uint64_t pattern_word(std::uint64_t key, std::uint64_t index) noexcept { return key + index * kWordStep; }

// Words of the body before the first cache-line boundary (at most `words`). Filling or checking
// them one by one first lets the vector loop after them move whole aligned lines: a body starts
// 16 bytes into a message, wherever the message is, and 64-byte vectors that straddle two lines
// cost AVX-512 a quarter of its fill speed and a third of its check speed on 64 KiB (Xeon, one
// run: fill 1.62 -> 1.40 us, check 1.03 -> 0.68 us).
std::size_t words_before_line(const std::byte* body, std::size_t words) noexcept {
  const std::size_t to_line = (64 - reinterpret_cast<std::uintptr_t>(body) % 64) % 64;
  return std::min(words, to_line / 8);
}

// Every byte of every message is written and checked, so this is the harness's hot loop:
// compiled for AVX2 and AVX-512 too, chosen at load time. AVX2 runs about twice as fast on
// 64 KiB as the default; AVX-512 checks 64 KiB in 0.67 instead of 1.1 us here (fill: 1.39 vs
// 1.45 us, bound by stores; bodies aligned to a line, one run), which took shm zero-copy
// stream/65536 from 18.3 to 21 GB/s.
// Not under ThreadSanitizer: GCC instruments the ifunc resolver, which the dynamic loader
// runs before TSan is initialised, and every binary crashes at load time.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define IPCMARK_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define IPCMARK_VECTOR_CLONES
#endif

}  // namespace

namespace {

// The pattern into `message` and, with kTwice, the same stores into `twin` (as long as `message`,
// not overlapping it): one pass making two copies. Aligned to `message`'s lines.
template <bool kTwice>
[[gnu::always_inline]] inline void fill(std::span<std::byte> message, std::byte* __restrict twin, std::uint64_t sequence,
                                        std::uint64_t stamp_ns) noexcept {
  std::memcpy(message.data(), &sequence, 8);
  std::memcpy(message.data() + 8, &stamp_ns, 8);
  if constexpr (kTwice) {
    std::memcpy(twin, &sequence, 8);
    std::memcpy(twin + 8, &stamp_ns, 8);
  }
  const std::uint64_t key = sequence * kSequenceKey;
  std::byte* __restrict body = message.data() + kPayloadHeader;
  std::byte* __restrict twin_body = kTwice ? twin + kPayloadHeader : nullptr;
  const std::size_t body_size = message.size() - kPayloadHeader;
  const std::size_t words = body_size / 8;
  const std::size_t head = words_before_line(body, words);
  std::uint64_t w = key;
  const auto store = [&](std::size_t i) {
    std::memcpy(body + i * 8, &w, 8);
    if constexpr (kTwice) std::memcpy(twin_body + i * 8, &w, 8);
  };
  std::size_t i = 0;
  for (; i < head; ++i, w += kWordStep) store(i);
  for (; i < words; ++i, w += kWordStep) store(i);
  const std::uint64_t last = pattern_word(key, words);
  std::memcpy(body + words * 8, &last, body_size - words * 8);
  if constexpr (kTwice) std::memcpy(twin_body + words * 8, &last, body_size - words * 8);
}

}  // namespace

IPCMARK_VECTOR_CLONES void fill_payload(std::span<std::byte> message, std::uint64_t sequence, std::uint64_t stamp_ns) noexcept {
  fill<false>(message, nullptr, sequence, stamp_ns);
}
IPCMARK_VECTOR_CLONES void fill_payload_twice(std::span<std::byte> message, std::span<std::byte> twin, std::uint64_t sequence,
                                              std::uint64_t stamp_ns) noexcept {
  fill<true>(message, twin.data(), sequence, stamp_ns);
}

void fill_payload_in_place(std::span<std::byte> message, std::uint64_t sequence, std::uint64_t stamp_ns) noexcept {
  if (message.size() < kInPlaceScratchBytes) return fill_payload(message, sequence, stamp_ns);
  thread_local std::vector<std::byte> scratch;  // grows to the largest message, once
  try {
    if (scratch.size() < message.size()) scratch.resize(message.size());
  } catch (const std::bad_alloc&) {
    return fill_payload(message, sequence, stamp_ns);
  }
  const std::span<std::byte> staged = std::span(scratch).first(message.size());
  fill_payload(staged, sequence, stamp_ns);
  std::memcpy(message.data(), staged.data(), staged.size());
}

namespace {

// The pattern's words XORed with kMask (0: a message; all ones: an answer) are what `message`
// must hold. With kCopy, every word read is also stored into `copy` (as long as `message`, not
// overlapping it): one pass that copies and checks. Inlined into each caller's vector clones: a mask
// known at compile time costs a message's check nothing.
template <std::uint64_t kMask, bool kCopy>
[[gnu::always_inline]] inline PayloadCheck scan(std::span<const std::byte> message, std::byte* __restrict copy) noexcept {
  constexpr std::uint64_t mask = kMask;
  PayloadCheck result{0, 0, false};
  if (message.size() < kPayloadHeader) {
    if constexpr (kCopy) std::memcpy(copy, message.data(), message.size());
    return result;
  }
  std::memcpy(&result.sequence, message.data(), 8);
  std::memcpy(&result.stamp_ns, message.data() + 8, 8);
  if constexpr (kCopy) {  // what was read, not a second read of memory another process may change
    std::memcpy(copy, &result.sequence, 8);
    std::memcpy(copy + 8, &result.stamp_ns, 8);
  }
  const std::uint64_t key = result.sequence * kSequenceKey;
  const std::byte* __restrict body = message.data() + kPayloadHeader;
  std::byte* __restrict copied = kCopy ? copy + kPayloadHeader : nullptr;
  const std::size_t body_size = message.size() - kPayloadHeader;
  const std::size_t words = body_size / 8;
  const std::size_t head = words_before_line(body, words);  // lines of the message: another core's, when copying
  std::uint64_t diff = 0;  // OR of differences: no branch per word
  std::uint64_t expected = key;
  const auto compare = [&](std::size_t i) {
    std::uint64_t w;
    std::memcpy(&w, body + i * 8, 8);
    if constexpr (kCopy) std::memcpy(copied + i * 8, &w, 8);
    diff |= w ^ mask ^ expected;
  };
  std::size_t i = 0;
  for (; i < head; ++i, expected += kWordStep) compare(i);
  for (; i < words; ++i, expected += kWordStep) compare(i);
  const std::size_t tail = body_size - words * 8;
  std::uint64_t got = 0, want = 0;
  const std::uint64_t last = pattern_word(key, words) ^ mask;
  std::memcpy(&got, body + words * 8, tail);
  if constexpr (kCopy) std::memcpy(copied + words * 8, &got, tail);
  std::memcpy(&want, &last, tail);
  result.intact = (diff | (got ^ want)) == 0;
  return result;
}

}  // namespace

IPCMARK_VECTOR_CLONES PayloadCheck check_payload(std::span<const std::byte> message) noexcept {
  return scan<0, false>(message, nullptr);
}
IPCMARK_VECTOR_CLONES PayloadCheck check_answer(std::span<const std::byte> message) noexcept {
  return scan<~std::uint64_t{0}, false>(message, nullptr);
}
IPCMARK_VECTOR_CLONES PayloadCheck copy_checking_payload(std::span<std::byte> to, std::span<const std::byte> from) noexcept {
  return scan<0, true>(from, to.data());
}

namespace {

// Inverts `bytes` words of `from` into `to`. Two loops, so that each vectorises: in place (one
// pointer), and between two buffers that do not overlap (a ring's loan and the viewed request).
IPCMARK_VECTOR_CLONES void invert_body(std::byte* __restrict to, const std::byte* __restrict from, std::size_t bytes) noexcept {
  const std::size_t words = bytes / 8;
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t w;
    std::memcpy(&w, from + i * 8, 8);
    w = ~w;
    std::memcpy(to + i * 8, &w, 8);
  }
  for (std::size_t i = words * 8; i < bytes; ++i) to[i] = ~from[i];
}

IPCMARK_VECTOR_CLONES void invert_body_in_place(std::byte* body, std::size_t bytes) noexcept {
  const std::size_t words = bytes / 8;
  for (std::size_t i = 0; i < words; ++i) {
    std::uint64_t w;
    std::memcpy(&w, body + i * 8, 8);
    w = ~w;
    std::memcpy(body + i * 8, &w, 8);
  }
  for (std::size_t i = words * 8; i < bytes; ++i) body[i] = ~body[i];
}

}  // namespace

void answer_payload(std::span<std::byte> answer, std::span<const std::byte> request) noexcept {
  const std::size_t size = std::min(answer.size(), request.size());
  const bool in_place = answer.data() == request.data();
  if (size < kPayloadHeader) {
    if (!in_place) std::memmove(answer.data(), request.data(), size);
    return;
  }
  if (in_place) return invert_body_in_place(answer.data() + kPayloadHeader, size - kPayloadHeader);
  std::memcpy(answer.data(), request.data(), kPayloadHeader);
  invert_body(answer.data() + kPayloadHeader, request.data() + kPayloadHeader, size - kPayloadHeader);
}

std::string oneshot_text(std::size_t size) {
  static const std::string seed = "The world is going down. ";
  std::string text;
  text.reserve(size);
  while (text.size() < size) text.append(seed, 0, std::min(seed.size(), size - text.size()));
  return text;
}

}  // namespace ipcmark
