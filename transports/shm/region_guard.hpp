// transports/shm/region_guard.hpp — surviving a peer that shrinks a shared object under our mapping.
//
// A named shm object can be ftruncate'd by any process that can open it. Every page of our
// MAP_SHARED mapping past the new end is then gone, and touching one raises SIGBUS, which kills
// the process by default. Sealing (memfd + F_SEAL_SHRINK) would forbid the shrink, but only for
// memfds: a shm_open object cannot be sealed, and ipcmark's channels are named so that unrelated
// processes can find them.
//
// So, as Wayland's wl_shm does: one process-wide SIGBUS handler, installed by the first
// GuardedMapping and chained to the handler that was there before. A fault inside a registered
// mapping replaces that whole mapping with private zero pages (mmap MAP_FIXED|MAP_ANONYMOUS) and
// sets the mapping's flag; the faulting access is then retried and reads zeros. A fault anywhere
// else goes to the previous handler (the default one: the process dies of SIGBUS, as before).
// Code that reads the mapping checks truncated() on its slow paths and after reading a message,
// and reports Corrupt: zeros read after the flag was set are not data.
//
// The registry is a fixed array of lock-free atomics (the handler may run on any thread, at any
// time): registering claims a free slot, unregistering waits out a handler busy on that slot so
// that it never maps over an address range that has been given back.
//
// Under AddressSanitizer our handler replaces ASan's (and chains to it) only with ASan's
// handle_sigbus=1, its default: with handle_sigbus=2 (or the deprecated allow_user_segv_handler=0)
// ASan ignores our sigaction and a truncation ends in ASan's "BUS on unknown address" report.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ipcmark::shm {

class GuardedMapping {
 public:
  // Guards nothing: truncated() is always false.
  GuardedMapping() noexcept = default;
  // Registers [begin, begin + length), a MAP_SHARED mapping of a shared object, installing the
  // handler on first use. Throws Error{System} if it cannot be installed or every slot is taken.
  GuardedMapping(void* begin, std::size_t length);
  GuardedMapping(GuardedMapping&& other) noexcept;
  GuardedMapping& operator=(GuardedMapping&& other) noexcept;
  GuardedMapping(const GuardedMapping&) = delete;
  GuardedMapping& operator=(const GuardedMapping&) = delete;
  ~GuardedMapping() { release(); }

  // Whether a fault in the mapping found it truncated, so that it now reads zeros. A relaxed load
  // of a word in this process: cheap enough for a hot path.
  bool truncated() const noexcept { return flag_->load(std::memory_order_relaxed) != 0; }
  // Unregisters, before the caller unmaps: the handler must not map over a range given back.
  void release() noexcept;

 private:
  int slot_ = -1;
  const std::atomic<std::uint32_t>* flag_ = &kNever;
  static const std::atomic<std::uint32_t> kNever;
};

// Whether the guarded mapping containing `address` has been found truncated; false if no guarded
// mapping contains it. Scans the registry: for slow paths (a waiter, an error path).
bool region_truncated(const void* address) noexcept;

// How many mappings one process can guard at once.
inline constexpr int kGuardedMappings = 256;

}  // namespace ipcmark::shm
