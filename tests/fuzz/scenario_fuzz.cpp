// tests/fuzz/scenario_fuzz.cpp — scenario files are user input: whatever the bytes, parsing ends in
// a Scenario or a UsageError (one line, exit code 2), never another exception or a crash.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "harness/run/scenario.hpp"
#include "harness/usage_error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The same steps as load_scenario(), minus the file: text -> JSON -> Scenario.
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;  // load_scenario turns a parse error into a UsageError
  try {
    const ipcmark::Scenario s = ipcmark::parse_scenario(j, "fuzz.json");
    // What parsing promises the rest of the program (scenario.hpp: strict, no zero values).
    if (s.transports.empty() || s.patterns.empty() || s.sizes.empty() || s.waits.empty() || s.repetitions < 1 ||
        s.timeout.count() < 1)
      __builtin_trap();
    for (std::size_t size : s.sizes)
      if (size == 0) __builtin_trap();
    for (std::uint64_t n : s.messages)
      if (n == 0) __builtin_trap();
  } catch (const ipcmark::UsageError&) {
    // The documented way to refuse input. Anything else propagates and libFuzzer reports it.
  }
  return 0;
}
