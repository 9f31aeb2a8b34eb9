// transports/shm/spsc_ring.hpp — the single-producer single-consumer ring of variable-size records.
//
// Design:
//  * A ring is a span laid out as in ring_layout.hpp. RingWriter and RingReader are this process's
//    views of it; they work the same over a mapping shared with another process and over a plain
//    128-aligned buffer shared by two threads (the unit tests).
//  * tail (total bytes written) is owned by the writer, head (total bytes consumed) by the reader.
//    Indices grow without wrapping (2^64 bytes would take centuries); `index & (capacity-1)` is the
//    offset, which is why capacity is a power of two. The writer caches the reader's head and
//    re-reads it only when the cache says full.
//  * The record header is the publication: the reader polls the 8-byte header at its head, and a
//    header of kind 0 means "nothing yet". The writer writes a record's payload, then stores its
//    header with one release store; before that it has zeroed the header slot just past the record
//    (the end mark), so whatever an earlier lap left there reads as "nothing yet" once the reader
//    gets there. A reader thus never reads the writer's tail: the line it polls is the line the
//    message arrives in, one cache-line transfer per message instead of two (tail, then record).
//    The end mark takes 8 bytes of the free space, which the writer keeps free.
//  * A record that does not fit before the end of the data area is preceded by a Padding record that
//    fills the rest, so every record is contiguous. A record takes at most capacity/2 bytes, so a
//    padded record always fits in an empty ring and the writer can always make progress.
//  * Publishing is one release store of a header (the writer also stores tail, for nobody's fast
//    path: a re-attaching writer and tools read it); the reader gives room back by one release
//    store of head. No read-modify-write on the fast path.
//  * The reader stores head once it has freed 1/64 of the ring since it last did, and always before
//    it waits, not after every record. The writer reads head whenever its cache says the ring is
//    full, and with a store per record the two kept taking that line from each other. It pays
//    together with the word-by-word copy of record_copy.hpp (neither helped alone). One case got
//    worse, the zero-copy 64 B stream with --wait block: the reader, no longer slowed by a store
//    and a fence per record, keeps up with the writer and reads the line the writer is filling
//    in place (measured: docs/performance-notes.md). Records of 1/64 of the ring or more (64 KiB
//    messages in their 4 MiB ring) are still given back one by one. A writer can thus wait for
//    room the reader has read but not given back yet, until the reader frees more or runs out of
//    records: a reader that stops reading holds back up to 1/64 of the ring more than it would
//    have.
//  * Everything read from the shared span is untrusted: the header is validated once and kept in
//    members; the head read from the reader and every record header are checked before use; a record
//    header is loaded once, so what was checked is what is used. Violations throw Errc::Corrupt.
//  * Zero-copy: loan() reserves the next record (waiting for room, writing its end mark) and
//    returns its payload inside the ring; commit() publishes it (a padding header last, so the
//    record behind it is complete once it shows). view() returns the next validated record's
//    payload in place; release() moves head past it. Until then the writer cannot reuse that
//    room. send() is loan + memcpy + commit and receive() is view + memcpy + release, through the
//    same private steps (claim/publish, next_record/advance).
//    One loan and one view at a time: a second one (or a send/receive meanwhile) is InvalidArgument.
//    A viewed payload stays writable by the peer process: its bytes are data, never trusted.
//  * In-place replies (request/reply channels, shm.cpp): a header-only InPlace record says the
//    reply is in the reader's own request, in the other ring. The reader takes one only when told
//    which request it answers (expect_reply_in) and only up to that request's length.
//  * After publishing, the writer asks for ownership (PREFETCHW) of the next two whole cache lines
//    past the tail, where its next record will go, when they are free (the cached head says the
//    reader is past them). Otherwise the next send's stores would take them from the reader's cache
//    only then, on the round trip's critical path. The line holding the tail itself is left
//    alone: the reader may be reading the record that ends in it (prefetching it once the reply
//    had come measured worse). A hint only: it never faults and changes no byte.
//  * When its side is about to wait (the Connection's receive finds nothing), the writer pushes
//    the lines of its last small record, end mark included, out to the shared last-level cache
//    (CLDEMOTE), so the reader's misses are served there instead of by snooping this core.
//    CLDEMOTE after every publish gave the same round trip but cost a small-message stream most
//    of its throughput, hence only before a wait. Tried and dropped: prefetching a record's
//    second line while polling (the reader then takes it from the writer mid-write), 128-byte
//    record alignment (no gain). Measured, with the PREFETCHW above: docs/performance-notes.md.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>

#include "transports/shm/record_codec.hpp"
#include "transports/shm/record_copy.hpp"
#include "transports/shm/ring_layout.hpp"
#include "transports/shm/wait.hpp"
#include "transports/transport.hpp"

namespace ipcmark::shm {

struct RingParams {
  std::uint64_t capacity = 0;  // power of two, >= kMinCapacity
  std::uint32_t max_message = 0;
  std::int32_t server_pid = 0;      // channel fields: set in a channel's first ring only
  std::uint32_t server_waits = 0;   // kWaitsSpin..kWaitsLast
  std::uint32_t request_reply = 0;  // 1: requests and replies in turn (ChannelConfig)
};

// Whether a ring of `capacity` data bytes can carry messages of `max_message` bytes.
constexpr bool ring_fits(std::uint64_t capacity, std::uint64_t max_message) {
  return max_message >= 1 && record_bytes(max_message) <= capacity / 2;
}

// The power of two >= max(1 MiB, 4 × max_message, min(4 MiB, 64 × max_message)): room for at least
// four of the largest messages in flight, so a writer rarely waits on a reader busy with one, and
// 64 of them up to 4 MiB for big messages (see kRoomyCapacity in spsc_ring.cpp).
std::uint64_t default_capacity(std::size_t max_message);

// A request/reply channel's rings (shm.cpp): one request or reply is in flight at a time, so the
// smallest ring that holds the largest record, and at least 4 KiB. Small rings keep a ping-pong's
// lines in the two cores' caches instead of moving through a megabyte (measured:
// docs/notes-2026-12-06-shm-sizes.md).
inline constexpr std::uint64_t kRequestReplyMinCapacity = 4096;
std::uint64_t request_reply_capacity(std::size_t max_message);

// The creator's side: writes a fresh header and zero indices into `ring` (ring_bytes(capacity)
// bytes, 128-aligned), then publishes it by storing the magic last with release.
// Throws InvalidArgument when the parameters or the span do not fit together.
void initialise_ring(std::span<std::byte> ring, const RingParams& params);

// The header at the start of `ring`, for the channel fields (caller checked the span's size).
inline RingHeader& ring_header(std::span<std::byte> ring) { return *reinterpret_cast<RingHeader*>(ring.data()); }

// What both views share: the validated geometry, copied out of the header once.
class RingView {
 public:
  std::uint64_t capacity() const noexcept { return capacity_; }
  std::uint32_t max_message() const noexcept { return max_message_; }
  // Whether the peer may sleep on a futex (it waits with WaitKind::Block). When it may, every
  // publish pays a fence to check its flag; when it never sleeps, publishing skips that. Default
  // true, the safe choice: a missed wake-up would cost a whole kMaxSleep.
  void set_peer_may_sleep(bool may_sleep) noexcept { peer_may_sleep_ = may_sleep; }
  // The doorbells of --wait eventfd, sem and uds (nullable: the futex words): the one this side
  // sleeps on and the one that wakes the peer (doorbell.hpp).
  void set_doorbells(const Doorbell* own, const Doorbell* peer) noexcept {
    own_bell_ = own;
    peer_bell_ = peer;
  }

 protected:
  // Validates the header and the indices; Corrupt with "corrupt region '<name>': ..." on failure.
  RingView(std::span<std::byte> ring, std::string name);
  [[noreturn]] void corrupt(const std::string& what) const;
  // Throws unless head <= tail, tail - head <= capacity, both 8-aligned.
  void check_indices(std::uint64_t head, std::uint64_t tail) const;

  // The reader sleeps on the writer's data_seq; the writer sleeps on the reader's space_seq.
  // `bell` is own_bell_ where this side sleeps, peer_bell_ where it wakes the peer.
  SleepSlot data_slot(const Doorbell* bell) const noexcept { return {&writer_->data_seq, &reader_->reader_sleeping, bell}; }
  SleepSlot space_slot(const Doorbell* bell) const noexcept {
    return {&reader_->space_seq, &writer_->writer_sleeping, bell};
  }

  // The 8-byte record header at `offset` of the data area, as one word (offsets are 8-aligned).
  std::atomic_ref<std::uint64_t> header_word(std::uint64_t offset) const noexcept {
    return record_header_word(data_ + offset);
  }

  std::string name_;  // for error messages only
  WriterBlock* writer_;
  ReaderBlock* reader_;
  std::byte* data_;
  std::uint64_t capacity_;
  std::uint64_t mask_;
  std::uint32_t max_message_;
  bool peer_may_sleep_ = true;
  const Doorbell* own_bell_ = nullptr;
  const Doorbell* peer_bell_ = nullptr;
  bool has_prefetchw_ = false;  // CPUID says PRFCHW (x86 only)
  bool has_cldemote_ = false;   // CPUID says CLDEMOTE (x86 only)
};

class RingWriter : public RingView {
 public:
  RingWriter(std::span<std::byte> ring, std::string name);

  // Appends one record. Refuses 0 bytes (InvalidArgument) and more than max_message
  // (MessageTooLarge) before writing anything; waits by `Wait` while the ring is too full.
  // Returns the record's payload in the ring (where a request's in-place reply will be).
  template <class Wait>
  [[gnu::always_inline]] inline std::span<std::byte> send(std::span<const std::byte> message, Deadline deadline,
                                                          Peer peer = {});

  // Reserves a record of `length` bytes, checked and waited for as send() does, and returns its
  // payload inside the ring for the caller to fill. Nothing is visible to the reader until commit().
  template <class Wait>
  [[gnu::always_inline]] inline std::span<std::byte> loan(std::size_t length, Deadline deadline, Peer peer = {});
  // Publishes the loaned record. Without a loan it publishes nothing new (callers check has_loan()).
  void commit() noexcept {
    if (loan_.bytes == 0) return;
    // Published from the member itself: a copy of the Claim first (std::exchange) was read back
    // through a store-forwarding stall, as publish() explains (measured: the shm-sizes notes).
    if (loan_.kind == RecordKind::InPlace) publish<RecordKind::InPlace>(loan_);
    else publish<RecordKind::Data>(loan_);
    loan_.bytes = 0;
  }
  bool has_loan() const noexcept { return loan_.bytes != 0; }

  // In-place replies (request/reply channels): a header-only record of kind InPlace telling the
  // reader that its request's own bytes, in the ring it writes, now hold a `length`-byte reply the
  // caller has written there. send_in_place() publishes one; loan_in_place() reserves one for
  // commit(), for a reply the caller is about to write. Checked and waited for as send().
  template <class Wait>
  void send_in_place(std::size_t length, Deadline deadline, Peer peer = {});
  template <class Wait>
  void loan_in_place(std::size_t length, Deadline deadline, Peer peer = {});

  // Wakes a sleeping reader unconditionally (used when closing, so it notices at once).
  void wake_reader() const noexcept { wake_sleeper(data_slot(peer_bell_)); }

  // Asks the CPU to push the lines of the last record published (if small, and not pushed
  // already) out of this core's caches into the shared last level (CLDEMOTE), where the reader's
  // miss finds them sooner than in another core's L1. For when this side is about to wait: after
  // every send it costs a stream most of its throughput (measured: docs/performance-notes.md).
  void demote_last_record() noexcept;

 private:
  static constexpr std::uint64_t kNoPadding = ~std::uint64_t{0};
  static constexpr std::uint64_t kDemoteBytes = 256;  // bigger records stream in by the prefetchers
  struct Claim {
    std::byte* payload = nullptr;
    std::uint64_t bytes = 0;  // ring bytes the record takes, padding included; 0: no claim
    std::uint64_t at = 0;     // offset of the record's header
    std::uint64_t padding_at = kNoPadding;  // offset of the padding header before it, if it wraps
    std::uint32_t length = 0;
    RecordKind kind = RecordKind::Data;
  };
  // The shared first half of send() and loan(): checks the size, waits for room (the record's
  // bytes and its end mark) and writes the end mark. Nothing is published yet. Forced inline, as
  // when send() was one function: GCC 12 left it out of line, which cost 14 more instructions
  // (callgrind) per send+receive pair of 64 bytes.
  template <class Wait>
  [[gnu::always_inline]] inline Claim claim(std::size_t length, Deadline deadline, Peer peer,
                                            RecordKind kind = RecordKind::Data);
  // The shared second half: stores the headers (release), moves tail_.
  // Kind is a template argument: a stream's sends publish Data records without testing it.
  // Forced inline, as send() and claim(): GCC 12 left both out of line once publish() became a
  // template, which small-message streams paid for (the shm-sizes notes).
  template <RecordKind Kind>
  [[gnu::always_inline]] inline void publish(const Claim& claimed) noexcept;
  // Re-reads head (the slow path) and returns the free bytes.
  std::uint64_t refresh_free_space();
  // The PREFETCHW hint after publish() (see the top of this file).
  void own_next_lines() const noexcept;
  [[noreturn]] void reject_size(std::size_t length) const;
  [[noreturn]] void reject_busy() const;
  // release: the payload written before is visible to a reader whose acquire load sees this header.
  void publish_header(std::uint64_t offset, std::uint64_t length, RecordKind kind) const noexcept {
    store_record_header(data_ + offset, length, kind, std::memory_order_release);
  }

  std::uint64_t tail_;        // ours: the only copy we trust
  std::uint64_t head_cache_;  // the reader's, as last seen; head_cache_ <= real head
  Claim loan_;                // the loan awaiting commit(); bytes 0: none
  // The last record published, until demote_last_record(): where its header is and where its
  // end mark ends (0: none, or pushed already).
  std::uint64_t last_at_ = 0;
  std::uint64_t last_end_ = 0;
};

class RingReader : public RingView {
 public:
  // The reader gives room back once it has freed capacity / kGiveBackParts (see the top of this file).
  static constexpr std::uint64_t kGiveBackParts = 64;

  RingReader(std::span<std::byte> ring, std::string name);

  // Copies the next message into `out` and returns its length; waits by `Wait` while empty.
  // A message longer than `out` is InvalidArgument and stays in the ring.
  // kTurns (request/reply channels): also notes last_payload() and ends expect_reply_in();
  // streams skip that bookkeeping. `copy(to, from)` copies the payload out (memcpy unless the
  // caller does its own pass over the bytes on the way: Connection::receive_through).
  struct Memcpy {
    void operator()(std::span<std::byte> to, std::span<const std::byte> from) const noexcept {
      std::memcpy(to.data(), from.data(), from.size());
    }
  };
  template <class Wait, bool kTurns = false, class Copy = Memcpy>
  std::size_t receive(std::span<std::byte> out, Deadline deadline, Peer peer = {}, Copy&& copy = {});

  // Waits by `Wait` for the next message and returns its payload in place, validated as receive()
  // validates it. The record keeps its room in the ring until release().
  template <class Wait, bool kTurns = false>
  std::span<const std::byte> view(Deadline deadline, Peer peer = {});
  // Gives the viewed record's room back. Without a view it frees nothing (callers check has_view()).
  void release() noexcept { advance(std::exchange(viewed_, 0)); }
  bool has_view() const noexcept { return viewed_ != 0; }

  // Wakes a sleeping writer unconditionally (used when closing, so it notices at once).
  void wake_writer() const noexcept { wake_sleeper(space_slot(peer_bell_)); }

  // Whether a record (or padding) is published at head: receive() and view() would not wait.
  bool ready() const noexcept { return header_at(head_ & mask_).kind != 0; }

  // Request/reply channels, the client's side: `request` (in the ring this process writes) is
  // where an InPlace record's reply is. The next record taken, in place or not, ends it; an
  // InPlace record while none is expected, or longer than the request, is Corrupt.
  void expect_reply_in(std::span<std::byte> request) noexcept {
    reply_in_ = request.data();
    reply_room_ = request.size();
  }
  // The payload of the last record taken by receive<.., true>() or view<.., true>(), in the ring:
  // the server of a request/reply channel writes its reply there.
  std::span<std::byte> last_payload() const noexcept { return {last_payload_, last_length_}; }

 private:
  // The shared first half of receive() and view(): waits for a header at head_, skips padding,
  // validates the record and returns its payload, which takes record_bytes(size()) ring bytes.
  // Forced inline for the same reason as RingWriter::claim().
  struct Taken {
    std::byte* payload;
    std::uint32_t length;
    std::uint64_t ring_bytes;  // what the record takes in this ring: 8 for an in-place reply
  };
  template <class Wait>
  [[gnu::always_inline]] inline Taken next_record(Deadline deadline, Peer peer);
  // An InPlace record's reply, checked against the request it answers (Corrupt otherwise).
  Taken reply_in_place(RecordHeader record, std::uint64_t offset);
  // A record taken in turn: it answers the request expected, if any, and a server replies over it.
  void took(const Taken& taken) noexcept {
    last_payload_ = taken.payload;
    last_length_ = taken.length;
    reply_in_ = nullptr;
  }
  // The header at head_ (acquire: pairs with publish_header; the payload before it is complete).
  RecordHeader header_at(std::uint64_t offset) const noexcept {
    return load_record_header(data_ + offset, std::memory_order_acquire);
  }
  void advance(std::uint64_t bytes) noexcept;
  // Gives the writer the room up to head_ (release: our reads of the records, copies or views,
  // happen before the writer, acquiring head, reuses them) and wakes it if it sleeps for room.
  void give_back() noexcept;
  [[noreturn]] void reject_record(RecordHeader record, std::uint64_t offset) const;
  [[noreturn]] void reject_buffer(std::uint32_t length, std::size_t buffer) const;
  [[noreturn]] void reject_busy() const;

  std::uint64_t head_;        // ours: the only copy we trust
  std::uint64_t given_back_;  // head as last stored for the writer; head_ - given_back_ is unstored
  std::uint64_t viewed_ = 0;  // ring bytes of the record under view; 0: none (a record is >= 8)
  std::byte* reply_in_ = nullptr;  // expect_reply_in(); nullptr: no in-place reply expected
  std::size_t reply_room_ = 0;
  std::byte* last_payload_ = nullptr;  // last_payload()
  std::uint32_t last_length_ = 0;
};

// ---- hot paths --------------------------------------------------------------------------------

template <class Wait>
inline std::span<std::byte> RingWriter::send(std::span<const std::byte> message, Deadline deadline, Peer peer) {
  if (loan_.bytes != 0) reject_busy();  // the claim below would overwrite the loaned record
  const Claim claimed = claim<Wait>(message.size(), deadline, peer);
  copy_into_record(claimed.payload, message);
  publish<RecordKind::Data>(claimed);
  return {claimed.payload, message.size()};
}

template <class Wait>
inline std::span<std::byte> RingWriter::loan(std::size_t length, Deadline deadline, Peer peer) {
  if (loan_.bytes != 0) reject_busy();
  loan_ = claim<Wait>(length, deadline, peer);  // only once nothing can throw: a refused loan leaves none
  return {loan_.payload, length};
}

template <class Wait>
void RingWriter::send_in_place(std::size_t length, Deadline deadline, Peer peer) {
  if (loan_.bytes != 0) reject_busy();
  publish<RecordKind::InPlace>(claim<Wait>(length, deadline, peer, RecordKind::InPlace));
}

template <class Wait>
void RingWriter::loan_in_place(std::size_t length, Deadline deadline, Peer peer) {
  if (loan_.bytes != 0) reject_busy();
  loan_ = claim<Wait>(length, deadline, peer, RecordKind::InPlace);
}

template <class Wait>
RingWriter::Claim RingWriter::claim(std::size_t length, Deadline deadline, Peer peer, RecordKind kind) {
  if (length - 1 >= max_message_) reject_size(length);  // 0 wraps around: one compare for both
  // An in-place reply is a header alone; offsets are 8-aligned, so it never reaches the wrap point.
  const std::uint64_t record = kind == RecordKind::InPlace ? sizeof(RecordHeader) : record_bytes(length);
  const std::uint64_t offset = tail_ & mask_;
  const std::uint64_t to_wrap = capacity_ - offset;
  const bool wraps = record > to_wrap;
  const std::uint64_t needed = wraps ? to_wrap + record : record;  // <= capacity - 8: record <= capacity/2
  if (capacity_ - (tail_ - head_cache_) < needed + sizeof(RecordHeader)) {
    Wait::until([&] { return refresh_free_space() >= needed + sizeof(RecordHeader); },
                WaitSpec{deadline, peer, "space"}, space_slot(own_bell_));
  }
  // The end mark, in free space (kept free above); ordered before the reader can see this record
  // by the release store of its header.
  header_word((tail_ + needed) & mask_).store(0, std::memory_order_relaxed);
  const std::uint64_t at = wraps ? 0 : offset;
  return {data_ + at + sizeof(RecordHeader), needed, at, wraps ? offset : kNoPadding,
          static_cast<std::uint32_t>(length), kind};
}

template <RecordKind Kind>
inline void RingWriter::publish(const Claim& claimed) noexcept {
  // Noted before the stores into the ring, as two plain words: copying the Claim afterwards
  // compiled to 16-byte loads of two 8-byte stack stores, which cannot be forwarded, so the
  // loads waited for every older store to retire, the header's included, and that one waits
  // for the reader's copy of its line to be invalidated (perf: 92% of send()'s samples; CPU
  // time only, the round trip was the same).
  last_at_ = claimed.at;
  last_end_ = claimed.at + (Kind == RecordKind::InPlace ? sizeof(RecordHeader) : record_bytes(claimed.length)) +
              sizeof(RecordHeader);
  publish_header(claimed.at, claimed.length, Kind);
  // After the record it leads to: a reader that sees the padding finds the record complete.
  if (claimed.padding_at != kNoPadding)
    publish_header(claimed.padding_at, capacity_ - claimed.padding_at - sizeof(RecordHeader), RecordKind::Padding);
  tail_ += claimed.bytes;
  std::atomic_ref(writer_->tail).store(tail_, std::memory_order_relaxed);
  if (peer_may_sleep_) wake_if_sleeping(data_slot(peer_bell_));
  own_next_lines();
}

inline void RingWriter::demote_last_record() noexcept {
  const std::uint64_t end = std::exchange(last_end_, 0);
  if (!has_cldemote_ || end == 0 || end - last_at_ > kDemoteBytes) return;
#if defined(__x86_64__) || defined(__i386__)
  // From the header's line to the end mark's, which the reader reads next.
  for (std::uint64_t line = last_at_ & ~std::uint64_t{63}; line < end; line += 64)
    asm volatile("cldemote %0" ::"m"(data_[line & mask_]));
#endif
}

inline void RingWriter::own_next_lines() const noexcept {
  constexpr std::uint64_t kLine = 64;
  const std::uint64_t first = (tail_ + kLine - 1) & ~(kLine - 1);  // the first line wholly past the tail
  // Free means not holding unread records: the ring wraps, so the lines past the tail are the
  // oldest records until the reader has moved past them (head_cache_ <= head: on the safe side).
  if (first + 2 * kLine - head_cache_ > capacity_) return;
#if defined(__x86_64__) || defined(__i386__)
  // Inline asm, not __builtin_prefetch(p, 1): without -mprfchw GCC emits a read prefetch for that,
  // which fetches the line shared and leaves the store to take it again.
  if (!has_prefetchw_) return;
  asm volatile("prefetchw %0" ::"m"(data_[first & mask_]));
  asm volatile("prefetchw %0" ::"m"(data_[(first + kLine) & mask_]));
#else
  __builtin_prefetch(data_ + (first & mask_), 1);
  __builtin_prefetch(data_ + ((first + kLine) & mask_), 1);
#endif
}

inline std::uint64_t RingWriter::refresh_free_space() {
  // acquire: the reader finished reading the records (copies or views) before releasing head, so
  // their bytes are ours now.
  const std::uint64_t head = std::atomic_ref(reader_->head).load(std::memory_order_acquire);
  if (head > tail_ || tail_ - head > capacity_) check_indices(head, tail_);  // throws, with details
  head_cache_ = head;
  return capacity_ - (tail_ - head);
}

template <class Wait, bool kTurns, class Copy>
std::size_t RingReader::receive(std::span<std::byte> out, Deadline deadline, Peer peer, Copy&& copy) {
  if (viewed_ != 0) reject_busy();  // the record at head_ is the one under view
  const Taken taken = next_record<Wait>(deadline, peer);
  if (taken.length > out.size()) reject_buffer(taken.length, out.size());  // it stays in the ring
  copy(out, std::span<const std::byte>(taken.payload, taken.length));
  if constexpr (kTurns) took(taken);
  advance(taken.ring_bytes);
  return taken.length;
}

template <class Wait, bool kTurns>
std::span<const std::byte> RingReader::view(Deadline deadline, Peer peer) {
  if (viewed_ != 0) reject_busy();
  const Taken taken = next_record<Wait>(deadline, peer);
  viewed_ = taken.ring_bytes;
  if constexpr (kTurns) took(taken);
  return {taken.payload, taken.length};
}

template <class Wait>
RingReader::Taken RingReader::next_record(Deadline deadline, Peer peer) {
  for (;;) {
    const std::uint64_t offset = head_ & mask_;
    RecordHeader record = header_at(offset);  // one load: what we check is what we use
    if (record.kind == 0) {  // nothing published here yet
      if (head_ != given_back_) give_back();  // before waiting: the writer may be waiting for it
      // The poll returns the header it saw (0 while nothing): storing it through a reference on
      // every poll kept the loop from holding anything in registers once BlockWait's sleeping half
      // went out of line, and loading it again after the wait costs another trip to a line the
      // writer is busy with (measured: docs/performance-notes.md).
      record = std::bit_cast<RecordHeader>(Wait::until(
          [this, offset]() -> std::uint64_t {
            const std::uint64_t word = header_word(offset).load(std::memory_order_acquire);
            return std::bit_cast<RecordHeader>(word).kind != 0 ? word : 0;
          },
          WaitSpec{deadline, peer, "data"}, data_slot(own_bell_)));
    }
    // The header is the publication: everything up to the wrap point may be published.
    const std::uint64_t to_wrap = capacity_ - offset;
    const RecordVerdict verdict = check_record(record, offset, to_wrap, capacity_, max_message_);
    if (verdict == RecordVerdict::Data) [[likely]]
      return {data_ + offset + sizeof record, record.length, record_bytes(record.length)};
    if (record.kind == static_cast<std::uint32_t>(RecordKind::InPlace)) return reply_in_place(record, offset);
    if (verdict != RecordVerdict::Padding) reject_record(record, offset);
    advance(to_wrap);
  }
}

inline void RingReader::advance(std::uint64_t bytes) noexcept {
  head_ += bytes;
  if (head_ - given_back_ >= capacity_ / kGiveBackParts) give_back();
}

inline void RingReader::give_back() noexcept {
  given_back_ = head_;
  std::atomic_ref(reader_->head).store(head_, std::memory_order_release);
  if (peer_may_sleep_) wake_if_sleeping(space_slot(peer_bell_));
}

}  // namespace ipcmark::shm
