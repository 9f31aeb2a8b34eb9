// transports/iceoryx/iceoryx_common.hpp — what the iceoryx channel, fanout and seed demo share:
// topic names, the header every message carries, the server's marker file, loans that wait.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

#include "iceoryx_posh/capro/service_description.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "transports/common/process.hpp"
#include "transports/transport.hpp"

namespace ipcmark::iceoryx {

// Our user header, in every chunk before the payload. It lives in shared memory the peer wrote:
// validate() before trusting any field.
struct MessageHeader {
  static constexpr std::uint32_t kMagic = 0x69786f31;  // "ixo1"
  enum Kind : std::uint32_t { Hello = 1, Data = 2, Credit = 3 };
  std::uint32_t magic = kMagic;
  std::uint32_t kind = Data;
  std::uint64_t sequence = 0;  // Data: 1, 2, ... per direction; Hello: the sender's pid
  std::uint64_t credit = 0;    // messages of the other direction the sender has taken so far
};

// A taken chunk's header and payload, checked: Corrupt unless it carries our header, a known
// kind and a payload of at most `max_payload` bytes.
struct Received {
  const MessageHeader* header;
  const std::byte* payload;
  std::size_t size;
};
Received inspect(const void* user_payload, std::size_t max_payload, const std::string& channel);

// The chunk a Connection::view() lends out, held until release(): one at a time.
class HeldView {
 public:
  // InvalidArgument while a view is held (call before taking the next chunk).
  void check_free() const;
  std::span<const std::byte> hold(const void* chunk, std::size_t max_payload, const std::string& channel);
  // InvalidArgument without a view.
  void release(iox::popo::UntypedSubscriber& subscriber);
  // For destructors: gives back a view still held, if any.
  void drop(iox::popo::UntypedSubscriber& subscriber) noexcept;

 private:
  const void* chunk_ = nullptr;
};

// The iceoryx topic of one direction (`role`: "c2s", "s2c", "fan", "news") of a channel: service
// "ipcmark-<role>", the channel's first 100 characters as the instance, the rest (or "-") as the
// event — every channel name maps to its own topic, as iceoryx's strings hold 100 characters.
iox::capro::ServiceDescription topic(const std::string& channel, const char* role);

// The server's marker file <channel><suffix> in the private runtime dir, holding its pid: iceoryx
// lets any number of publishers offer one topic, so this file is what makes a channel taken.
class ServerMarker {
 public:
  ServerMarker() = default;
  // AlreadyExists if the file exists.
  ServerMarker(const std::string& channel, const char* suffix, const char* kind);
  ServerMarker(ServerMarker&& other) noexcept;
  ServerMarker& operator=(ServerMarker&& other) noexcept;
  ~ServerMarker();  // removes the file if it is still ours

 private:
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};
// The pid in the marker; DoesNotExist at once if there is none or its server has exited.
pid_t read_marker(const std::string& channel, const char* suffix, const char* kind);
void remove_marker(const std::string& channel, const char* suffix);

// A receiver's window (iceoryx_channel.hpp): 16 MiB of messages, 2..240, and the queue room beyond
// it for credit messages; both within iceoryx's 256 queued and 256 held chunks per subscriber.
inline constexpr std::uint64_t kCreditRoom = 8;
std::uint64_t window_for(std::size_t max_message);

// InvalidArgument unless 1 <= max_message <= kMaxMessage.
void check_max_message(std::size_t max_message);
// MessageTooLarge when `size` exceeds the channel's max_message.
void check_message_size(std::size_t size, std::size_t max_message);

// Loans a chunk of `size` payload bytes with our header. A pool that has run out (every chunk in
// some queue) is back-pressure: waits for one until the deadline, calling `check_peers` (which
// throws PeerGone) between tries. MessageTooLarge when no pool of this RouDi holds `size`.
void* loan_chunk(iox::popo::UntypedPublisher& publisher, std::size_t size, Deadline deadline,
                 const std::string& channel, void (*check_peers)(const void*), const void* context);

// Loans and releases one chunk of `size` bytes: MessageTooLarge now, not at the first send, when
// the running RouDi (perhaps the user's, with its own pools) cannot carry the channel's messages.
void probe_chunk_size(iox::popo::UntypedPublisher& publisher, std::size_t size, const std::string& channel);

MessageHeader& header_of(void* user_payload);

// PeerGone when RouDi has exited.
void check_roudi(const std::string& channel);

}  // namespace ipcmark::iceoryx
