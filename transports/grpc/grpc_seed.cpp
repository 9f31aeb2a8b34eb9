// transports/grpc/grpc_seed.cpp — the grpc one-shot demo (see grpc_seed.hpp). Each reader makes one
// unary generic call; the publication answers it with the message and ends it at once
// (WriteAndFinish), any number of readers at a time, in the thread that calls serve_readers().
#include "transports/grpc/grpc_seed.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <list>

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>

#include "transports/grpc/grpc_bytes.hpp"
#include "transports/grpc/grpc_names.hpp"

namespace ipcmark::grpc_seed {
namespace {

using namespace std::chrono_literals;
using grpc_names::kMaxMessage;

constexpr const char* kMethod = "/ipcmark.Seed/Fetch";
constexpr auto kPublishPoll = 50ms;    // serve_readers' stop() cadence
constexpr auto kShutdownGrace = 200ms;  // let the last reader's answer out

class GrpcPublication final : public Publication {
 public:
  GrpcPublication(const std::string& channel, std::span<const std::byte> message)
      : name_(grpc_names::ServerName::claim(channel, grpc_names::kNewsSuffix)), answer_(grpc_bytes::copy_in(message)) {
    grpc::ServerBuilder builder;
    int bound = 0;
    builder.AddListeningPort(grpc_names::grpc_address(name_.path()), grpc::InsecureServerCredentials(), &bound);
    builder.RegisterAsyncGenericService(&service_);
    builder.SetMaxSendMessageSize(static_cast<int>(kMaxMessage));
    cq_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
    if (!server_ || bound == 0) {
      if (server_) server_->Shutdown();
      drain();
      throw Error(Errc::System, "grpc channel '" + channel + "': gRPC cannot listen on " + name_.path());
    }
    name_.adopt();
  }

  ~GrpcPublication() override {
    server_->Shutdown(std::chrono::system_clock::now() + kShutdownGrace);
    drain();
  }

  void serve_readers(bool (*stop)()) override {
    if (!requested_) request_next();
    while (!stop()) {
      void* tag = nullptr;
      bool ok = false;
      const auto status = cq_->AsyncNext(&tag, &ok, std::chrono::system_clock::now() + kPublishPoll);
      if (status == grpc::CompletionQueue::SHUTDOWN) throw Error(Errc::System, "grpc publication: the queue has shut down");
      if (status != grpc::CompletionQueue::GOT_EVENT) continue;
      auto reader = std::find_if(readers_.begin(), readers_.end(), [&](const Reader& r) { return &r == tag; });
      if (reader->answering || !ok) {  // answered (or gone): that call is over
        if (!reader->answering) requested_ = false;
        readers_.erase(reader);
      } else {
        reader->answering = true;
        reader->stream.WriteAndFinish(answer_, grpc::WriteOptions(), grpc::Status::OK, &*reader);
        requested_ = false;
      }
      if (!requested_) request_next();
    }
  }

 private:
  // One reader's call, from the moment we ask gRPC for the next one until it is answered.
  struct Reader {
    grpc::GenericServerContext context;
    grpc::GenericServerAsyncReaderWriter stream{&context};
    bool answering = false;
  };

  void request_next() {
    Reader& reader = readers_.emplace_back();
    service_.RequestCall(&reader.context, &reader.stream, cq_.get(), cq_.get(), &reader);
    requested_ = true;
  }

  void drain() noexcept {
    cq_->Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq_->Next(&tag, &ok)) {
    }
  }

  grpc_names::ServerName name_;
  grpc::ByteBuffer answer_;
  // Destroyed in reverse: the calls, then the server, then the service and the queue it used.
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  grpc::AsyncGenericService service_;
  std::unique_ptr<grpc::Server> server_;
  std::list<Reader> readers_;  // a list: each Reader's address is its tag
  bool requested_ = false;
};

}  // namespace

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size, std::span<const std::byte> message,
                                     bool replace) {
  check_publish_size(message.size(), size);
  if (message.size() > kMaxMessage)
    throw Error(Errc::MessageTooLarge, "grpc messages are limited to " + std::to_string(kMaxMessage) + " bytes");
  if (replace) ::unlink(grpc_names::socket_path(channel, grpc_names::kNewsSuffix).c_str());
  return std::make_unique<GrpcPublication>(channel, message);
}

std::string fetch(const std::string& channel, Deadline deadline) {
  const std::string path = grpc_names::socket_path(channel, grpc_names::kNewsSuffix);
  grpc_names::require_socket_file("grpc", channel, path);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(kMaxMessage));
  grpc::GenericStub stub(grpc::CreateCustomChannel(grpc_names::grpc_address(path), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  // gRPC ends the call at the deadline itself (DEADLINE_EXCEEDED: Timeout).
  context.set_deadline(std::chrono::system_clock::now() +
                       std::clamp<Clock::duration>(deadline - Clock::now(), Clock::duration::zero(), 24h));
  grpc::CompletionQueue cq;
  const std::byte ask{'?'};
  auto call = stub.PrepareUnaryCall(&context, kMethod, grpc_bytes::copy_in(std::span(&ask, 1)), &cq);
  call->StartCall();
  grpc::ByteBuffer reply;
  grpc::Status status;
  call->Finish(&reply, &status, nullptr);
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (!status.ok()) grpc_names::throw_status(channel, path, status, false);
  std::string text(reply.Length(), '\0');
  grpc_bytes::copy_out(reply, reinterpret_cast<std::byte*>(text.data()));
  return text;
}

}  // namespace ipcmark::grpc_seed
