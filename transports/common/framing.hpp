// transports/common/framing.hpp — length-prefixed messages over a byte stream (pipe,
// SOCK_STREAM sockets): [u32 length][payload]. The sender writes both in one writev();
// the receiver reads ahead into a buffer so a stream of small messages costs one read()
// per many messages, and copies large payloads straight into the caller's buffer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "transports/transport.hpp"

namespace ipcmark {

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
