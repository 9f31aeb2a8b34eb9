// transports/bip_mq/peer_board.hpp — who is at each end of a bip-mq channel, and who has left.
//
// A message_queue knows nothing of the processes using it, so each channel has a small companion
// object, /dev/shm/<channel>.bq-peers, made by serve() after both queues (its presence means the
// channel is ready):
//
//   offset 0   u64 magic | u32 version | u32 depth | u64 max_message       (written once by serve)
//   offset 24  i32 server_pid | i32 client_pid                             (each side writes its own)
//   offset 32  u32 server_closed | u32 client_closed                       (set when a side closes)
//
// Everything read from it is untrusted: open() checks the size, magic, version and limits, pids
// are checked when read, and a truncated object (which reads zeros, transports/shm/region.hpp)
// is Corrupt. A side's closed flag is set after its last send returned, so a reader that sees it
// and then finds the queue empty has every message.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "transports/shm/region.hpp"

namespace ipcmark::bip_mq {

enum class Side { Server, Client };

class PeerBoard {
 public:
  // Creates the object, with our pid as the server's. AlreadyExists if the name is taken.
  static PeerBoard create(const std::string& channel, const std::string& name, std::size_t max_message,
                          std::size_t depth);
  // Opens and checks it; DoesNotExist (naming `channel`) if missing, Corrupt if it fails a check.
  static PeerBoard open(const std::string& channel, const std::string& name);
  static std::size_t size();  // bytes of the object

  std::size_t max_message() const noexcept { return max_message_; }  // checked at open
  std::size_t depth() const noexcept { return depth_; }

  // Records our pid as the client's; AlreadyExists if another live client has the channel.
  void join_as_client();
  // The other side's pid: 0 while not yet known (a client not joined yet); Corrupt if invalid.
  pid_t pid_of(Side side) const;
  void mark_closed(Side side) noexcept;
  bool closed(Side side) const;
  void check_truncation() const { region_.check_truncation(); }

 private:
  PeerBoard(shm::SharedRegion region, std::string channel);
  void check_header();

  shm::SharedRegion region_;
  std::string channel_;
  std::size_t max_message_ = 0, depth_ = 0;
};

}  // namespace ipcmark::bip_mq
