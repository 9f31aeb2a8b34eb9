// harness/conform/check.hpp — what a clause uses to say it failed, or does not apply.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "transports/transport.hpp"

namespace ipcmark::conform {

struct ClauseFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ClauseSkip : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string& why) { throw ClauseFailure(why); }
[[noreturn]] inline void skip(const std::string& why) { throw ClauseSkip(why); }
inline void require(bool ok, const std::string& why) {
  if (!ok) fail(why);
}

// Runs `call`, which must throw Error{code}; fails naming `what` otherwise. Returns the message.
template <class Call>
std::string require_error(Errc code, const std::string& what, Call&& call) {
  try {
    std::forward<Call>(call)();
  } catch (const Error& e) {
    if (e.code() != code)
      fail(what + ": expected " + std::string(to_string(code)) + ", got " + std::string(to_string(e.code())) + ": " +
           e.what());
    return e.what();
  }
  fail(what + " did not fail (expected " + std::string(to_string(code)) + ")");
}

}  // namespace ipcmark::conform
