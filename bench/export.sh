#!/usr/bin/env bash
# Export benchmark: covermap's shapefile export of the organizations at demo scale 50
# against ogr2ogr writing the same rows (from the same GeoPackage) to a GBK shapefile plus
# zip, in the same run. Prints both times (best of N) and the ratio; target ≤ 1.5.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
scale=${SCALE:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=bench/.cache/demo-${scale}.gpkg
mkdir -p bench/.cache
[[ -f $db ]] || build/covermap demo --out "$db" --scale "$scale" >/dev/null

best() { sort -n | head -1; }
time_it() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }

ogr_run() {
  rm -rf "$work/ogr" && mkdir -p "$work/ogr"
  ogr2ogr -f "ESRI Shapefile" -lco ENCODING=CP936 "$work/ogr/orgs.shp" "$db" orgs
  (cd "$work/ogr" && zip -q -r ../ogr.zip .)
  rm -f "$work/ogr.zip"
}
cm_run() { build/covermap export --db "$db" --layer orgs --out "$work/cm.zip"; }

ogr_times=(); cm_times=()
for ((i = 0; i < runs; i++)); do
  ogr_times+=("$(time_it ogr_run)")
  cm_times+=("$(time_it cm_run)")
done
ogr=$(printf '%s\n' "${ogr_times[@]}" | best)
cm=$(printf '%s\n' "${cm_times[@]}" | best)
rows=$(ogrinfo -so "$db" orgs | sed -n 's/^Feature Count: //p')
printf 'export of %s organizations (demo scale %s), best of %d runs\n' "${rows:-?}" "$scale" "$runs"
printf '  ogr2ogr + zip        %6.3f s\n' "$ogr"
printf '  covermap export      %6.3f s   (loads the store, locates every org in its grid cell, zips)\n' "$cm"
printf '  (zip deflate: ogr2ogr side uses the zip CLI default, level 6; covermap level 1, ~20 %% larger)\n'
printf '  ratio covermap/ogr2ogr: %.2f (target <= 1.5)\n' "$(echo "$cm / $ogr" | bc -l)"
