#include "transports/plugin/plugin_connection.hpp"

#include <algorithm>
#include <cstring>

#include "transports/names.hpp"

namespace ipcmark {
namespace {

std::int64_t deadline_ns(Deadline deadline) {
  // steady_clock is CLOCK_MONOTONIC on Linux: the clock plugin.h names.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
}

Errc errc_of(ipcmark_status status, bool& known) {
  known = true;
  switch (status) {
    case IPCMARK_INVALID_ARGUMENT: return Errc::InvalidArgument;
    case IPCMARK_ALREADY_EXISTS: return Errc::AlreadyExists;
    case IPCMARK_DOES_NOT_EXIST: return Errc::DoesNotExist;
    case IPCMARK_MESSAGE_TOO_LARGE: return Errc::MessageTooLarge;
    case IPCMARK_TIMEOUT: return Errc::Timeout;
    case IPCMARK_PEER_GONE: return Errc::PeerGone;
    case IPCMARK_CORRUPT: return Errc::Corrupt;
    case IPCMARK_SYSTEM: return Errc::System;
    case IPCMARK_OK: break;
  }
  known = false;
  return Errc::System;
}

// Forwards the Connection calls of side `Base` (Connection or FanoutWriter) to the plugin.
template <class Base>
class PluginSide : public Base {
 public:
  PluginSide(const ipcmark_plugin& plugin, ipcmark_connection* c, std::size_t max_message, PluginRole role)
      : plugin_(plugin), c_(c), max_message_(max_message), role_(role) {}
  ~PluginSide() override { plugin_.close(c_); }

  void accept(Deadline deadline) override {
    ipcmark_error e{};
    check_plugin_status(plugin_, plugin_.accept(c_, deadline_ns(deadline), &e), e);
  }
  void send(std::span<const std::byte> message, Deadline deadline) override {
    check_sending(message.size());
    ipcmark_error e{};
    check_plugin_status(plugin_, plugin_.send(c_, message.data(), message.size(), deadline_ns(deadline), &e), e);
  }
  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    ipcmark_error e{};
    std::size_t size = 0;
    check_plugin_status(plugin_, plugin_.receive(c_, buffer.data(), buffer.size(), &size, deadline_ns(deadline), &e), e);
    check_received(size, buffer.size());
    return size;
  }
  std::span<std::byte> loan(std::size_t size, Deadline deadline) override {
    if (plugin_.loan == nullptr) return Base::loan(size, deadline);
    check_sending(size);
    ipcmark_error e{};
    void* data = nullptr;
    check_plugin_status(plugin_, plugin_.loan(c_, size, &data, deadline_ns(deadline), &e), e);
    if (data == nullptr) no_memory("loan");
    return {static_cast<std::byte*>(data), size};
  }
  void commit() override {
    if (plugin_.commit == nullptr) return Base::commit();
    ipcmark_error e{};
    check_plugin_status(plugin_, plugin_.commit(c_, &e), e);
  }
  std::span<const std::byte> view(Deadline deadline) override {
    if (plugin_.view == nullptr) return Base::view(deadline);
    ipcmark_error e{};
    const void* data = nullptr;
    std::size_t size = 0;
    check_plugin_status(plugin_, plugin_.view(c_, &data, &size, deadline_ns(deadline), &e), e);
    check_received(size, max_message_);
    if (data == nullptr) no_memory("view");
    return {static_cast<const std::byte*>(data), size};
  }
  void release() override {
    if (plugin_.release == nullptr) return Base::release();
    ipcmark_error e{};
    check_plugin_status(plugin_, plugin_.release(c_, &e), e);
  }

 protected:
  const ipcmark_plugin& plugin_;
  ipcmark_connection* const c_;

 private:
  // What the contract asks of every transport, checked here so that no plugin has to.
  void check_sending(std::size_t size) const {
    if (role_ == PluginRole::ReceiveOnly) throw Error(Errc::InvalidArgument, "a fanout reader only receives");
    if (size > max_message_)
      throw Error(Errc::MessageTooLarge, std::string(plugin_.name) + ": a message of " + std::to_string(size) +
                                             " bytes is larger than the channel's " + std::to_string(max_message_));
  }
  void check_received(std::size_t size, std::size_t capacity) const {
    if (size > capacity)
      throw Error(Errc::Corrupt, std::string(plugin_.name) + " says it received " + std::to_string(size) +
                                     " bytes into a buffer of " + std::to_string(capacity));
  }
  [[noreturn]] void no_memory(const char* call) const {
    throw Error(Errc::System, std::string(plugin_.name) + ": " + call + "() succeeded without returning memory");
  }

  const std::size_t max_message_;
  const PluginRole role_;
};

class PluginFanoutWriter final : public PluginSide<FanoutWriter> {
 public:
  using PluginSide::PluginSide;
  std::size_t receive(std::span<std::byte> buffer, Deadline deadline) override {
    return FanoutWriter::receive(buffer, deadline);  // InvalidArgument: a writer only sends
  }
  std::span<const std::byte> view(Deadline deadline) override { return Connection::view(deadline); }
  int readers_lost() const override { return plugin_.fanout_readers_lost(c_); }
};

}  // namespace

void throw_plugin_error(const ipcmark_plugin& plugin, ipcmark_status status, const ipcmark_error& error) {
  bool known = false;
  const Errc code = errc_of(status, known);
  std::string message(error.message, strnlen(error.message, sizeof error.message));
  std::replace_if(message.begin(), message.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  while (!message.empty() && (message.back() == '.' || message.back() == ' ')) message.pop_back();
  if (!known) message = "returned an unknown status " + std::to_string(static_cast<int>(status)) +
                        (message.empty() ? "" : ": " + message);
  if (message.empty()) message = std::string(plugin.name) + ": " + std::string(to_string(code));
  else if (!known) message = std::string(plugin.name) + " " + message;
  throw Error(code, message);
}

void check_plugin_status(const ipcmark_plugin& plugin, ipcmark_status status, const ipcmark_error& error) {
  if (status != IPCMARK_OK) throw_plugin_error(plugin, status, error);
}

ipcmark_channel_config plugin_config(const ipcmark_plugin& plugin, const ChannelConfig& config) {
  if (config.max_message == 0 || config.max_message > plugin.max_message)
    throw Error(Errc::MessageTooLarge, std::string(plugin.name) + " channels carry messages of 1.." +
                                           std::to_string(plugin.max_message) + " bytes, not up to " +
                                           std::to_string(config.max_message));
  return {config.channel.c_str(), config.max_message,
          config.wait == WaitKind::Spin ? IPCMARK_WAIT_SPIN : IPCMARK_WAIT_BLOCK, private_runtime_dir().c_str()};
}

std::unique_ptr<Connection> plugin_connection(const ipcmark_plugin& plugin, ipcmark_connection* connection,
                                              std::size_t max_message, PluginRole role) {
  return std::make_unique<PluginSide<Connection>>(plugin, connection, max_message, role);
}

std::unique_ptr<FanoutWriter> plugin_fanout_writer(const ipcmark_plugin& plugin, ipcmark_connection* connection,
                                                   std::size_t max_message) {
  return std::make_unique<PluginFanoutWriter>(plugin, connection, max_message, PluginRole::Both);
}

}  // namespace ipcmark
