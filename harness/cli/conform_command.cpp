// harness/cli/conform_command.cpp — `ipcmark conform`: the transport contract (harness/conform,
// the clauses tests/conformance runs) over named transports, built-in or plugins, from the
// installed binary: one line per clause, exit 0 only when none fails. `--wait` runs the
// point-to-point clauses once per wait on the transports that have wait modes (shm).
#include <cstdio>
#include <string>
#include <vector>

#include "harness/cli/plugin_options.hpp"
#include "harness/cli/subcommand.hpp"
#include "harness/conform/bounded_clause.hpp"
#include "harness/run/scenario.hpp"
#include "harness/usage_error.hpp"

namespace ipcmark {
namespace {

struct ConformFlags {
  std::vector<std::string> transports;
  std::vector<std::string> waits{"block"};
  int clause_timeout_s = 120;  // the slowest clause (zero-copy, ~24 MB through loans) takes seconds
};

struct Tally {
  int passed = 0, failed = 0, skipped = 0;
};

void conform_one(const Transport& t, WaitKind wait, std::chrono::seconds limit, Tally& tally) {
  // Named as `run` names rows: the wait only where the transport has wait modes.
  const std::string subject = std::string(t.name) + (t.has_wait_modes ? "/" + std::string(to_string(wait)) : "");
  // Fanout clauses once per transport, with block (the fanout ring takes spin and block only).
  const bool with_fanout = wait == WaitKind::Block;
  for (const auto clauses : {conform::transport_clauses(), conform::fanout_clauses()}) {
    if (clauses.data() == conform::fanout_clauses().data() && !with_fanout) continue;
    for (const conform::Clause& clause : clauses) {
      const Clock::time_point start = Clock::now();
      const conform::ClauseResult r = conform::run_clause_bounded(clause, t, wait, limit);
      const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
      (r.verdict == conform::Verdict::Pass ? tally.passed : r.verdict == conform::Verdict::Skip ? tally.skipped : tally.failed)++;
      std::printf("%s %s %s (%.2f s): %s\n", std::string(conform::to_string(r.verdict)).c_str(), subject.c_str(),
                  std::string(clause.name).c_str(), seconds, r.reason.c_str());
      std::fflush(stdout);  // a line as each clause ends: a slow one shows where it is
    }
  }
}

int command_conform(const ConformFlags& f) {
  std::vector<const Transport*> transports;
  for (const std::string& name : f.transports) transports.push_back(&transport_named(name));  // all known first
  std::vector<WaitKind> waits;
  for (const std::string& w : f.waits) waits.push_back(parse_wait(w));
  Tally tally;
  for (const Transport* t : transports) {
    if (!t->has_wait_modes) {  // waits change nothing there: its clauses once
      conform_one(*t, WaitKind::Block, std::chrono::seconds(f.clause_timeout_s), tally);
      continue;
    }
    for (WaitKind wait : waits) {
      if (t->channel.takes_wait != nullptr && !t->channel.takes_wait(wait)) {
        std::printf("skip %s/%s (every clause): %s cannot wait with %s\n", std::string(t->name).c_str(),
                    std::string(to_string(wait)).c_str(), std::string(t->name).c_str(),
                    std::string(to_string(wait)).c_str());
        ++tally.skipped;
        continue;
      }
      conform_one(*t, wait, std::chrono::seconds(f.clause_timeout_s), tally);
    }
  }
  std::printf("conform: %d passed, %d failed, %d skipped (not applicable)\n", tally.passed, tally.failed, tally.skipped);
  return tally.failed == 0 ? 0 : 1;
}

}  // namespace

Subcommand add_conform_command(CLI::App& app) {
  auto f = std::make_shared<ConformFlags>();
  CLI::App* conform = app.add_subcommand("conform", "Check transports against the transport contract, clause by clause");
  conform->add_option("--transports,--transport", f->transports, "Transports, comma-separated (see `ipcmark list`)")
      ->delimiter(',')
      ->required();
  conform->add_option("--wait", f->waits,
                      "Waits to check transports with wait modes (shm) under: spin, block, futex, eventfd, sem, uds "
                      "(comma-separated; fanout clauses run with block)")
      ->delimiter(',')
      ->capture_default_str();
  conform->add_option("--clause-timeout", f->clause_timeout_s, "A clause still running after this many seconds fails")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  add_plugin_option(*conform);
  return {conform, [f] { return command_conform(*f); }};
}

}  // namespace ipcmark
