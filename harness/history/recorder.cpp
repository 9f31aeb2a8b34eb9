// harness/history/recorder.cpp — check, then store in one transaction (recorder.hpp).
#include "harness/history/recorder.hpp"

#include <cstdlib>

#include "harness/history/store.hpp"
#include "harness/results/reader.hpp"

namespace ipcmark {

std::vector<std::int64_t> record_documents(const std::string& dest, const std::vector<SourcedDocument>& documents,
                                           RecordLabels labels) {
  if (labels.git_branch.empty())
    for (const char* variable : {"GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"})
      if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') {
        labels.git_branch = value;
        break;
      }
  std::vector<RunRecord> runs;
  for (const SourcedDocument& d : documents)
    runs.push_back(run_record(d.document, read_results(d.document, d.source), labels, d.source));
  return HistoryStore::open(dest, OpenMode::CreateIfMissing).record_all(runs);
}

}  // namespace ipcmark
