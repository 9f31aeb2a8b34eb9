// transports/grpc/grpc_client.cpp — the client side of a grpc channel: a gRPC channel to the
// server's unix socket and one generic bidirectional streaming call on it.
#include <chrono>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "transports/grpc/grpc_names.hpp"
#include "transports/grpc/grpc_stream.hpp"

namespace ipcmark::grpc_stream {
namespace {

using namespace std::chrono_literals;

constexpr auto kCloseLinger = 1s;   // for the server to take our last messages and end the call
constexpr auto kCancelWait = 1s;    // a cancelled call ends at once; this only bounds a broken gRPC
constexpr auto kDrainWait = 1s;     // the same, for the completions still owed after that

class ClientStream final : public Stream {
 public:
  explicit ClientStream(const ChannelConfig& config)
      : Stream(config.channel, config.max_message),
        path_(grpc_names::socket_path(config.channel, grpc_names::kChannelSuffix)) {
    check_max_message(config.max_message);
    grpc_names::require_socket_file("grpc", config.channel, path_);
    queue_ = &call_->cq;
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(static_cast<int>(config.max_message));
    args.SetMaxSendMessageSize(static_cast<int>(config.max_message));
    call_->channel =
        grpc::CreateCustomChannel(grpc_names::grpc_address(path_), grpc::InsecureChannelCredentials(), args);
    call_->stub = std::make_unique<grpc::GenericStub>(call_->channel);
    // Not wait-for-ready (gRPC's default): a socket file nobody listens on fails the call at once
    // (UNAVAILABLE, mapped to DoesNotExist in accept()) instead of retrying with backoff.
    call_->stream = call_->stub->PrepareCall(&call_->context, kMethod, &call_->cq);
    call_->stream->StartCall(tag(Op::Start));
  }

  ~ClientStream() override {
    begin_closing();
    try {
      const Deadline linger = Clock::now() + kCloseLinger;
      if (started_ && !finished_ && sent_data_) {
        // Half-close after our last write, then wait for the server to end the call: our
        // messages reach it before the end of the stream. A cancel could discard them. A client
        // that sent nothing (a fanout reader, a stream's client) cancels at once: its server may
        // not be polling at all (a fanout writer waits for the harness's stop).
        if (wait_until([&] { return !write_posted_; }, linger) && !read_ended_)
          call_->stream->WritesDone(tag(Op::WritesDone));
        post_finish();
        wait_until([&] { return finished_; }, linger);
      }
      if (!finished_) {
        call_->context.TryCancel();  // every operation of the call now ends
        if (started_ || start_failed_) {
          post_finish();
          wait_until([&] { return finished_; }, Clock::now() + kCancelWait);
        }
      }
    } catch (const Error&) {
    }
    // A cancelled call should owe nothing, but a closing client whose server was not polling
    // its queue waited here forever once in a few fanout runs: never wait without a bound.
    if (!drain(Clock::now() + kDrainWait)) (void)call_.release();  // leaked on purpose: see drain()
  }

  void accept(Deadline deadline) override {
    if (!wait_until([&] { return started_ || start_failed_; }, deadline))
      throw Error(Errc::Timeout, "timed out waiting for the grpc server on " + path_);
    if (start_failed_) {
      post_finish();
      if (!wait_until([&] { return finished_; }, deadline))
        throw Error(Errc::Timeout, "timed out waiting for the grpc server on " + path_);
      grpc_names::throw_status(channel_, path_, call_->status, false);
    }
    read_ahead();
  }

 private:
  void post_read(grpc::ByteBuffer* into) override { call_->stream->Read(into, tag(Op::Read)); }
  void post_write(const grpc::ByteBuffer& message) override { call_->stream->Write(message, tag(Op::Write)); }

  void on_completion(Op op, bool ok) override {
    if (op == Op::Start) (ok ? started_ : start_failed_) = true;
    if (op == Op::Finish) finished_ = true;
  }

  void post_finish() {
    if (finish_posted_) return;
    finish_posted_ = true;
    read_ahead();  // gRPC hands out the status only after every message: keep taking them
    call_->stream->Finish(&call_->status, tag(Op::Finish));
  }

  // On the heap, so that a call whose queue cannot be drained can be left alive.
  struct Call {
    // Destroyed in reverse: the call, its context, the stub and channel, then the queue.
    grpc::CompletionQueue cq;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<grpc::GenericStub> stub;
    grpc::ClientContext context;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream;
    grpc::Status status;  // Finish's
  };

  std::string path_;
  std::unique_ptr<Call> call_ = std::make_unique<Call>();
  bool started_ = false;
  bool start_failed_ = false;
  bool finish_posted_ = false;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<Connection> connect(const ChannelConfig& config) { return std::make_unique<ClientStream>(config); }

}  // namespace ipcmark::grpc_stream
