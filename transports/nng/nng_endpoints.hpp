// transports/nng/nng_endpoints.hpp — the nng transport's names: where a channel's socket file
// lives, listening on it with an atomic AlreadyExists, and dialing it with DoesNotExist at once.
#pragma once

#include <nng/nng.h>

#include <string>

#include "transports/common/owned_file.hpp"

namespace ipcmark::nng_endpoints {

inline constexpr const char* kChannelSuffix = ".nng";      // a point-to-point channel (pair1)
inline constexpr const char* kNewsSuffix = ".nng-news";    // the one-shot demo (rep0)

// <private runtime dir>/<channel><suffix>. InvalidArgument for a bad channel name, or when the
// path does not fit a unix socket address.
std::string socket_path(const std::string& channel, const char* suffix);

// Makes `socket` listen on the channel's socket file and returns that file, owned.
// AlreadyExists when the name exists (a live server's or a crashed one's, socket or not).
OwnedFile listen_at(nng_socket socket, const std::string& channel, const char* suffix);

// Dials the channel's server synchronously. DoesNotExist when there is no socket file or no
// server listening on it; Corrupt when the name is not a socket.
void dial(nng_socket socket, const std::string& channel, const char* suffix);

// Unlinks the channel's files (both suffixes); no error if there are none.
void remove_names(const std::string& channel);

}  // namespace ipcmark::nng_endpoints
