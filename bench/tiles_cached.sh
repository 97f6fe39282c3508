#!/usr/bin/env bash
# Cached tiles: requests per second of `covermap serve` answering from its tile cache against
# nginx serving the very same PNG bytes from disk, same wrk settings (1 thread, 32
# connections, the same requests with the same bearer token), same run, nginx with as many
# workers as covermap has I/O threads (THREADS, default 2), ROUNDS (default 7) alternating
# runs of DURATION seconds (default 10) each. Prints both medians and the ratio (target
# >= 1.2), each server's CPU time per request, and wrk's (per request, and its share of a core). Access logs: off for both by default;
# ACCESS_LOG=1 turns both on (nginx buffered to a file, covermap to a file).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2} rounds=${ROUNDS:-7} duration=${DURATION:-10}
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx (apt-get install wrk nginx)"; exit 1; }
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$work"' EXIT
build/covermap demo --out "$work/demo.gpkg" --scale "${SCALE:-1}" --force >/dev/null
log_flag=--no-access-log nginx_log="access_log off;"
if [[ "${ACCESS_LOG:-0}" == 1 ]]; then log_flag= nginx_log="access_log $work/access.log combined buffer=64k flush=1s;"; fi
build/covermap serve --db "$work/demo.gpkg" --port 18401 --threads "$threads" --rate-per-client 0 $log_flag >"$work/out" 2>"$work/covermap.log" &
pid=$!
for _ in $(seq 100); do grep -q serving "$work/out" && break; sleep 0.1; done
token=$(grep -m1 '^cm_' "$work/out")
# 256 tiles of coverage-grid around Tieling city at z14: warm the cache, keep the bytes for nginx.
mkdir -p "$work/www"
: > "$work/list"
for dx in $(seq 0 15); do for dy in $(seq 0 15); do
  x=$((13820 + dx)); y=$((6056 + dy)); p="/tiles/coverage-grid/14/$x/$y.png"
  mkdir -p "$work/www/tiles/coverage-grid/14/$x"
  curl -sSf -H "Authorization: Bearer $token" -o "$work/www$p" "http://127.0.0.1:18401$p"
  echo "$p" >> "$work/list"
done; done
# nginx as tuned for small static files: sendfile, open file descriptors cached.
cat > "$work/nginx.conf" <<NGINX
worker_processes $threads;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 1024; }
http {
  $nginx_log
  sendfile on;
  tcp_nopush on;
  open_file_cache max=1000;
  server { listen 127.0.0.1:18402; root $work/www; location / { add_header Cache-Control no-cache; } }
}
NGINX
chmod -R a+rX "$work"
nginx -c "$work/nginx.conf"
export TILE_LIST="$work/list"
# CPU time (user + system, clock ticks) the server's processes have used so far.
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
# One wrk run against $1: appends its requests per second to $2, and the server's CPU time
# per request (microseconds, from the processes $3...) to $2.cpu: a second figure that does
# not depend on how wrk, sharing the two cores, is scheduled.
run() {
  local url=$1 into=$2; shift 2
  local t0 t1 out
  t0=$(ticks "$@")
  out=$(/usr/bin/time -f "wrk-cpu %U %S" wrk -t1 -c32 -d"$duration"s -s bench/tiles_cached.lua "$url" 2>&1)
  t1=$(ticks "$@")
  grep -q 'non-2xx: 0, errors: 0' <<<"$out" || { echo "wrk saw failed requests on $url:"; echo "$out"; exit 1; }
  awk '/Requests\/sec/ {print $2}' <<<"$out" >>"$into"
  local n; n=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "scale=2; ($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / $n" | bc >>"$into.cpu"
  # wrk's own CPU: per request, and the share of one core it kept busy (near 100 %, the client
  # is what limits the rate, whichever server answers).
  read -r wu ws < <(awk '/^wrk-cpu/ {print $2, $3}' <<<"$out")
  echo "scale=2; ($wu + $ws) * 1000000 / $n" | bc >>"$into.wrk"
  echo "scale=1; ($wu + $ws) * 100 / $duration" | bc >>"$into.wrkcore"
}
# Alternate the two, ROUNDS times each, and compare medians: this machine is shared.
: > "$work/n.all"; : > "$work/c.all"; : > "$work/n.all.cpu"; : > "$work/c.all.cpu"
: > "$work/n.all.wrk"; : > "$work/c.all.wrk"; : > "$work/n.all.wrkcore"; : > "$work/c.all.wrkcore"
for _ in $(seq "$rounds"); do
  # The same request bytes to both, token included (nginx ignores it): wrk, on the same two
  # cores, then spends the same on each request of either.
  COVERMAP_TOKEN="$token" run http://127.0.0.1:18402/ "$work/n.all" $(pgrep -P "$(cat "$work/nginx.pid")")
  COVERMAP_TOKEN="$token" run http://127.0.0.1:18401/ "$work/c.all" "$pid"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
n=$(median "$work/n.all"); c=$(median "$work/c.all")
echo "256 cached z14 tiles, wrk -t1 -c32 -d${duration}s, $rounds alternating rounds, medians"
echo "  nginx (files on disk)   $n req/s   (rounds: $(tr '\n' ' ' < "$work/n.all"))"
echo "  covermap (tile cache)   $c req/s   (rounds: $(tr '\n' ' ' < "$work/c.all"))"
echo "  server CPU per request (user + system, medians): nginx $(median "$work/n.all.cpu") us, covermap $(median "$work/c.all.cpu") us"
echo "  wrk CPU per request (medians): against nginx $(median "$work/n.all.wrk") us, against covermap $(median "$work/c.all.wrk") us; wrk's share of one core: $(median "$work/n.all.wrkcore") % and $(median "$work/c.all.wrkcore") %"
echo "  ratio covermap/nginx: $(echo "$c / $n" | bc -l | cut -c1-5) (target >= 1.2; $threads covermap I/O threads, $threads nginx workers, access logs $([[ -z $log_flag ]] && echo on || echo off))"
