// transports/shm/doorbell.hpp — what a sleeping ring side sleeps on when it is not the ring's futex
// word: an eventfd, a process-shared POSIX semaphore in the region, or a Unix socket (WaitKind
// Eventfd, Sem, Uds). The ring's handshake (wait.hpp) is the same for all: the sleeper announces
// itself in the region first, and its peer rings only then, so a side that never sleeps costs its
// peer no syscall. A ring that comes before the sleep is kept (an eventfd's count, a semaphore's
// value, a byte in the socket) and none is lost; one left over costs a spurious wake-up, after
// which the waiter looks at the ring again.
//
// Each process has one doorbell, whichever ring it waits on (data in the ring it reads, room in the
// ring it writes): both slots of a side ring the same bell, and the waiter re-checks its condition.
//  * eventfd: the client makes both eventfds and hands them to the server over a Unix socket with
//    SCM_RIGHTS when it joins (chosen over pidfd_getfd and /proc/<pid>/fd: those need ptrace
//    permission over the peer, which Yama's default ptrace_scope=1 refuses between two sibling
//    processes, and a socket works the same on every kernel).
//  * uds: one connected stream socket; a ring is one byte, a peer that has gone is a hang-up.
//  * sem: the 64 spare bytes after each ring's header hold the semaphore of that ring's reader.
//    The region is untrusted: every wait is bounded (sem_clockwait), and glibc aborts on a futex
//    operation the kernel refuses, which a hostile `private` field would cause, so that field is
//    checked before each call (a peer flipping it in the instant between is not caught).
// The socket file (eventfd and uds) is <private runtime dir>/<channel>.shm-bell, created by
// serve() before the region is published, removed once the server has accepted, by the server's
// Connection, or by remove().
#pragma once

#include <semaphore.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>

#include "transports/common/fd.hpp"
#include "transports/common/process.hpp"
#include "transports/transport.hpp"

namespace ipcmark::shm {

// Whether this wait sleeps on a Doorbell (else on the ring's futex word, or never).
constexpr bool uses_doorbell(WaitKind wait) {
  return wait == WaitKind::Eventfd || wait == WaitKind::Sem || wait == WaitKind::Uds;
}

struct Doorbell {
  WaitKind kind = WaitKind::Block;  // Eventfd, Sem or Uds
  int fd = -1;                      // eventfd or socket: ours to poll, or the peer's to write to
  sem_t* sem = nullptr;             // in the region
};

enum class BellSleep { Rung, TimedOut, HungUp, Corrupt };

// Sleeps on our doorbell until it rings or `timeout` passes, and eats the rings that came.
// HungUp: the peer closed its end of the socket. Corrupt: the semaphore is not one.
BellSleep sleep_on(const Doorbell& own, std::chrono::nanoseconds timeout) noexcept;
// Rings the peer's doorbell. Errors are ignored: a full socket or counter already says "wake up",
// and a peer that has gone is noticed by its waits and ours.
void ring(const Doorbell& peer) noexcept;

// Where the ring's semaphores go: the spare half of each ring header's 128-byte block.
inline constexpr std::size_t kSemOffset = 64;
static_assert(sizeof(sem_t) <= 64 && alignof(sem_t) <= 64);
// Lays out a fresh semaphore (pshared, value 0) at `at`.
void init_semaphore(std::byte* at);

std::string bell_socket_path(const std::string& channel);
void remove_bell_socket(const std::string& channel) noexcept;

// The doorbells of one side of a channel, and their set-up.
class ChannelBells {
 public:
  ChannelBells() = default;
  // Server, at serve(): for eventfd and uds, listens on bell_socket_path(channel).
  static ChannelBells serve(const std::string& channel, WaitKind wait);
  // Client, after claiming the channel and before publishing its pid: for eventfd, makes both
  // eventfds and sends them; for uds, connects. `own_sem`/`peer_sem`: the semaphores of the rings
  // we read and write (used by sem only).
  static ChannelBells connect(const std::string& channel, WaitKind wait, std::byte* own_sem, std::byte* peer_sem);
  // Server, once the client has published its pid: takes that client's connection (checked by
  // SO_PEERCRED), for eventfd receives the eventfds, then removes the socket file.
  void accept(const PeerProcess& client, Deadline deadline, std::byte* own_sem, std::byte* peer_sem);
  ChannelBells(ChannelBells&& other) noexcept { *this = std::move(other); }
  ChannelBells& operator=(ChannelBells&& other) noexcept;
  ~ChannelBells() { stop_listening(); }

  // nullptr when the wait uses no doorbell, or before accept().
  const Doorbell* own() const noexcept { return ready_ ? &own_ : nullptr; }
  const Doorbell* peer() const noexcept { return ready_ ? &peer_ : nullptr; }

 private:
  void set_semaphores(std::byte* own_sem, std::byte* peer_sem);
  void stop_listening() noexcept;

  WaitKind wait_ = WaitKind::Block;
  std::string listening_at_;  // the socket file while we listen on it
  UniqueFd listener_, socket_, own_fd_, peer_fd_;
  Doorbell own_, peer_;
  bool ready_ = false;
};

}  // namespace ipcmark::shm
