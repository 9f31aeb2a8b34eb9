#include "transports/bip_mq/slice_time.hpp"

#include <algorithm>

namespace ipcmark::bip_mq {

boost::posix_time::ptime slice_end(Deadline deadline, Clock::duration slice) {
  using std::chrono::microseconds;
  // Built once: epoch + microseconds is integer arithmetic, no calendar work on the hot path.
  static const boost::posix_time::ptime epoch(boost::gregorian::date(1970, 1, 1));
  const Deadline now = Clock::now();
  const Deadline end = std::clamp(deadline, now, now + slice);
  const auto us = std::chrono::ceil<microseconds>(end.time_since_epoch()).count();
  return epoch + boost::posix_time::microseconds(us);
}

}  // namespace ipcmark::bip_mq
