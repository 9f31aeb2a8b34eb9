#include "transports/common/framing.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "transports/common/fd.hpp"

namespace ipcmark {

namespace {
constexpr std::size_t kReadAhead = 64 * 1024;  // the default pipe/socket buffer size
}

void send_frame(int fd, std::span<const std::byte> message, Deadline deadline) {
  with_frame(message, [&](std::span<iovec> parts) { write_all(fd, parts, deadline); });
}

FrameReader::FrameReader(std::size_t max_message) : max_message_(max_message), buffer_(kReadAhead) {}

void FrameReader::fill(int fd, std::size_t at_least, Deadline deadline) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (buffer_.size() - begin_ < at_least) {  // compact so the header fits contiguously
    std::memmove(buffer_.data(), buffer_.data() + begin_, buffered());
    end_ -= begin_;
    begin_ = 0;
  }
  while (buffered() < at_least)
    end_ += read_some(fd, std::span(buffer_).subspan(end_), deadline);
}

std::size_t FrameReader::receive(int fd, std::span<std::byte> out, Deadline deadline) {
  std::uint32_t length = 0;
  if (buffered() < sizeof length) fill(fd, sizeof length, deadline);
  std::memcpy(&length, buffer_.data() + begin_, sizeof length);
  if (length == 0 || length > max_message_ || length > out.size())
    throw Error(Errc::Corrupt, "received a frame of " + std::to_string(length) +
                                   " bytes, outside 1.." + std::to_string(std::min(max_message_, out.size())));
  begin_ += sizeof length;

  const std::size_t from_buffer = std::min<std::size_t>(length, buffered());
  std::memcpy(out.data(), buffer_.data() + begin_, from_buffer);
  begin_ += from_buffer;
  if (from_buffer < length) read_exact(fd, out.subspan(from_buffer, length - from_buffer), deadline);
  return length;
}

}  // namespace ipcmark
