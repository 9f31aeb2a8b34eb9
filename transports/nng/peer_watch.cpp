// transports/nng/peer_watch.cpp — see peer_watch.hpp.
#include "transports/nng/peer_watch.hpp"

#include "transports/nng/nng_common.hpp"

namespace ipcmark::nng_pair {

void PeerWatch::watch(nng_socket socket, nng_aio* aio) {
  aio_ = aio;
  for (const nng_pipe_ev event : {NNG_PIPE_EV_ADD_POST, NNG_PIPE_EV_REM_POST})
    nng_common::check_nng(nng_pipe_notify(socket, event, &PeerWatch::on_pipe_event, this), "nng_pipe_notify");
}

void PeerWatch::on_pipe_event(nng_pipe pipe, nng_pipe_ev event, void* self) {
  auto& watch = *static_cast<PeerWatch*>(self);
  const auto id = static_cast<std::uint32_t>(nng_pipe_id(pipe));
  if (event == NNG_PIPE_EV_ADD_POST) {
    int pid = 0;
    if (nng_pipe_get_int(pipe, NNG_OPT_IPC_PEER_PID, &pid) != 0) pid = 0;
    {
      std::lock_guard lock(watch.mutex_);
      if (watch.peer_pipe_ != 0) return;  // pair1 has already refused it; not our peer
      watch.peer_pipe_ = id;
      watch.peer_pid_ = pid;
    }
    watch.joined_cv_.notify_all();
    return;
  }
  {
    std::lock_guard lock(watch.mutex_);
    if (id != watch.peer_pipe_) return;
  }
  // gone_ before the abort: run() checks gone_ after starting, so an abort that lands before
  // the operation has started is not lost.
  watch.gone_.store(true, std::memory_order_release);
  nng_aio_abort(watch.aio_, NNG_ECONNSHUT);
}

void PeerWatch::wait_for_peer(Deadline deadline, const char* waiting_for) {
  std::unique_lock lock(mutex_);
  if (!joined_cv_.wait_until(lock, deadline, [&] { return peer_pipe_ != 0; }))
    throw Error(Errc::Timeout, std::string("timed out waiting for ") + waiting_for);
}

bool PeerWatch::joined() const {
  std::lock_guard lock(mutex_);
  return peer_pipe_ != 0;
}

pid_t PeerWatch::peer_pid() const {
  std::lock_guard lock(mutex_);
  return peer_pid_;
}

int PeerWatch::run(void (*start)(nng_socket, nng_aio*), nng_socket socket, nng_duration timeout) {
  nng_aio_set_timeout(aio_, timeout);
  start(socket, aio_);
  if (gone()) nng_aio_abort(aio_, NNG_ECONNSHUT);
  nng_aio_wait(aio_);
  return nng_aio_result(aio_);
}

}  // namespace ipcmark::nng_pair
