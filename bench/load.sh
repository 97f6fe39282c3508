#!/usr/bin/env bash
# Load: 200 concurrent connections for 60 s (DURATION to change) against `covermap serve` on the
# demo: tiles of every layer, coverage, organizations and OGC pages (wrk, bench/load.lua), and
# edits beside them (bench/load_edits.py). Prints wrk's figures with p99, the errors of both,
# and the server's resident memory and open files after a warm-up and after the run (flat means
# no growth per request, no descriptor leak).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 1; }
mkdir -p bench/.cache
db=bench/.cache/load.gpkg
duration=${DURATION:-60}
build/covermap demo --out "$db" --scale 1 --force >/dev/null
out=$(mktemp)
# One address stands for 200 clients here: the per-client cap (64) is raised and the request
# rate limit (1000/s per address) lifted for the run.
build/covermap serve --db "$db" --port 18181 --threads 2 --no-access-log --max-per-client 256 --rate-per-client 0 >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do grep -q "serving" "$out" && break; sleep 0.1; done
export COVERMAP_TOKEN=$(sed -n 2p "$out")
pairs=$(sqlite3 -csv "$db" "select id, instructor_id from orgs where instructor_id is not null")
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
fds() { ls /proc/$pid/fd | wc -l; }
idle_fds=$(fds)
echo "warm-up: 20 s of the same mix"
echo "$pairs" | /usr/bin/python3 bench/load_edits.py 18181 "$COVERMAP_TOKEN" 20 >/dev/null &
warm=$!
wrk -t2 -c200 -d20s -s bench/load.lua http://127.0.0.1:18181/ >/dev/null
wait $warm
# The warm-up's connections are gone once their last requests are answered (or dropped): the
# run starts on a server holding none of them, as it would for a new set of clients.
for _ in $(seq 100); do [ "$(fds)" -le $((idle_fds + 4)) ] && break; sleep 0.1; done
before=$(rss); fds_before=$(fds)
echo "$pairs" | /usr/bin/python3 bench/load_edits.py 18181 "$COVERMAP_TOKEN" "$duration" &
editor=$!
wrk -t2 -c200 -d"${duration}"s --latency -s bench/load.lua http://127.0.0.1:18181/
wait $editor
sleep 1
after=$(rss); fds_after=$(fds)
echo "server RSS: ${before} kB after warm-up, ${after} kB after the run; open files: ${fds_before} before, ${fds_after} after"
