// harness/history/run_record.hpp — what the history keeps of one results file: the testbed (the
// machine fingerprint series are compared within), the code under test, and every repetition row
// with its figures. Built from the document as written and as read (harness/results/reader.hpp),
// so the history holds only figures that passed the reader's checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/results/reader.hpp"

namespace ipcmark {

struct Testbed {
  std::string name;  // the label series are grouped by: given, or a hash of the fields below
  std::string cpu_model, kernel, virtualization, pinning;
  std::int64_t num_cpus = 0;
};

struct RowRecord {
  std::string name, transport, pattern;
  std::int64_t repetition_index = 0, message_size = 0, iterations = 0;
  std::optional<std::string> placement, error;
  double real_time_ns = 0, cpu_time_ns = 0;
  std::optional<double> items_per_second, bytes_per_second, latency_p50_ns, latency_p90_ns, latency_p99_ns,
      latency_p999_ns, latency_max_ns, cpu_ns_server, cpu_ns_client, x_floor;
  std::optional<std::string> x_floor_of;
};

struct RunRecord {
  Testbed testbed;
  std::string run_date, git_commit, git_branch, scenario, ipcmark_version;
  std::string source;   // the results file, or "run" for `ipcmark run --history`
  std::string context;  // the results file's context object, as JSON text
  std::vector<RowRecord> rows;  // iteration rows only: aggregates are recomputed from them
};

// Labels the caller gives; empty ones are taken from the document (git_commit in its context;
// the testbed a hash of its machine fields) or "unknown" (branch).
struct RecordLabels {
  std::string testbed, git_commit, git_branch;
};

RunRecord run_record(const nlohmann::json& document, const ResultsDocument& read, const RecordLabels& labels,
                     const std::string& source);

}  // namespace ipcmark
