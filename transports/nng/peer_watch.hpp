// transports/nng/peer_watch.hpp — who is at the other end of an nng pair socket, and when they leave.
//
// nng has no "peer gone" result on pair: when the peer process dies or closes, its pipe is
// removed and the socket quietly waits for another (a dialer even redials). The pipe
// notifications are the signal: the first pipe added is the peer; that pipe's removal
// (NNG_PIPE_EV_REM_POST: the connection closed, whether the process closed it or died) makes
// gone() true for good, and aborts the operation in flight on the watched aio so that a waiting
// send or receive returns at once instead of at its deadline. A pipe that joins later (another
// client; a redial after the peer left) is never taken for the peer.
#pragma once

#include <nng/nng.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <sys/types.h>

#include "transports/transport.hpp"

namespace ipcmark::nng_pair {

class PeerWatch {
 public:
  PeerWatch() = default;
  PeerWatch(const PeerWatch&) = delete;
  PeerWatch& operator=(const PeerWatch&) = delete;

  // Starts watching `socket`'s pipes; the peer's departure aborts what runs on `aio`. Call it
  // before the socket listens or dials. nng calls back until the socket is closed: this object
  // and `aio` must outlive nng_close(socket).
  void watch(nng_socket socket, nng_aio* aio);

  // Waits until a peer has joined (it may have left since). Timeout at the deadline.
  void wait_for_peer(Deadline deadline, const char* waiting_for);

  bool joined() const;
  bool gone() const noexcept { return gone_.load(std::memory_order_acquire); }
  // The peer's pid as nng's ipc transport reports it (0 when unknown or not yet joined).
  pid_t peer_pid() const;

  // Starts an operation on the watched aio (nng_send_aio, nng_recv_aio) and waits for it. A peer
  // that leaves before or while it waits aborts it with NNG_ECONNSHUT. Returns nng's result.
  int run(void (*start)(nng_socket, nng_aio*), nng_socket socket, nng_duration timeout);

 private:
  static void on_pipe_event(nng_pipe pipe, nng_pipe_ev event, void* self);

  mutable std::mutex mutex_;
  std::condition_variable joined_cv_;
  std::uint32_t peer_pipe_ = 0;  // nng pipe ids are never 0
  pid_t peer_pid_ = 0;
  std::atomic<bool> gone_{false};
  nng_aio* aio_ = nullptr;
};

}  // namespace ipcmark::nng_pair
