// transports/nng/publication.cpp — the one-shot demo over nng: a rep0 socket on
// <channel>.nng-news answers every request with the message; a reader's req0 asks once.
//
// req/rep rather than pair: a publication serves any number of readers, at the same time too,
// and pair1 takes one peer at a time (it refuses the others' connections). rep0 routes each
// answer back to the pipe that asked; a reader that has gone meanwhile is simply not answered.
#include "transports/nng/publication.hpp"

#include <unistd.h>

#include <nng/nng.h>  // before the protocol headers, which rely on it
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include <vector>

#include "transports/nng/nng_common.hpp"
#include "transports/nng/nng_endpoints.hpp"

namespace ipcmark::nng_seed {
namespace {

using namespace nng_common;

constexpr nng_duration kServePollMs = 50;  // serve_readers' stop() cadence
constexpr nng_duration kAnswerMs = 50;     // a reader that does not take its answer is left behind

class NngPublication final : public Publication {
 public:
  NngPublication(const std::string& channel, std::span<const std::byte> message)
      : message_(message.begin(), message.end()) {
    check_nng(nng_socket_set_ms(socket_.get(), NNG_OPT_RECVTIMEO, kServePollMs), "nng set " NNG_OPT_RECVTIMEO);
    check_nng(nng_socket_set_ms(socket_.get(), NNG_OPT_SENDTIMEO, kAnswerMs), "nng set " NNG_OPT_SENDTIMEO);
    name_ = nng_endpoints::listen_at(socket_.get(), channel, nng_endpoints::kNewsSuffix);
  }

  void serve_readers(bool (*stop)()) override {
    while (!stop()) {
      nng_msg* request = nullptr;
      const int rv = nng_recvmsg(socket_.get(), &request, 0);
      if (rv == NNG_ETIMEDOUT) continue;
      check_nng(rv, "nng serve readers");
      nng_msg_free(request);
      // Errors here are one reader's (it left, or does not read): the others are still served.
      (void)nng_send(socket_.get(), message_.data(), message_.size(), 0);
    }
  }

 private:
  std::vector<std::byte> message_;
  OwnedFile name_;  // unlinked after the socket below has closed
  Socket socket_{nng_rep0_open, "rep0"};
};

}  // namespace

std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size,
                                     std::span<const std::byte> message, bool replace) {
  check_publish_size(message.size(), size);
  check_max_message(message.size());
  if (replace) ::unlink(nng_endpoints::socket_path(channel, nng_endpoints::kNewsSuffix).c_str());
  return std::make_unique<NngPublication>(channel, message);
}

std::string fetch(const std::string& channel, Deadline deadline) {
  Socket socket{nng_req0_open, "req0"};
  check_nng(nng_socket_set_size(socket.get(), NNG_OPT_RECVMAXSZ, kMaxMessage + 64), "nng set " NNG_OPT_RECVMAXSZ);
  nng_endpoints::dial(socket.get(), channel, nng_endpoints::kNewsSuffix);
  const char ask = '?';
  check_nng(nng_socket_set_ms(socket.get(), NNG_OPT_SENDTIMEO, timeout_until(deadline)), "nng set " NNG_OPT_SENDTIMEO);
  if (const int rv = nng_send(socket.get(), const_cast<char*>(&ask), 1, 0); rv != 0) {
    if (rv == NNG_ETIMEDOUT) throw Error(Errc::Timeout, "timed out waiting for the server to accept the reader");
    throw_nng(rv, "nng fetch");
  }
  check_nng(nng_socket_set_ms(socket.get(), NNG_OPT_RECVTIMEO, timeout_until(deadline)), "nng set " NNG_OPT_RECVTIMEO);
  nng_msg* reply = nullptr;
  if (const int rv = nng_recvmsg(socket.get(), &reply, 0); rv != 0) {
    if (rv == NNG_ETIMEDOUT) throw Error(Errc::Timeout, "timed out waiting for the server to send the message");
    throw_nng(rv, "nng fetch");
  }
  std::string text(static_cast<const char*>(nng_msg_body(reply)), nng_msg_len(reply));
  nng_msg_free(reply);
  return text;
}

}  // namespace ipcmark::nng_seed
