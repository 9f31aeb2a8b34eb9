#!/usr/bin/env bash
# Two tiny runs, then Google Benchmark's compare.py over them: it must load both files,
# match the rows by name and print them, without a Python error.
set -euo pipefail
ipcmark=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for side in base new; do
  "$ipcmark" run --transports shm,pipe --pattern pingpong --sizes 64 --messages 300 --warmup 30 \
    --repetitions 3 --wait spin --out "$work/$side.json" >/dev/null
done
/usr/bin/python3 /usr/share/benchmark/compare.py benchmarks "$work/base.json" "$work/new.json" >"$work/compare.txt" 2>&1 || {
  cat "$work/compare.txt"; echo "compare.py failed"; exit 1; }
cat "$work/compare.txt"
grep -q 'shm/pingpong/64/spin' "$work/compare.txt" || { echo "compare.py did not list shm/pingpong/64/spin"; exit 1; }
grep -q 'pipe/pingpong/64' "$work/compare.txt" || { echo "compare.py did not list pipe/pingpong/64"; exit 1; }
if grep -q Traceback "$work/compare.txt"; then echo "compare.py raised"; exit 1; fi
