#include "transports/bip_mq/queue_check.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "transports/bip_mq/boost_layout.hpp"
#include "transports/transport.hpp"

namespace ipcmark::bip_mq {
namespace {

[[noreturn]] void corrupt(const std::string& name, const std::string& what) {
  throw Error(Errc::Corrupt, "bip-mq queue /dev/shm/" + name + " " + what +
                                 ": not a usable message queue; remove it with `ipcmark clean`");
}

// The object offset an offset_ptr stored at `at` points to, or -1 when null or outside the object.
// offset_ptr keeps (target - its own address); the value 1 means null.
long long target_of(std::span<const std::byte> object, std::size_t at) {
  std::ptrdiff_t offset = 0;
  std::memcpy(&offset, object.data() + at, sizeof offset);
  if (offset == 1) return -1;
  const long long target = static_cast<long long>(at) + offset;
  return target >= 0 && static_cast<std::size_t>(target) < object.size() ? target : -1;
}

}  // namespace

QueueShape check_queue(std::span<const std::byte> object, const std::string& name) {
  if (object.size() < kUserOffset + sizeof(Header))
    corrupt(name, "is " + std::to_string(object.size()) + " bytes, too small for a queue header");
  std::uint32_t state = 0;
  std::memcpy(&state, object.data(), sizeof state);
  if (state != kInitialized)
    corrupt(name, "is in init state " + std::to_string(state) + ", not 2 (its creator died while creating it?)");

  // Read field by field from the mapping: the object may change under us (a snapshot).
  const auto* header = reinterpret_cast<const Header*>(object.data() + kUserOffset);
  const std::size_t depth = header->m_max_num_msg, max_message = header->m_max_msg_size;
  if (depth == 0 || depth > kMaxDepth || max_message == 0 || max_message > kMaxMessage)
    corrupt(name, "declares " + std::to_string(depth) + " messages of " + std::to_string(max_message) +
                      " bytes (limits: 1.." + std::to_string(kMaxDepth) + " of 1.." + std::to_string(kMaxMessage) + ")");
  const Layout layout = layout_of(max_message, depth);
  if (layout.total != object.size() || layout.total != Header::get_mem_size(max_message, depth))
    corrupt(name, "is " + std::to_string(object.size()) + " bytes, but " + std::to_string(depth) + " messages of " +
                      std::to_string(max_message) + " bytes take " + std::to_string(layout.total));
  const std::size_t count = header->m_cur_num_msg, first = header->m_cur_first_msg;
  if (count > depth || first >= depth)
    corrupt(name, "holds " + std::to_string(count) + " messages from index " + std::to_string(first) + " of " +
                      std::to_string(depth));

  const auto header_at = static_cast<std::size_t>(reinterpret_cast<const std::byte*>(&header->mp_index) - object.data());
  if (target_of(object, header_at) != static_cast<long long>(layout.index)) corrupt(name, "has its index elsewhere");
  std::vector<bool> seen(depth, false);
  for (std::size_t i = 0; i < depth; ++i) {
    const long long slot = target_of(object, layout.index + i * sizeof(SlotPointer));
    const long long k = slot < static_cast<long long>(layout.slots)
                            ? -1
                            : (slot - static_cast<long long>(layout.slots)) / static_cast<long long>(layout.slot_size);
    if (k < 0 || static_cast<std::size_t>(k) >= depth || seen[k] ||
        static_cast<std::size_t>(slot) != layout.slots + static_cast<std::size_t>(k) * layout.slot_size)
      corrupt(name, "has index entry " + std::to_string(i) + " pointing outside its message slots");
    seen[k] = true;
    MessageHeader message{};
    std::memcpy(static_cast<void*>(&message), object.data() + slot, sizeof message);
    if (message.len > max_message)
      corrupt(name, "has a message of " + std::to_string(message.len) + " bytes in a queue of " +
                        std::to_string(max_message) + "-byte messages");
  }
  return {max_message, depth};
}

}  // namespace ipcmark::bip_mq
