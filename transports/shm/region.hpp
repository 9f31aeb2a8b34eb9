// transports/shm/region.hpp — SharedRegion: one named POSIX shared-memory object, mapped.
//
// The name "<channel>" becomes the object "/<channel>", i.e. /dev/shm/<channel> on Linux.
// The creator owns the name and unlinks it when destroyed; an opener never does. The mapping itself
// outlives the name: a peer that still has it mapped keeps working after the unlink.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>

namespace ipcmark::shm {

class SharedRegion {
 public:
  // Creates "/<name>" with exactly `size` bytes, zero-filled and backed by real pages (so a full
  // /dev/shm fails here with an error naming the size, never later with SIGBUS), mapped read-write.
  // Errors: InvalidArgument (name, size 0), AlreadyExists (unless `replace`, which unlinks an
  // existing object first), System (e.g. not enough room in /dev/shm).
  static SharedRegion create(const std::string& name, std::size_t size, bool replace = false);
  // Maps an existing "/<name>" read-write, whatever its size (an empty object maps to no bytes).
  // Only an object owned by our effective uid with no group/other access is mapped: anything else
  // (another user's, or ours open to others) is Corrupt, one line naming its owner and mode.
  // Errors: InvalidArgument, DoesNotExist, Corrupt, System.
  static SharedRegion open(const std::string& name);
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

 private:
  SharedRegion(std::string name, std::byte* data, std::size_t size, bool owner, dev_t device, ino_t inode) noexcept;
  void release() noexcept;

  std::string name_;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool owner_ = false;  // we created the name, so we unlink it
  // Identity of the object we created: if someone replaced the name since, we leave theirs alone.
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace ipcmark::shm
