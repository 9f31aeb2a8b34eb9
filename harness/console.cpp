#include "harness/console.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "harness/stats.hpp"

namespace ipcmark {
namespace {

std::string human(double value, const char* unit) {  // 1234567 → "1.23 M<unit>"
  static const char* prefixes[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (value >= 1000.0 && i < 4) {
    value /= 1000.0;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g %s%s", value, prefixes[i], unit);
  return buf;
}

std::string duration(double ns) {
  char buf[32];
  if (ns < 1e3) std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  else if (ns < 1e6) std::snprintf(buf, sizeof buf, "%.2f us", ns / 1e3);
  else std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
  return buf;
}

}  // namespace

void print_table(std::ostream& out, const std::vector<RunResult>& results) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const RunResult*>> by_name;
  for (const RunResult& r : results) {
    if (!by_name.contains(r.spec.name())) order.push_back(r.spec.name());
    by_name[r.spec.name()].push_back(&r);
  }
  char line[256];
  std::snprintf(line, sizeof line, "| %-26s | %11s | %11s | %10s | %10s | %10s | %4s | %s\n", "run", "msgs/s",
                "bytes/s", "p50", "p99", "cpu/msg", "reps", "status");
  out << line;
  out << "|" << std::string(28, '-') << "|" << std::string(13, '-') << "|" << std::string(13, '-') << "|"
      << std::string(12, '-') << "|" << std::string(12, '-') << "|" << std::string(12, '-') << "|"
      << std::string(6, '-') << "|--------\n";
  for (const std::string& name : order) {
    std::vector<double> rate, bytes, p50, p99, cpu;
    std::string status = "ok";
    int ok = 0;
    for (const RunResult* r : by_name[name]) {
      if (!r->ok()) {
        status = r->error;
        continue;
      }
      ++ok;
      const LatencySummary s = summarize(r->latency);
      rate.push_back(r->messages_per_second());
      bytes.push_back(r->bytes_per_second());
      p50.push_back(double(s.p50));
      p99.push_back(double(s.p99));
      cpu.push_back(r->cpu_ns_per_message());
    }
    const std::string reps = std::to_string(ok) + "/" + std::to_string(by_name[name].size());
    if (ok == 0) {
      std::snprintf(line, sizeof line, "| %-26s | %11s | %11s | %10s | %10s | %10s | %4s | ", name.c_str(), "-", "-",
                    "-", "-", "-", reps.c_str());
    } else {
      std::snprintf(line, sizeof line, "| %-26s | %11s | %11s | %10s | %10s | %10s | %4s | ", name.c_str(),
                    human(median(rate), "").c_str(), human(median(bytes), "B").c_str(),
                    duration(median(p50)).c_str(), duration(median(p99)).c_str(),
                    duration(median(cpu)).c_str(), reps.c_str());
    }
    out << line << status << '\n';
  }
  out << "(medians over repetitions; p50/p99: one-way latency for stream, round trip for pingpong,\n"
         " fetch time for oneshot; cpu/msg: server + client CPU time per message)\n";
}

}  // namespace ipcmark
