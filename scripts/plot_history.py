"""scripts/plot --history DEST [ROW ...]: each row's series over the recorded runs, change points
marked, one PNG + SVG (history-trends.*) in --out.

The series and change points come from the built ipcmark (`history show --format json`,
`history check --format json`), not from SQL here: the plot then shows exactly what `history check`
decides on, with the same figure per row (x_floor, else p50 latency, else real time), and reads
SQLite and PostgreSQL stores alike.
"""

import json
import math
import os
import shutil
import subprocess


def find_ipcmark(given, fail):
    if given:
        if not os.access(given, os.X_OK):
            fail(f"--ipcmark '{given}' is not an executable")
        return given
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "..", "build", "ipcmark"), os.path.join(here, "..", "..", "bin", "ipcmark")):
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("ipcmark")
    if not found:
        fail("no ipcmark binary found (build it, or give --ipcmark PATH)")
    return found


def history_json(ipcmark, args, fail):
    p = subprocess.run([ipcmark, "history", *args, "--format", "json"], capture_output=True, text=True)
    if p.returncode not in (0, 1):  # check exits 1 on a regression: its output is still the answer
        fail(p.stderr.strip().removeprefix("ipcmark: error: ") or f"ipcmark history {args[0]} exited {p.returncode}")
    return json.loads(p.stdout)


def plot_history(plt, store, rows, testbed, out, ipcmark, fail):
    """Writes out/history-trends.{png,svg}; returns their paths."""
    common = ["--history", store] + (["--testbed", testbed] if testbed else [])
    if rows:
        series = [history_json(ipcmark, ["show", row, *common], fail) for row in rows]
    else:
        series = history_json(ipcmark, ["show", *common], fail)
    changes = history_json(ipcmark, ["check", *common], fail)["change_points"]
    columns = min(3, len(series))
    lines = math.ceil(len(series) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(5.2 * columns, 3.2 * lines), squeeze=False)
    for ax in axes.flat[len(series):]:
        ax.set_visible(False)
    for ax, s in zip(axes.flat, series):
        points = s["points"]
        xs = list(range(len(points)))
        ax.plot(xs, [p["value"] for p in points], marker="o", markersize=3, linewidth=1)
        for c in (c for c in changes if c["row"] == s["row"]):
            ax.axvline(c["index"] - 0.5, color="red" if c["regression"] else "grey", linestyle="--", linewidth=1)
            ax.annotate(f"{100 * c['relative_change']:+.1f}%\np={c['p_value']:.3f}", (c["index"] - 0.5, 1),
                        xycoords=("data", "axes fraction"), va="top", fontsize=7, color="red" if c["regression"] else "grey")
        ax.set_title(s["row"], fontsize=9)
        ax.set_ylabel(s["figure"], fontsize=8)
        step = max(1, len(points) // 8)
        ax.set_xticks(xs[::step])
        ax.set_xticklabels([p["commit"][:8] for p in points][::step], rotation=45, fontsize=7, ha="right")
        ax.grid(True, alpha=0.3)
    fig.suptitle(f"history of {store.split('?')[0]}: median of the repetitions per run; dashed: change points "
                 "(red: a regression above the threshold)", fontsize=9)
    fig.tight_layout()
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        fail(f"--out '{out}': {e.strerror}")
    paths = []
    for ext in ("png", "svg"):
        path = os.path.join(out, f"history-trends.{ext}")
        fig.savefig(path, dpi=110, metadata={"Date": None} if ext == "svg" else None)
        paths.append(path)
    plt.close(fig)
    return paths
