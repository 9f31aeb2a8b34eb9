// transports/grpc/grpc_stream.hpp — one side of the grpc transport's bidirectional stream: what the
// server side (grpc_server.cpp) and the client side (grpc_client.cpp) share. Internal to
// transports/grpc/; grpc.cpp's header comment explains the choices.
//
// Everything runs in the caller's thread on a completion queue: every wait is one
// CompletionQueue::AsyncNext bounded by the operation's deadline, so a receive() with nothing to
// read returns Timeout in time (the synchronous streaming API has no per-Read deadline). One read is
// always posted ahead (the next message lands while the caller works) and at most one write is in
// flight, as gRPC allows: send() waits for the previous write before it posts the next, so a reader
// that does not read stops the writer through HTTP/2 flow control (back-pressure, never a drop).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <grpcpp/completion_queue.h>
#include <grpcpp/support/byte_buffer.h>

#include "transports/transport.hpp"

namespace ipcmark::grpc_stream {

// The generic call's method name: the generic API takes any; both sides use this one.
inline constexpr const char* kMethod = "/ipcmark.Channel/Stream";

class Stream : public Connection {
 public:
  void send(std::span<const std::byte> message, Deadline deadline) override;
  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override;

 protected:
  // What a completion-queue tag stands for: each operation has at most one in flight.
  enum class Op : std::intptr_t { Accept = 1, Start, Read, Write, WritesDone, Finish };
  static void* tag(Op op) { return reinterpret_cast<void*>(static_cast<std::intptr_t>(op)); }

  Stream(std::string channel, std::size_t max_message) : channel_(std::move(channel)), max_message_(max_message) {}

  // The concrete stream's Read and Write.
  virtual void post_read(grpc::ByteBuffer* into) = 0;
  virtual void post_write(const grpc::ByteBuffer& message) = 0;
  // A completion other than Read or Write.
  virtual void on_completion(Op op, bool ok) = 0;
  // The peer's side of the stream has ended and our last write is done (server: finish the call).
  virtual void on_peer_done() {}

  // Waits for one completion until `deadline` and handles it; false once the deadline has passed.
  bool handle_next(Deadline deadline);
  template <class Done>
  bool wait_until(Done done, Deadline deadline) {
    while (!done())
      if (!handle_next(deadline)) return false;
    return true;
  }
  // Posts the read-ahead unless one is posted or the stream has ended.
  void read_ahead();
  // From here on, messages are taken and dropped (a destructor waiting for the call to end).
  void begin_closing();
  // Shuts the queue down and takes every completion left (all operations must be ending); false
  // if some are still pending at `deadline`. What a pending operation may still write into (the
  // queue, the call, its buffers and status) must then outlive us: drain() leaks the buffers, the
  // side leaks the rest (gRPC asserts, or waits forever, destroying a queue with work pending).
  [[nodiscard]] bool drain(Deadline deadline) noexcept;

  [[noreturn]] void throw_peer_gone() const;

  grpc::CompletionQueue* queue_ = nullptr;  // set by the side that owns it
  std::string channel_;
  std::size_t max_message_;
  bool read_posted_ = false;
  bool message_ready_ = false;  // incoming_ holds the next message
  bool read_ended_ = false;     // the peer's side ended: it closed, finished or died
  bool write_posted_ = false;
  bool write_failed_ = false;
  bool sent_data_ = false;  // whether closing must let the peer take what we sent

 private:
  void dispatch(Op op, bool ok);

  bool closing_ = false;

  struct Buffers {  // on the heap: see drain()
    grpc::ByteBuffer incoming;
    grpc::ByteBuffer outgoing;  // alive until its write completes
  };
  std::unique_ptr<Buffers> buffers_ = std::make_unique<Buffers>();
  grpc::ByteBuffer& incoming_ = buffers_->incoming;
  grpc::ByteBuffer& outgoing_ = buffers_->outgoing;
};

// The two sides (grpc_server.cpp, grpc_client.cpp).
std::unique_ptr<Connection> serve(const ChannelConfig& config);
std::unique_ptr<Connection> connect(const ChannelConfig& config);

// MessageTooLarge unless 1 <= max_message <= grpc_names::kMaxMessage.
void check_max_message(std::size_t max_message);

}  // namespace ipcmark::grpc_stream
