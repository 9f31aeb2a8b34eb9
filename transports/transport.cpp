#include "transports/transport.hpp"

#include <cerrno>
#include <cstring>

namespace ipcmark {

void throw_system_error(const std::string& what) {
  const int err = errno;
  throw Error(Errc::System, what + ": " + std::strerror(err));
}

std::string_view to_string(WaitKind wait) { return wait == WaitKind::Spin ? "spin" : "block"; }

}  // namespace ipcmark
