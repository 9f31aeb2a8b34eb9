// transports/shm/broadcast_ring.hpp — one writer, up to 16 readers, one ring (the shm fanout).
//
// Design (layout in broadcast_layout.hpp; records as in ring_layout.hpp):
//  * One copy of each message for every reader: the writer appends records exactly as the SPSC
//    ring does (tail = total bytes written, Padding before a wrap, a record <= capacity/2), and
//    each reader has its own cursor (total bytes it consumed) in its own 128-byte slot. Readers
//    never write anything the writer reads on its fast path except one "attention" word.
//  * The writer may reuse a byte only once every live reader's cursor is past it. It keeps the
//    minimum cursor in a member and re-reads the cursors only when that cached minimum says the
//    ring is full — the SPSC ring's cached head, generalised. On that slow path it first re-reads
//    every live cursor, then, while waiting, only the ones still short of what it needs, so a
//    spinning writer polls the slowest reader's line rather than all of them.
//  * Slots: a reader claims slot i by CAS Free -> Joining (a second claimant gets AlreadyExists),
//    writes its pid and wait mode, and rings the "joining" doorbell. The writer adopts it (sets its
//    cursor to the current tail, then CAS Joining -> Live) on that doorbell only: the doorbell's
//    RMW, rung after the pid, is what makes the pid visible to the writer. Only the writer decides
//    when a reader enters the stream, so a reader can never start at bytes the writer is already
//    overwriting, even mid-stream. The writer notices doorbells with one load of the attention
//    word after each publish (it pays that load anyway to see sleeping readers), in accept() and
//    while waiting.
//  * Generations: every state word carries the slot's generation, which the writer bumps when it
//    frees the slot (broadcast_layout.hpp). The writer remembers the word it adopted each reader
//    with and the reader the words of its own occupancy, and both compare whole words: a closing
//    reader's late doorbell, or its CAS, can never touch the next occupant of its slot.
//  * Readers that go: a closing reader sets its slot Closed and rings the "closed" doorbell; a
//    reader that dies cannot, so the writer checks the pids of its live readers on its slow path
//    only (while waiting for space or for joins, at most every kLivenessPeriod): a dead reader
//    matters only once it holds the writer back. A dropped slot becomes Free again and counts in
//    readers_lost() when that reader misses a message (a reader that read everything and closed
//    is not lost). No live reader left: send() throws PeerGone "every reader has gone".
//  * A dropped reader's bytes are the writer's again at once, and it may still hold a cached tail
//    a whole ring ahead of it. So a reader accepts a record only after it has read it and then
//    seen its slot still holding its Live word (the seqlock pattern: the writer frees the slot,
//    then a release fence, then writes; the reader reads, then an acquire fence, then checks the
//    word). A view is checked when taken and again when released: release() throws PeerGone when
//    the bytes may have changed under the caller.
//  * Untrusted memory: the header is validated once and copied into members. Every cursor the
//    writer reads must be 8-aligned and lie in [tail - capacity, tail]; one that does not marks
//    that reader corrupt: it is dropped and counted, and the writer carries on. Whatever readers
//    write, the writer only ever writes inside the region and never trusts a value it has not
//    checked. Readers validate the tail and every record header (Corrupt) with the SPSC reader's
//    rules (record_codec.hpp), loading each header once as one atomic word.
//  * Waits (SpinWait / BlockWait as tags, as in spsc_ring.hpp; the loop is broadcast_wait below):
//    readers sleep on one shared data_seq word and announce it with their bit in `attention`
//    (a bitmask, so the writer checks all of them with one load, and can clear the bit of a reader
//    that died asleep). The writer sleeps on space_seq with writer_sleeping + `wanted`, the cursor
//    every reader must reach; a reader wakes it only when its own advance crosses `wanted`, so the
//    fast readers do not wake it for nothing while it waits for the slowest one. Both use the
//    Dekker handshake of wait.hpp (flag; seq_cst fence; read the futex word; look; sleep).
//  * No syscall, allocation or lock on the fast path: a send is a claim, a memcpy, a release
//    store of tail and one relaxed load of `attention` (plus a fence when a reader may sleep); a
//    receive is an acquire load of tail, a validated memcpy, a load of the reader's own slot word
//    (a line only the writer's slow path touches) and a release store of the cursor.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "transports/shm/broadcast_layout.hpp"
#include "transports/shm/record_codec.hpp"
#include "transports/common/process.hpp"
#include "transports/shm/wait.hpp"
#include "transports/transport.hpp"

namespace ipcmark::shm {

struct BroadcastParams {
  std::uint64_t capacity = 0;  // power of two, >= kMinCapacity
  std::uint32_t max_message = 0;
  int readers = 1;  // 1..kBroadcastSlots
  std::int32_t writer_pid = 0;  // 0: readers do not check the writer's process (threads in tests)
  std::uint32_t writer_waits = kWaitsBlock;
};

// The creator's side: lays out a fresh region (broadcast_bytes(capacity), 128-aligned) and publishes
// it by storing the magic last. InvalidArgument when the parameters and the span do not fit.
void initialise_broadcast(std::span<std::byte> region, const BroadcastParams& params);

// The broadcast waits' loop. `Ops` supplies ready() (the condition), check(now) (the slow-path
// look at the peers, at most as often as it likes; false: they are gone, it may also throw),
// fail(timed_out) (throws), and for BlockWait word() (the futex), announce() (flag + seq_cst
// fence) and unannounce() (only if announced). Like SpinWait/BlockWait, ready() gets a last look
// before failing, so what a departed peer published still counts.
template <class Wait, class Ops>
void broadcast_wait(Ops& ops, Deadline deadline, unsigned spin_polls) {
  static_assert(std::is_same_v<Wait, SpinWait> || std::is_same_v<Wait, BlockWait>);
  if constexpr (std::is_same_v<Wait, SpinWait>) {
    for (;;) {
      for (unsigned i = 0; i < kPollsPerCheck; ++i) {
        if (ops.ready()) return;
        cpu_relax();
      }
      const Clock::time_point now = Clock::now();
      const bool there = ops.check(now);
      if (!there || now >= deadline) {
        if (ops.ready()) return;
        ops.fail(there);
      }
    }
  } else {
    for (unsigned i = 0; i < spin_polls; ++i) {
      if (ops.ready()) return;
      cpu_relax();
    }
    struct Unannounce {  // on every way out, a throw included
      Ops& ops;
      ~Unannounce() { ops.unannounce(); }
    } unannounce{ops};
    for (;;) {
      const Clock::time_point now = Clock::now();
      const bool there = ops.check(now);
      if (!there || now >= deadline) {
        if (ops.ready()) return;
        ops.fail(there);
      }
      ops.announce();
      // acquire: if this sees the peer's bump, ready() sees what it published before bumping.
      const std::uint32_t seq = std::atomic_ref(*ops.word()).load(std::memory_order_acquire);
      if (ops.ready()) return;
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      futex_wait(ops.word(), seq, std::min<std::chrono::nanoseconds>(left, kMaxSleep));
    }
  }
}

// What both views share: the validated geometry, copied out of the header once.
class BroadcastView {
 public:
  std::uint64_t capacity() const noexcept { return capacity_; }
  std::uint32_t max_message() const noexcept { return max_message_; }
  int readers() const noexcept { return readers_; }
  std::int32_t writer_pid() const noexcept { return writer_pid_; }

 protected:
  // Validates the header; Corrupt on failure. `channel` names the channel in messages.
  BroadcastView(std::span<std::byte> region, std::string channel);
  [[noreturn]] void corrupt(const std::string& what) const;

  std::atomic_ref<std::uint64_t> attention() const noexcept { return std::atomic_ref(readers_block_->attention); }
  std::uint32_t* space_seq() const noexcept { return &readers_block_->space_seq; }
  std::uint32_t* data_seq() const noexcept { return &writer_->data_seq; }
  // Bumps a futex word (release: a waiter that sees the bump sees what we did before) and wakes it.
  static void bump_and_wake(std::uint32_t* word) noexcept;

  std::string channel_;
  BroadcastHeader* header_;
  BroadcastWriterBlock* writer_;
  BroadcastReadersBlock* readers_block_;
  ReaderSlot* slots_;
  std::byte* data_;
  std::uint64_t capacity_;
  std::uint64_t mask_;
  std::uint32_t max_message_;
  int readers_;
  std::int32_t writer_pid_;
  std::uint32_t writer_waits_;
};

class BroadcastWriter : public BroadcastView {
 public:
  BroadcastWriter(std::span<std::byte> region, std::string channel);
  ~BroadcastWriter() { close(); }
  BroadcastWriter(const BroadcastWriter&) = delete;
  BroadcastWriter& operator=(const BroadcastWriter&) = delete;

  // Adopts readers until all readers() slots are live. Timeout names how many joined.
  void accept(Deadline deadline);

  // Appends one record for every live reader. Refuses 0 bytes (InvalidArgument) and more than
  // max_message (MessageTooLarge) before writing anything; waits by `Wait` while the slowest live
  // reader has not read enough to make room. PeerGone once no reader is left.
  template <class Wait>
  void send(std::span<const std::byte> message, Deadline deadline);
  // Zero-copy, as RingWriter::loan/commit.
  template <class Wait>
  std::span<std::byte> loan(std::size_t length, Deadline deadline);
  void commit() noexcept { publish(std::exchange(loaned_, 0)); }
  bool has_loan() const noexcept { return loaned_ != 0; }

  // Readers dropped while the stream went on, plus live ones that have since closed or died with
  // messages unread. Asks the kernel about each live reader's process: not for a hot loop.
  int readers_lost() const;
  int live_readers() const noexcept { return __builtin_popcount(live_mask_); }

  // Marks the writer gone and wakes every reader. Idempotent; the destructor calls it.
  void close() noexcept;

 private:
  struct SpaceWait;  // the Ops of wait_for_space
  template <class Wait>
  [[gnu::always_inline]] inline std::pair<std::byte*, std::uint64_t> claim(std::size_t length, Deadline deadline);
  void publish(std::uint64_t bytes) noexcept;
  template <class Wait>
  [[gnu::noinline]] void wait_for_space(std::uint64_t needed, Deadline deadline);

  // Joins and closes from the attention word; `sending`: a message is being sent right now, so a
  // reader that leaves misses it. Clears the bits it handled.
  void attend_doorbells(std::uint64_t attention, bool sending) noexcept;
  void attend(std::uint64_t attention) noexcept;  // after a publish: wake sleepers, then doorbells
  // Makes the reader whose slot holds the Joining `word` live (or refuses it).
  void adopt(int slot, std::uint32_t word) noexcept;
  void drop(int slot, bool lost) noexcept;
  // Reads and checks one live reader's cursor; drops it (lost) when it is out of range.
  bool read_cursor(int slot, std::uint64_t& cursor) noexcept;
  // Re-reads every live cursor into seen_ and min_cache_.
  void refresh_all() noexcept;
  // Re-reads only the cursors short of `wanted`; true once all live ones reached it.
  bool reached(std::uint64_t wanted) noexcept;
  // Every kLivenessPeriod: drops live readers whose slot is no longer Live or whose process is
  // gone. Corrupt once a peer has truncated the mapping (region_guard.hpp), which then reads
  // zeros; the caller's SharedRegion::guarded() names the truncation.
  void check_liveness(Clock::time_point now, bool sending);
  // No live reader: adopts a late joiner if there is one, else throws PeerGone.
  void no_readers();
  [[noreturn]] void reject_size(std::size_t length) const;
  [[noreturn]] void reject_busy() const;
  [[noreturn]] void space_timeout(std::uint64_t wanted) const;
  // Relaxed: the release store of tail publishes it.
  void write_record_header(std::uint64_t offset, std::uint64_t length, RecordKind kind) noexcept {
    store_record_header(data_ + offset, length, kind, std::memory_order_relaxed);
  }
  void update_may_sleep() noexcept;

  std::uint64_t tail_;       // ours: the only copy we trust
  std::uint64_t min_cache_;  // <= every live reader's real cursor
  std::uint64_t loaned_ = 0;
  std::uint32_t live_mask_ = 0;     // bit i: slot i is live as far as we know
  std::uint32_t sleepy_mask_ = 0;   // live readers that wait with WaitKind::Block
  bool readers_may_sleep_ = false;  // sleepy_mask_ != 0: publish pays the fence
  bool ever_live_ = false;
  bool closed_ = false;
  int lost_ = 0;
  Clock::time_point next_liveness_{};
  std::array<std::uint64_t, kBroadcastSlots> seen_{};  // cursors as last read, <= the real ones
  std::array<PeerProcess, kBroadcastSlots> processes_;  // each live reader's, held from adoption
  std::array<std::uint32_t, kBroadcastSlots> words_{};  // each live slot's Live word, as adopted
};

class BroadcastReader : public BroadcastView {
 public:
  // Claims slot `slot` for process `pid` (0: not checked) and asks the writer to adopt it.
  // InvalidArgument when slot is outside 0..readers()-1, AlreadyExists when it is taken,
  // PeerGone when the writer has closed or died.
  BroadcastReader(std::span<std::byte> region, std::string channel, int slot, std::int32_t pid, WaitKind wait);
  ~BroadcastReader() { close(); }
  BroadcastReader(const BroadcastReader&) = delete;
  BroadcastReader& operator=(const BroadcastReader&) = delete;

  // Waits until the writer has adopted this reader; receive()/view() call it if needed.
  void accept(Deadline deadline);

  // Copies the next message into `out`; waits by `Wait` while there is none. PeerGone once the
  // writer has gone and everything it published has been read, or when the writer dropped us.
  template <class Wait>
  std::size_t receive(std::span<std::byte> out, Deadline deadline);
  template <class Wait>
  std::span<const std::byte> view(Deadline deadline);
  // PeerGone when the writer dropped this reader while the view was out: its bytes may have been
  // overwritten meanwhile, so whatever the caller made of them does not count.
  void release() {
    confirm_kept();
    advance(std::exchange(viewed_, 0));
  }
  bool has_view() const noexcept { return viewed_ != 0; }

  // BlockWait's polls before sleeping (0 when this process and the writer share one CPU).
  void set_spin_polls(unsigned polls) noexcept { spin_polls_ = polls; }
  int slot() const noexcept { return slot_; }

  // Marks the slot Closed (the writer drops it) and wakes the writer. Idempotent.
  void close() noexcept;

 private:
  struct DataWait;  // the Ops of next_record's wait
  template <class Wait>
  [[gnu::always_inline]] inline std::span<const std::byte> next_record(Deadline deadline);
  std::uint64_t refresh_tail();
  void advance(std::uint64_t bytes) noexcept;
  // PeerGone unless our slot still holds our Live word, checked after the reads it vouches for.
  void confirm_kept() const;
  [[noreturn]] void dropped() const;
  // Slow path: whether the writer is still there; throws PeerGone when it dropped this reader.
  bool writer_there(Clock::time_point now);
  [[noreturn]] void writer_gone() const;
  // PeerGone if the writer dropped us (it then runs past our cursor), else Corrupt.
  [[noreturn]] void reject_tail(std::uint64_t tail) const;
  [[noreturn]] void reject_record(RecordHeader record, std::uint64_t offset, std::uint64_t available) const;
  [[noreturn]] void reject_buffer(std::uint32_t length, std::size_t buffer) const;
  [[noreturn]] void reject_busy() const;
  std::string who() const;  // "reader 3 of channel 'x'"

  int slot_;
  ReaderSlot* mine_;
  std::uint32_t joining_word_;  // our slot's words in this occupancy (see "Generations" above)
  std::uint32_t live_word_;
  std::uint64_t head_ = 0;        // ours: the only copy we trust
  std::uint64_t tail_cache_ = 0;  // the writer's, as last seen
  std::uint64_t viewed_ = 0;
  bool live_ = false;
  bool closed_ = false;
  bool writer_may_sleep_;
  unsigned spin_polls_ = kBlockSpinPolls;
  Clock::time_point next_liveness_{};
  PeerProcess writer_process_;  // held from the constructor: a reused pid is not taken for it
  bool writer_closed_ = false;  // what writer_there() found, for the message
};

// ---- hot paths --------------------------------------------------------------------------------

template <class Wait>
void BroadcastWriter::send(std::span<const std::byte> message, Deadline deadline) {
  if (loaned_ != 0) reject_busy();
  const auto [payload, bytes] = claim<Wait>(message.size(), deadline);
  std::memcpy(payload, message.data(), message.size());
  publish(bytes);
}

template <class Wait>
std::span<std::byte> BroadcastWriter::loan(std::size_t length, Deadline deadline) {
  if (loaned_ != 0) reject_busy();
  const auto [payload, bytes] = claim<Wait>(length, deadline);
  loaned_ = bytes;
  return {payload, length};
}

template <class Wait>
std::pair<std::byte*, std::uint64_t> BroadcastWriter::claim(std::size_t length, Deadline deadline) {
  if (length - 1 >= max_message_) reject_size(length);  // 0 wraps around: one compare for both
  if (live_mask_ == 0) [[unlikely]] no_readers();
  const std::uint64_t record = record_bytes(length);
  const std::uint64_t offset = tail_ & mask_;
  const std::uint64_t to_wrap = capacity_ - offset;
  const bool wraps = record > to_wrap;
  const std::uint64_t needed = wraps ? to_wrap + record : record;  // < capacity: record <= capacity/2
  if (capacity_ - (tail_ - min_cache_) < needed) wait_for_space<Wait>(needed, deadline);
  std::uint64_t at = offset;
  if (wraps) {
    write_record_header(offset, to_wrap - sizeof(RecordHeader), RecordKind::Padding);
    at = 0;
  }
  write_record_header(at, length, RecordKind::Data);
  return {data_ + at + sizeof(RecordHeader), needed};
}

inline void BroadcastWriter::publish(std::uint64_t bytes) noexcept {
  tail_ += bytes;
  // release: the record bytes written above are visible to a reader whose acquire load sees this.
  std::atomic_ref(writer_->tail).store(tail_, std::memory_order_release);
  // seq_cst fence (only when a reader may sleep): the tail store is visible before we read the
  // sleeping bits (the publisher half of wait.hpp's handshake). Without sleepers the load only
  // looks for doorbells, which may be seen a little late.
  if (readers_may_sleep_) std::atomic_thread_fence(std::memory_order_seq_cst);
  const std::uint64_t bits = attention().load(std::memory_order_relaxed);
  if (bits != 0) [[unlikely]] attend(bits);
}

struct BroadcastWriter::SpaceWait {
  BroadcastWriter& w;
  std::uint64_t wanted;  // every live cursor must reach this
  bool ready() {
    const std::uint64_t bits = w.attention().load(std::memory_order_acquire);
    if ((bits >> kJoiningBits) != 0) w.attend_doorbells(bits, /*sending=*/true);
    if (w.live_mask_ == 0) w.no_readers();
    return w.reached(wanted);
  }
  bool check(Clock::time_point now) {
    w.check_liveness(now, /*sending=*/true);
    if (w.live_mask_ == 0) w.no_readers();
    return true;
  }
  [[noreturn]] void fail(bool /*timed_out: always, readers that go are dropped instead*/) {
    w.space_timeout(wanted);
  }
  std::uint32_t* word() const { return w.space_seq(); }
  void announce() {
    std::atomic_ref(w.writer_->wanted).store(wanted, std::memory_order_relaxed);
    // release: a reader that sees the flag sees this episode's `wanted` (or a later one).
    std::atomic_ref(w.writer_->writer_sleeping).store(1, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  void unannounce() { std::atomic_ref(w.writer_->writer_sleeping).store(0, std::memory_order_relaxed); }
};

template <class Wait>
void BroadcastWriter::wait_for_space(std::uint64_t needed, Deadline deadline) {
  // A reader's cursor <= tail_ and needed <= capacity, so this does not underflow past zero.
  const std::uint64_t wanted = tail_ + needed - capacity_;
  refresh_all();
  if (capacity_ - (tail_ - min_cache_) >= needed) return;
  SpaceWait ops{*this, wanted};
  broadcast_wait<Wait>(ops, deadline, kBlockSpinPolls);
}

template <class Wait>
std::size_t BroadcastReader::receive(std::span<std::byte> out, Deadline deadline) {
  if (viewed_ != 0) reject_busy();
  const std::span<const std::byte> message = next_record<Wait>(deadline);
  if (message.size() > out.size()) reject_buffer(static_cast<std::uint32_t>(message.size()), out.size());
  std::memcpy(out.data(), message.data(), message.size());
  confirm_kept();
  advance(record_bytes(message.size()));
  return message.size();
}

template <class Wait>
std::span<const std::byte> BroadcastReader::view(Deadline deadline) {
  if (viewed_ != 0) reject_busy();
  const std::span<const std::byte> message = next_record<Wait>(deadline);
  confirm_kept();
  viewed_ = record_bytes(message.size());
  return message;
}

struct BroadcastReader::DataWait {
  BroadcastReader& r;
  const std::byte* next;
  bool announced = false;
  bool ready() {
    __builtin_prefetch(next);  // see RingReader::next_record
    return r.refresh_tail() != r.head_;
  }
  bool check(Clock::time_point now) { return r.writer_there(now); }
  [[noreturn]] void fail(bool timed_out) {
    if (timed_out) throw Error(Errc::Timeout, "timed out waiting for data");
    r.writer_gone();
  }
  std::uint32_t* word() const { return r.data_seq(); }
  void announce() {
    if (!announced) r.attention().fetch_or(attention_bit(kSleepingBits, r.slot_), std::memory_order_seq_cst);
    announced = true;
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with publish()'s fence
  }
  void unannounce() {
    if (announced) r.attention().fetch_and(~attention_bit(kSleepingBits, r.slot_), std::memory_order_relaxed);
  }
};

template <class Wait>
std::span<const std::byte> BroadcastReader::next_record(Deadline deadline) {
  if (!live_) [[unlikely]] accept(deadline);
  for (;;) {
    if (head_ == tail_cache_) {
      DataWait ops{*this, data_ + (head_ & mask_)};
      broadcast_wait<Wait>(ops, deadline, spin_polls_);
    }
    const std::uint64_t offset = head_ & mask_;
    const std::uint64_t available = tail_cache_ - head_;
    // One load: what we check is what we use. Relaxed: the acquire load of tail ordered it.
    const RecordHeader record = load_record_header(data_ + offset, std::memory_order_relaxed);
    const RecordVerdict verdict = check_record(record, offset, available, capacity_, max_message_);
    if (verdict == RecordVerdict::Data) [[likely]]
      return {data_ + offset + sizeof record, record.length};
    if (verdict != RecordVerdict::Padding) reject_record(record, offset, available);
    advance(capacity_ - offset);
  }
}

inline std::uint64_t BroadcastReader::refresh_tail() {
  // acquire: pairs with the writer's release store of tail; the records below it are complete.
  const std::uint64_t tail = std::atomic_ref(writer_->tail).load(std::memory_order_acquire);
  if (tail < head_ || tail - head_ > capacity_ || tail % kRecordAlign != 0) reject_tail(tail);
  tail_cache_ = tail;
  return tail;
}

inline void BroadcastReader::confirm_kept() const {
  // acquire: the record reads above happen before this load. The writer frees our slot, then
  // fences, then writes over our bytes: if we read any byte it wrote after dropping us, this load
  // sees the new word (the fence pair of a seqlock, with our slot word as the sequence).
  std::atomic_thread_fence(std::memory_order_acquire);
  if (std::atomic_ref(mine_->state).load(std::memory_order_relaxed) != live_word_) [[unlikely]]
    dropped();
}

inline void BroadcastReader::advance(std::uint64_t bytes) noexcept {
  const std::uint64_t old = head_;
  head_ += bytes;
  // release: our reads of the record happen before the writer (acquiring the cursor) reuses it.
  std::atomic_ref(mine_->cursor).store(head_, std::memory_order_release);
  if (!writer_may_sleep_) return;
  std::atomic_thread_fence(std::memory_order_seq_cst);  // the publisher half of wait.hpp's handshake
  // acquire: pairs with the release store of the flag; `wanted` is that sleep's (or a later one's).
  if (std::atomic_ref(writer_->writer_sleeping).load(std::memory_order_acquire) == 0) return;
  const std::uint64_t wanted = std::atomic_ref(writer_->wanted).load(std::memory_order_relaxed);
  // Only the advance that crosses `wanted` wakes it: the writer waits for the slowest reader.
  if (old < wanted && wanted <= head_) bump_and_wake(space_seq());
}

}  // namespace ipcmark::shm
