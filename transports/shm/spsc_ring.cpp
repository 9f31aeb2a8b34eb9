#include "transports/shm/spsc_ring.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <algorithm>
#include <bit>
#include <cstdio>

#include "transports/shm/doorbell.hpp"
#include "transports/shm/record_codec.hpp"

namespace ipcmark::shm {
namespace {

// 1 MiB: half of this machine kind's 2 MiB L2, so the ring stays cache-resident while the
// writer can run several 64 KiB messages ahead (measured: 64 KiB stream 8.3 → 9.8 GB/s over
// 256 KiB, on two pinned vCPUs with --wait spin).
constexpr std::uint64_t kDefaultMinCapacity = 1024 * 1024;
// Up to this much for messages of 16 KiB and more: 64 of them in flight. A reader checking a
// 64 KiB message in place takes about as long as the writer takes to write the next, and with
// only 16 in flight their jitter stalls the writer (zero-copy stream/65536, spin, cross:
// 1 MiB ring 10-11 GB/s, 4 MiB 15 GB/s; copy mode about 10 GB/s either way; 256 KiB: 7 GB/s).
constexpr std::uint64_t kRoomyCapacity = 4 * 1024 * 1024;

std::string hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

bool aligned(const std::byte* p) { return reinterpret_cast<std::uintptr_t>(p) % kBlockBytes == 0; }

// PREFETCHW is reported by CPUID 0x80000001, ECX bit 8 (PRFCHW, "3dnowprefetch" in /proc/cpuinfo).
bool cpu_has_prefetchw() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(0x80000001u, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 8)) != 0;
#else
  return false;
#endif
}

// CLDEMOTE is reported by CPUID 7.0, ECX bit 25.
bool cpu_has_cldemote() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 25)) != 0;
#else
  return false;
#endif
}

}  // namespace

std::uint64_t default_capacity(std::size_t max_message) {
  // 4 × max_message rather than 4 × its record: for the usual power-of-two sizes the 8-byte record
  // header would otherwise double the ring (16 MiB messages: 128 MiB instead of 64 MiB per ring).
  // Either way a record is at most capacity/2 (checked by ring_fits).
  const std::uint64_t wanted = std::max({kDefaultMinCapacity, 4 * std::uint64_t{max_message},
                                         std::min(kRoomyCapacity, 64 * std::uint64_t{max_message})});
  return std::bit_ceil(wanted);
}

std::uint64_t request_reply_capacity(std::size_t max_message) {
  return std::bit_ceil(std::max(kRequestReplyMinCapacity, 2 * record_bytes(max_message)));
}

void initialise_ring(std::span<std::byte> ring, const RingParams& params) {
  if (!std::has_single_bit(params.capacity) || params.capacity < kMinCapacity ||
      !ring_fits(params.capacity, params.max_message) || ring.size() != ring_bytes(params.capacity) ||
      !aligned(ring.data()))
    throw Error(Errc::InvalidArgument, "cannot lay out a ring of " + std::to_string(params.capacity) +
                                           " bytes for messages of " + std::to_string(params.max_message) +
                                           " bytes over " + std::to_string(ring.size()) + " bytes");
  // Plain writes: nobody may look before the magic is published below.
  std::memset(ring.data(), 0, kHeaderBytes);
  RingHeader& header = ring_header(ring);
  header.version = kRingVersion;
  header.header_bytes = kHeaderBytes;
  header.capacity = params.capacity;
  header.max_message = params.max_message;
  header.server_pid = params.server_pid;
  header.server_waits = params.server_waits;
  header.request_reply = params.request_reply;
  // The semaphore of this ring's reader (--wait sem; doorbell.hpp), laid out whatever the wait:
  // the client may wait otherwise than the server.
  init_semaphore(ring.data() + kSemOffset);
  // The reader starts at offset 0 and takes a non-zero header there for a record: a fresh mapping
  // is zero, any other memory must say "nothing yet" there (see the end mark in spsc_ring.hpp).
  std::memset(ring.data() + RingOffsets::data, 0, sizeof(RecordHeader));
  // release: a process that acquires the magic sees the whole header and the zero indices.
  std::atomic_ref(header.magic).store(kRingMagic, std::memory_order_release);
}

RingView::RingView(std::span<std::byte> ring, std::string name) : name_(std::move(name)) {
  if (!aligned(ring.data()))
    throw Error(Errc::InvalidArgument, "ring memory for '" + name_ + "' is not 128-byte aligned");
  if (ring.size() < kHeaderBytes)
    corrupt(std::to_string(ring.size()) + " bytes cannot hold the " + std::to_string(kHeaderBytes) +
            "-byte ring header");
  const RingHeader& header = ring_header(ring);
  // acquire: pairs with initialise_ring's release store; the fields below were written before it.
  const std::uint64_t magic = std::atomic_ref(ring_header(ring).magic).load(std::memory_order_acquire);
  if (magic != kRingMagic) corrupt("bad magic " + hex(magic) + ", expected " + hex(kRingMagic));
  // Each field is read once into a local; later code uses only the checked copies.
  const std::uint32_t version = header.version;
  const std::uint32_t header_bytes = header.header_bytes;
  const std::uint64_t capacity = header.capacity;
  const std::uint32_t max_message = header.max_message;
  if (version != kRingVersion)
    corrupt("unsupported version " + std::to_string(version) + ", expected " + std::to_string(kRingVersion));
  if (header_bytes != kHeaderBytes)
    corrupt("header_bytes is " + std::to_string(header_bytes) + ", expected " + std::to_string(kHeaderBytes));
  if (!std::has_single_bit(capacity) || capacity < kMinCapacity)
    corrupt("capacity " + std::to_string(capacity) + " is not a power of two >= " + std::to_string(kMinCapacity));
  if (ring.size() - kHeaderBytes != capacity)
    corrupt("capacity " + std::to_string(capacity) + " plus the " + std::to_string(kHeaderBytes) +
            "-byte header does not match the mapped size of " + std::to_string(ring.size()) + " bytes");
  if (!ring_fits(capacity, max_message))
    corrupt("max_message " + std::to_string(max_message) + " does not fit a ring of " + std::to_string(capacity) +
            " bytes (a record may take at most half)");
  writer_ = reinterpret_cast<WriterBlock*>(ring.data() + RingOffsets::writer);
  reader_ = reinterpret_cast<ReaderBlock*>(ring.data() + RingOffsets::reader);
  data_ = ring.data() + RingOffsets::data;
  capacity_ = capacity;
  mask_ = capacity - 1;
  max_message_ = max_message;
  static const bool has_prefetchw = cpu_has_prefetchw();
  has_prefetchw_ = has_prefetchw;
  static const bool has_cldemote = cpu_has_cldemote();
  has_cldemote_ = has_cldemote;
}

void RingView::corrupt(const std::string& what) const {
  throw Error(Errc::Corrupt, "corrupt region '" + name_ + "': " + what);
}

void RingView::check_indices(std::uint64_t head, std::uint64_t tail) const {
  const std::string where = " (head " + std::to_string(head) + ", tail " + std::to_string(tail) + ")";
  if (tail < head) corrupt("tail is behind head" + where);
  if (tail - head > capacity_)
    corrupt("tail is more than the capacity of " + std::to_string(capacity_) + " bytes ahead of head" + where);
  if (head % kRecordAlign != 0 || tail % kRecordAlign != 0) corrupt("an index is not 8-byte aligned" + where);
}

RingWriter::RingWriter(std::span<std::byte> ring, std::string name) : RingView(ring, std::move(name)) {
  // acquire on both: an attaching writer (e.g. a reconnect) starts from what was published.
  tail_ = std::atomic_ref(writer_->tail).load(std::memory_order_acquire);
  head_cache_ = std::atomic_ref(reader_->head).load(std::memory_order_acquire);
  check_indices(head_cache_, tail_);
}

void RingWriter::reject_size(std::size_t length) const {
  if (length == 0) throw Error(Errc::InvalidArgument, "cannot send an empty message");
  throw Error(Errc::MessageTooLarge, "message of " + std::to_string(length) +
                                         " bytes exceeds the channel's max_message of " +
                                         std::to_string(max_message_) + " bytes");
}

void RingWriter::reject_busy() const {
  throw Error(Errc::InvalidArgument,
              "a loan of '" + name_ + "' is not committed yet: commit() it before the next loan or send");
}

RingReader::RingReader(std::span<std::byte> ring, std::string name)
    : RingView(ring, std::move(name)) {
  head_ = given_back_ = std::atomic_ref(reader_->head).load(std::memory_order_acquire);
  // Checked once, at attach: a ring that is already inconsistent is refused before any wait.
  check_indices(head_, std::atomic_ref(writer_->tail).load(std::memory_order_acquire));
}

void RingReader::reject_record(RecordHeader record, std::uint64_t offset) const {
  // Everything up to the wrap point may be published: the header, not a tail, says what is.
  corrupt(record_defect(record, offset, capacity_ - offset, capacity_, max_message_));
}

RingReader::Taken RingReader::reply_in_place(RecordHeader record, std::uint64_t offset) {
  if (reply_in_ != nullptr && record.length - 1u < reply_room_) [[likely]]  // 0 wraps: one compare
    return {reply_in_, record.length, sizeof(RecordHeader)};
  const std::string what = "in-place reply of " + std::to_string(record.length) + " bytes at offset " + std::to_string(offset);
  if (reply_in_ == nullptr) corrupt(what + " with no request outstanding");
  corrupt(what + " answers a request of " + std::to_string(reply_room_) + " bytes");
}

void RingReader::reject_buffer(std::uint32_t length, std::size_t buffer) const {
  throw Error(Errc::InvalidArgument, "receive buffer of " + std::to_string(buffer) + " bytes cannot hold the " +
                                         std::to_string(length) + "-byte message waiting in '" + name_ + "'");
}

void RingReader::reject_busy() const {
  throw Error(Errc::InvalidArgument,
              "a view of '" + name_ + "' is not released yet: release() it before the next view or receive");
}

}  // namespace ipcmark::shm
