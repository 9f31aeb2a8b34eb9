// harness/cli/report_command.cpp — `ipcmark report RESULTS.json [--markdown FILE] [--html FILE]`:
// prints the ranked tables of harness/views/report.hpp, writes them as Markdown, or writes one
// self-contained HTML page with the plots of scripts/plot inlined as SVG.
//
// The HTML page needs scripts/plot (Python 3 + matplotlib). It is found by, first that applies:
//   1. --plot-script PATH
//   2. the environment variable IPCMARK_PLOT
//   3. <directory of this executable>/../scripts/plot   (an in-tree build: build/ipcmark)
//   4. <source dir>/scripts/plot, the source dir read from CMAKE_HOME_DIRECTORY in the
//      CMakeCache.txt beside this executable   (an out-of-tree build: /work/build-x/ipcmark)
// It runs into a temporary directory that is removed afterwards, with its output captured:
// a failure becomes one line (`ipcmark: error: plotting failed: ...`) and exit code 1.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "harness/views/bmf.hpp"
#include "harness/cli/subcommand.hpp"
#include "harness/history/store.hpp"
#include "harness/run/spawn.hpp"
#include "harness/results/output_path.hpp"
#include "harness/views/report.hpp"
#include "harness/results/reader.hpp"
#include "harness/usage_error.hpp"
#include "transports/transport.hpp"

extern char** environ;

namespace ipcmark {
namespace {

namespace fs = std::filesystem;

constexpr auto kPlotDeadline = std::chrono::seconds(120);

struct ReportFlags {
  std::string results, markdown, html, plot_script, format = "text", history;
  bool by_cluster = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& flag, const std::string& path, const std::string& text) {
  std::error_code ec;
  if (const fs::path parent = fs::path(path).parent_path(); !parent.empty()) fs::create_directories(parent, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  if (!out) throw UsageError(flag + " '" + path + "': cannot write: " + std::strerror(errno));
}

// ---- finding and running scripts/plot -------------------------------------------------------

std::string source_dir_from_cmake_cache(const fs::path& build_dir) {
  std::ifstream cache(build_dir / "CMakeCache.txt");
  const std::string key = "CMAKE_HOME_DIRECTORY:INTERNAL=";
  for (std::string line; std::getline(cache, line);)
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  return "";
}

std::string find_plot_script(const std::string& flag) {
  std::error_code ec;
  if (!flag.empty()) {
    if (!fs::is_regular_file(flag, ec)) throw UsageError("--plot-script '" + flag + "' does not exist");
    return flag;
  }
  if (const char* env = std::getenv("IPCMARK_PLOT"); env != nullptr && *env != '\0') {
    if (!fs::is_regular_file(env, ec)) throw UsageError(std::string("IPCMARK_PLOT='") + env + "' does not exist");
    return env;
  }
  const fs::path exe_dir = fs::path(self_executable()).parent_path();
  // The build tree (build/ipcmark beside scripts/), then an install (bin/ipcmark, libexec/ipcmark/plot).
  std::vector<fs::path> tried = {exe_dir.parent_path() / "scripts" / "plot",
                                 exe_dir.parent_path() / "libexec" / "ipcmark" / "plot"};
  if (const std::string source = source_dir_from_cmake_cache(exe_dir); !source.empty())
    tried.push_back(fs::path(source) / "scripts" / "plot");
  std::string list;
  for (const fs::path& p : tried) {
    if (fs::is_regular_file(p, ec)) return p.string();
    list += (list.empty() ? "" : ", ") + p.string();
  }
  throw UsageError("cannot find scripts/plot (tried " + list + "); pass --plot-script PATH or set IPCMARK_PLOT");
}

// A directory that is removed with everything in it when this goes out of scope.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "ipcmark-report-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw_system_error("cannot create a temporary directory");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  for (const std::string prefix : {"scripts/plot: error: ", "Error: "})
    if (last.rfind(prefix, 0) == 0) last.erase(0, prefix.size());
  return last;
}

// Runs `script --out DIR/plots INPUTS…` with stdout and stderr in DIR/plot.log, in its own
// process group, killed if it outlives kPlotDeadline.
void run_plot_script(const std::string& script, const std::vector<std::string>& inputs, const fs::path& dir) {
  const std::string log = (dir / "plot.log").string();
  const std::string out_dir = (dir / "plots").string();
  std::vector<std::string> args = {script, "--out", out_dir};
  args.insert(args.end(), inputs.begin(), inputs.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, script.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc == ENOENT)  // the script exists (find_plot_script checked): its #! interpreter does not
    throw Error(Errc::System, "cannot run " + script +
                                  ": its interpreter is missing (it needs /usr/bin/python3 with python3-matplotlib; "
                                  "run scripts/setup)");
  if (rc != 0) throw Error(Errc::System, "cannot run " + script + ": " + std::strerror(rc));

  const auto deadline = std::chrono::steady_clock::now() + kPlotDeadline;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw_system_error("waitpid for " + script);
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      throw Error(Errc::Timeout, "plotting failed: " + script + " did not finish within " +
                                     std::to_string(kPlotDeadline.count()) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  std::string why = last_line(read_file(log));
  if (why.empty())
    why = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                              : "exited with code " + std::to_string(WEXITSTATUS(status));
  throw Error(Errc::System, "plotting failed: " + why);
}

bool any_successful_row(const ResultsDocument& document) {
  for (const RankedTable& t : rank_results(document))
    for (const RankedEntry& e : t.entries)
      if (e.ok > 0) return true;
  return false;
}

std::string html_page(const ReportFlags& f, const ResultsDocument& document) {
  const std::string script = find_plot_script(f.plot_script);  // a bad --plot-script is an error either way
  if (!any_successful_row(document))
    return report_html(document, f.results, {}, "No plots: no run in this file succeeded.");
  const TempDir dir;
  run_plot_script(script, {"--", f.results}, dir.path());  // "--": a file named -x.json
  // The trend section: every row's series in the history, drawn by the same script through this
  // ipcmark's `history show/check` (scripts/plot_history.py).
  if (!f.history.empty()) run_plot_script(script, {"--history", f.history, "--ipcmark", self_executable()}, dir.path());
  static const std::pair<const char*, const char*> kPlots[] = {
      {"latency", "Round-trip latency vs message size (pingpong): median, whisker to p99"},
      {"throughput", "Stream throughput vs message size"},
      {"spectrum", "Latency percentiles at the smallest message size"},
      {"cpu", "CPU time per message, server and client"},
      {"scaling", "Fanout: scaling with readers (throughput, latency, CPU per message delivered)"},
      {"history-trends", "Trends: each row's series in the history (median per run), change points dashed"},
  };
  std::vector<ReportFigure> figures;
  for (const auto& [name, caption] : kPlots) {
    const fs::path svg = dir.path() / "plots" / (std::string(name) + ".svg");
    std::error_code ec;
    if (fs::is_regular_file(svg, ec)) figures.push_back({caption, svg_for_inlining(read_file(svg.string()))});
  }
  return report_html(document, f.results, figures, "No plots: scripts/plot drew none for this file.");
}

int command_report(const ReportFlags& f) {
  const ResultsDocument document =
      f.by_cluster ? split_by_floor_cluster(read_results(f.results)) : read_results(f.results);
  if (f.format == "bmf") {  // Bencher Metric Format on stdout, for `bencher run --adapter json`
    std::cout << bmf_document(document).dump(2) << '\n';
    return 0;
  }
  for (const auto& [flag, path] : {std::pair{"--markdown", f.markdown}, std::pair{"--html", f.html}})
    if (!path.empty()) check_output_path(flag, path, MissingDirectories::Create);  // before anything is printed
  if (!f.history.empty()) {
    if (f.html.empty()) throw UsageError("--history adds a trend section to the --html page: give --html too");
    HistoryStore::open(f.history, OpenMode::ExistingOnly);  // a missing or bad store: one line, before any output
  }
  std::cout << report_text(document);
  if (!f.markdown.empty()) {
    write_file("--markdown", f.markdown, report_markdown(document));
    std::cout << "markdown: " << f.markdown << '\n';
  }
  if (!f.html.empty()) {
    write_file("--html", f.html, html_page(f, document));
    std::cout << "html: " << f.html << '\n';
  }
  return 0;
}

}  // namespace

Subcommand add_report_command(CLI::App& app) {
  auto flags = std::make_shared<ReportFlags>();
  CLI::App* sub = app.add_subcommand("report", "Rank the transports of a results file; write Markdown or an HTML page");
  sub->add_option("results", flags->results, "Results file (JSON) from `ipcmark run`")->required();
  sub->add_option("--markdown", flags->markdown, "Also write the tables as Markdown to this file");
  sub->add_option("--html", flags->html, "Also write one self-contained HTML page (machine, tables, plots)");
  sub->add_option("--format", flags->format, "text (the ranked tables) or bmf (Bencher Metric Format JSON on stdout)")
      ->check(CLI::IsMember({"text", "bmf"}));
  sub->add_option("--plot-script", flags->plot_script,
                  "scripts/plot to draw the page's plots (default: $IPCMARK_PLOT, else found from the executable)");
  sub->add_flag("--by-cluster", flags->by_cluster,
                "Rank each floor cluster's repetitions apart (\"cross · two cores\"): the placement the host gave them");
  sub->add_option("--history", flags->history,
                  "With --html: add a trend section from this history store (a SQLite file or a postgresql:// URI)");
  return {sub, [flags] { return command_report(*flags); }};
}

}  // namespace ipcmark
