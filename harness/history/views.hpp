// harness/history/views.hpp — what `history list/show/check` print: a table for people, or JSON
// (one document on stdout) for scripts such as scripts/plot.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/history/check.hpp"
#include "harness/history/series.hpp"
#include "harness/history/store.hpp"

namespace ipcmark {

std::string runs_table(const std::vector<RunSummary>& runs);
nlohmann::json runs_json(const std::vector<RunSummary>& runs);

std::string series_table(const Series& series);
nlohmann::json series_json(const Series& series);

std::string check_table(const CheckResult& result, const CheckOptions& options);
nlohmann::json check_json(const CheckResult& result, const CheckOptions& options);

}  // namespace ipcmark
