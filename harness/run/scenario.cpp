#include "harness/run/scenario.hpp"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "harness/measure/payload.hpp"
#include "harness/usage_error.hpp"
#include "transports/registry.hpp"

namespace ipcmark {

std::string_view to_string(Pattern pattern) {
  switch (pattern) {
    case Pattern::Oneshot: return "oneshot";
    case Pattern::Stream: return "stream";
    case Pattern::Pingpong: return "pingpong";
    case Pattern::Fanout: return "fanout";
  }
  return "?";
}

Pattern parse_pattern(std::string_view text) {
  for (Pattern p : kAllPatterns)
    if (to_string(p) == text) return p;
  throw UsageError("unknown pattern '" + std::string(text) + "' (use oneshot, stream, pingpong or fanout)");
}

bool parse_copy_mode(std::string_view text) {
  if (text == "copy") return false;
  if (text == "zero") return true;
  throw UsageError("unknown copy mode '" + std::string(text) + "' (use copy or zero)");
}

WaitKind parse_wait(std::string_view text) {
  for (WaitKind w : kWaitKinds)
    if (to_string(w) == text) return w;
  throw UsageError("unknown wait '" + std::string(text) + "' (use spin, block, futex, eventfd, sem or uds)");
}

std::uint64_t RunSpec::timed_every() const {
  const bool closed_loop_stream = (pattern == Pattern::Stream || pattern == Pattern::Fanout) && rate == 0;
  return closed_loop_stream ? 16 : 1;
}

std::string RunSpec::name() const {
  std::string n = std::string(transport->name) + "/" + std::string(to_string(pattern)) + "/" +
                  std::to_string(message_size);
  if (transport->has_wait_modes && pattern != Pattern::Oneshot) n += "/" + std::string(to_string(wait));
  if (zero_copy) n += "/zero-copy";
  n += "/" + std::string(to_string(placement.placement));
  if (pattern == Pattern::Fanout) n += "/readers=" + std::to_string(readers);
  if (rate != 0) n += "/rate=" + std::to_string(rate);
  return n;
}

const std::vector<std::size_t>& Scenario::sizes_for(Pattern p) const {
  const auto it = sizes_of.find(p);
  return it == sizes_of.end() ? sizes : it->second;
}

const std::vector<std::string>& Scenario::placements_for(Pattern p) const {
  const auto it = placements_of.find(p);
  return it == placements_of.end() ? placements : it->second;
}

namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxMessages = 1'000'000'000;
constexpr std::uint64_t kMaxRate = 1'000'000'000;

const std::vector<int>& any_cpu() {
  static const std::vector<int> cpus = [] {
    std::vector<int> all(CPU_SETSIZE);
    for (int i = 0; i < CPU_SETSIZE; ++i) all[i] = i;
    return all;
  }();
  return cpus;
}

class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(std::string_view key, const std::string& why) const {
    throw UsageError(source_ + ": key '" + std::string(key) + "': " + why);
  }

  std::uint64_t integer(const json& value, std::string_view key, std::uint64_t min, std::uint64_t max) const {
    if (!value.is_number_integer()) fail(key, "expected an integer, got " + value.dump());
    const bool negative = !value.is_number_unsigned() && value.get<std::int64_t>() < 0;
    const std::uint64_t v = negative ? 0 : value.get<std::uint64_t>();
    if (negative || v < min || v > max)
      fail(key, value.dump() + " is outside " + std::to_string(min) + ".." + std::to_string(max));
    return v;
  }

  std::string string(const json& value, std::string_view key) const {
    if (!value.is_string()) fail(key, "expected a string, got " + value.dump());
    return value.get<std::string>();
  }

  template <class F>
  auto list(const json& value, std::string_view key, F&& item) const {
    if (!value.is_array()) fail(key, "expected a list, got " + value.dump());
    if (value.empty()) fail(key, "the list is empty");
    std::vector<decltype(item(value.front()))> out;
    for (const json& v : value) out.push_back(item(v));
    return out;
  }

  // A list, or an object of lists by pattern name: {"fanout": [...]}.
  template <class T, class F>
  void list_or_per_pattern(const json& value, std::string_view key, F&& item, std::vector<T>& all,
                           std::map<Pattern, std::vector<T>>& by_pattern) const {
    if (!value.is_object()) {
      all = list(value, key, item);
      return;
    }
    if (value.empty()) fail(key, "the object is empty");
    for (const auto& [name, items] : value.items()) {
      Pattern p;
      try {
        p = parse_pattern(name);
      } catch (const UsageError& e) {
        fail(key, e.what());
      }
      by_pattern[p] = list(items, key, item);
    }
  }

  PerPattern per_pattern(const json& value, std::string_view key, PerPattern defaults, std::uint64_t min) const {
    if (value.is_object()) {
      for (const auto& [name, count] : value.items()) {
        Pattern p;
        try {
          p = parse_pattern(name);
        } catch (const UsageError& e) {
          fail(key, e.what());
        }
        defaults[static_cast<std::size_t>(p)] = integer(count, key, min, kMaxMessages);
      }
      return defaults;
    }
    const std::uint64_t n = integer(value, key, min, kMaxMessages);
    PerPattern all;
    all.fill(n);
    return all;
  }

 private:
  std::string source_;
};

// Whether the server and each of `readers` readers get a CPU of their own. Pinned placements
// put every reader on the client's CPU; unpinned ones leave it to the scheduler.
bool fanout_takes_wait(const Transport& transport, WaitKind wait) {
  return transport.fanout == nullptr || transport.fanout->takes_wait == nullptr || transport.fanout->takes_wait(wait);
}

// Whether the transport's channels (or its fanout, for fanout rows) can wait this way.
bool takes_wait(const Transport& transport, Pattern pattern, WaitKind wait) {
  if (pattern == Pattern::Fanout) return fanout_takes_wait(transport, wait);
  return transport.channel.takes_wait == nullptr || transport.channel.takes_wait(wait);
}

// "it takes spin or block": the waits a transport takes for `pattern`, for an error message.
std::string waits_taken(const Transport& transport, Pattern pattern) {
  std::vector<std::string> names;
  for (WaitKind w : kWaitKinds)
    if (takes_wait(transport, pattern, w)) names.emplace_back(to_string(w));
  std::string text = "it takes ";
  for (std::size_t i = 0; i < names.size(); ++i) text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

bool own_cpu_each(const PinnedPlacement& placement, int readers, const std::vector<int>& allowed) {
  if (placement.placement == Placement::Unpinned) return std::size_t(readers) + 1 <= allowed.size();
  return readers == 1 && placement.placement == Placement::Cross;
}

}  // namespace

Scenario parse_scenario(const json& j, std::string_view source) {
  const Reader r(source);
  if (!j.is_object()) throw UsageError(std::string(source) + ": expected a JSON object at the top level");
  Scenario s;
  for (const auto& [key, value] : j.items()) {
    if (key == "name") {
      s.name = r.string(value, key);
    } else if (key == "description") {
      s.description = r.string(value, key);
    } else if (key == "transports") {
      s.transports = r.list(value, key, [&](const json& v) {
        std::string name = r.string(v, key);
        if (find_transport(name) == nullptr) r.fail(key, "unknown transport '" + name + "' (see `ipcmark list`)");
        return name;
      });
    } else if (key == "patterns") {
      s.patterns = r.list(value, key, [&](const json& v) {
        try {
          return parse_pattern(r.string(v, key));
        } catch (const UsageError& e) {
          r.fail(key, e.what());
        }
      });
    } else if (key == "sizes") {
      r.list_or_per_pattern(value, key, [&](const json& v) {
        return static_cast<std::size_t>(r.integer(v, key, 1, std::numeric_limits<std::uint32_t>::max()));
      }, s.sizes, s.sizes_of);
    } else if (key == "messages") {
      s.messages = r.per_pattern(value, key, s.messages, 1);
    } else if (key == "warmup_messages") {
      s.warmup_messages = r.per_pattern(value, key, s.warmup_messages, 0);
    } else if (key == "repetitions") {
      s.repetitions = static_cast<int>(r.integer(value, key, 1, 1000));
    } else if (key == "wait") {
      s.waits = r.list(value, key, [&](const json& v) {
        try {
          return parse_wait(r.string(v, key));
        } catch (const UsageError& e) {
          r.fail(key, e.what());
        }
      });
    } else if (key == "timeout_s") {
      s.timeout = std::chrono::seconds(r.integer(value, key, 1, 3600));
    } else if (key == "placements") {
      r.list_or_per_pattern(value, key, [&](const json& v) {
        std::string text = r.string(v, key);
        try {
          parse_placement(text, any_cpu());  // syntax only: CPUs are checked where it runs
        } catch (const UsageError& e) {
          r.fail(key, e.what());
        }
        return text;
      }, s.placements, s.placements_of);
    } else if (key == "rates") {
      s.rates = r.list(value, key, [&](const json& v) { return r.integer(v, key, 0, kMaxRate); });
    } else if (key == "readers") {
      s.readers = r.list(value, key, [&](const json& v) { return static_cast<int>(r.integer(v, key, 1, kMaxReaders)); });
    } else if (key == "warmup_ms") {
      s.warmup_ms = r.integer(value, key, 0, 600'000);
    } else if (key == "copy") {
      s.zero_copy = r.list(value, key, [&](const json& v) {
        try {
          return parse_copy_mode(r.string(v, key));
        } catch (const UsageError& e) {
          r.fail(key, e.what());
        }
      });
    } else if (key == "max_bytes") {
      s.max_bytes = r.integer(value, key, 0, std::uint64_t{1} << 50);
    } else if (key == "interleave") {
      if (!value.is_boolean()) r.fail(key, "expected true or false, got " + value.dump());
      s.interleave = value.get<bool>();
    } else {
      r.fail(key, "unknown key (allowed: name, description, transports, patterns, sizes, messages, "
                  "warmup_messages, repetitions, wait, timeout_s, placements, rates, readers, warmup_ms, interleave, max_bytes, "
                  "copy)");
    }
  }
  return s;
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("cannot open scenario file '" + path + "'");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    throw UsageError(path + ": not valid JSON (" + what.substr(what.find(' ') + 1) + ")");
  }
  return parse_scenario(j, path);
}

std::vector<RunSpec> expand(const Scenario& s, const std::vector<int>& allowed, std::vector<std::string>* skipped) {
  const auto placements_for = [&](Pattern p) {
    std::vector<PinnedPlacement> placements;
    for (const std::string& text : s.placements_for(p)) placements.push_back(parse_placement(text, allowed));
    return placements;
  };
  const bool open_loop = std::any_of(s.rates.begin(), s.rates.end(), [](auto r) { return r != 0; });
  const auto has = [&](Pattern p) { return std::find(s.patterns.begin(), s.patterns.end(), p) != s.patterns.end(); };
  if (open_loop && !has(Pattern::Stream) && !has(Pattern::Fanout))
    throw UsageError("a send rate applies to patterns stream and fanout, which this run does not include");
  for (int n : s.readers)
    if (n < 1 || n > kMaxReaders)
      throw UsageError("invalid reader count " + std::to_string(n) + ": use 1 to " + std::to_string(kMaxReaders));
  if ((s.readers.size() > 1 || s.readers.front() != 1) && !has(Pattern::Fanout))
    throw UsageError("--readers applies to pattern fanout, which this run does not include");

  for (const std::string& name : s.transports)
    if (find_transport(name) == nullptr) throw UsageError("unknown transport '" + name + "' (see `ipcmark list`)");
  const bool any_zero = std::find(s.zero_copy.begin(), s.zero_copy.end(), true) != s.zero_copy.end();
  if (any_zero && std::none_of(s.transports.begin(), s.transports.end(), [](const std::string& n) {
        const Transport* t = find_transport(n);
        return t != nullptr && t->zero_copy;
      }))
    throw UsageError("--copy zero: none of the transports lends its memory (zero-copy is shm only)");
  if (any_zero && std::find(s.patterns.begin(), s.patterns.end(), Pattern::Oneshot) != s.patterns.end() &&
      s.patterns.size() == 1)
    throw UsageError("--copy zero applies to patterns stream and pingpong");

  std::vector<RunSpec> runs;
  std::set<std::string> seen;  // the same name twice (e.g. pipe with two waits) runs once
  for (const std::string& transport_name : s.transports) {
    const Transport* transport = find_transport(transport_name);
    if (transport == nullptr) throw UsageError("unknown transport '" + transport_name + "' (see `ipcmark list`)");
    for (Pattern pattern : s.patterns) {
      const std::vector<PinnedPlacement> placements = placements_for(pattern);
      for (std::size_t size : s.sizes_for(pattern)) {
        if (size == 0 || size > transport->max_message) {
          const std::string why = "message size " + std::to_string(size) + " is outside 1.." +
                                  std::to_string(transport->max_message) + " for transport '" + transport_name + "'";
          const bool someone_carries_it = size != 0 && std::any_of(s.transports.begin(), s.transports.end(), [&](auto& n) {
            const Transport* t = find_transport(n);
            return t != nullptr && size <= t->max_message;
          });
          if (!someone_carries_it || skipped == nullptr) throw UsageError(why);
          if (std::find(skipped->begin(), skipped->end(), why + ": skipped") == skipped->end())
            skipped->push_back(why + ": skipped");
          continue;
        }
        if (pattern != Pattern::Oneshot && size < kPayloadHeader)
          throw UsageError("message size " + std::to_string(size) + " is below " + std::to_string(kPayloadHeader) +
                           " bytes, too small to carry the sequence number and timestamp of " +
                           std::string(to_string(pattern)));
        for (WaitKind wait : s.waits) {
          for (const bool zero_copy : s.zero_copy) {
            // Copy rows cover them (fanout readers have no loans).
            if (zero_copy && (!transport->zero_copy || pattern == Pattern::Oneshot || pattern == Pattern::Fanout))
              continue;
            for (const PinnedPlacement& placement : placements) {
              const bool paced = pattern == Pattern::Stream || pattern == Pattern::Fanout;
              for (std::uint64_t rate : paced ? s.rates : std::vector<std::uint64_t>{0}) {
              for (int readers : pattern == Pattern::Fanout ? s.readers : std::vector<int>{1}) {
                RunSpec spec;
                spec.transport = transport;
                spec.pattern = pattern;
                spec.message_size = size;
                // One-shot readers open, copy and close: nothing waits, so the wait is not a choice.
                spec.wait = transport->has_wait_modes && pattern != Pattern::Oneshot ? wait : WaitKind::Block;
                if (spec.wait == WaitKind::Spin && placement.placement == Placement::Same) continue;
                if (!takes_wait(*transport, pattern, spec.wait)) {
                  const std::string why = std::string(transport->name) +
                                          (pattern == Pattern::Fanout ? "/fanout" : "") + " cannot wait with " +
                                          std::string(to_string(spec.wait)) + " (" + waits_taken(*transport, pattern) +
                                          ")";
                  const bool another_wait_fits = std::any_of(s.waits.begin(), s.waits.end(), [&](WaitKind w) {
                    return takes_wait(*transport, pattern, w);
                  });
                  if (!another_wait_fits || skipped == nullptr) throw UsageError(why);
                  if (std::find(skipped->begin(), skipped->end(), why + ": skipped") == skipped->end())
                    skipped->push_back(why + ": skipped");
                  continue;
                }
                spec.readers = readers;
                spec.placement = placement;
                if (spec.wait == WaitKind::Spin && readers > 1 && !own_cpu_each(placement, readers, allowed)) {
                  if (skipped != nullptr)
                    skipped->push_back(spec.name() + ": skipped: " + std::to_string(readers) +
                                       " spinning readers would share a CPU (measured with --wait block)");
                  continue;
                }
                spec.messages = s.messages[static_cast<std::size_t>(pattern)];
                if (paced && s.max_bytes != 0)
                  spec.messages = std::min<std::uint64_t>(spec.messages, std::max<std::uint64_t>(100, s.max_bytes / size));
                spec.warmup_messages = s.warmup_messages[static_cast<std::size_t>(pattern)];
                spec.warmup_ms = s.warmup_ms;
                spec.timeout = s.timeout;
                spec.repetitions = s.repetitions;
                spec.placement = placement;
                spec.rate = rate;
                spec.zero_copy = zero_copy;
                spec.index = static_cast<int>(runs.size());
                if (seen.insert(spec.name()).second) runs.push_back(spec);
              }
              }
            }
          }
        }
      }
    }
  }
  if (runs.empty())
    throw UsageError("nothing to run: every combination was skipped (a spinning wait is not run with both peers "
                     "on one CPU; zero-copy needs a transport that lends its memory)");
  return runs;
}

}  // namespace ipcmark
