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
  const bool polls_first = spec.transport != nullptr && spec.transport->block_polls_first;
  const bool busy_poll = spec.wait == WaitKind::Spin || (spec.wait == WaitKind::Block && polls_first);
  return busy_poll && spec.placement.placement != Placement::Same ? FloorKind::Cacheline : FloorKind::Futex;
}

}  // namespace ipcmark
