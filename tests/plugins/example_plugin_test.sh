#!/usr/bin/env bash
# The example plugin built the way a user builds theirs: install this build of ipcmark into a
# temporary prefix, configure examples/plugin against it with find_package(ipcmark) in a temporary
# build directory, build it, then check it with the installed ipcmark: conform (every clause) and a
# short run whose rows have no data errors.
# Usage: example_plugin_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build_dir=$1 source_dir=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/ipcmark-example-plugin.XXXXXX")
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/examples/plugin" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
plugin="$work/build/libipcmark_seqpacket.so"
ipcmark="$work/prefix/bin/ipcmark"

"$ipcmark" conform --transports seqpacket --plugin "$plugin"

"$ipcmark" run --plugin "$plugin" --transports seqpacket --pattern pingpong,stream --sizes 64,4096 \
           --messages 300 --warmup 10 --repetitions 1 --no-floor --out "$work/results.json" >/dev/null
/usr/bin/python3 - "$work/results.json" <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1]))["benchmarks"] if r.get("run_type") == "iteration"]
bad = [r["name"] for r in rows if r.get("error") or r["lost"] or r["reordered"] or r["corrupted"]]
assert len(rows) == 4 and not bad, f"{len(rows)} rows, with errors: {bad}"
print(f"run: {len(rows)} rows of seqpacket, no lost, reordered or corrupted message")
PY
