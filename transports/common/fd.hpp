// transports/common/fd.hpp — an owned file descriptor and deadline-bounded I/O on it,
// shared by the transports that move bytes through the kernel.
#pragma once

#include <sys/uio.h>

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

// Waits until `fd` is ready for `events` (POLLIN/POLLOUT). Throws Timeout at `deadline`,
// naming `waiting_for`. Returns the revents seen (POLLHUP/POLLERR included).
short poll_until(int fd, short events, Deadline deadline, const char* waiting_for);

// Writes every byte of `parts` to a non-blocking fd, polling when the kernel buffer is
// full. EPIPE/ECONNRESET become PeerGone.
void write_all(int fd, std::span<iovec> parts, Deadline deadline);

// Reads exactly `out.size()` bytes from a non-blocking fd. EOF becomes PeerGone.
void read_exact(int fd, std::span<std::byte> out, Deadline deadline);

// Reads what is available (at least one byte, polling until then) into `out`.
std::size_t read_some(int fd, std::span<std::byte> out, Deadline deadline);

}  // namespace ipcmark
