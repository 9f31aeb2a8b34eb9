#include "transports/transport.hpp"

#include <cerrno>
#include <cstring>

namespace ipcmark {

void throw_system_error(const std::string& what) {
  const int err = errno;
  throw Error(Errc::System, what + ": " + std::strerror(err));
}

void check_publish_size(std::size_t message_size, std::size_t size) {
  if (message_size > size)
    throw Error(Errc::InvalidArgument, "message of " + std::to_string(message_size) +
                                           " bytes does not fit the channel size of " + std::to_string(size));
}

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::InvalidArgument: return "InvalidArgument";
    case Errc::AlreadyExists: return "AlreadyExists";
    case Errc::DoesNotExist: return "DoesNotExist";
    case Errc::MessageTooLarge: return "MessageTooLarge";
    case Errc::Timeout: return "Timeout";
    case Errc::PeerGone: return "PeerGone";
    case Errc::Corrupt: return "Corrupt";
    case Errc::System: break;
  }
  return "System";
}

std::string_view to_string(WaitKind wait) {
  switch (wait) {
    case WaitKind::Spin: return "spin";
    case WaitKind::Block: return "block";
    case WaitKind::Futex: return "futex";
    case WaitKind::Eventfd: return "eventfd";
    case WaitKind::Sem: return "sem";
    case WaitKind::Uds: return "uds";
  }
  return "?";
}

namespace {
[[noreturn]] void no_loans() {
  throw Error(Errc::InvalidArgument, "this transport does not lend its memory (zero-copy is shm only)");
}
}  // namespace

std::size_t Connection::receive_through(std::span<std::byte> buffer, Deadline deadline, CopyOut&) {
  return receive(buffer, deadline);
}

void Connection::send_through(std::span<std::byte> message, Deadline deadline, CopyIn& in) {
  in.make(message);
  send(message, deadline);
}

std::span<std::byte> Connection::loan(std::size_t, Deadline) { no_loans(); }
void Connection::commit() { no_loans(); }
std::span<const std::byte> Connection::view(Deadline) { no_loans(); }
void Connection::release() { no_loans(); }

std::size_t FanoutWriter::receive(std::span<std::byte>, Deadline) {
  throw Error(Errc::InvalidArgument, "a fanout writer only sends");
}

}  // namespace ipcmark
