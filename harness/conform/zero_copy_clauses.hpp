// harness/conform/zero_copy_clauses.hpp — the zero-copy clauses (loan/commit, view/release):
// they apply to transports that lend their memory (Transport::zero_copy), the other one to the rest.
#pragma once

#include <string>

#include "transports/transport.hpp"

namespace ipcmark::conform {

std::string loaned_messages_arrive_through_views(const Transport& t, WaitKind wait);
std::string loans_and_views_are_refused(const Transport& t, WaitKind wait);

}  // namespace ipcmark::conform
