// transports/common/fd.hpp — an owned file descriptor and deadline-bounded I/O on it,
// shared by the transports that move bytes through the kernel.
//
// The I/O helpers work on two kinds of descriptor:
//  - non-blocking (listeners, the pipe handshake and one-shot demo): the call is tried
//    first; poll() waits when it would block;
//  - blocking with a wait slice: the call itself sleeps in the kernel until the data comes,
//    at most about kWaitSlice, so a ping-pong costs one syscall per wait (as a plain C
//    program's would) instead of read/EAGAIN/poll/read. The slice comes either from a
//    SliceTicker (pipes, which have no timeout option, and the measured stream sockets,
//    for which SO_RCVTIMEO costs a kernel timer per sleep) and ends with EINTR, after which
//    the helpers re-check the deadline and call again; or from SO_RCVTIMEO/SO_SNDTIMEO
//    (make_blocking_with_slice: the one-shot demo, unix-dgram) and ends with EAGAIN, after
//    which the helpers poll() until the deadline.
// Either way no wait outlasts its deadline: when less than a slice is left, the helpers
// poll() first with exactly the time left, so the blocking call then returns at once.
// Whether a slice is left is decided on CLOCK_MONOTONIC_COARSE (about 5 ns to read, against
// about 23 ns for the exact clock on this project's VMs; four reads per round trip showed in
// the same-CPU ping-pong) with a margin above its resolution, so the decision errs only
// towards polling a little early.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <utility>

#include "transports/transport.hpp"

namespace ipcmark {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  void reset() noexcept;

 private:
  int fd_ = -1;
};

// The longest one blocking call sleeps before its caller re-checks the deadline.
inline constexpr std::chrono::milliseconds kWaitSlice{100};

// Makes a socket blocking, with SO_RCVTIMEO and SO_SNDTIMEO set to kWaitSlice.
void make_blocking_with_slice(int fd);

// Makes any fd blocking (clears O_NONBLOCK on its open file description).
void make_blocking(int fd);

// While armed, interrupts the blocking syscalls of one thread every kWaitSlice, so a
// blocking read()/write()/send() on a pipe or socket returns EINTR in time for its caller
// to re-check the deadline. A periodic CLOCK_MONOTONIC timer aimed at that thread only (SIGEV_THREAD_ID)
// raises a real-time signal nothing else in ipcmark uses, whose handler does nothing and
// is installed without SA_RESTART. Other blocking calls that thread makes meanwhile may see
// EINTR too: ipcmark's peers are single-threaded and make none but their transport's (and
// clock_nanosleep, which retries) while a connection is open. Disarmed when destroyed.
class SliceTicker {
 public:
  SliceTicker() = default;
  ~SliceTicker() { disarm(); }
  SliceTicker(const SliceTicker&) = delete;
  SliceTicker& operator=(const SliceTicker&) = delete;

  // Aims the timer at the calling thread; costs a thread-local compare once armed for it.
  void arm();
  void disarm() noexcept;

 private:
  timer_t timer_{};
  bool armed_ = false;
  pid_t tid_ = 0;
  pid_t owner_pid_ = 0;
};

// Waits until `fd` is ready for `events` (POLLIN/POLLOUT). Throws Timeout at `deadline`,
// naming `waiting_for`. Returns the revents seen (POLLHUP/POLLERR included).
short poll_until(int fd, short events, Deadline deadline, const char* waiting_for);

// True when less than one wait slice (plus kCoarseMargin) may be left before `deadline`:
// poll() first, then.
bool within_a_slice(Deadline deadline);

// How far the coarse clock may lag the exact one, with room to spare: its resolution is one
// scheduler tick (1-10 ms), a tick or two may be late on a busy host.
inline constexpr std::chrono::milliseconds kCoarseMargin{25};

// Writes every byte of `parts` to the fd (either kind above), polling when the kernel
// buffer stays full. EPIPE/ECONNRESET become PeerGone. One part left goes with write(),
// which skips the kernel's copy-in of an iovec array that writev() pays.
void write_all(int fd, std::span<iovec> parts, Deadline deadline);

// Reads exactly `out.size()` bytes from the fd (either kind above). EOF becomes PeerGone.
void read_exact(int fd, std::span<std::byte> out, Deadline deadline);

// Reads what is available (at least one byte, polling until then) into `out`.
std::size_t read_some(int fd, std::span<std::byte> out, Deadline deadline);

}  // namespace ipcmark
