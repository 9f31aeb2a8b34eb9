#include "transports/common/fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <mutex>

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

void make_blocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) throw_system_error("fcntl O_NONBLOCK");
}

void make_blocking_with_slice(int fd) {
  make_blocking(fd);
  const timeval slice{0, static_cast<suseconds_t>(std::chrono::microseconds(kWaitSlice).count())};
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &slice, sizeof slice) != 0)
    throw_system_error("setsockopt SO_RCVTIMEO/SO_SNDTIMEO");
}

namespace {

// A real-time signal nothing else in ipcmark uses; its handler does nothing: the point is
// only that a blocked read()/write() returns EINTR.
int tick_signal() { return SIGRTMIN + 4; }

void on_tick(int) {}

void install_tick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = &on_tick;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: the interrupted call must return EINTR
    if (::sigaction(tick_signal(), &action, nullptr) != 0) throw_system_error("sigaction");
  });
}

// The calling thread's id, cached; a fork()ed child forgets it (its thread has a new id).
thread_local pid_t t_tid = 0;
pid_t this_thread_id() {
  if (t_tid == 0) {
    static std::once_flag once;
    std::call_once(once, [] { ::pthread_atfork(nullptr, nullptr, [] { t_tid = 0; }); });
    t_tid = static_cast<pid_t>(::syscall(SYS_gettid));
  }
  return t_tid;
}

}  // namespace

void SliceTicker::arm() {
  const pid_t tid = this_thread_id();
  if (armed_ && tid_ == tid) return;
  disarm();
  install_tick_handler();
  sigevent event{};
  event.sigev_notify = SIGEV_THREAD_ID;
  event.sigev_signo = tick_signal();
  event._sigev_un._tid = tid;  // sigev_notify_thread_id: glibc 2.36 does not name it
  if (::timer_create(CLOCK_MONOTONIC, &event, &timer_) != 0) throw_system_error("timer_create");
  const auto ns = std::chrono::nanoseconds(kWaitSlice).count();
  const timespec period{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  const itimerspec spec{period, period};
  if (::timer_settime(timer_, 0, &spec, nullptr) != 0) {
    ::timer_delete(timer_);
    throw_system_error("timer_settime");
  }
  armed_ = true;
  tid_ = tid;
  owner_pid_ = ::getpid();
}

void SliceTicker::disarm() noexcept {
  // A fork()ed child holds a copy of the parent's timer id, which is not its own timer.
  if (armed_ && owner_pid_ == ::getpid()) ::timer_delete(timer_);
  armed_ = false;
}

namespace {
// CLOCK_MONOTONIC_COARSE is CLOCK_MONOTONIC (steady_clock's base on Linux) as of the last
// tick: never ahead of the exact clock, behind it by about a tick at most.
Clock::time_point coarse_now() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return Clock::time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}
}  // namespace

bool within_a_slice(Deadline deadline) { return deadline - coarse_now() < kWaitSlice + kCoarseMargin; }

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
    if (within_a_slice(deadline)) poll_until(fd, POLLOUT, deadline, "the reader to make room");
    const ssize_t n = first + 1 == parts.size()
                          ? ::write(fd, parts[first].iov_base, parts[first].iov_len)
                          : ::writev(fd, &parts[first], static_cast<int>(parts.size() - first));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {  // full (non-blocking) or the slice ran out
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
    if (within_a_slice(deadline)) poll_until(fd, POLLIN, deadline, "data");
    const ssize_t n = ::read(fd, out.data(), out.size());
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) throw Error(Errc::PeerGone, "peer closed the channel");
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) throw Error(Errc::PeerGone, "peer closed the channel");
    if (errno != EAGAIN && errno != EWOULDBLOCK) throw_system_error("read");  // EAGAIN: empty, or the slice ran out
    poll_until(fd, POLLIN, deadline, "data");
  }
}

void read_exact(int fd, std::span<std::byte> out, Deadline deadline) {
  while (!out.empty()) out = out.subspan(read_some(fd, out, deadline));
}

}  // namespace ipcmark
