// `ipcmark report` as a real process: the ranked tables on stdout, --markdown, bad input
// as one line, a missing Python or matplotlib as one line and exit 1, and the --html
// page opened in headless Chromium (Debian's `chromium`, installed by scripts/setup):
// screenshot taken, DOM rendered with the title, every configuration of the tables and
// every plot, no console message. Skipped only when chromium is not installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "harness/views/report.hpp"
#include "tests/support/processes.hpp"

namespace ipcmark {
namespace {

using namespace ipcmark::testing;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
namespace fs = std::filesystem;

const std::string kSource = IPCMARK_SOURCE_DIR;
const std::string kBasic = kSource + "/tests/data/results/report-basic.json";
const std::string kV2 = kSource + "/tests/data/results/report-v2.json";

// A fresh directory for one test, removed with its contents at the end.
struct Scratch {
  fs::path dir;
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "ipcmark-html-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) dir = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const std::string& name, const std::string& text = "") const {
    const std::string path = (dir / name).string();
    if (!text.empty()) std::ofstream(path) << text;
    return path;
  }
};

// Sets an environment variable for the commands of one test.
struct ScopedEnv {
  std::string name;
  ScopedEnv(std::string n, const std::string& value) : name(std::move(n)) { ::setenv(name.c_str(), value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

void expect_one_line_error(const CommandResult& r, int code, const std::string& needle) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("ipcmark: error: "));
  EXPECT_THAT(r.err, HasSubstr(needle));
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

TEST(ReportCommand, PrintsTheRankedTables) {
  const CommandResult r = ipcmark({"report", kBasic});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, slurp(kSource + "/tests/data/golden/report-basic.txt"));
}

TEST(ReportCommand, WritesMarkdown) {
  const Scratch s;
  const std::string md = s.file("sub/report.md");  // the parent directory is created
  const CommandResult r = ipcmark({"report", kBasic, "--markdown", md});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("markdown: " + md));
  EXPECT_EQ(slurp(md), slurp(kSource + "/tests/data/golden/report-basic.md"));
}

TEST(ReportCommand, BadInputIsOneLineAndExitTwo) {
  const Scratch s;
  expect_one_line_error(ipcmark({"report", "/nonexistent/results.json"}), 2,
                        "results file '/nonexistent/results.json' does not exist");
  expect_one_line_error(ipcmark({"report", s.file("t.json", "{\"benchmarks\": [")}), 2, "is not valid JSON");
  expect_one_line_error(ipcmark({"report", s.file("a.json", "[1]")}), 2, "no 'benchmarks' array");
  expect_one_line_error(
      ipcmark({"report", s.file("r.json", R"({"context": {"json_schema_version": 2}, "benchmarks": [{"name": "x",
          "run_name": "x", "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "iterations": 10,
          "real_time": 1, "cpu_time": 1, "time_unit": "ns", "pattern": "stream", "message_size": 64}]})")}),
      2, "r.json: benchmarks[0] 'x': 'transport' is missing");
  expect_one_line_error(ipcmark({"report"}), 2, "results");
  expect_one_line_error(ipcmark({"report", kBasic, "--html", s.file("p.html"), "--plot-script", "/nonexistent/plot"}),
                        2, "--plot-script '/nonexistent/plot' does not exist");
  EXPECT_FALSE(exists(s.file("p.html")));
}

TEST(ReportCommand, MissingPythonIsOneLineAndExitOne) {
  const Scratch s;
  const std::string script = s.file("plot", "#!/nonexistent/python3\nprint('never')\n");
  fs::permissions(script, fs::perms::owner_all);
  const ScopedEnv env("IPCMARK_PLOT", script);
  const std::string html = s.file("page.html");
  const CommandResult r = ipcmark({"report", kBasic, "--html", html});
  expect_one_line_error(r, 1, "interpreter is missing");
  EXPECT_FALSE(exists(html));
}

TEST(ReportCommand, MissingMatplotlibIsOneLineAndExitOne) {
  const Scratch s;
  fs::create_directories(s.dir / "shadow" / "matplotlib");
  s.file("shadow/matplotlib/__init__.py", "raise ImportError('No module named matplotlib')\n");
  const ScopedEnv env("PYTHONPATH", (s.dir / "shadow").string());
  const CommandResult r = ipcmark({"report", kBasic, "--html", s.file("page.html")});
  expect_one_line_error(r, 1, "plotting failed: python3-matplotlib is missing");
}

TEST(ReportCommand, HtmlOfAFileWithoutSuccessfulRunsSaysWhyThereAreNoPlots) {
  const Scratch s;
  const std::string results = s.file("failed.json", R"({"context": {"json_schema_version": 2}, "benchmarks": [
      {"name": "shm/stream/64/spin", "run_name": "shm/stream/64/spin", "run_type": "iteration", "repetitions": 1,
       "repetition_index": 0, "iterations": 0, "real_time": 0, "cpu_time": 0, "time_unit": "ns", "transport": "shm",
       "pattern": "stream", "message_size": 64, "wait": "spin", "error": "client: timed out"}]})");
  const CommandResult r = ipcmark({"report", results, "--html", s.file("page.html")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string page = slurp(s.file("page.html"));
  EXPECT_THAT(page, HasSubstr("No plots: no run in this file succeeded."));
  EXPECT_THAT(page, HasSubstr("client: timed out"));
}

// ---- the page in a real browser ---------------------------------------------------------------

bool chromium_installed() { return std::system("command -v chromium >/dev/null 2>&1") == 0; }

struct Browser {
  int exit_code = -1;
  std::string out, err;
  double seconds = 0;
};

// One headless Chromium run with a fresh profile; `what` is --screenshot=... or --dump-dom.
Browser chromium(const std::string& what, const std::string& page, const Scratch& s, const std::string& tag) {
  const std::string profile = (s.dir / ("profile-" + tag)).string();
  fs::create_directories(profile);
  const std::string out = s.file(tag + ".out"), err = s.file(tag + ".err");
  const std::string command = "timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --user-data-dir=" +
                              quote(profile) + " --window-size=1280,2000 --enable-logging=stderr --v=0 " +
                              quote(what) + " " + quote("file://" + page) + " >" + quote(out) + " 2>" + quote(err);
  const auto start = std::chrono::steady_clock::now();
  const int status = std::system(command.c_str());
  Browser b;
  b.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  b.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  b.out = slurp(out);
  b.err = slurp(err);
  return b;
}

TEST(HtmlReport, RendersInHeadlessChromiumWithEveryTransportAndPlot) {
  if (!chromium_installed()) GTEST_SKIP() << "chromium is not installed (scripts/setup installs it)";
  const Scratch s;
  const std::string page = s.file("report.html");
  // Its own temporary directory for the report's plots (ctest runs other reports at the
  // same time in the shared one), so a leftover is this run's.
  const std::string own_tmp = s.file("tmp");
  fs::create_directory(own_tmp);
  ::setenv("TMPDIR", own_tmp.c_str(), 1);

  // scripts/plot found from the executable (build dir -> CMakeCache.txt -> source dir), no flag.
  const CommandResult r = ipcmark({"report", kV2, "--html", page}, 180);
  ::unsetenv("TMPDIR");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("html: " + page));
  EXPECT_TRUE(entries_with_prefix(own_tmp, "ipcmark-report-").empty()) << "the plots' temporary directory was left behind";

  const Browser shot = chromium("--screenshot=" + s.file("shot.png"), page, s, "shot");
  ASSERT_EQ(shot.exit_code, 0) << shot.err;
  const std::string png = slurp(s.file("shot.png"));
  ASSERT_GT(png.size(), 8u) << "no screenshot";
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(png.size(), 50'000u) << "a page of tables and plots is more than a blank screenshot";

  const Browser dom = chromium("--dump-dom", page, s, "dom");
  ASSERT_EQ(dom.exit_code, 0) << dom.err;
  std::cout << "chromium: screenshot " << shot.seconds << " s, DOM " << dom.seconds << " s\n";
  EXPECT_THAT(dom.out, HasSubstr("<title>ipcmark report: fixture-v2 on Fixture CPU v2</title>"));
  std::set<std::string> labels;
  for (const RankedTable& t : rank_results(read_results(kV2)))
    for (const RankedEntry& e : t.entries) labels.insert(e.label);
  ASSERT_EQ(labels.size(), 5u);
  for (const std::string& label : labels)
    EXPECT_THAT(dom.out, HasSubstr("<td class=\"text\">" + label + "</td>")) << label;
  // latency, throughput, spectrum and cpu, each inlined as SVG; nothing to fetch.
  EXPECT_EQ(count(dom.out, "<figure>"), 4u);
  EXPECT_EQ(count(dom.out, "<svg "), 4u);
  EXPECT_EQ(count(dom.out, "</svg>"), 4u);
  EXPECT_EQ(count(dom.out, "<img"), 0u);
  EXPECT_THAT(dom.out, Not(HasSubstr("<script")));
  for (const Browser* b : {&shot, &dom}) {
    EXPECT_THAT(b->err, Not(HasSubstr("Uncaught")));
    EXPECT_THAT(b->err, Not(HasSubstr(":CONSOLE")));  // console.log, errors, failed loads
  }
}

}  // namespace
}  // namespace ipcmark
