#include "transports/shm/broadcast_ring.hpp"

#include <bit>
#include <cstdio>

#include "transports/shm/spsc_ring.hpp"  // ring_fits
#include "transports/shm/record_codec.hpp"
#include "transports/shm/region_guard.hpp"

namespace ipcmark::shm {
namespace {

constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kBroadcastSlots) - 1;

std::string hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

bool aligned(const std::byte* p) { return reinterpret_cast<std::uintptr_t>(p) % kBlockBytes == 0; }

std::atomic_ref<std::uint32_t> state_of(ReaderSlot& slot) { return std::atomic_ref(slot.state); }

// Calls f(i) for every set bit i of `bits`, lowest first.
template <class F>
void for_each_bit(std::uint64_t bits, F&& f) {
  while (bits != 0) {
    f(std::countr_zero(bits));
    bits &= bits - 1;
  }
}

}  // namespace

void initialise_broadcast(std::span<std::byte> region, const BroadcastParams& params) {
  if (!std::has_single_bit(params.capacity) || params.capacity < kMinCapacity ||
      !ring_fits(params.capacity, params.max_message) || params.readers < 1 || params.readers > kBroadcastSlots ||
      params.writer_pid < 0 || region.size() != broadcast_bytes(params.capacity) || !aligned(region.data()))
    throw Error(Errc::InvalidArgument, "cannot lay out a fanout ring of " + std::to_string(params.capacity) +
                                           " bytes for " + std::to_string(params.readers) + " readers and messages of " +
                                           std::to_string(params.max_message) + " bytes over " +
                                           std::to_string(region.size()) + " bytes");
  // Plain writes: nobody may look before the magic is published below.
  std::memset(region.data(), 0, kBroadcastHeaderBytes);
  auto& header = *reinterpret_cast<BroadcastHeader*>(region.data());
  header.version = kBroadcastVersion;
  header.header_bytes = kBroadcastHeaderBytes;
  header.capacity = params.capacity;
  header.max_message = params.max_message;
  header.readers = static_cast<std::uint32_t>(params.readers);
  header.writer_pid = params.writer_pid;
  header.writer_waits = params.writer_waits;
  // release: a process that acquires the magic sees the whole header, zero tail and free slots.
  std::atomic_ref(header.magic).store(kBroadcastMagic, std::memory_order_release);
}

// ---- BroadcastView ----------------------------------------------------------------------------

BroadcastView::BroadcastView(std::span<std::byte> region, std::string channel) : channel_(std::move(channel)) {
  if (!aligned(region.data()))
    throw Error(Errc::InvalidArgument, "fanout memory for '" + channel_ + "' is not 128-byte aligned");
  if (region.size() < kBroadcastHeaderBytes)
    corrupt(std::to_string(region.size()) + " bytes cannot hold the " + std::to_string(kBroadcastHeaderBytes) +
            "-byte header");
  const auto& header = *reinterpret_cast<const BroadcastHeader*>(region.data());
  // acquire: pairs with initialise_broadcast's release store; the fields were written before it.
  const std::uint64_t magic =
      std::atomic_ref(reinterpret_cast<BroadcastHeader*>(region.data())->magic).load(std::memory_order_acquire);
  if (magic != kBroadcastMagic) corrupt("bad magic " + hex(magic) + ", expected " + hex(kBroadcastMagic));
  // Each field is read once into a local; later code uses only the checked copies.
  const std::uint32_t version = header.version;
  const std::uint32_t header_bytes = header.header_bytes;
  const std::uint64_t capacity = header.capacity;
  const std::uint32_t max_message = header.max_message;
  const std::uint32_t readers = header.readers;
  const std::int32_t writer_pid = header.writer_pid;
  const std::uint32_t writer_waits = header.writer_waits;
  if (version != kBroadcastVersion)
    corrupt("unsupported version " + std::to_string(version) + ", expected " + std::to_string(kBroadcastVersion));
  if (header_bytes != kBroadcastHeaderBytes)
    corrupt("header_bytes is " + std::to_string(header_bytes) + ", expected " +
            std::to_string(kBroadcastHeaderBytes));
  if (!std::has_single_bit(capacity) || capacity < kMinCapacity)
    corrupt("capacity " + std::to_string(capacity) + " is not a power of two >= " + std::to_string(kMinCapacity));
  if (region.size() - kBroadcastHeaderBytes != capacity)
    corrupt("capacity " + std::to_string(capacity) + " plus the header does not match the mapped size of " +
            std::to_string(region.size()) + " bytes");
  if (!ring_fits(capacity, max_message))
    corrupt("max_message " + std::to_string(max_message) + " does not fit a ring of " + std::to_string(capacity) +
            " bytes (a record may take at most half)");
  if (readers < 1 || readers > kBroadcastSlots)
    corrupt("reader count " + std::to_string(readers) + " is outside 1.." + std::to_string(kBroadcastSlots));
  if (writer_pid < 0) corrupt("writer_pid " + std::to_string(writer_pid) + " is not a process id");
  if (writer_waits != kWaitsSpin && writer_waits != kWaitsBlock)
    corrupt("writer wait mode " + std::to_string(writer_waits) + " is neither spin nor block");
  header_ = reinterpret_cast<BroadcastHeader*>(region.data());
  writer_ = reinterpret_cast<BroadcastWriterBlock*>(region.data() + BroadcastOffsets::writer);
  readers_block_ = reinterpret_cast<BroadcastReadersBlock*>(region.data() + BroadcastOffsets::readers);
  slots_ = reinterpret_cast<ReaderSlot*>(region.data() + BroadcastOffsets::slots);
  data_ = region.data() + BroadcastOffsets::data;
  capacity_ = capacity;
  mask_ = capacity - 1;
  max_message_ = max_message;
  readers_ = static_cast<int>(readers);
  writer_pid_ = writer_pid;
  writer_waits_ = writer_waits;
}

void BroadcastView::corrupt(const std::string& what) const {
  throw Error(Errc::Corrupt, "corrupt fanout region of channel '" + channel_ + "': " + what);
}

void BroadcastView::bump_and_wake(std::uint32_t* word) noexcept {
  std::atomic_ref(*word).fetch_add(1, std::memory_order_release);
  futex_wake_all(word);
}

// ---- BroadcastWriter --------------------------------------------------------------------------

BroadcastWriter::BroadcastWriter(std::span<std::byte> region, std::string channel)
    : BroadcastView(region, std::move(channel)) {
  tail_ = std::atomic_ref(writer_->tail).load(std::memory_order_acquire);
  if (tail_ % kRecordAlign != 0) corrupt("tail " + std::to_string(tail_) + " is not 8-aligned");
  min_cache_ = tail_;
}

void BroadcastWriter::accept(Deadline deadline) {
  for (;;) {
    // acquire on the futex word first: a join that bumped it after this load makes the wait
    // below return at once; one that bumped it before is visible in the attention word.
    const std::uint32_t seq = std::atomic_ref(*space_seq()).load(std::memory_order_acquire);
    attend_doorbells(attention().load(std::memory_order_acquire), /*sending=*/false);
    // Done once every reader has been adopted, before looking at pids: one that has already
    // left again (it may, as soon as it is adopted) is then send()'s to drop and count, not a
    // reason to wait here for a reader that will never come.
    if (live_readers() >= readers_) return;
    const Clock::time_point now = Clock::now();
    check_liveness(now, /*sending=*/false);
    if (now >= deadline)
      throw Error(Errc::Timeout, "timed out waiting for readers of channel '" + channel_ + "': " +
                                     std::to_string(live_readers()) + " of " + std::to_string(readers_) + " joined");
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
    futex_wait(space_seq(), seq, std::min<std::chrono::nanoseconds>(left, kMaxSleep));
  }
}

void BroadcastWriter::attend(std::uint64_t bits) noexcept {
  if ((bits & kSlotMask & live_mask_) != 0) bump_and_wake(data_seq());
  if ((bits & ~(kSlotMask & live_mask_)) != 0) attend_doorbells(bits, /*sending=*/false);
}

void BroadcastWriter::attend_doorbells(std::uint64_t bits, bool sending) noexcept {
  const std::uint64_t in_use = (std::uint64_t{1} << readers_) - 1;
  const std::uint64_t joins = (bits >> kJoiningBits) & in_use;
  const std::uint64_t closes = (bits >> kClosedBits) & in_use;
  // Clear what we handle before looking at the slots, so a doorbell rung after this is kept.
  // Sleeping bits of slots that are not live (a hostile or dropped reader) go too: else every
  // publish would pay a futex wake for nobody.
  const std::uint64_t handled = (bits & ~(kSlotMask << kSleepingBits)) | (bits & kSlotMask & ~std::uint64_t{live_mask_});
  if (handled != 0) attention().fetch_and(~handled, std::memory_order_acq_rel);
  // Joins first: a slot freed below in this round may be claimed again at once, and a joining bit
  // read above belongs to the occupant the slot has now (a free clears its bits first).
  for_each_bit(joins & ~std::uint64_t{live_mask_}, [&](int i) {
    const std::uint32_t word = state_of(slots_[i]).load(std::memory_order_acquire);
    if (slot_state(word) == SlotState::Joining) adopt(i, word);
  });
  // A closed bit only says "look": it may be late, rung by an occupant we have dropped already
  // (check_liveness saw its Closed first) for a slot that now has another. The word decides.
  for_each_bit(closes, [&](int i) {
    // acquire: a Closed word comes with that reader's final cursor.
    const std::uint32_t word = state_of(slots_[i]).load(std::memory_order_acquire);
    if ((live_mask_ & (1u << i)) != 0) {
      if (word != slot_word(SlotState::Closed, slot_generation(words_[i]))) return;
      std::uint64_t cursor = 0;
      if (!read_cursor(i, cursor)) return;  // dropped as corrupt already
      drop(i, sending || cursor < tail_);
    } else if (slot_state(word) == SlotState::Closed) {
      // Left before it was adopted: nothing missed, the slot is free again.
      std::uint32_t expected = word;
      state_of(slots_[i]).compare_exchange_strong(expected, next_free_word(word), std::memory_order_acq_rel);
      futex_wake_all(&slots_[i].state);
    }
  });
}

void BroadcastWriter::adopt(int i, std::uint32_t word) noexcept {
  ReaderSlot& slot = slots_[i];
  // Relaxed: the joining doorbell's RMW, which the caller acquired, was rung after these stores.
  const std::int32_t pid = std::atomic_ref(slot.pid).load(std::memory_order_relaxed);
  const std::uint32_t waits = std::atomic_ref(slot.waits).load(std::memory_order_relaxed);
  std::uint32_t expected = word;
  if (pid < 0 || (waits != kWaitsSpin && waits != kWaitsBlock) || closed_) {
    // Not a reader we can serve: refuse it; the joiner sees another word and gives up.
    state_of(slot).compare_exchange_strong(expected, next_free_word(word), std::memory_order_acq_rel);
    futex_wake_all(&slot.state);
    return;
  }
  // The cursor first, then Live (release): the reader reads the cursor after acquiring Live. The
  // tail is published already, so the reader starts with the next message.
  std::atomic_ref(slot.cursor).store(tail_, std::memory_order_relaxed);
  const std::uint32_t live = slot_word(SlotState::Live, slot_generation(word));
  if (!state_of(slot).compare_exchange_strong(expected, live, std::memory_order_acq_rel))
    return;  // it closed meanwhile; its closed doorbell frees the slot
  futex_wake_all(&slot.state);
  words_[i] = live;
  live_mask_ |= 1u << i;
  if (waits == kWaitsBlock) sleepy_mask_ |= 1u << i;
  seen_[i] = tail_;
  processes_[i] = PeerProcess(pid);
  ever_live_ = true;
  update_may_sleep();
}

void BroadcastWriter::drop(int i, bool lost) noexcept {
  processes_[i] = PeerProcess();
  live_mask_ &= ~(1u << i);
  sleepy_mask_ &= ~(1u << i);
  update_may_sleep();
  if (lost) ++lost_;
  attention().fetch_and(~(attention_bit(kSleepingBits, i) | attention_bit(kJoiningBits, i) |
                          attention_bit(kClosedBits, i)),
                        std::memory_order_acq_rel);
  // release: a reader that reclaims the slot starts after everything we did with it.
  state_of(slots_[i]).store(next_free_word(words_[i]), std::memory_order_release);
  // The dropped reader may still be reading bytes we are now free to overwrite: our writes from
  // here on stay after the free, so a reader that reads any of them sees it (confirm_kept()).
  std::atomic_thread_fence(std::memory_order_release);
  futex_wake_all(&slots_[i].state);  // a reader waiting for adoption in this slot: look again
}

void BroadcastWriter::update_may_sleep() noexcept { readers_may_sleep_ = sleepy_mask_ != 0; }

bool BroadcastWriter::read_cursor(int i, std::uint64_t& cursor) noexcept {
  // acquire: the reader finished reading the records before it released its cursor past them.
  const std::uint64_t c = std::atomic_ref(slots_[i].cursor).load(std::memory_order_acquire);
  if (c > tail_ || tail_ - c > capacity_ || c % kRecordAlign != 0) {
    drop(i, /*lost=*/true);  // corrupt: it cannot hold us back, nor make us write anywhere
    return false;
  }
  cursor = c;
  return true;
}

void BroadcastWriter::refresh_all() noexcept {
  std::uint64_t least = tail_;
  for_each_bit(live_mask_, [&](int i) {
    std::uint64_t c = 0;
    if (!read_cursor(i, c)) return;
    seen_[i] = c;
    least = std::min(least, c);
  });
  min_cache_ = least;
}

bool BroadcastWriter::reached(std::uint64_t wanted) noexcept {
  std::uint64_t least = tail_;
  bool all = true;
  for_each_bit(live_mask_, [&](int i) {
    if (!all) return;
    if (seen_[i] < wanted) {
      std::uint64_t c = 0;
      if (!read_cursor(i, c)) return;
      seen_[i] = c;
      if (c < wanted) all = false;
    }
    least = std::min(least, seen_[i]);
  });
  if (all) min_cache_ = least;
  return all;
}

void BroadcastWriter::check_liveness(Clock::time_point now, bool sending) {
  if (now < next_liveness_) return;
  next_liveness_ = now + kLivenessPeriod;
  if (region_truncated(header_)) corrupt("the region was truncated under the writer");
  for_each_bit(live_mask_, [&](int i) {
    // acquire: a Closed state comes with the reader's final cursor.
    const std::uint32_t word = state_of(slots_[i]).load(std::memory_order_acquire);
    // Closed (its doorbell still on the way), overwritten, or a reader whose process has died.
    if (word == words_[i] && !processes_[i].gone()) return;
    const std::uint64_t cursor = std::atomic_ref(slots_[i].cursor).load(std::memory_order_acquire);
    drop(i, sending || cursor != tail_);
  });
}

void BroadcastWriter::no_readers() {
  attend_doorbells(attention().load(std::memory_order_acquire), /*sending=*/true);  // a late joiner?
  if (live_mask_ != 0) return;
  throw Error(Errc::PeerGone, ever_live_ ? std::string("every reader has gone")
                                         : "no reader has joined channel '" + channel_ + "' (accept() first)");
}

int BroadcastWriter::readers_lost() const {
  int lost = lost_;
  for_each_bit(live_mask_, [&](int i) {
    const std::uint32_t word = std::atomic_ref(slots_[i].state).load(std::memory_order_acquire);
    if (word == words_[i] && !processes_[i].gone()) return;
    const std::uint64_t c = std::atomic_ref(slots_[i].cursor).load(std::memory_order_acquire);
    if (c != tail_) ++lost;  // left with messages unread (or a cursor that makes no sense)
  });
  return lost;
}

void BroadcastWriter::close() noexcept {
  if (closed_) return;
  closed_ = true;
  // release: a reader that sees "closed" also sees everything we published before it.
  std::atomic_ref(header_->writer_closed).store(1, std::memory_order_release);
  bump_and_wake(data_seq());
  for (int i = 0; i < readers_; ++i) futex_wake_all(&slots_[i].state);  // joiners waiting for adoption
}

void BroadcastWriter::reject_size(std::size_t length) const {
  if (length == 0) throw Error(Errc::InvalidArgument, "cannot send an empty message");
  throw Error(Errc::MessageTooLarge, "message of " + std::to_string(length) +
                                         " bytes exceeds the channel's max_message of " +
                                         std::to_string(max_message_) + " bytes");
}

void BroadcastWriter::reject_busy() const {
  throw Error(Errc::InvalidArgument, "a loan of fanout channel '" + channel_ +
                                         "' is not committed yet: commit() it before the next loan or send");
}

void BroadcastWriter::space_timeout(std::uint64_t wanted) const {
  int slowest = -1;
  std::uint64_t least = tail_;
  for_each_bit(live_mask_, [&](int i) {
    if (seen_[i] < wanted && seen_[i] <= least) {
      least = seen_[i];
      slowest = i;
    }
  });
  throw Error(Errc::Timeout, "timed out waiting for space" +
                                 (slowest < 0 ? std::string()
                                              : " (reader " + std::to_string(slowest) + " is " +
                                                    std::to_string(tail_ - least) + " bytes behind)"));
}

// ---- BroadcastReader --------------------------------------------------------------------------

BroadcastReader::BroadcastReader(std::span<std::byte> region, std::string channel, int slot, std::int32_t pid,
                                 WaitKind wait)
    : BroadcastView(region, std::move(channel)), slot_(slot), writer_may_sleep_(writer_waits_ == kWaitsBlock) {
  if (slot < 0 || slot >= readers_)
    throw Error(Errc::InvalidArgument, "invalid reader " + std::to_string(slot) + ": channel '" + channel_ +
                                           "' has " + std::to_string(readers_) + " reader slots (0 to " +
                                           std::to_string(readers_ - 1) + ")");
  if (std::atomic_ref(header_->writer_closed).load(std::memory_order_acquire) != 0)
    throw Error(Errc::PeerGone, "the writer of channel '" + channel_ + "' has closed it");
  writer_process_ = PeerProcess(writer_pid_);
  if (writer_process_.gone())
    throw Error(Errc::PeerGone, "writer process " + std::to_string(writer_pid_) + " of channel '" + channel_ +
                                    "' is gone");
  mine_ = &slots_[slot];
  std::uint32_t word = state_of(*mine_).load(std::memory_order_relaxed);
  do {
    if (slot_state(word) != SlotState::Free) {
      const std::int32_t other = std::atomic_ref(mine_->pid).load(std::memory_order_relaxed);
      throw Error(Errc::AlreadyExists, "reader slot " + std::to_string(slot) + " of channel '" + channel_ +
                                           "' is taken" +
                                           (other > 0 ? " (by process " + std::to_string(other) + ")" : std::string()));
    }
    joining_word_ = slot_word(SlotState::Joining, slot_generation(word));
    // acq_rel: we start after the writer's last use of the slot (its release when it freed it).
  } while (!state_of(*mine_).compare_exchange_weak(word, joining_word_, std::memory_order_acq_rel));
  live_word_ = slot_word(SlotState::Live, slot_generation(word));
  std::atomic_ref(mine_->pid).store(pid, std::memory_order_relaxed);
  std::atomic_ref(mine_->waits).store(wait == WaitKind::Spin ? kWaitsSpin : kWaitsBlock, std::memory_order_relaxed);
  // acq_rel: the writer, acquiring the doorbell, sees our pid and wait mode.
  attention().fetch_or(attention_bit(kJoiningBits, slot), std::memory_order_acq_rel);
  bump_and_wake(space_seq());  // a writer in accept() or waiting for space
}

void BroadcastReader::accept(Deadline deadline) {
  if (live_) return;
  if (closed_) throw Error(Errc::InvalidArgument, who() + " is closed");
  for (;;) {
    // acquire: pairs with the writer's CAS to Live; the cursor it set first is visible.
    const std::uint32_t state = state_of(*mine_).load(std::memory_order_acquire);
    if (state == live_word_) break;
    if (state != joining_word_)
      throw Error(Errc::PeerGone, "the writer of channel '" + channel_ + "' refused " + who());
    const Clock::time_point now = Clock::now();
    if (!writer_there(now)) writer_gone();
    if (now >= deadline)
      throw Error(Errc::Timeout, "timed out waiting for the writer of channel '" + channel_ + "' to admit " + who());
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
    futex_wait(&mine_->state, state, std::min<std::chrono::nanoseconds>(left, kMaxSleep));
  }
  const std::uint64_t cursor = std::atomic_ref(mine_->cursor).load(std::memory_order_relaxed);
  const std::uint64_t tail = std::atomic_ref(writer_->tail).load(std::memory_order_acquire);
  if (cursor % kRecordAlign != 0 || cursor > tail || tail - cursor > capacity_)
    corrupt("the writer started " + who() + " at " + std::to_string(cursor) + ", tail " + std::to_string(tail));
  head_ = cursor;
  tail_cache_ = cursor;
  live_ = true;
}

bool BroadcastReader::writer_there(Clock::time_point now) {
  // acquire: after seeing "closed", the last ready() sees all the writer published before it.
  if (std::atomic_ref(header_->writer_closed).load(std::memory_order_acquire) != 0) {
    writer_closed_ = true;
    return false;
  }
  // The writer no longer keeps our bytes: reading on could return torn records.
  if (live_ && state_of(*mine_).load(std::memory_order_relaxed) != live_word_) dropped();
  if (now < next_liveness_) return true;
  next_liveness_ = now + kLivenessPeriod;
  if (region_truncated(header_)) corrupt("the region was truncated under " + who());
  return !writer_process_.gone();
}

void BroadcastReader::dropped() const {
  throw Error(Errc::PeerGone, "the writer of channel '" + channel_ + "' dropped " + who());
}

void BroadcastReader::reject_tail(std::uint64_t tail) const {
  confirm_kept();  // a tail a ring past us is what the writer does once it has dropped us
  corrupt("tail " + std::to_string(tail) + " is not within " + std::to_string(capacity_) + " bytes ahead of " + who() +
          "'s cursor " + std::to_string(head_) + ", or not 8-aligned");
}

void BroadcastReader::writer_gone() const {
  throw Error(Errc::PeerGone, "writer process " + std::to_string(writer_pid_) + " of channel '" + channel_ +
                                  (writer_closed_ ? "' closed it" : "' is gone"));
}

void BroadcastReader::close() noexcept {
  if (closed_) return;
  closed_ = true;
  std::uint32_t state = state_of(*mine_).load(std::memory_order_relaxed);
  for (;;) {
    if (state != live_word_ && state != joining_word_) return;  // dropped or refused already
    // release: the writer, seeing Closed, sees our final cursor.
    if (state_of(*mine_).compare_exchange_weak(state, slot_word(SlotState::Closed, slot_generation(live_word_)),
                                               std::memory_order_acq_rel))
      break;
  }
  attention().fetch_or(attention_bit(kClosedBits, slot_), std::memory_order_acq_rel);
  bump_and_wake(space_seq());  // a writer waiting for our cursor: look again now
}

std::string BroadcastReader::who() const {
  return "reader " + std::to_string(slot_) + " of channel '" + channel_ + "'";
}

void BroadcastReader::reject_record(RecordHeader record, std::uint64_t offset, std::uint64_t available) const {
  confirm_kept();  // a dropped reader reads whatever the writer wrote since: that is no defect
  corrupt(record_defect(record, offset, available, capacity_, max_message_));
}

void BroadcastReader::reject_buffer(std::uint32_t length, std::size_t buffer) const {
  throw Error(Errc::InvalidArgument, "receive buffer of " + std::to_string(buffer) + " bytes cannot hold the " +
                                         std::to_string(length) + "-byte message waiting for " + who());
}

void BroadcastReader::reject_busy() const {
  throw Error(Errc::InvalidArgument,
              "a view of " + who() + " is not released yet: release() it before the next view or receive");
}

}  // namespace ipcmark::shm
