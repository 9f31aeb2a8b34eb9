// transports/nng/nng_common.cpp — see nng_common.hpp.
#include "transports/nng/nng_common.hpp"

#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace ipcmark::nng_common {

[[noreturn]] void throw_nng(int rv, const std::string& what) {
  throw Error(Errc::System, what + ": " + nng_strerror(rv));
}

void check_nng(int rv, const std::string& what) {
  if (rv != 0) throw_nng(rv, what);
}

void check_max_message(std::size_t max_message) {
  if (max_message == 0 || max_message > kMaxMessage)
    throw Error(Errc::MessageTooLarge,
                std::string(kName) + " messages are limited to 1.." + std::to_string(kMaxMessage) + " bytes");
}

void check_size(std::size_t size, std::size_t max_message) {
  if (size == 0 || size > max_message)
    throw Error(Errc::MessageTooLarge, "message of " + std::to_string(size) + " bytes is outside 1.." +
                                           std::to_string(max_message) + " for this channel");
}

nng_duration timeout_until(Deadline deadline) {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return NNG_DURATION_ZERO;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return static_cast<nng_duration>(std::min<std::int64_t>(ms, std::numeric_limits<nng_duration>::max()));
}

Socket::Socket(int (*open)(nng_socket*), const char* protocol) {
  check_nng(open(&socket_), std::string("cannot open an nng ") + protocol + " socket");
}

bool Socket::close_within(std::chrono::milliseconds bound) {
  if (closed_) return true;
  closed_ = true;
  struct Done {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
  };
  auto done = std::make_shared<Done>();
  try {
    std::thread([socket = socket_, done] {
      nng_close(socket);
      std::lock_guard lock(done->mutex);
      done->done = true;
      done->cv.notify_all();
    }).detach();
  } catch (const std::system_error&) {  // no thread to spare: close here, unbounded
    nng_close(socket_);
    return true;
  }
  std::unique_lock lock(done->mutex);
  return done->cv.wait_for(lock, bound, [&] { return done->done; });
}

Aio::Aio() { check_nng(nng_aio_alloc(&aio_, nullptr, nullptr), "cannot allocate an nng aio"); }

Aio::~Aio() {
  free_message();
  nng_aio_free(aio_);
}

void Aio::free_message() {
  if (nng_msg* message = nng_aio_get_msg(aio_)) {
    nng_msg_free(message);
    nng_aio_set_msg(aio_, nullptr);
  }
}

}  // namespace ipcmark::nng_common
