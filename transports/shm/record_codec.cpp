#include "transports/shm/record_codec.hpp"

namespace ipcmark::shm {

std::string record_defect(RecordHeader record, std::uint64_t offset, std::uint64_t available, std::uint64_t capacity,
                          std::uint32_t max_message) {
  const std::string at = " at offset " + std::to_string(offset);
  const std::string published = " (" + std::to_string(available) + " bytes published)";
  const std::uint64_t to_wrap = capacity - offset;
  if (record.kind == static_cast<std::uint32_t>(RecordKind::Padding)) {
    const std::string padding = "padding record of " + std::to_string(record.length) + " bytes" + at;
    if (sizeof record + std::uint64_t{record.length} != to_wrap)
      return padding + " does not end at the wrap point " + std::to_string(to_wrap) + " bytes on";
    if (to_wrap > available) return padding + " extends past the tail" + published;
    return padding + " where any record would have fitted before the wrap point (padding precedes only "
                     "one that does not)";
  }
  if (record.kind != static_cast<std::uint32_t>(RecordKind::Data))
    return "unknown record kind " + std::to_string(record.kind) + at;
  if (record.length == 0 || record.length > max_message)
    return "record length " + std::to_string(record.length) + at + " is outside 1.." + std::to_string(max_message);
  if (record_bytes(record.length) > to_wrap)
    return "record of " + std::to_string(record.length) + " bytes" + at + " crosses the wrap point";
  return "record of " + std::to_string(record.length) + " bytes" + at + " extends past the tail" + published;
}

}  // namespace ipcmark::shm
