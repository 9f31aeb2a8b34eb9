#include "transports/common/fd.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace ipcmark {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

UniqueFd::~UniqueFd() { reset(); }

void UniqueFd::reset() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

short poll_until(int fd, short events, Deadline deadline, const char* waiting_for) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw Error(Errc::Timeout, std::string("timed out waiting for ") + waiting_for);
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000 * 60 * 60)));
    if (n > 0) return p.revents;
    if (n < 0 && errno != EINTR) throw_system_error("poll");
  }
}

void write_all(int fd, std::span<iovec> parts, Deadline deadline) {
  std::size_t first = 0;
  while (first < parts.size()) {
    const ssize_t n = ::writev(fd, &parts[first], static_cast<int>(parts.size() - first));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        const short revents = poll_until(fd, POLLOUT, deadline, "the reader to make room");
        if ((revents & POLLERR) && !(revents & POLLOUT))
          throw Error(Errc::PeerGone, "peer closed the channel");
        continue;
      }
      if (errno == EPIPE || errno == ECONNRESET) throw Error(Errc::PeerGone, "peer closed the channel");
      throw_system_error("write");
    }
    // Skip the parts written in full, then trim the one written in part.
    auto left = static_cast<std::size_t>(n);
    while (first < parts.size() && left >= parts[first].iov_len) left -= parts[first++].iov_len;
    if (first < parts.size()) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + left;
      parts[first].iov_len -= left;
    }
  }
}

std::size_t read_some(int fd, std::span<std::byte> out, Deadline deadline) {
  for (;;) {
    const ssize_t n = ::read(fd, out.data(), out.size());
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) throw Error(Errc::PeerGone, "peer closed the channel");
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) throw Error(Errc::PeerGone, "peer closed the channel");
    if (errno != EAGAIN) throw_system_error("read");
    poll_until(fd, POLLIN, deadline, "data");
  }
}

void read_exact(int fd, std::span<std::byte> out, Deadline deadline) {
  while (!out.empty()) out = out.subspan(read_some(fd, out, deadline));
}

}  // namespace ipcmark
