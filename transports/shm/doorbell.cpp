#include "transports/shm/doorbell.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "transports/names.hpp"

namespace ipcmark::shm {
namespace {

using namespace std::chrono_literals;

// How many left-over rings one wake-up eats at most (a stale announcement can leave a few).
constexpr int kDrainAtMost = 64;

// glibc keeps, next to the value, whether the semaphore's futex is private; it passes that word
// to the kernel as part of the futex operation, and aborts the process when the kernel refuses the
// operation. The word a pshared sem_init writes, learnt from a local one.
int shared_private_word() {
  static const int word = [] {
    sem_t probe;
    ::sem_init(&probe, 1, 0);
    int value = 0;
    std::memcpy(&value, reinterpret_cast<const std::byte*>(&probe) + 8, sizeof value);
    ::sem_destroy(&probe);
    return value;
  }();
  return word;
}

bool semaphore_intact(sem_t* sem) noexcept {
  const int word = std::atomic_ref(*reinterpret_cast<int*>(reinterpret_cast<std::byte*>(sem) + 8))
                       .load(std::memory_order_relaxed);
  return word == shared_private_word();
}

BellSleep sleep_on_semaphore(sem_t* sem, std::chrono::nanoseconds timeout) noexcept {
  if (!semaphore_intact(sem)) return BellSleep::Corrupt;
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto until = std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec) + timeout;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(until);
  const timespec at{static_cast<time_t>(seconds.count()), static_cast<long>((until - seconds).count())};
  if (::sem_clockwait(sem, CLOCK_MONOTONIC, &at) != 0) return errno == EINVAL ? BellSleep::Corrupt : BellSleep::TimedOut;
  for (int i = 0; i < kDrainAtMost && semaphore_intact(sem) && ::sem_trywait(sem) == 0; ++i) {
  }
  return BellSleep::Rung;
}

BellSleep sleep_on_fd(const Doorbell& own, std::chrono::nanoseconds timeout) noexcept {
  pollfd watched{own.fd, POLLIN, 0};
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const timespec relative{static_cast<time_t>(seconds.count()), static_cast<long>((timeout - seconds).count())};
  const int ready = ::ppoll(&watched, 1, &relative, nullptr);
  if (ready <= 0) return BellSleep::TimedOut;  // EINTR too: the caller looks again
  if (own.kind == WaitKind::Eventfd) {
    std::uint64_t count = 0;
    [[maybe_unused]] const ssize_t n = ::read(own.fd, &count, sizeof count);  // resets the count
    return BellSleep::Rung;
  }
  std::array<char, kDrainAtMost> bytes;
  const ssize_t n = ::recv(own.fd, bytes.data(), bytes.size(), MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ? BellSleep::HungUp : BellSleep::Rung;
}

sockaddr_un socket_address(const std::string& path, const std::string& channel) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path)
    throw Error(Errc::InvalidArgument, "channel name '" + channel + "' is too long for the doorbell socket " + path +
                                           " (at most " + std::to_string(sizeof address.sun_path - 1) + " bytes)");
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

UniqueFd stream_socket(int flags) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0));
  if (!fd) throw_system_error("socket(AF_UNIX)");
  return fd;
}

UniqueFd make_eventfd() {
  UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) throw_system_error("eventfd");
  return fd;
}

// Whether `fd` (received from the peer) is an eventfd: anything else we would write into.
bool is_eventfd(int fd) {
  char target[64] = {};
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  return n > 0 && std::string_view(target, static_cast<std::size_t>(n)) == "anon_inode:[eventfd]";
}

// One byte of data carrying two descriptors (SCM_RIGHTS): what the client sends when it joins.
struct TwoFdMessage {
  char byte = 'e';
  iovec data{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  msghdr header{};
  TwoFdMessage() {
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
  }
  TwoFdMessage(const TwoFdMessage&) = delete;  // points into itself
};

// Sends the two eventfds (the server's, then the client's).
void send_eventfds(int socket, int server_fd, int client_fd) {
  TwoFdMessage message;
  cmsghdr* header = CMSG_FIRSTHDR(&message.header);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(2 * sizeof(int));
  const int fds[2] = {server_fd, client_fd};
  std::memcpy(CMSG_DATA(header), fds, sizeof fds);
  if (::sendmsg(socket, &message.header, MSG_NOSIGNAL) != 1) throw_system_error("sending the eventfds");
}

// Receives what send_eventfds sent: {server's, client's}.
std::array<UniqueFd, 2> receive_eventfds(int socket, Deadline deadline) {
  poll_until(socket, POLLIN, deadline, "the client's eventfds");
  TwoFdMessage message;
  const ssize_t n = ::recvmsg(socket, &message.header, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  std::array<UniqueFd, 2> fds;
  const cmsghdr* header = n == 1 ? CMSG_FIRSTHDR(&message.header) : nullptr;
  if (header != nullptr && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS &&
      header->cmsg_len == CMSG_LEN(2 * sizeof(int))) {
    int raw[2];
    std::memcpy(raw, CMSG_DATA(header), sizeof raw);
    fds = {UniqueFd(raw[0]), UniqueFd(raw[1])};
  }
  if (!fds[0] || !fds[1] || (message.header.msg_flags & MSG_CTRUNC) != 0 || !is_eventfd(fds[0].get()) ||
      !is_eventfd(fds[1].get()))
    throw Error(Errc::Corrupt, "the client's doorbell socket did not carry two eventfds");
  return fds;
}

}  // namespace

BellSleep sleep_on(const Doorbell& own, std::chrono::nanoseconds timeout) noexcept {
  return own.kind == WaitKind::Sem ? sleep_on_semaphore(own.sem, timeout) : sleep_on_fd(own, timeout);
}

void ring(const Doorbell& peer) noexcept {
  switch (peer.kind) {
    case WaitKind::Eventfd: {
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t n = ::write(peer.fd, &one, sizeof one);
      break;
    }
    case WaitKind::Uds: {
      const char byte = 'w';
      [[maybe_unused]] const ssize_t n = ::send(peer.fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
      break;
    }
    case WaitKind::Sem:
      if (semaphore_intact(peer.sem)) ::sem_post(peer.sem);
      break;
    default:
      break;
  }
}

void init_semaphore(std::byte* at) {
  if (::sem_init(reinterpret_cast<sem_t*>(at), 1, 0) != 0) throw_system_error("sem_init");
}

std::string bell_socket_path(const std::string& channel) { return private_runtime_dir() + "/" + channel + ".shm-bell"; }

void remove_bell_socket(const std::string& channel) noexcept {
  try {
    ::unlink(bell_socket_path(channel).c_str());
  } catch (const std::exception&) {  // no runtime directory: nothing to remove
  }
}

ChannelBells& ChannelBells::operator=(ChannelBells&& other) noexcept {
  stop_listening();
  wait_ = other.wait_;
  listening_at_ = std::exchange(other.listening_at_, {});
  listener_ = std::move(other.listener_);
  socket_ = std::move(other.socket_);
  own_fd_ = std::move(other.own_fd_);
  peer_fd_ = std::move(other.peer_fd_);
  own_ = other.own_;
  peer_ = other.peer_;
  ready_ = std::exchange(other.ready_, false);
  return *this;
}

void ChannelBells::stop_listening() noexcept {
  listener_.reset();
  if (!listening_at_.empty()) ::unlink(std::exchange(listening_at_, {}).c_str());
}

ChannelBells ChannelBells::serve(const std::string& channel, WaitKind wait) {
  ChannelBells bells;
  bells.wait_ = wait;
  if (wait != WaitKind::Eventfd && wait != WaitKind::Uds) return bells;
  const std::string path = bell_socket_path(channel);
  const sockaddr_un address = socket_address(path, channel);
  bells.listener_ = stream_socket(SOCK_NONBLOCK);
  // We hold the channel's region name, so a socket file of that name is a crashed run's leftover.
  ::unlink(path.c_str());
  if (::bind(bells.listener_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw_system_error("bind " + path);
  bells.listening_at_ = path;
  if (::listen(bells.listener_.get(), 4) != 0) throw_system_error("listen " + path);
  return bells;
}

ChannelBells ChannelBells::connect(const std::string& channel, WaitKind wait, std::byte* own_sem, std::byte* peer_sem) {
  ChannelBells bells;
  bells.wait_ = wait;
  if (wait == WaitKind::Sem) bells.set_semaphores(own_sem, peer_sem);
  if (wait != WaitKind::Eventfd && wait != WaitKind::Uds) return bells;
  const std::string path = bell_socket_path(channel);
  const sockaddr_un address = socket_address(path, channel);
  bells.socket_ = stream_socket(0);
  if (::connect(bells.socket_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED)
      throw Error(Errc::PeerGone, "the server of channel '" + channel + "' does not answer on its doorbell socket " + path);
    throw_system_error("connect " + path);
  }
  if (wait == WaitKind::Uds) {
    bells.own_ = bells.peer_ = Doorbell{.kind = wait, .fd = bells.socket_.get()};
  } else {
    UniqueFd server_fd = make_eventfd();
    bells.own_fd_ = make_eventfd();
    send_eventfds(bells.socket_.get(), server_fd.get(), bells.own_fd_.get());
    bells.peer_fd_ = std::move(server_fd);
    bells.own_ = Doorbell{.kind = wait, .fd = bells.own_fd_.get()};
    bells.peer_ = Doorbell{.kind = wait, .fd = bells.peer_fd_.get()};
  }
  bells.ready_ = true;
  return bells;
}

void ChannelBells::accept(const PeerProcess& client, Deadline deadline, std::byte* own_sem, std::byte* peer_sem) {
  if (wait_ == WaitKind::Sem) set_semaphores(own_sem, peer_sem);
  if (wait_ != WaitKind::Eventfd && wait_ != WaitKind::Uds) return;
  // The client connected before it published its pid; other connections are clients that lost
  // the race to claim the channel.
  for (;;) {
    if (Clock::now() >= deadline) throw Error(Errc::Timeout, "timed out waiting for the client's doorbell socket");
    UniqueFd accepted(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!accepted) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) throw_system_error("accept " + listening_at_);
      if (client.gone()) throw Error(Errc::PeerGone, "peer process " + std::to_string(client.pid()) + " is gone");
      pollfd watched{listener_.get(), POLLIN, 0};
      ::poll(&watched, 1, 10);
      continue;
    }
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(accepted.get(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0 ||
        credentials.pid != client.pid())
      continue;
    socket_ = std::move(accepted);
    break;
  }
  if (wait_ == WaitKind::Uds) {
    own_ = peer_ = Doorbell{.kind = wait_, .fd = socket_.get()};
  } else {
    auto [server_fd, client_fd] = receive_eventfds(socket_.get(), deadline);
    own_fd_ = std::move(server_fd);
    peer_fd_ = std::move(client_fd);
    own_ = Doorbell{.kind = wait_, .fd = own_fd_.get()};
    peer_ = Doorbell{.kind = wait_, .fd = peer_fd_.get()};
  }
  stop_listening();
  ready_ = true;
}

void ChannelBells::set_semaphores(std::byte* own_sem, std::byte* peer_sem) {
  own_ = Doorbell{.kind = WaitKind::Sem, .sem = reinterpret_cast<sem_t*>(own_sem)};
  peer_ = Doorbell{.kind = WaitKind::Sem, .sem = reinterpret_cast<sem_t*>(peer_sem)};
  ready_ = true;
}

}  // namespace ipcmark::shm
