// transports/shm/region.hpp — SharedRegion: one named POSIX shared-memory object, mapped.
//
// The name "<channel>" becomes the object "/<channel>", i.e. /dev/shm/<channel> on Linux.
// The creator owns the name and unlinks it when destroyed; an opener never does. The mapping itself
// outlives the name: a peer that still has it mapped keeps working after the unlink.
// Any process that can open the object can also shrink it: the mapping is guarded
// (region_guard.hpp), so that touching the lost pages reads zeros and sets truncated() instead of
// killing this process with SIGBUS. Code reading the region checks truncated() before trusting
// what it read.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>

#include "transports/shm/region_guard.hpp"
#include "transports/transport.hpp"

namespace ipcmark::shm {

class SharedRegion {
 public:
  // Creates "/<name>" with exactly `size` bytes, zero-filled and backed by real pages (so a full
  // /dev/shm fails here with an error naming the size, never later with SIGBUS), mapped read-write.
  // Errors: InvalidArgument (name, size 0), AlreadyExists (unless `replace`, which unlinks an
  // existing object first), System (e.g. not enough room in /dev/shm).
  static SharedRegion create(const std::string& name, std::size_t size, bool replace = false);
  // Maps an existing "/<name>" read-write (an empty object maps to no bytes), refusing with
  // Corrupt, before anything is mapped, one line naming the path and what is wrong:
  //  * an object not owned by our effective uid, or open to group/other (mode & 077);
  //  * one larger than `max_size`, the largest the caller could accept: the mapping is populated
  //    (every page faulted in), which for a sparse 1 TB object would exhaust /dev/shm or memory.
  // The caller still validates the exact size against the header it reads.
  // Errors: InvalidArgument, DoesNotExist, Corrupt, System.
  static SharedRegion open(const std::string& name, std::size_t max_size);
  // The largest object create() could have made on this machine: the size of /dev/shm (create()
  // reserves every page), or of physical memory when /dev/shm has no limit. For callers with no
  // tighter bound of their own.
  static std::size_t largest_possible() noexcept;
  // Unlinks "/<name>"; no error if it does not exist.
  static void remove(const std::string& name);

  SharedRegion(SharedRegion&& other) noexcept;
  SharedRegion& operator=(SharedRegion&& other) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  ~SharedRegion();

  std::span<std::byte> bytes() const noexcept { return {data_, size_}; }
  std::size_t size() const noexcept { return size_; }
  const std::string& name() const noexcept { return name_; }
  // Whether another process truncated the object under our mapping, which now reads zeros (see
  // region_guard.hpp). A relaxed load of a word of this process: cheap enough after every message.
  bool truncated() const noexcept { return guard_.truncated(); }
  // Throws Error{Corrupt} "shared memory channel '<name>' was truncated by another process ...".
  [[noreturn]] void throw_truncated() const;
  // Runs `op`, an operation on this region's bytes: an Error it throws once the region has been
  // truncated is reported as the truncation (a truncated region reads zeros, which a ring takes
  // for an empty ring, an index out of range or a peer that has left). Costs nothing unless
  // something is thrown.
  template <class Op>
  decltype(auto) guarded(Op&& op) const {
    try {
      return op();
    } catch (const Error&) {
      if (truncated()) throw_truncated();
      throw;
    }
  }
  // After reading a message: one that was read after the truncation may be zeros in part.
  void check_truncation() const {
    if (truncated()) [[unlikely]] throw_truncated();
  }

 private:
  SharedRegion(std::string name, std::byte* data, std::size_t size, GuardedMapping guard, bool owner, dev_t device,
               ino_t inode) noexcept;
  void release() noexcept;

  std::string name_;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  GuardedMapping guard_;  // released before the unmap
  bool owner_ = false;  // we created the name, so we unlink it
  // Identity of the object we created: if someone replaced the name since, we leave theirs alone.
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace ipcmark::shm
