#include "transports/plugin/plugin_transport.hpp"

#include <array>
#include <utility>

#include "transports/names.hpp"
#include "transports/plugin/plugin_connection.hpp"
#include "transports/plugin/seed_over_channel.hpp"

namespace ipcmark {
namespace {

struct Slot {
  const ipcmark_plugin* plugin = nullptr;
  Transport transport{};
  FanoutOps fanout{};
};

std::array<Slot, kMaxPlugins> g_slots;
int g_used = 0;

using Opener = ipcmark_status (*)(const ipcmark_channel_config*, ipcmark_connection**, ipcmark_error*);

ipcmark_connection* open_with(const ipcmark_plugin& plugin, Opener open, const ChannelConfig& config) {
  const ipcmark_channel_config c = plugin_config(plugin, config);
  ipcmark_connection* connection = nullptr;
  ipcmark_error e{};
  check_plugin_status(plugin, open(&c, &connection, &e), e);
  if (connection == nullptr) throw Error(Errc::System, std::string(plugin.name) + " opened no connection");
  return connection;
}

// The functions of slot N: plain function pointers, as Transport wants them, bound to g_slots[N].
template <int N>
struct SlotOps {
  static const ipcmark_plugin& plugin() { return *g_slots[N].plugin; }
  static std::unique_ptr<Connection> serve(const ChannelConfig& config) {
    return plugin_connection(plugin(), open_with(plugin(), plugin().serve, config), config.max_message);
  }
  static std::unique_ptr<Connection> connect(const ChannelConfig& config) {
    return plugin_connection(plugin(), open_with(plugin(), plugin().connect, config), config.max_message);
  }
  static void remove(const std::string& channel) {
    validate_channel_name(channel);
    plugin().remove(private_runtime_dir().c_str(), channel.c_str());
  }
  static std::unique_ptr<Publication> publish(const std::string& channel, std::size_t size,
                                              std::span<const std::byte> message, bool replace) {
    return publish_over_channel(g_slots[N].transport, channel, size, message, replace);
  }
  static std::string fetch(const std::string& channel, Deadline deadline) {
    return fetch_over_channel(g_slots[N].transport, channel, deadline);
  }
  static std::unique_ptr<FanoutWriter> fanout_serve(const FanoutConfig& config) {
    if (config.readers < 1 || config.readers > kMaxReaders)
      throw Error(Errc::InvalidArgument, "fanout readers must be 1.." + std::to_string(kMaxReaders) + ", not " +
                                             std::to_string(config.readers));
    const ipcmark_channel_config c = plugin_config(plugin(), config.channel);
    ipcmark_connection* connection = nullptr;
    ipcmark_error e{};
    check_plugin_status(plugin(), plugin().fanout_serve(&c, config.readers, config.lossy, &connection, &e), e);
    if (connection == nullptr) throw Error(Errc::System, std::string(plugin().name) + " opened no fanout writer");
    return plugin_fanout_writer(plugin(), connection, config.channel.max_message);
  }
  static std::unique_ptr<Connection> fanout_connect(const ChannelConfig& config, int reader) {
    const ipcmark_channel_config c = plugin_config(plugin(), config);
    ipcmark_connection* connection = nullptr;
    ipcmark_error e{};
    check_plugin_status(plugin(), plugin().fanout_connect(&c, reader, &connection, &e), e);
    if (connection == nullptr) throw Error(Errc::System, std::string(plugin().name) + " opened no fanout reader");
    return plugin_connection(plugin(), connection, config.max_message, PluginRole::ReceiveOnly);
  }
  static void fanout_remove(const std::string& channel) {
    validate_channel_name(channel);
    plugin().fanout_remove(private_runtime_dir().c_str(), channel.c_str());
  }

  static const Transport& bind(const ipcmark_plugin& p) {
    Slot& slot = g_slots[N];
    slot.plugin = &p;
    slot.fanout = {.serve = &fanout_serve, .connect = &fanout_connect, .remove = &fanout_remove};
    slot.transport = Transport{
        .name = p.name,
        .summary = p.summary,
        .has_wait_modes = p.has_wait_modes != 0,
        .max_message = p.max_message,
        .zero_copy = p.loan != nullptr,
        .channel = {.serve = &serve, .connect = &connect, .remove = &remove},
        .seed = {.publish = &publish, .fetch = &fetch},
        .fanout = p.fanout_serve != nullptr ? &slot.fanout : nullptr,
    };
    return slot.transport;
  }
};

template <std::size_t... N>
const Transport& bind_slot(int n, const ipcmark_plugin& p, std::index_sequence<N...>) {
  using Bind = const Transport& (*)(const ipcmark_plugin&);
  static constexpr Bind binders[] = {&SlotOps<static_cast<int>(N)>::bind...};
  return binders[n](p);
}

}  // namespace

const Transport& adapt_plugin(const ipcmark_plugin& plugin) {
  if (g_used == kMaxPlugins)
    throw Error(Errc::InvalidArgument, "at most " + std::to_string(kMaxPlugins) + " plugins can be loaded at once");
  return bind_slot(g_used++, plugin, std::make_index_sequence<kMaxPlugins>{});
}

}  // namespace ipcmark
