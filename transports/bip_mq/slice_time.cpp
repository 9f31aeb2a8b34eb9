#include "transports/bip_mq/slice_time.hpp"

#include <time.h>

#include <algorithm>

namespace ipcmark::bip_mq {

boost::posix_time::ptime slice_end(Deadline deadline, Clock::duration slice) {
  using std::chrono::nanoseconds;
  // Built once: epoch + microseconds is integer arithmetic, no calendar work on the hot path.
  static const boost::posix_time::ptime epoch(boost::gregorian::date(1970, 1, 1));
  const auto left = std::clamp<Clock::duration>(deadline - Clock::now(), Clock::duration::zero(), slice);
  timespec wall{};
  ::clock_gettime(CLOCK_REALTIME, &wall);
  const long long ns = static_cast<long long>(wall.tv_sec) * 1'000'000'000 + wall.tv_nsec +
                       std::chrono::duration_cast<nanoseconds>(left).count();
  return epoch + boost::posix_time::microseconds((ns + 999) / 1000);
}

}  // namespace ipcmark::bip_mq
