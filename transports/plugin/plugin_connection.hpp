// transports/plugin/plugin_connection.hpp — a Connection over a plugin's C functions
// (include/ipcmark/plugin.h): every call forwards to the plugin, every status becomes an Error.
#pragma once

#include <memory>
#include <string>

#include <ipcmark/plugin.h>
#include "transports/transport.hpp"

namespace ipcmark {

// Throws the Error of a plugin's failed call: `status` as the Errc of the same name, the
// plugin's message made one line (or "<plugin>: <Errc>" when it left none).
[[noreturn]] void throw_plugin_error(const ipcmark_plugin& plugin, ipcmark_status status, const ipcmark_error& error);
// Calls throw_plugin_error unless status is IPCMARK_OK.
void check_plugin_status(const ipcmark_plugin& plugin, ipcmark_status status, const ipcmark_error& error);

// The plugin's view of `config` (its strings live as long as `config`). MessageTooLarge for a
// channel whose max_message is 0 or more than the plugin carries: a plugin sizes its buffers by
// its own max_message and must never be handed a larger message or loan.
ipcmark_channel_config plugin_config(const ipcmark_plugin& plugin, const ChannelConfig& config);

enum class PluginRole { Both, ReceiveOnly };  // ReceiveOnly: a fanout reader

std::unique_ptr<Connection> plugin_connection(const ipcmark_plugin& plugin, ipcmark_connection* connection,
                                              std::size_t max_message, PluginRole role = PluginRole::Both);
std::unique_ptr<FanoutWriter> plugin_fanout_writer(const ipcmark_plugin& plugin, ipcmark_connection* connection,
                                                   std::size_t max_message);

}  // namespace ipcmark
