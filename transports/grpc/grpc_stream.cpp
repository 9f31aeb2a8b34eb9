// transports/grpc/grpc_stream.cpp — what both sides of the grpc stream share (see grpc_stream.hpp).
#include "transports/grpc/grpc_stream.hpp"

#include <grpc/support/time.h>

#include <algorithm>

#include "transports/grpc/grpc_bytes.hpp"
#include "transports/grpc/grpc_names.hpp"

namespace ipcmark::grpc_stream {

using namespace std::chrono_literals;

void check_max_message(std::size_t max_message) {
  if (max_message == 0 || max_message > grpc_names::kMaxMessage)
    throw Error(Errc::MessageTooLarge,
                "grpc messages are limited to 1.." + std::to_string(grpc_names::kMaxMessage) + " bytes");
}

void Stream::send(std::span<const std::byte> message, Deadline deadline) {
  if (message.empty() || message.size() > max_message_)
    throw Error(Errc::MessageTooLarge, "message of " + std::to_string(message.size()) + " bytes is outside 1.." +
                                           std::to_string(max_message_) + " for this channel");
  if (!wait_until([&] { return !write_posted_; }, deadline))
    throw Error(Errc::Timeout, "timed out waiting for the peer to make room");
  if (write_failed_ || read_ended_) throw_peer_gone();
  outgoing_ = grpc_bytes::copy_in(message);  // gRPC's own copy: the caller may reuse its buffer
  write_posted_ = true;
  sent_data_ = true;
  post_write(outgoing_);
  read_ahead();  // after the write, so gRPC's window update for the last read goes out with the data
}

std::size_t Stream::receive(std::span<std::byte> buffer, Deadline deadline) {
  for (;;) {
    if (message_ready_) {
      message_ready_ = false;
      const std::size_t size = incoming_.Length();
      if (size > buffer.size())
        throw Error(Errc::Corrupt, "grpc channel '" + channel_ + "' delivered " + std::to_string(size) +
                                       " bytes into a buffer of " + std::to_string(buffer.size()));
      grpc_bytes::copy_out(incoming_, buffer.data());
      incoming_.Clear();
      // The next read is posted by the next send() or receive(), not here: posting it makes gRPC
      // send a window update at once, a second sendmsg per message that a reply would carry.
      return size;
    }
    if (read_ended_) throw_peer_gone();  // only after every message that arrived first
    read_ahead();
    if (!handle_next(deadline)) throw Error(Errc::Timeout, "timed out waiting for data");
  }
}

void Stream::read_ahead() {
  if (read_posted_ || read_ended_ || message_ready_) return;
  read_posted_ = true;
  post_read(&incoming_);
}

namespace {

// gRPC takes its own clock's time points: hand it the time left, at most an hour at a time (a
// far deadline must not overflow gpr_timespec).
gpr_timespec grpc_time_of(Deadline deadline) {
  const auto left = std::clamp<Clock::duration>(deadline - Clock::now(), Clock::duration::zero(), 1h);
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(left).count(), GPR_TIMESPAN));
}

}  // namespace

bool Stream::handle_next(Deadline deadline) {
  for (;;) {
    void* tag = nullptr;
    bool ok = false;
    switch (queue_->AsyncNext(&tag, &ok, grpc_time_of(deadline))) {
      case grpc::CompletionQueue::GOT_EVENT:
        dispatch(static_cast<Op>(reinterpret_cast<std::intptr_t>(tag)), ok);
        return true;
      case grpc::CompletionQueue::TIMEOUT:
        if (Clock::now() >= deadline) return false;
        continue;
      case grpc::CompletionQueue::SHUTDOWN:
        throw Error(Errc::System, "grpc channel '" + channel_ + "': the completion queue has shut down");
    }
  }
}

void Stream::dispatch(Op op, bool ok) {
  switch (op) {
    case Op::Read:
      read_posted_ = false;
      if (!ok) {
        read_ended_ = true;
      } else if (closing_) {
        incoming_.Clear();  // nobody will read it: keep taking messages until the call ends
        read_ahead();
      } else {
        message_ready_ = true;
      }
      break;
    case Op::Write:
      write_posted_ = false;
      if (!ok) write_failed_ = true;
      break;
    default:
      on_completion(op, ok);
  }
  if (read_ended_ && !write_posted_) on_peer_done();
}

void Stream::begin_closing() {
  closing_ = true;
  if (message_ready_) {
    message_ready_ = false;
    incoming_.Clear();
  }
}

bool Stream::drain(Deadline deadline) noexcept {
  queue_->Shutdown();
  void* tag = nullptr;
  bool ok = false;
  for (;;) {
    switch (queue_->AsyncNext(&tag, &ok, grpc_time_of(deadline))) {
      case grpc::CompletionQueue::GOT_EVENT:
        continue;
      case grpc::CompletionQueue::SHUTDOWN:
        return true;
      case grpc::CompletionQueue::TIMEOUT:
        if (Clock::now() >= deadline) {
          (void)buffers_.release();  // leaked on purpose: a pending read or write may use them
          return false;
        }
    }
  }
}

void Stream::throw_peer_gone() const {
  throw Error(Errc::PeerGone, "the peer closed grpc channel '" + channel_ + "' or its process exited");
}

}  // namespace ipcmark::grpc_stream
