// harness/measure/channel_copy.hpp — a message written into, or read out of, memory another core
// uses next (a shared-memory ring's record: Connection::send_through, receive_through), each the
// faster of two ways as timed while it runs.
//
// Writing, straight: the pattern's vector stores go into the channel's lines, and in the same pass
// into the sender's own buffer. Staged: the pattern is made in the sender's own buffer, then copied
// in by one memcpy (glibc's `rep movsb` at these sizes). Reading, straight: each word is loaded from
// the channel, stored into the reader's buffer and checked (copy_checking_payload); staged: one
// memcpy out, then check_payload() over the copy. Which is faster depends on how far the other core
// is: with the two vCPUs close, straight writes and reads made a 64 KiB copy stream about a fifth
// faster; far apart, straight writes went at an eighth of memcpy's speed (memcpy takes whole lines
// from the other core without a round trip per line) and straight reads a few percent slower (AMD
// EPYC KVM guest; docs/notes-2026-12-06-shm-sizes.md). A host can move the vCPUs mid-run, so the
// choice is remade all along from timings of the copies themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "harness/measure/payload.hpp"

namespace ipcmark {

// The choice between two ways of doing the same work, from timings of it: every kSampleEvery-th
// time the chosen way is timed, every kTryOtherEvery-th time the other way is taken and timed. The
// other way is chosen once its last timing is under kSwitchBelow times the chosen way's average.
// The chosen way's cost is an average (one slow write, an interrupt say, moves it a quarter); the
// other way's is its last try, so that a move of the vCPUs counts at once.
class FasterWay {
 public:
  static constexpr std::uint64_t kSampleEvery = 16, kTryOtherEvery = 1024;
  static constexpr double kSwitchBelow = 0.95;
  enum Way { Staged = 0, Straight = 1 };
  struct Turn {
    Way way;
    bool timed;
  };

  Turn next() noexcept {
    const std::uint64_t n = turns_++;
    if (n % kTryOtherEvery == kTryOtherEvery / 2) return {other(), true};
    return {chosen_, n % kSampleEvery == 0};
  }
  void learn(Way way, double cost) noexcept {
    double& known = cost_[way];
    known = way != chosen_ || known == 0 ? cost : known + (cost - known) / 4;
    if (cost_[other()] != 0 && cost_[other()] < kSwitchBelow * cost_[chosen_]) chosen_ = other();
  }
  Way chosen() const noexcept { return chosen_; }

 private:
  Way other() const noexcept { return chosen_ == Staged ? Straight : Staged; }

  // Staged until straight has been timed: a straight write far apart costs several staged ones,
  // a staged write close by a tenth more than a straight one.
  Way chosen_ = Staged;
  double cost_[2] = {0, 0};  // per byte; 0: not timed yet
  std::uint64_t turns_ = 0;
};

class ChannelFill {
 public:
  // Writes fill_payload(sequence, stamp_ns)'s bytes into `to` (the channel's memory) and into
  // `mine` (the sender's own buffer, as long, not overlapping `to`).
  void fill(std::span<std::byte> to, std::span<std::byte> mine, std::uint64_t sequence, std::uint64_t stamp_ns) noexcept;
  // The same bytes into `to` alone (a zero-copy loan); the staged way makes them in `scratch` (as
  // long) first. Use one ChannelFill for one of the two calls: each learns its own costs.
  void fill_in_place(std::span<std::byte> to, std::span<std::byte> scratch, std::uint64_t sequence,
                     std::uint64_t stamp_ns) noexcept;
  FasterWay::Way chosen() const noexcept { return way_.chosen(); }

 private:
  FasterWay way_;
};

class ChannelCheck {
 public:
  // Copies `from` (the channel's memory: untrusted) into `to` and returns check_payload() of the
  // bytes copied.
  PayloadCheck copy(std::span<std::byte> to, std::span<const std::byte> from) noexcept;
  FasterWay::Way chosen() const noexcept { return way_.chosen(); }

 private:
  FasterWay way_;
};

}  // namespace ipcmark
