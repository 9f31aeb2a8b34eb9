// transports/bip_mq/boost_layout.hpp — the bytes of a Boost 1.74 message_queue object, as Boost
// lays them out in /dev/shm/<name>:
//
//   offset 0            u32 init state (0 uninitialized, 1 initializing, 2 initialized, 3 corrupt)
//   kUserOffset         Header (mq_hdr_t): offset_ptr to the index, depth, max message size,
//                       count, mutex, two conditions, first slot of the circular index, ...
//   + rounded header    index: depth offset_ptrs, each to one message slot, in queue order
//   + rounded index     depth slots: MessageHeader {len, priority} + max message bytes, rounded
//
// Boost trusts all of it; queue_check.hpp reads it before Boost does. These are Boost's internal
// (ipcdetail) types: the static_asserts pin the version they were read from.
#pragma once

// Without its asserts. Boost's sync code asserts that pthread_cond_timedwait returns 0 or
// ETIMEDOUT; with the robust mutex of queue.hpp it can also return EOWNERDEAD (the peer died
// holding the lock while we waited), which a debug or sanitizer build would turn into an abort
// where a release build goes on to the lock error we report as PeerGone. Every file that uses
// message_queue includes it through here, so all of them see the same Boost code.
#ifndef BOOST_DISABLE_ASSERTS
#define BOOST_DISABLE_ASSERTS
#define IPCMARK_BIP_MQ_DISABLED_ASSERTS
#endif
#include <boost/interprocess/ipc/message_queue.hpp>
#ifdef IPCMARK_BIP_MQ_DISABLED_ASSERTS
#undef BOOST_DISABLE_ASSERTS
#undef IPCMARK_BIP_MQ_DISABLED_ASSERTS
#include <boost/assert.hpp>  // BOOST_ASSERT as it was, for what follows
#endif
#include <boost/version.hpp>

#include <cstddef>

static_assert(BOOST_VERSION / 100 == 1074,
              "transports/bip_mq reads Boost 1.74's message_queue layout: check boost_layout.hpp against this Boost");
#if !defined(BOOST_INTERPROCESS_MSG_QUEUE_CIRCULAR_INDEX) || !defined(BOOST_INTERPROCESS_POSIX_PROCESS_SHARED)
#error "transports/bip_mq expects Boost's circular message index and POSIX process-shared mutexes"
#endif

namespace ipcmark::bip_mq {

namespace bi = boost::interprocess;
using Header = bi::ipcdetail::mq_hdr_t<bi::offset_ptr<void>>;
using MessageHeader = bi::ipcdetail::msg_hdr_t<bi::offset_ptr<void>>;
using SlotPointer = bi::offset_ptr<MessageHeader>;

inline constexpr std::size_t kUserOffset =
    bi::ipcdetail::managed_open_or_create_impl<bi::shared_memory_object, 0, true, false>::ManagedOpenOrCreateUserOffset;
inline constexpr std::uint32_t kInitialized = 2;

constexpr std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// Where each part starts, as mq_hdr_t::initialize_memory computes it.
struct Layout {
  std::size_t index;      // offset of the index in the object
  std::size_t slots;      // offset of slot 0
  std::size_t slot_size;  // bytes from one slot to the next
  std::size_t total;      // the object's size
};

inline Layout layout_of(std::size_t max_message, std::size_t depth) {
  const std::size_t index = kUserOffset + round_up(sizeof(Header), alignof(SlotPointer));
  const std::size_t slots = index + round_up(depth * sizeof(SlotPointer), alignof(MessageHeader));
  const std::size_t slot_size = round_up(max_message, alignof(MessageHeader)) + sizeof(MessageHeader);
  return {index, slots, slot_size, slots + depth * slot_size};
}

}  // namespace ipcmark::bip_mq
