#include "harness/conform/clause.hpp"

#include <exception>
#include <stdexcept>

#include "harness/conform/check.hpp"

namespace ipcmark::conform {

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Pass: return "pass";
    case Verdict::Skip: return "skip";
    case Verdict::Fail: break;
  }
  return "fail";
}

const Clause& clause_named(std::string_view name) {
  for (const auto list : {transport_clauses(), fanout_clauses()})
    for (const Clause& c : list)
      if (c.name == name) return c;
  throw std::out_of_range("no conformance clause named " + std::string(name));
}

ClauseResult run_clause(const Clause& clause, const Transport& transport, WaitKind wait) {
  try {
    return {Verdict::Pass, clause.check(transport, wait)};
  } catch (const ClauseFailure& e) {
    return {Verdict::Fail, e.what()};
  } catch (const ClauseSkip& e) {
    return {Verdict::Skip, e.what()};
  } catch (const Error& e) {
    return {Verdict::Fail, "unexpected " + std::string(to_string(e.code())) + ": " + e.what()};
  } catch (const std::exception& e) {
    return {Verdict::Fail, std::string("unexpected exception: ") + e.what()};
  }
}

}  // namespace ipcmark::conform
