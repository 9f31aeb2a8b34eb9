// harness/history/run_record.cpp — a results document as the history stores it (run_record.hpp).
#include "harness/history/run_record.hpp"

#include <cstdio>

namespace ipcmark {
namespace {

std::string text_at(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "unknown";
}

// FNV-1a: a short, stable label for a fingerprint; not a security property.
std::string short_hash(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return std::string(out, 12);
}

Testbed testbed_of(const nlohmann::json& context, const Context& read, const std::string& label) {
  Testbed t;
  t.cpu_model = read.cpu_model.value_or("unknown");
  t.kernel = read.kernel.value_or("unknown");
  t.num_cpus = read.num_cpus.value_or(0);
  const auto topology = context.find("topology");
  t.virtualization = topology != context.end() && topology->is_object() ? text_at(*topology, "virtualization") : "unknown";
  t.pinning = read.pinning ? std::to_string(int(read.pinning->server)) + "," + std::to_string(int(read.pinning->client))
                           : "unknown";
  t.name = !label.empty() ? label
                          : "tb-" + short_hash(t.cpu_model + '\n' + t.kernel + '\n' + std::to_string(t.num_cpus) + '\n' +
                                               t.virtualization + '\n' + t.pinning);
  return t;
}

RowRecord row_record(const Row& row) {
  RowRecord r;
  r.name = row.name;
  r.transport = row.transport;
  r.pattern = row.pattern;
  r.repetition_index = row.repetition_index.value_or(0);
  r.message_size = std::int64_t(row.message_size);
  r.iterations = std::int64_t(row.iterations);
  r.placement = row.placement;
  r.error = row.error;
  r.real_time_ns = row.real_time_ns;
  r.cpu_time_ns = row.cpu_time_ns;
  r.items_per_second = row.items_per_second;
  r.bytes_per_second = row.bytes_per_second;
  if (row.latency_ns) {
    r.latency_p50_ns = row.latency_ns->p50;
    r.latency_p90_ns = row.latency_ns->p90;
    r.latency_p99_ns = row.latency_ns->p99;
    r.latency_p999_ns = row.latency_ns->p999;
    r.latency_max_ns = row.latency_ns->max;
  }
  if (row.cpu_ns_per_message) {
    r.cpu_ns_server = row.cpu_ns_per_message->server;
    r.cpu_ns_client = row.cpu_ns_per_message->client;
  }
  r.x_floor = row.x_floor;
  r.x_floor_of = row.x_floor_of;
  return r;
}

}  // namespace

RunRecord run_record(const nlohmann::json& document, const ResultsDocument& read, const RecordLabels& labels,
                     const std::string& source) {
  const nlohmann::json context = document.value("context", nlohmann::json::object());
  RunRecord run;
  run.testbed = testbed_of(context, read.context, labels.testbed);
  run.run_date = read.context.date.value_or("");
  run.git_commit = !labels.git_commit.empty() ? labels.git_commit : read.context.git_commit.value_or("unknown");
  run.git_branch = !labels.git_branch.empty() ? labels.git_branch : "unknown";
  run.scenario = read.context.scenario.value_or("");
  run.ipcmark_version = read.context.ipcmark_version.value_or("");
  run.source = source;
  run.context = context.dump();
  for (const Row& row : read.rows)
    if (row.run_type == RunType::Iteration) run.rows.push_back(row_record(row));
  return run;
}

}  // namespace ipcmark
