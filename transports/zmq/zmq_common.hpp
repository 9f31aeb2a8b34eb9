// transports/zmq/zmq_common.hpp — what the zmq transports' point-to-point channel (zmq.cpp) and
// fanout (zmq_fanout.cpp) share: names and endpoints, errors, bounded waits. Internal to
// transports/zmq/; zmq.cpp's header comment explains the choices.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <zmq.hpp>

#include "transports/common/owned_file.hpp"
#include "transports/common/process.hpp"
#include "transports/transport.hpp"

namespace ipcmark::zmq_common {

using namespace std::chrono_literals;

inline constexpr std::size_t kMaxMessage = 16 * 1024 * 1024;  // the harness buffers cap it; libzmq allows more
inline constexpr auto kPeerCheck = 10ms;                      // how often a waiting side checks the peer pid
inline constexpr auto kDrainAfterPeerGone = 100ms;            // data in flight from a peer that exited
inline constexpr int kCloseLingerMs = 1000;                   // flush on close while the peer lives

enum class Kind { Ipc, Tcp };

struct Flavor {
  Kind kind;
  const char* name;         // transport name, in messages
  const char* suffix;       // channel's name file
  const char* news_suffix;  // one-shot demo's name file
  const char* fan_suffix;   // fanout's name file
};

inline constexpr Flavor kIpc{Kind::Ipc, "zmq", ".zmq", ".zmq-news", ".zmq-fan"};
inline constexpr Flavor kTcp{Kind::Tcp, "zmq-tcp", ".zmqtcp", ".zmqtcp-news", ".zmqtcp-fan"};

// <private runtime dir>/<channel><suffix>; InvalidArgument for a bad channel name.
std::string name_path(const std::string& channel, const char* suffix);

[[noreturn]] void throw_exists(const Flavor& f, const std::string& channel, const std::string& path);
[[noreturn]] void throw_missing(const Flavor& f, const std::string& channel);
[[noreturn]] void rethrow_zmq(const zmq::error_t& e, const char* what);

// MessageTooLarge unless 1 <= max_message <= kMaxMessage.
void check_max_message(const Flavor& f, std::size_t max_message);
// MessageTooLarge unless 1 <= size <= max_message.
void check_size(std::size_t size, std::size_t max_message);

// High-water mark in messages: 64 MiB worth of max_message, 4..1000, so a closed-loop stream of
// big messages blocks instead of ballooning memory.
int high_water_mark(std::size_t max_message);

// Binds `socket` to the channel's name <channel><suffix>; returns the file that now names it.
// AlreadyExists if the name exists. ipc: our own unix socket handed over with ZMQ_USE_FD; tcp:
// an O_EXCL port file holding the port libzmq chose.
OwnedFile bind_endpoint(const Flavor& f, zmq::socket_t& socket, const std::string& channel, const char* suffix);

// The address a client connects to; DoesNotExist at once when the name file is missing
// (ZeroMQ's own connect would wait forever).
std::string connect_address(const Flavor& f, const std::string& channel, const char* suffix);

// One zmq_poll of at most `slice`; true if `socket` is ready for `events`.
bool poll_once(zmq::socket_t& socket, short events, Clock::duration slice);

// Waits until `socket` is ready for `events`, in slices of kPeerCheck, checking `peer` between
// slices. Throws Timeout at the deadline, PeerGone once the peer process has exited (a receiver
// first drains, for up to kDrainAfterPeerGone, what the peer flushed before it exited).
// A default PeerProcess (no peer yet) is never gone.
void wait_ready(zmq::socket_t& socket, short events, Deadline deadline, const PeerProcess& peer,
                const char* waiting_for);

}  // namespace ipcmark::zmq_common
