#!/usr/bin/env bash
# The second hostile catalogue (issue #25), measured against a real `covermap serve` on the demo
# at SCALE (default 1) with `--rate-per-client 0`, each figure beside the same figure with
# nothing hostile running:
#  - row 1: 576 connections from 9 loopback addresses announce 1 MB bodies to POST /api/session
#    and send a byte a second: /health from a tenth address (answered of 5), the server's RSS;
#  - row 5: edit latency (PATCH) while a 400,000-row dry-run import (ROWS) runs;
#  - row 6: edit p95 beside four loops of GET /api/export/orgs?format=csv;
#  - row 12: the server's RSS with 200 clients reading the 1.1 MB chart library slowly.
# Run it on demand: bench/hostile.sh (builds nothing: run scripts/test or cmake --build first).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
scale=${SCALE:-1}
port=${PORT:-18425}
build/covermap demo --out "$work/demo.gpkg" --scale "$scale" --force >/dev/null
build/covermap serve --db "$work/demo.gpkg" --port "$port" --rate-per-client 0 --no-access-log \
  >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 300); do grep -q serving "$work/out" && break; sleep 0.1; done
token=$(grep -m1 '^cm_' "$work/out")
viewer=$(build/covermap token add --db "$work/demo.gpkg" --role viewer --name bench-viewer)
/usr/bin/python3 bench/hostile.py "$port" "$pid" "$token" "$viewer" "${ROWS:-400000}"
