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
// other way is chosen once its last try is under kSwitchBelow times the chosen way's cost, the
// median of its last three timings: one slow timing (an interrupt, a preemption) is not enough to
// leave the faster way for up to kTryOtherEvery turns, two are (a move of the vCPUs: 2 ×
// kSampleEvery turns).
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
    if (way != chosen_) {
      tried_ = cost;
    } else {
      if (timings_ == 0) recent_[1] = recent_[2] = cost;
      recent_[timings_++ % 3] = cost;
    }
    if (tried_ == 0 || timings_ == 0 || tried_ >= kSwitchBelow * chosen_cost()) return;
    const double left = chosen_cost();
    chosen_ = other();
    recent_[0] = recent_[1] = recent_[2] = tried_;
    timings_ = 1;
    tried_ = left;
  }
  Way chosen() const noexcept { return chosen_; }

 private:
  Way other() const noexcept { return chosen_ == Staged ? Straight : Staged; }
  double chosen_cost() const noexcept {  // the median of three
    const double a = recent_[0], b = recent_[1], c = recent_[2];
    return a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
  }

  // Staged until straight has been tried: a straight write far apart costs several staged ones,
  // a staged one close by a tenth more than a straight one.
  Way chosen_ = Staged;
  double recent_[3] = {0, 0, 0};  // the chosen way's last timings, per byte
  std::uint64_t timings_ = 0;     // of the chosen way since it was chosen
  double tried_ = 0;              // the other way's last try, per byte; 0: not tried yet
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
  // Straight writes `mine` too only if `keep_mine`; staged always makes the message there first.
  void write(std::span<std::byte> to, std::span<std::byte> mine, bool keep_mine, std::uint64_t sequence,
             std::uint64_t stamp_ns) noexcept;

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
