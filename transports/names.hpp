// transports/names.hpp — channel names and where transports put their files.
#pragma once

#include <string>

namespace ipcmark {

// Throws Error{InvalidArgument} unless `name` is 1..200 of [A-Za-z0-9._-] and not "." or "..".
void validate_channel_name(const std::string& name);

// A directory private to this user (mode 0700, owned by us, not a symlink) for FIFOs and
// socket files: $XDG_RUNTIME_DIR/ipcmark, else /tmp/ipcmark-<uid>. Created on first use.
const std::string& private_runtime_dir();

}  // namespace ipcmark
