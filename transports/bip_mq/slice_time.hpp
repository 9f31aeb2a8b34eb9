// transports/bip_mq/slice_time.hpp — a steady_clock deadline as the absolute time Boost waits until.
//
// message_queue::timed_send/timed_receive take a boost::posix_time::ptime, which Boost 1.74 hands
// to pthread_cond_timedwait as CLOCK_REALTIME (UTC, the condition's default clock). Our deadlines
// are steady_clock time points, which cannot be compared with the wall clock, so each wait is
// converted as "the wall clock now + what is left of the steady deadline", capped at a slice: a
// wall-clock jump can then stretch or shorten one slice, never the whole wait, and the caller's
// deadline is re-checked on the steady clock between slices.
#pragma once

#include <boost/date_time/posix_time/posix_time_types.hpp>

#include "transports/transport.hpp"

namespace ipcmark::bip_mq {

// The UTC ptime at which a wait of min(deadline - now, slice) ends (now, if the deadline has
// passed), rounded up to Boost's microsecond resolution so that it never ends before the deadline.
boost::posix_time::ptime slice_end(Deadline deadline, Clock::duration slice);

}  // namespace ipcmark::bip_mq
