#include "harness/run/floor_choice.hpp"

namespace ipcmark {

std::string_view to_string(FloorKind kind) {
  switch (kind) {
    case FloorKind::Cacheline: return "cacheline";
    case FloorKind::Futex: return "futex";
    case FloorKind::Memcpy: return "memcpy";
    case FloorKind::None: return "none";
  }
  return "none";
}

FloorKind x_floor_of(const RunSpec& spec) {
  switch (spec.pattern) {
    case Pattern::Oneshot: return FloorKind::None;
    case Pattern::Stream:
    case Pattern::Fanout: return FloorKind::Memcpy;
    case Pattern::Pingpong: break;
  }
  const bool busy_poll = spec.wait == WaitKind::Spin;
  return busy_poll && spec.placement.placement != Placement::Same ? FloorKind::Cacheline : FloorKind::Futex;
}

}  // namespace ipcmark
