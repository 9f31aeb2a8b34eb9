// transports/names.hpp — channel names and where transports put their files.
#pragma once

#include <string>
#include <string_view>

namespace ipcmark {

// Throws Error{InvalidArgument} unless `name` is 1..200 of [A-Za-z0-9._-] and not "." or "..".
void validate_channel_name(const std::string& name);

// A directory private to this user (mode 0700, owned by us, not a symlink) for FIFOs and
// socket files: $XDG_RUNTIME_DIR/ipcmark, else /tmp/ipcmark-<uid>. Created on first use.
const std::string& private_runtime_dir();

// Throws Error{AlreadyExists}: "<kind> channel '<channel>' already exists (<where>); …", with
// the two ways out (--replace, `ipcmark clean`). `where` is the name on disk that is taken.
[[noreturn]] void throw_channel_exists(std::string_view kind, const std::string& channel, const std::string& where);

}  // namespace ipcmark
