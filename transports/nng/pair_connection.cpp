// transports/nng/pair_connection.cpp — a point-to-point channel over an nng pair1 socket (see
// nng.cpp for the choices).
//
// One aio per Connection carries every send and receive, with the time left to the deadline as
// its timeout; the peer's departure aborts it (PeerWatch). A receiver that finds the peer gone
// first takes what nng already holds for it, then reports PeerGone.
//
// Closing: nng_close discards what the socket still holds to send, and nng has no linger. So a
// Connection whose peer is still there says goodbye on destruction — an empty message (data
// messages are 1..max_message bytes, so it cannot be mistaken for one), which the peer's
// receive() reports as PeerGone once everything sent before it has been received — and waits,
// up to kGoodbyeWait, for the peer's own goodbye or its departure, discarding data meanwhile.
// Either one means the peer has read our goodbye, so everything we sent before it, or has gone.
// A receiver that gets the goodbye answers with its own at once (answer_goodbye), so closing
// waits only while the peer is still reading what came before. A side that never sent data has
// nothing to lose and does not wait: a fanout reader or a stream's client, whose peer may not be
// receiving at all (a fanout writer waits for the harness's stop), would otherwise wait it out.
#include "transports/nng/pair_connection.hpp"

#include <nng/nng.h>  // before the protocol header, which relies on it
#include <nng/protocol/pair1/pair.h>

#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "transports/names.hpp"
#include "transports/nng/nng_common.hpp"
#include "transports/nng/nng_endpoints.hpp"
#include "transports/nng/peer_watch.hpp"

namespace ipcmark::nng_pair {
namespace {

using namespace std::chrono_literals;
using namespace nng_common;

constexpr auto kGoodbyeWait = 1s;
constexpr auto kAnswerWait = 100ms;

class PairConnection final : public Connection {
 public:
  PairConnection(const ChannelConfig& config, bool is_server)
      : channel_(config.channel), is_server_(is_server), max_message_(config.max_message) {
    validate_channel_name(config.channel);
    check_max_message(config.max_message);
    // Refuse bigger frames at the transport (nng closes the pipe: the peer is gone) instead of
    // buffering them; RECVMAXSZ's default of 1 MiB would refuse legal ones.
    check_nng(nng_socket_set_size(socket_.get(), NNG_OPT_RECVMAXSZ, max_message_ + kProtocolHeader),
              "nng set " NNG_OPT_RECVMAXSZ);
    watch_.watch(socket_.get(), aio_.get());
    if (is_server_)
      name_ = nng_endpoints::listen_at(socket_.get(), channel_, nng_endpoints::kChannelSuffix);
    else
      nng_endpoints::dial(socket_.get(), channel_, nng_endpoints::kChannelSuffix);
  }

  ~PairConnection() override {
    if (watch_.joined() && !watch_.gone() && !peer_said_goodbye_) say_goodbye(/*wait_for_answer=*/sent_data_);
    // The socket first (no callbacks after it), then the watch and aio, then the name. A close
    // that hangs in nng (Socket::close_within) leaves the core behind: its callbacks use it.
    if (!core_->socket.close_within(Socket::kCloseBound)) (void)core_.release();
  }

  void accept(Deadline deadline) override {
    watch_.wait_for_peer(deadline, is_server_ ? "the client to connect" : "the connection to the server");
  }

  void send(std::span<const std::byte> message, Deadline deadline) override {
    check_size(message.size(), max_message_);
    if (peer_said_goodbye_) throw_peer_gone();
    send_bytes(message, deadline);
    sent_data_ = true;
  }

  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    if (peer_said_goodbye_) throw_peer_gone();
    for (;;) {
      const bool gone = watch_.gone();
      // Once the peer has gone, only what nng already holds: timeout zero.
      const int rv = watch_.run(nng_recv_aio, socket_.get(), gone ? NNG_DURATION_ZERO : timeout_until(deadline));
      if (rv == 0) return take(buffer);
      if (gone) throw_peer_gone();
      if (watch_.gone()) continue;  // it left while we waited: take what it sent first
      if (rv == NNG_ETIMEDOUT) {
        if (Clock::now() >= deadline) throw Error(Errc::Timeout, "timed out waiting for data");
        continue;  // nng's timer ran out a little early
      }
      throw_nng(rv, "nng receive");
    }
  }

 private:
  void send_bytes(std::span<const std::byte> message, Deadline deadline) {
    if (watch_.gone()) throw_peer_gone();
    nng_msg* msg = nullptr;
    check_nng(nng_msg_alloc(&msg, message.size()), "nng_msg_alloc");
    if (!message.empty()) std::memcpy(nng_msg_body(msg), message.data(), message.size());
    nng_aio_set_msg(aio_.get(), msg);  // the socket takes it on success; on failure it stays with the aio
    for (;;) {
      const int rv = watch_.run(nng_send_aio, socket_.get(), timeout_until(deadline));
      if (rv == 0) return;
      if (watch_.gone()) {
        aio_.free_message();
        throw_peer_gone();
      }
      if (rv == NNG_ETIMEDOUT && Clock::now() < deadline) continue;
      aio_.free_message();
      if (rv == NNG_ETIMEDOUT) throw Error(Errc::Timeout, "timed out waiting for the peer to make room");
      throw_nng(rv, "nng send");
    }
  }

  // The message the last receive completed with, copied into `buffer`.
  std::size_t take(std::span<std::byte> buffer) {
    nng_msg* msg = nng_aio_get_msg(aio_.get());
    nng_aio_set_msg(aio_.get(), nullptr);
    const std::size_t size = nng_msg_len(msg);
    if (size == 0) {
      nng_msg_free(msg);
      peer_said_goodbye_ = true;
      answer_goodbye();
      throw_peer_gone();
    }
    if (size > buffer.size()) {
      nng_msg_free(msg);
      throw Error(Errc::Corrupt, std::string(kName) + " channel '" + channel_ + "' delivered " + std::to_string(size) +
                                     " bytes into a buffer of " + std::to_string(buffer.size()));
    }
    std::memcpy(buffer.data(), nng_msg_body(msg), size);
    nng_msg_free(msg);
    return size;
  }

  [[noreturn]] void throw_peer_gone() const {
    const pid_t pid = watch_.peer_pid();
    const std::string who = pid > 0 ? "the peer process (pid " + std::to_string(pid) + ")" : "the peer";
    throw Error(Errc::PeerGone, who + (peer_said_goodbye_ ? " closed the channel" : " has exited or closed the channel"));
  }

  // The peer, closing, waits for our goodbye (or our departure): answer at once, so it need not
  // wait for our close. Nothing we send after its goodbye would be read anyway.
  void answer_goodbye() noexcept {
    try {
      send_bytes({}, Clock::now() + kAnswerWait);
    } catch (const Error&) {
    } catch (const std::bad_alloc&) {
    }
  }

  // See the file comment. Never throws: a destructor's best effort.
  void say_goodbye(bool wait_for_answer) noexcept {
    const Deadline deadline = Clock::now() + kGoodbyeWait;
    try {
      send_bytes({}, deadline);
      if (!wait_for_answer) return;
      std::vector<std::byte> sink(max_message_);
      for (;;) receive(sink, deadline);
    } catch (const Error&) {
    } catch (const std::bad_alloc&) {
    }
  }

  std::string channel_;
  bool is_server_;
  std::size_t max_message_;
  bool peer_said_goodbye_ = false;
  bool sent_data_ = false;  // whether closing must wait until the peer has read it
  OwnedFile name_;  // unlinked last, once nothing listens on it
  struct Core {  // what nng's callbacks use, in the order it must be destroyed (last first)
    Aio aio;
    PeerWatch watch;
    Socket socket{nng_pair1_open, "pair1"};
  };
  std::unique_ptr<Core> core_ = std::make_unique<Core>();
  Aio& aio_ = core_->aio;
  PeerWatch& watch_ = core_->watch;
  Socket& socket_ = core_->socket;
};

}  // namespace

std::unique_ptr<Connection> serve(const ChannelConfig& config) { return std::make_unique<PairConnection>(config, true); }

std::unique_ptr<Connection> connect(const ChannelConfig& config) {
  return std::make_unique<PairConnection>(config, false);
}

}  // namespace ipcmark::nng_pair
