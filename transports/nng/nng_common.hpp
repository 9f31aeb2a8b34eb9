// transports/nng/nng_common.hpp — what the nng transport's parts share: the size limit, nng's
// errors as ipcmark Errors, deadlines as nng timeouts, and owning handles for sockets and aios.
#pragma once

#include <nng/nng.h>

#include <chrono>
#include <cstddef>
#include <string>

#include "transports/transport.hpp"

namespace ipcmark::nng_common {

inline constexpr const char* kName = "nng";
inline constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;  // the harness buffers cap it, as for zmq
// NNG_OPT_RECVMAXSZ counts the frame nng receives, which is the body plus pair1's 4-byte hop count.
inline constexpr std::size_t kProtocolHeader = 4;

// Error{System} "<what>: <nng_strerror(rv)>".
[[noreturn]] void throw_nng(int rv, const std::string& what);
// Throws unless rv is 0.
void check_nng(int rv, const std::string& what);

// MessageTooLarge unless 1 <= max_message <= kMaxMessage.
void check_max_message(std::size_t max_message);
// MessageTooLarge unless 1 <= size <= max_message.
void check_size(std::size_t size, std::size_t max_message);

// The time left until `deadline` in nng's milliseconds, rounded up (a wait never ends before the
// deadline); NNG_DURATION_ZERO once it has passed, which nng treats as "only if ready now".
nng_duration timeout_until(Deadline deadline);

// An open nng socket, closed on destruction. Closing is when nng stops calling the socket's pipe
// callbacks, so whatever they use must outlive this.
class Socket {
 public:
  // `open` is a protocol's opener: nng_pair1_open, nng_rep0_open, ...
  explicit Socket(int (*open)(nng_socket*), const char* protocol);
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { close_within(kCloseBound); }
  nng_socket get() const { return socket_; }

  // nng 1.5.2 (Debian 12) can hang in nng_close while it waits for the socket's pipes to be
  // reaped (a missed wake-up; upstream nng issues #1543, #1813, fixed in later releases). Seen
  // here as a reader stuck for minutes after its last message. So the close runs on a thread of
  // its own and is waited for at most `bound`: false means it is still hanging there, and the
  // socket's callbacks may yet run, so what they use must then be left alive (leaked) too.
  bool close_within(std::chrono::milliseconds bound);
  static constexpr std::chrono::milliseconds kCloseBound{2000};

 private:
  nng_socket socket_ = NNG_SOCKET_INITIALIZER;
  bool closed_ = false;
};

// An aio for synchronous use (no callback), freed on destruction with any message it still holds.
class Aio {
 public:
  Aio();
  Aio(const Aio&) = delete;
  Aio& operator=(const Aio&) = delete;
  ~Aio();
  nng_aio* get() const { return aio_; }
  // Frees the message a failed send left in the aio.
  void free_message();

 private:
  nng_aio* aio_ = nullptr;
};

}  // namespace ipcmark::nng_common
