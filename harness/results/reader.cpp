#include "harness/results/reader.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <type_traits>
#include <utility>

#include "harness/results/writer.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

using nlohmann::json;

template <class T>
inline constexpr bool kIsVector = false;
template <class E>
inline constexpr bool kIsVector<std::vector<E>> = true;

std::string shown(const json& value) {  // a value in a message, kept short
  std::string text = value.dump();
  return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}

// The keys of one JSON object, each read as its type; a failure names `where` and the key
// (`prefix` is the path of a nested object, e.g. "latency_ns.").
class Fields {
 public:
  Fields(const json& object, std::string where, std::string prefix = "")
      : object_(object), where_(std::move(where)), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw UsageError(where_ + ": '" + prefix_ + key + "' " + what);
  }

  // A required key; `why` says which kind of row needs it.
  template <class T>
  T get(const std::string& key, const char* why = nullptr) const {
    const auto it = object_.find(key);
    if (it == object_.end()) fail(key, std::string("is missing") + (why ? std::string(" (") + why + ")" : ""));
    return as<T>(key, *it);
  }
  // An optional key: absent or null is nullopt.
  template <class T>
  std::optional<T> get_if(const std::string& key) const {
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return std::nullopt;
    return as<T>(key, *it);
  }
  // An integer of at least 1 (message_size, readers).
  std::int64_t positive(const std::string& key, const char* why = nullptr) const {
    return at_least_one(key, get<json>(key, why));
  }
  std::optional<std::int64_t> positive_if(const std::string& key) const {
    const auto v = get_if<json>(key);
    return v ? std::optional(at_least_one(key, *v)) : std::nullopt;
  }
  // An object to read key by key, or absent.
  std::optional<Fields> object_if(const std::string& key) const {
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return std::nullopt;
    return nested(key, *it);
  }

 private:
  static bool integral(const json& v) {
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.007199254740992e15;  // 2^53
  }

  std::int64_t at_least_one(const std::string& key, const json& v) const {
    if (!integral(v) || v.get<double>() < 1 || v.get<double>() > 9.2e18)  // within int64_t
      fail(key, "is not a positive integer (got " + shown(v) + ")");
    return v.get<std::int64_t>();
  }

  Fields nested(const std::string& key, const json& v) const {
    if (!v.is_object()) fail(key, "is not an object (got " + shown(v) + ")");
    return Fields(v, where_, prefix_ + key + ".");
  }

  template <class T>
  T as(const std::string& key, const json& v) const {
    const auto wrong = [&](const char* what) { fail(key, std::string("is not ") + what + " (got " + shown(v) + ")"); };
    if constexpr (std::is_same_v<T, json>) {
      return v;
    } else if constexpr (std::is_same_v<T, double>) {
      if (!v.is_number()) wrong("a number");
      return v.get<double>();
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) wrong("a string");
      return v.get<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) wrong("a boolean");
      return v.get<bool>();
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      if (!integral(v) || (v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX)))
        wrong("an integer");
      return v.get<std::int64_t>();
    } else if constexpr (std::is_same_v<T, std::uint64_t>) {
      if (!integral(v) || v.get<double>() < 0) wrong("a non-negative integer");
      return v.get<std::uint64_t>();
    } else if constexpr (std::is_same_v<T, ServerClient>) {
      const Fields f = nested(key, v);
      return {f.get<double>("server"), f.get<double>("client")};
    } else if constexpr (std::is_same_v<T, Latency>) {
      const Fields f = nested(key, v);
      return {f.get<double>("min"),  f.get<double>("p50"),   f.get<double>("p90"), f.get<double>("p99"),
              f.get<double>("p999"), f.get<double>("p9999"), f.get<double>("max"), f.get<double>("mean")};
    } else {
      static_assert(kIsVector<T>);
      if (!v.is_array()) wrong("an array");
      T out;
      for (std::size_t i = 0; i < v.size(); ++i)
        out.push_back(as<typename T::value_type>(key + "[" + std::to_string(i) + "]", v[i]));
      return out;
    }
  }

  const json& object_;
  std::string where_, prefix_;
};

// context.floor, and each placement's in context.floor_by_placement: figures that are numbers,
// null (not measurable on this machine) or arrays of numbers (samples).
void check_floor(const Fields& floor, const json& object) {
  for (const auto& [key, value] : object.items())
    if (!value.is_array()) (void)floor.get_if<double>(key);
    else (void)floor.get<std::vector<double>>(key);
}

Context read_context(const json& c, int version, const std::string& source) {
  const Fields f(c, source + ": context");
  Context out;
  out.schema_version = version;
  static const std::pair<const char*, std::optional<std::string> Context::*> kTexts[] = {
      {"date", &Context::date},         {"host_name", &Context::host_name},
      {"executable", &Context::executable}, {"library_build_type", &Context::library_build_type},
      {"ipcmark_version", &Context::ipcmark_version}, {"git_commit", &Context::git_commit},
      {"kernel", &Context::kernel},     {"cpu_model", &Context::cpu_model},
      {"clocksource", &Context::clocksource}, {"scenario", &Context::scenario},
      {"compiler", &Context::compiler}};
  for (const auto& [key, member] : kTexts) out.*member = f.get_if<std::string>(key);
  out.num_cpus = f.get_if<std::int64_t>("num_cpus");
  out.mhz_per_cpu = f.get_if<std::int64_t>("mhz_per_cpu");
  out.cpu_scaling_enabled = f.get_if<bool>("cpu_scaling_enabled");
  out.interleave = f.get_if<bool>("interleave");
  out.timer_cost_ns = f.get_if<double>("timer_cost_ns");
  out.shuffle_seed = f.get_if<std::uint64_t>("shuffle_seed");
  out.load_avg = f.get_if<std::vector<double>>("load_avg").value_or(std::vector<double>{});
  out.pinning = f.get_if<ServerClient>("pinning");
  out.warnings = f.get_if<std::vector<std::string>>("warnings").value_or(std::vector<std::string>{});
  for (const json& cache : f.get_if<std::vector<json>>("caches").value_or(std::vector<json>{}))
    if (!cache.is_object()) f.fail("caches", "holds " + shown(cache) + ", not an object");
  (void)f.object_if("topology");
  if (const auto dev_shm = f.object_if("dev_shm")) {
    (void)dev_shm->get_if<double>("size_bytes");
    (void)dev_shm->get_if<double>("free_bytes");
  }
  if (const auto placements = f.object_if("placements"))
    for (const auto& [name, cpus] : c["placements"].items()) (void)placements->get<ServerClient>(name);
  if (const auto floor = f.object_if("floor")) {
    check_floor(*floor, c["floor"]);
    out.floor = c["floor"];
  }
  if (const auto by_placement = f.object_if("floor_by_placement"))
    for (const auto& [name, floor] : c["floor_by_placement"].items())
      if (const auto one = by_placement->object_if(name)) check_floor(*one, floor);
  if (const auto floors = f.object_if("repetition_floors")) {
    for (const auto& [name, placement] : c["repetition_floors"].items())
      if (const auto one = floors->object_if(name))
        for (const char* key : {"cacheline_rtt_ns", "futex_rtt_ns"})
          if (const auto spread = one->object_if(key))
            for (const char* figure : {"median", "low", "high"}) (void)spread->get<double>(figure);
    out.repetition_floors = c["repetition_floors"];
  }
  if (const auto clusters = f.object_if("floor_clusters")) {
    for (const auto& [name, placement] : c["floor_clusters"].items())
      if (const auto one = clusters->object_if(name)) (void)one->get<double>("split_ns");
    out.floor_clusters = c["floor_clusters"];
  }
  out.floor_moved_ratio = f.get_if<double>("floor_moved_ratio");
  return out;
}

// The factor from the row's time_unit to ns.
double ns_per(const Fields& f) {
  static const std::map<std::string, double> kScale{{"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  const std::string unit = f.get<std::string>("time_unit");
  const auto it = kScale.find(unit);
  if (it == kScale.end()) f.fail("time_unit", "is " + json(unit).dump() + " (expected ns, us, ms or s)");
  return it->second;
}

Row read_row(const json& j, std::size_t index, const std::string& source) {
  const std::string at = source + ": benchmarks[" + std::to_string(index) + "]";
  if (!j.is_object()) throw UsageError(at + " is not an object (got " + shown(j) + ")");
  Row r;
  r.index = index;
  r.name = Fields(j, at).get<std::string>("name");
  if (r.name.empty()) Fields(j, at).fail("name", "is empty");
  const Fields f(j, at + " '" + r.name + "'");

  // What says how to read the rest: the kind of row and its unit of time.
  const std::string run_type = f.get<std::string>("run_type");
  if (run_type != "iteration" && run_type != "aggregate")
    f.fail("run_type", "is " + json(run_type).dump() + " (expected iteration or aggregate)");
  r.run_type = run_type == "iteration" ? RunType::Iteration : RunType::Aggregate;
  const bool iteration = r.run_type == RunType::Iteration;
  const double scale = ns_per(f);

  r.run_name = f.get<std::string>("run_name");
  r.repetitions = f.get<std::int64_t>("repetitions");
  r.iterations = f.get<std::uint64_t>("iterations");
  r.real_time_ns = f.get<double>("real_time") * scale;
  r.cpu_time_ns = f.get<double>("cpu_time") * scale;
  if (iteration) r.repetition_index = f.get<std::int64_t>("repetition_index", "an iteration row");
  else r.aggregate_name = f.get<std::string>("aggregate_name", "an aggregate row");
  r.aggregate_unit = f.get_if<std::string>("aggregate_unit");
  r.threads = f.get_if<std::int64_t>("threads");

  const std::optional<std::string> error = f.get_if<std::string>("error");
  if (error && !error->empty()) r.error = error;
  if (f.get_if<bool>("error_occurred").value_or(false)) {
    const std::string message = f.get<std::string>("error_message", "error_occurred is true");
    if (!r.error) r.error = message;
  } else {
    (void)f.get_if<std::string>("error_message");
  }

  r.transport = f.get<std::string>("transport");
  r.pattern = f.get<std::string>("pattern");
  r.message_size = static_cast<std::size_t>(f.positive("message_size"));
  r.wait = f.get_if<std::string>("wait");
  r.copy = f.get_if<std::string>("copy");
  r.placement = f.get_if<std::string>("placement");
  r.cpus = f.get_if<ServerClient>("cpus");
  r.readers = r.pattern == "fanout" ? f.positive("readers", "a fanout row") : f.positive_if("readers");
  r.target_rate = f.get_if<double>("target_rate");
  r.timed_every = f.get_if<std::int64_t>("timed_every");

  const char* open_loop = r.open_loop() && iteration ? "an open-loop row" : nullptr;
  r.items_per_second = f.get_if<double>("items_per_second");
  r.bytes_per_second = f.get_if<double>("bytes_per_second");
  r.achieved_rate = open_loop ? f.get<double>("achieved_rate", open_loop) : f.get_if<double>("achieved_rate");
  r.pacing_ns_per_message = f.get_if<double>("pacing_ns_per_message");
  r.x_floor = f.get_if<double>("x_floor");
  r.x_memcpy = f.get_if<double>("x_memcpy");
  r.latency_ns = open_loop && !r.failed() ? f.get<Latency>("latency_ns", open_loop) : f.get_if<Latency>("latency_ns");
  r.cpu_ns_per_message = f.get_if<ServerClient>("cpu_ns_per_message");
  r.context_switches_per_message = f.get_if<ServerClient>("context_switches_per_message");
  if (const auto worst = f.object_if("worst_reader_latency_ns")) {
    r.worst_reader_p50_ns = worst->get<double>("p50");
    r.worst_reader_p99_ns = worst->get<double>("p99");
  }
  r.readers_lost = f.get_if<double>("readers_lost");
  r.lost = f.get_if<double>("lost");
  r.reordered = f.get_if<double>("reordered");
  r.corrupted = f.get_if<double>("corrupted");
  r.outlier = f.get_if<std::string>("outlier");
  r.x_floor_of = f.get_if<std::string>("x_floor_of");
  r.floor_moved = f.get_if<bool>("floor_moved");
  r.floor_cluster = f.get_if<std::string>("floor_cluster");
  r.floor_moved_repetitions = f.get_if<std::int64_t>("floor_moved_repetitions");
  if (const auto floor = f.object_if("repetition_floor"))
    for (const char* key : {"cacheline_rtt_ns", "futex_rtt_ns"})
      if (const auto figure = floor->object_if(key)) {
        const BeforeAfter around{figure->get_if<double>("before"), figure->get_if<double>("after")};
        (std::string(key) == "cacheline_rtt_ns" ? r.cacheline_floor : r.futex_floor) = around;
      }
  if (const auto low = f.get_if<double>("ci95_low")) r.ci95_low_ns = *low * scale;
  if (const auto high = f.get_if<double>("ci95_high")) r.ci95_high_ns = *high * scale;
  r.p99_ci95_low = f.get_if<double>("p99_ci95_low");
  r.p99_ci95_high = f.get_if<double>("p99_ci95_high");
  (void)f.object_if("histogram");  // read by scripts/plot, not by these views
  return r;
}

}  // namespace

std::optional<double> Context::floor_figure(const std::string& key) const {
  if (!floor) return std::nullopt;
  const auto it = floor->find(key);
  return it != floor->end() && it->is_number() ? std::optional(it->get<double>()) : std::nullopt;
}

std::vector<double> Context::floor_samples(const std::string& key) const {
  if (!floor) return {};
  const auto it = floor->find(key);
  return it != floor->end() && it->is_array() ? it->get<std::vector<double>>() : std::vector<double>{};
}

ResultsDocument read_results(const json& document, const std::string& source) {
  if (!document.is_object() || !document.contains("benchmarks") || !document["benchmarks"].is_array())
    throw UsageError(source + " is not an ipcmark results file (no 'benchmarks' array)");
  const auto context = document.find("context");
  if (context == document.end() || !context->is_object() || !context->contains("json_schema_version"))
    throw UsageError(source + " has no context.json_schema_version (not an ipcmark results file?)");
  const json& version = (*context)["json_schema_version"];
  if (!version.is_number_integer() || version.get<std::int64_t>() < kOldestReadableSchema ||
      version.get<std::int64_t>() > kJsonSchemaVersion)
    throw UsageError(source + ": unsupported json_schema_version " + version.dump() + " (this ipcmark reads " +
                     std::to_string(kOldestReadableSchema) + " to " + std::to_string(kJsonSchemaVersion) + ")");
  ResultsDocument out;
  out.source = source;
  out.context = read_context(*context, version.get<int>(), source);
  const json& rows = document["benchmarks"];
  out.rows.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) out.rows.push_back(read_row(rows[i], i, source));
  return out;
}

json read_results_json(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw UsageError("results file '" + path + "' does not exist");
  if (std::filesystem::is_directory(path, ec)) throw UsageError("results file '" + path + "' is a directory");
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read results file '" + path + "': " + std::strerror(errno));
  json document;
  try {
    document = json::parse(in);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 3, column 1: ..."
    std::string what = e.what();
    if (const auto at = what.find("parse error"); at != std::string::npos) what = what.substr(at);
    throw UsageError(path + " is not valid JSON: " + what);
  }
  return document;
}

ResultsDocument read_results(const std::string& path) { return read_results(read_results_json(path), path); }

}  // namespace ipcmark
