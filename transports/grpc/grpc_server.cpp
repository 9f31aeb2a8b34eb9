// transports/grpc/grpc_server.cpp — the server side of a grpc channel: a gRPC server listening on
// the channel's unix socket with an async generic service, and the one call it accepts.
#include <chrono>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "transports/grpc/grpc_names.hpp"
#include "transports/grpc/grpc_stream.hpp"

namespace ipcmark::grpc_stream {
namespace {

using namespace std::chrono_literals;

constexpr auto kCloseLinger = 1s;  // flush what we sent while the client can still take it
constexpr auto kDrainWait = 2s;    // Shutdown cancels everything: this only bounds a broken gRPC

class ServerStream final : public Stream {
 public:
  explicit ServerStream(const ChannelConfig& config)
      : Stream(config.channel, config.max_message),
        name_(grpc_names::ServerName::claim(config.channel, grpc_names::kChannelSuffix)) {
    check_max_message(config.max_message);
    grpc::ServerBuilder builder;
    int bound = 0;
    builder.AddListeningPort(grpc_names::grpc_address(name_.path()), grpc::InsecureServerCredentials(), &bound);
    builder.RegisterAsyncGenericService(&call_->service);
    builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message));
    builder.SetMaxSendMessageSize(static_cast<int>(config.max_message));
    call_->cq = builder.AddCompletionQueue();
    queue_ = call_->cq.get();
    call_->server = builder.BuildAndStart();
    if (!call_->server || bound == 0) {
      if (call_->server) call_->server->Shutdown();
      if (!drain(Clock::now() + kDrainWait)) (void)call_.release();  // leaked on purpose: see drain()
      throw Error(Errc::System, "grpc channel '" + config.channel + "': gRPC cannot listen on " + name_.path());
    }
    name_.adopt();
    call_->service.RequestCall(&call_->context, &call_->stream, call_->cq.get(), call_->cq.get(), tag(Op::Accept));
  }

  ~ServerStream() override {
    begin_closing();
    try {
      const Deadline linger = Clock::now() + kCloseLinger;
      if (accepted_ && !finish_posted_ && wait_until([&] { return !write_posted_; }, linger)) post_finish();
      if (finish_posted_) wait_until([&] { return finished_; }, linger);
    } catch (const Error&) {
    }
    call_->server->Shutdown(std::chrono::system_clock::now());  // cancels whatever is left at once
    if (!drain(Clock::now() + kDrainWait)) (void)call_.release();  // leaked on purpose: see drain()
  }

  void accept(Deadline deadline) override {
    if (!wait_until([&] { return accepted_ || accept_failed_; }, deadline))
      throw Error(Errc::Timeout, "timed out waiting for the client to connect");
    if (accept_failed_) throw Error(Errc::System, "grpc channel '" + channel_ + "': the server stopped accepting");
    read_ahead();
  }

 private:
  void post_read(grpc::ByteBuffer* into) override { call_->stream.Read(into, tag(Op::Read)); }
  void post_write(const grpc::ByteBuffer& message) override { call_->stream.Write(message, tag(Op::Write)); }

  void on_completion(Op op, bool ok) override {
    if (op == Op::Accept) (ok ? accepted_ : accept_failed_) = true;
    if (op == Op::Finish) finished_ = true;
  }

  // The client closed its side (or died): end the call, so that a closing client's Finish
  // returns at once instead of waiting for us to be destroyed.
  void on_peer_done() override {
    if (!finish_posted_) post_finish();
  }

  void post_finish() {
    finish_posted_ = true;
    call_->stream.Finish(grpc::Status::OK, tag(Op::Finish));
  }

  // On the heap, so that a server whose queue cannot be drained can be left alive.
  struct Call {
    // Destroyed in reverse: the call, then the server, then the service and the queue it used.
    std::unique_ptr<grpc::ServerCompletionQueue> cq;
    grpc::AsyncGenericService service;
    std::unique_ptr<grpc::Server> server;
    grpc::GenericServerContext context;
    grpc::GenericServerAsyncReaderWriter stream{&context};
  };

  grpc_names::ServerName name_;
  std::unique_ptr<Call> call_ = std::make_unique<Call>();
  bool accepted_ = false;
  bool accept_failed_ = false;
  bool finish_posted_ = false;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<Connection> serve(const ChannelConfig& config) { return std::make_unique<ServerStream>(config); }

}  // namespace ipcmark::grpc_stream
