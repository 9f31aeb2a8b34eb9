#include "transports/iceoryx/iceoryx_common.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <thread>
#include <utility>

#include "iceoryx_posh/mepoo/chunk_header.hpp"
#include "transports/iceoryx/roudi_config.hpp"
#include "transports/iceoryx/runtime.hpp"
#include "transports/names.hpp"

namespace ipcmark::iceoryx {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kIdCapacity = 100;  // iox::capro::IdString_t

std::string marker_path(const std::string& channel, const char* suffix) {
  return private_runtime_dir() + "/" + channel + suffix;
}

iox::capro::IdString_t id(const std::string& text) {
  return iox::capro::IdString_t(iox::cxx::TruncateToCapacity, text.c_str(), text.size());
}

}  // namespace

Received inspect(const void* user_payload, std::size_t max_payload, const std::string& channel) {
  const auto* chunk = iox::mepoo::ChunkHeader::fromUserPayload(user_payload);
  const auto* header = static_cast<const MessageHeader*>(chunk->userHeader());
  const std::size_t size = chunk->userPayloadSize();
  if (chunk->userHeaderId() == iox::mepoo::ChunkHeader::NO_USER_HEADER || header->magic != MessageHeader::kMagic ||
      header->kind < MessageHeader::Hello || header->kind > MessageHeader::Credit || size > max_payload)
    throw Error(Errc::Corrupt, "iceoryx channel '" + channel + "' delivered a chunk that is not an ipcmark message");
  return {header, static_cast<const std::byte*>(user_payload), size};
}

void HeldView::check_free() const {
  if (chunk_ != nullptr) throw Error(Errc::InvalidArgument, "iceoryx: one view at a time: release() the last one");
}

std::span<const std::byte> HeldView::hold(const void* chunk, std::size_t max_payload, const std::string& channel) {
  chunk_ = chunk;
  const Received r = inspect(chunk, max_payload, channel);
  return {r.payload, r.size};
}

void HeldView::release(iox::popo::UntypedSubscriber& subscriber) {
  if (chunk_ == nullptr) throw Error(Errc::InvalidArgument, "iceoryx: release() without a view");
  subscriber.release(std::exchange(chunk_, nullptr));
}

void HeldView::drop(iox::popo::UntypedSubscriber& subscriber) noexcept {
  if (chunk_ != nullptr) subscriber.release(std::exchange(chunk_, nullptr));
}

iox::capro::ServiceDescription topic(const std::string& channel, const char* role) {
  const std::string instance = channel.substr(0, kIdCapacity);
  const std::string event = channel.size() > kIdCapacity ? channel.substr(kIdCapacity) : "-";
  return {id(std::string("ipcmark-") + role), id(instance), id(event)};
}

ServerMarker::ServerMarker(const std::string& channel, const char* suffix, const char* kind)
    : path_(marker_path(channel, suffix)) {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) throw_channel_exists(kind, channel, path_);
    throw_system_error("iceoryx: cannot create " + path_);
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  struct stat st {};
  const bool ok = ::write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size()) && ::fstat(fd, &st) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path_.c_str());
    throw_system_error("iceoryx: cannot write " + path_);
  }
  dev_ = st.st_dev;
  ino_ = st.st_ino;
}

ServerMarker::ServerMarker(ServerMarker&& other) noexcept
    : path_(std::exchange(other.path_, {})), dev_(other.dev_), ino_(other.ino_) {}

ServerMarker& ServerMarker::operator=(ServerMarker&& other) noexcept {
  if (this != &other) {
    this->~ServerMarker();
    path_ = std::exchange(other.path_, {});
    dev_ = other.dev_;
    ino_ = other.ino_;
  }
  return *this;
}

ServerMarker::~ServerMarker() {
  if (path_.empty()) return;
  struct stat st {};
  // A successor may have replaced a marker `--replace` removed: never unlink theirs.
  if (::stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
  path_.clear();
}

pid_t read_marker(const std::string& channel, const char* suffix, const char* kind) {
  const std::string path = marker_path(channel, suffix);
  std::ifstream in(path);
  pid_t pid = 0;
  if (!in)
    throw Error(Errc::DoesNotExist, std::string(kind) + " channel '" + channel + "' does not exist (no " + path +
                                        "; is the server running?)");
  if (!(in >> pid) || pid <= 0 || process_is_gone(pid))
    throw Error(Errc::DoesNotExist, std::string(kind) + " channel '" + channel + "' does not exist (" + path +
                                        " is left from a server that has exited: `ipcmark clean`)");
  return pid;
}

void remove_marker(const std::string& channel, const char* suffix) {
  ::unlink(marker_path(channel, suffix).c_str());
}

std::uint64_t window_for(std::size_t max_message) {
  constexpr std::size_t kWindowBytes = 16 * 1024 * 1024;
  constexpr std::uint64_t kMaxWindow = 240;
  return std::clamp<std::uint64_t>(kWindowBytes / std::max<std::size_t>(max_message, 1), 2, kMaxWindow);
}

void check_max_message(std::size_t max_message) {
  if (max_message < 1 || max_message > kMaxMessage)
    throw Error(Errc::InvalidArgument, "iceoryx channels carry messages of 1 to " + std::to_string(kMaxMessage) +
                                           " bytes, not " + std::to_string(max_message));
}

void check_message_size(std::size_t size, std::size_t max_message) {
  if (size > max_message)
    throw Error(Errc::MessageTooLarge, "message of " + std::to_string(size) + " bytes exceeds the channel's " +
                                           std::to_string(max_message) + "-byte maximum");
}

void* loan_chunk(iox::popo::UntypedPublisher& publisher, std::size_t size, Deadline deadline,
                 const std::string& channel, void (*check_peers)(const void*), const void* context) {
  auto slice_end = Clock::now() + 10ms;
  for (;;) {
    auto loaned = publisher.loan(static_cast<std::uint32_t>(size), alignof(std::max_align_t), sizeof(MessageHeader),
                                 alignof(MessageHeader));
    if (!loaned.has_error()) {
      void* payload = loaned.value();
      new (iox::mepoo::ChunkHeader::fromUserPayload(payload)->userHeader()) MessageHeader{};
      return payload;
    }
    const auto error = loaned.get_error();
    if (error != iox::popo::AllocationError::RUNNING_OUT_OF_CHUNKS)
      throw Error(Errc::MessageTooLarge, "iceoryx channel '" + channel + "': RouDi has no chunk for a message of " +
                                             std::to_string(size) + " bytes (" + iox::popo::asStringLiteral(error) +
                                             "; a RouDi started by someone else keeps its own mempools)");
    const auto now = Clock::now();
    if (now >= deadline)
      throw Error(Errc::Timeout, "iceoryx channel '" + channel + "': timed out waiting for a free chunk of " +
                                     std::to_string(size) + " bytes (RouDi's mempool is exhausted)");
    if (now >= slice_end) {
      check_peers(context);
      slice_end = now + 10ms;
    }
    std::this_thread::sleep_for(100us);
  }
}

void probe_chunk_size(iox::popo::UntypedPublisher& publisher, std::size_t size, const std::string& channel) {
  void* chunk = loan_chunk(publisher, size, Clock::now() + 10s, channel, [](const void*) {}, nullptr);
  publisher.release(chunk);
}

MessageHeader& header_of(void* user_payload) {
  return *static_cast<MessageHeader*>(iox::mepoo::ChunkHeader::fromUserPayload(user_payload)->userHeader());
}

void check_roudi(const std::string& channel) {
  if (roudi_gone())
    throw Error(Errc::PeerGone, "iceoryx channel '" + channel + "': RouDi (pid " + std::to_string(roudi_pid()) +
                                    "), the iceoryx daemon, has exited");
}

}  // namespace ipcmark::iceoryx
