// harness/history/recorder.hpp — results documents into a store: what `run --history` and
// `history import` share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/history/run_record.hpp"

namespace ipcmark {

struct SourcedDocument {
  nlohmann::json document;
  std::string source;  // the file it came from, or "run"
};

// Checks every document with the results reader first (a bad one is a UsageError naming it and
// nothing is stored), then stores them all in one transaction. An empty branch label is taken
// from CI's environment (GITHUB_REF_NAME, CI_COMMIT_REF_NAME) when set. Returns the run ids.
std::vector<std::int64_t> record_documents(const std::string& dest, const std::vector<SourcedDocument>& documents,
                                           RecordLabels labels);

}  // namespace ipcmark
