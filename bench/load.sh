#!/usr/bin/env bash
# Load: 200 concurrent connections for 60 s (DURATION to change) against `covermap serve` on
# the demo, a mix of organization, coverage and OGC reads; prints wrk's figures, the errors and
# the server's resident memory before and after (flat memory means no growth per request).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
mkdir -p bench/.cache
db=bench/.cache/load.gpkg
build/covermap demo --out "$db" --scale 1 --force >/dev/null
out=$(mktemp)
build/covermap serve --db "$db" --port 18181 --threads 2 >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q "serving" "$out" && break; sleep 0.1; done
export COVERMAP_TOKEN=$(sed -n 2p "$out")
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
wrk -t2 -c200 -d5s -s bench/load.lua http://127.0.0.1:18181/ >/dev/null  # warm-up
before=$(rss)
wrk -t2 -c200 -d"${DURATION:-60}"s -s bench/load.lua http://127.0.0.1:18181/
after=$(rss)
echo "server RSS: ${before} kB after warm-up, ${after} kB after the run"
