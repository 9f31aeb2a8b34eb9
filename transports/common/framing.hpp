// transports/common/framing.hpp — length-prefixed messages over a byte stream (pipe,
// SOCK_STREAM sockets): [u32 length][payload]. The sender writes both with one call: a
// small frame is assembled on the stack and sent with write() (a 64 B copy costs a few ns;
// writev()'s iovec copy-in costs more), a large one goes with writev() of two parts;
// the receiver reads ahead into a buffer so a stream of small messages costs one read()
// per many messages, and copies large payloads straight into the caller's buffer.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "transports/transport.hpp"

namespace ipcmark {

// Frames up to this size (header included) are copied into one contiguous buffer.
inline constexpr std::size_t kSmallFrame = 1024;

// Calls write_parts(std::span<iovec>) with the frame of `message`: one part holding header and
// payload for a small frame (in a buffer that lives through the call), else two parts.
template <class WriteParts>
void with_frame(std::span<const std::byte> message, WriteParts&& write_parts) {
  const auto length = static_cast<std::uint32_t>(message.size());
  if (message.size() + sizeof length <= kSmallFrame) {
    alignas(8) std::byte frame[kSmallFrame];
    std::memcpy(frame, &length, sizeof length);
    std::memcpy(frame + sizeof length, message.data(), message.size());
    iovec part{frame, sizeof length + message.size()};
    write_parts(std::span<iovec>(&part, 1));
    return;
  }
  iovec parts[2] = {{const_cast<std::uint32_t*>(&length), sizeof length},
                    {const_cast<std::byte*>(message.data()), message.size()}};
  write_parts(std::span<iovec>(parts));
}

// Sends one framed message on an fd (non-blocking, or blocking in slices: see fd.hpp).
void send_frame(int fd, std::span<const std::byte> message, Deadline deadline);

class FrameReader {
 public:
  explicit FrameReader(std::size_t max_message);
  // Reads one framed message from the fd (either kind, see fd.hpp) into `out`. A length of zero or above
  // max_message (or out.size()) is a protocol violation: Corrupt, never a truncation.
  std::size_t receive(int fd, std::span<std::byte> out, Deadline deadline);

 private:
  std::size_t buffered() const { return end_ - begin_; }
  void fill(int fd, std::size_t at_least, Deadline deadline);

  std::size_t max_message_;
  std::vector<std::byte> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace ipcmark
