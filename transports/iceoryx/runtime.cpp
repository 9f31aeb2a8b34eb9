#include "transports/iceoryx/runtime.hpp"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>

#include "iceoryx_hoofs/error_handling/error_handling.hpp"
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#include "transports/common/process.hpp"
#include "transports/iceoryx/roudi_lease.hpp"

namespace ipcmark::iceoryx {
namespace {

using namespace std::chrono_literals;

constexpr auto kLeaseWait = 20s;  // RouDi's start, or another process's, under the lock
constexpr int kFatalExit = 3;

std::mutex last_error_mutex;
std::string last_error;

void on_iceoryx_error(const iox::Error error, const std::function<void()> callback, const iox::ErrorLevel level) {
  const char* name = iox::ErrorHandler::toString(error);
  if (level == iox::ErrorLevel::FATAL) {
    const std::string line = std::string("ipcmark: error: iceoryx: fatal error ") + name +
                             (roudi_gone() ? " (RouDi has exited)\n" : "\n");
    (void)!::write(2, line.data(), line.size());
    ::_exit(kFatalExit);
  }
  if (callback) callback();
  const std::lock_guard lock(last_error_mutex);
  last_error = name;
}

struct ProcessRuntime {
  pid_t pid = 0;
  std::unique_ptr<RoudiLease> lease;
  std::unique_ptr<PeerProcess> roudi;
};

ProcessRuntime& process_runtime() {
  static ProcessRuntime runtime;  // constructed before iceoryx's singleton: destroyed after it
  return runtime;
}

}  // namespace

void ensure_runtime(std::size_t max_message) {
  ProcessRuntime& r = process_runtime();
  if (r.pid == ::getpid()) return;
  if (r.pid != 0)
    throw Error(Errc::System, "iceoryx: this process was forked from one that already had an iceoryx runtime; "
                              "iceoryx gives each process one runtime, so use a fresh process");
  r.lease = RoudiLease::acquire(max_message, Clock::now() + kLeaseWait);
  r.roudi = std::make_unique<PeerProcess>(r.lease->roudi_pid());
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kOff,
                                                        iox::log::LogLevelOutput::kHideLogLevel);
  static auto handler = iox::ErrorHandler::setTemporaryErrorHandler(&on_iceoryx_error);
  const std::string name = "ipcmark-iox-" + std::to_string(::getpid());
  iox::runtime::PoshRuntime::initRuntime(iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name.c_str()));
  r.pid = ::getpid();
}

pid_t roudi_pid() {
  const ProcessRuntime& r = process_runtime();
  return r.lease ? r.lease->roudi_pid() : 0;
}

bool roudi_gone() {
  const ProcessRuntime& r = process_runtime();
  return r.roudi && r.roudi->pid() > 0 && r.roudi->gone();
}

std::string last_iceoryx_error() {
  const std::lock_guard lock(last_error_mutex);
  return last_error;
}

}  // namespace ipcmark::iceoryx
