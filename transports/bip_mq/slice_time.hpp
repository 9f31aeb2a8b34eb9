// transports/bip_mq/slice_time.hpp — a steady_clock deadline as the absolute time Boost waits until.
//
// message_queue::timed_send/timed_receive take a boost::posix_time::ptime, which Boost 1.74 hands
// to pthread_cond_timedwait as seconds and nanoseconds since 1970-01-01, to be read on the
// condition's clock. bip-mq's conditions run on CLOCK_MONOTONIC (queue.hpp), the clock of
// std::chrono::steady_clock in libstdc++, so a deadline converts as it is: "1970 + its
// time_since_epoch()". Each wait is capped at a slice so the caller can look at its peer between
// slices.
#pragma once

#include <boost/date_time/posix_time/posix_time_types.hpp>

#include "transports/transport.hpp"

namespace ipcmark::bip_mq {

// The ptime at which a wait of min(deadline - now, slice) ends (now, if the deadline has passed),
// rounded up to Boost's microsecond resolution so that it never ends before the deadline.
boost::posix_time::ptime slice_end(Deadline deadline, Clock::duration slice);

}  // namespace ipcmark::bip_mq
