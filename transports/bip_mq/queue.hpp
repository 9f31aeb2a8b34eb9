// transports/bip_mq/queue.hpp — one Boost.Interprocess message_queue, owned or opened.
//
// Errors map to Errc: AlreadyExists and DoesNotExist from the names, Corrupt from queue_check.hpp
// and from a lock Boost could not take (below), System for anything else Boost throws.
//
// Boost 1.74 builds its mutex and conditions with default attributes, and create() re-makes
// them, before anyone else can open the queue (the peer board comes after):
//  * the mutex robust and error-checking. A plain one, left locked by a process killed inside
//    send or receive (it holds it for one memcpy), would block every later lock() for good,
//    where no deadline reaches. Now the next lock() fails (EOWNERDEAD, later ENOTRECOVERABLE, or
//    EDEADLK for the thread that inherited it), Boost throws, and the caller hears Errc::Corrupt
//    and asks whether the peer is gone.
//  * the conditions on CLOCK_MONOTONIC. Boost passes its ptime to pthread_cond_timedwait as
//    seconds since 1970 on the condition's clock; with CLOCK_MONOTONIC, slice_time.hpp can put a
//    steady_clock deadline there as it is: one clock read per wait, and no wall-clock step can
//    stretch a wait. A queue whose conditions are still on CLOCK_REALTIME (made by plain Boost)
//    takes those times as long past: its waits return at once and ours turn into a busy loop
//    until the deadline, never a hang.
#pragma once

#include <sys/types.h>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/interprocess_fwd.hpp>
#include <cstddef>
#include <memory>
#include <span>
#include <string>

namespace ipcmark::bip_mq {

class Queue {
 public:
  // Creates /dev/shm/<name> (mode 0600), `depth` messages of `max_message` bytes; `channel`
  // names the channel in an AlreadyExists error.
  static Queue create(const std::string& channel, const std::string& name, std::size_t max_message,
                      std::size_t depth);
  // Opens an existing one after checking it (queue_check.hpp), refusing an object larger than
  // `max_bytes` before mapping it; DoesNotExist if missing.
  static Queue open(const std::string& name, std::size_t max_bytes);
  // Unlinks /dev/shm/<name>, no error if missing.
  static void remove(const std::string& name);

  Queue(Queue&&) noexcept;
  Queue& operator=(Queue&&) = delete;
  ~Queue();  // the creator unlinks the name, if it is still the object it created

  // false: `until` (a slice_end()) came first (a full queue / an empty one).
  bool send(std::span<const std::byte> message, unsigned priority, const boost::posix_time::ptime& until);
  struct Received {
    std::size_t size;
    unsigned priority;
  };
  // `into` must hold max_message() bytes. false: `until` came first.
  bool receive(std::span<std::byte> into, Received& got, const boost::posix_time::ptime& until);

  std::size_t max_message() const noexcept { return max_message_; }
  std::size_t depth() const noexcept { return depth_; }
  const std::string& name() const noexcept { return name_; }

 private:
  using BoostQueue = boost::interprocess::message_queue;
  Queue(std::string name, std::unique_ptr<BoostQueue> queue, std::size_t max_message, std::size_t depth, bool owner,
        dev_t device, ino_t inode) noexcept;
  [[noreturn]] void throw_broken(const char* op, const std::exception& e) const;

  std::string name_;
  std::unique_ptr<BoostQueue> queue_;
  std::size_t max_message_ = 0, depth_ = 0;
  bool owner_ = false;
  dev_t device_ = 0;  // the object we created, so that we unlink only that one
  ino_t inode_ = 0;
};

}  // namespace ipcmark::bip_mq
