#!/usr/bin/python3
"""scripts/plot on the fixture result files, as a user runs it (through its #! line):
every figure is written as a real PNG and an SVG that parses; overlays are labelled by
file; the memcpy line and --size reach the pictures; bad input is one line and exit 2;
a missing matplotlib is one line and exit 1.

    /usr/bin/python3 tests/integration/plot_test.py SOURCE_DIR

matplotlib writes each piece of text of an SVG as an XML comment beside its glyphs, so
the labels are checked by reading those comments.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

SOURCE = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../.."))
PLOT = os.path.join(SOURCE, "scripts", "plot")
# The ipcmark under test (ctest sets it), for --history, which reads the store through it.
IPCMARK = os.environ.get("IPCMARK_BINARY", os.path.join(SOURCE, "build", "ipcmark"))
BASIC = os.path.join(SOURCE, "tests", "data", "results", "report-basic.json")
V2 = os.path.join(SOURCE, "tests", "data", "results", "report-v2.json")
FANOUT = os.path.join(SOURCE, "tests", "data", "results", "fanout.json")  # shm, pipe, zmq to 1, 2, 4 readers
FIGURES = ["latency", "throughput", "spectrum", "cpu"]


def plot(*args, env=None):
    return subprocess.run([PLOT, *args], capture_output=True, text=True, timeout=120, env=env)


def svg_texts(path):
    with open(path, encoding="utf-8") as f:
        return set(re.findall(r"<!-- (.*?) -->", f.read()))


class PlotTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ipcmark-plot-test-")
        self.out = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def assert_one_line_error(self, result, code, *needles):
        self.assertEqual(result.returncode, code, result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("scripts/plot: error: "), lines[0])
        for needle in needles:
            self.assertIn(needle, lines[0])

    def test_writes_every_figure_as_png_and_svg(self):
        result = plot("--out", self.out, BASIC)
        self.assertEqual(result.returncode, 0, result.stderr)
        printed = result.stdout.split()
        for name in FIGURES:
            png, svg = (os.path.join(self.out, f"{name}.{ext}") for ext in ("png", "svg"))
            self.assertIn(png, printed)
            self.assertIn(svg, printed)
            with open(png, "rb") as f:
                head = f.read(8)
            self.assertEqual(head, b"\x89PNG\r\n\x1a\n", png)
            self.assertGreater(os.path.getsize(png), 10_000, png)
            root = ET.parse(svg).getroot()
            self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg", svg)

    def test_axes_and_legends_name_their_units_and_rows(self):
        plot("--out", self.out, BASIC)
        latency = svg_texts(os.path.join(self.out, "latency.svg"))
        self.assertTrue({"message size", "round-trip latency", "64 B", "4 KiB"} <= latency, latency)
        self.assertTrue({"shm/spin", "shm/block", "pipe", "unix"} <= latency, latency)  # a wait only for shm
        self.assertTrue(any(t.endswith(" µs") for t in latency), latency)
        throughput = svg_texts(os.path.join(self.out, "throughput.svg"))
        self.assertTrue({"payload bytes per second", "messages per second"} <= throughput, throughput)
        self.assertFalse(any("memcpy" in t for t in throughput), "schema 1 has no floor")
        cpu = svg_texts(os.path.join(self.out, "cpu.svg"))
        self.assertTrue({"pingpong, 64 B", "stream, 4 KiB", "server", "client"} <= cpu, cpu)

    def test_memcpy_line_placements_and_spectrum_size(self):
        result = plot("--out", self.out, "--size", "65536", V2)
        self.assertEqual(result.returncode, 0, result.stderr)
        throughput = svg_texts(os.path.join(self.out, "throughput.svg"))
        self.assertIn("memcpy, L2: 30 GB/s", throughput)
        self.assertIn("memcpy, DRAM: 11 GB/s", throughput)
        spectrum = svg_texts(os.path.join(self.out, "spectrum.svg"))
        self.assertIn("pingpong, 64 KiB: latency percentiles", spectrum)
        self.assertIn("oneshot, 64 KiB: latency percentiles", spectrum)  # zmq: from latency_ns, no histogram
        self.assertTrue({"p99.99", "max", "shm/spin/cross", "pipe/same"} <= spectrum, spectrum)
        self.assertIn("shm/spin/cross @100 kmsg/s", svg_texts(os.path.join(self.out, "cpu.svg")))

    def test_fanout_rows_make_the_scaling_figure_and_only_it(self):
        result = plot("--out", self.out, FANOUT)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(os.path.join(self.out, "scaling.svg"), result.stdout.split())
        scaling = svg_texts(os.path.join(self.out, "scaling.svg"))
        self.assertTrue({"readers", "messages delivered per second", "one-way latency", "CPU per message delivered",
                         "1", "2", "4", "shm", "pipe", "zmq"} <= scaling, scaling)
        self.assertTrue(any("fanout, 4 KiB" in t for t in scaling), scaling)
        # Without fanout rows there is no scaling figure.
        other = os.path.join(self.out, "basic")
        self.assertEqual(plot("--out", other, BASIC).returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(other, "scaling.png")))

    def test_two_files_are_overlaid_and_labelled_by_file_name(self):
        result = plot("--out", self.out, BASIC, V2)
        self.assertEqual(result.returncode, 0, result.stderr)
        latency = svg_texts(os.path.join(self.out, "latency.svg"))
        self.assertIn("report-basic: shm/spin", latency)
        self.assertIn("report-v2: shm/spin/cross", latency)

    def test_by_cluster_draws_each_clusters_repetitions_apart(self):
        with open(V2, encoding="utf-8") as f:
            document = json.load(f)
        clusters = ["two cores", "two hyperthreads of one core"]
        for row in document["benchmarks"]:
            if row.get("placement") == "cross":
                row["floor_cluster"] = clusters[int(row.get("repetition_index", 0)) % 2]
        path = os.path.join(self.out, "clustered.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(document, f)
        result = plot("--out", self.out, "--by-cluster", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        latency = svg_texts(os.path.join(self.out, "latency.svg"))
        self.assertIn("shm/spin/cross · two cores", latency)
        self.assertIn("shm/spin/cross · two hyperthreads of one core", latency)
        self.assertNotIn("shm/spin/cross", latency)  # no configuration is left unsplit
        plain = os.path.join(self.out, "plain")
        self.assertEqual(plot("--out", plain, path).returncode, 0)
        self.assertIn("shm/spin/cross", svg_texts(os.path.join(plain, "latency.svg")))

    def test_missing_file_is_one_line_and_exit_2(self):
        self.assert_one_line_error(plot("--out", self.out, "/nonexistent/r.json"), 2, "/nonexistent/r.json")

    def test_malformed_files_are_one_line_and_exit_2(self):
        cases = {"truncated.json": ('{"benchmarks": [', "is not JSON"),
                 "array.json": ("[1, 2]", "not an ipcmark result file"),
                 "row.json": ('{"benchmarks": [{"run_type": "iteration", "name": "x"}]}', "benchmarks[0]"),
                 "size.json": ('{"benchmarks": [{"transport": "shm", "pattern": "stream", "message_size": "big"}]}',
                               "message_size")}
        for name, (text, needle) in cases.items():
            path = os.path.join(self.out, name)
            with open(path, "w") as f:
                f.write(text)
            with self.subTest(name):
                self.assert_one_line_error(plot("--out", self.out, path), 2, needle)

    def test_nothing_to_plot_is_a_clear_error(self):
        path = os.path.join(self.out, "failed.json")
        with open(path, "w") as f:
            f.write('{"benchmarks": [{"transport": "shm", "pattern": "stream", "message_size": 64,'
                    ' "run_type": "iteration", "error": "client: timed out"}]}')
        self.assert_one_line_error(plot("--out", self.out, path), 2, "nothing to plot")
        self.assertEqual(os.listdir(self.out), ["failed.json"])

    def test_unknown_size_and_bad_flags_are_one_line_and_exit_2(self):
        self.assert_one_line_error(plot("--out", self.out, "--size", "100", BASIC), 2, "--size 100", "64, 4096")
        self.assert_one_line_error(plot("--bogus", BASIC), 2, "--bogus")
        self.assert_one_line_error(plot(), 2, "RESULT.json")

    def test_history_errors_are_ipcmarks_one_line_and_exit_2(self):
        missing = os.path.join(self.out, "none.sqlite")
        self.assert_one_line_error(plot("--out", self.out, "--history", missing, "--ipcmark", IPCMARK), 2,
                                   "no history store there")
        self.assert_one_line_error(plot("--history", missing, "--ipcmark", os.path.join(self.out, "nope")), 2, "nope")
        self.assertFalse(os.path.exists(missing))

    def test_missing_matplotlib_is_one_line_and_exit_1(self):
        shadow = os.path.join(self.out, "shadow", "matplotlib")
        os.makedirs(shadow)
        with open(os.path.join(shadow, "__init__.py"), "w") as f:
            f.write("raise ImportError('No module named matplotlib')\n")
        env = dict(os.environ, PYTHONPATH=os.path.dirname(shadow))
        self.assert_one_line_error(plot("--out", self.out, BASIC, env=env), 1, "python3-matplotlib is missing")


if __name__ == "__main__":
    unittest.main(verbosity=2)
