#!/usr/bin/env bash
# Cold rendering: covermap's coverage-grid against renderd (OpenStreetMap's Mapnik tile daemon,
# 8 × 8 metatiles) rendering the same grid cells, exported with their coverage from covermap to
# a GeoPackage and read through Mapnik's ogr plugin with an equivalent style (same palette,
# borders, labels from z15), 2 threads each, the same tiles, same run. Prints tiles/s per zoom.
# Each is asked in two lanes: render_list -n 2 (two threads on renderd's socket) and two curl
# processes (each over one kept-alive HTTP connection).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v renderd >/dev/null || { echo "needs renderd (apt-get install renderd)"; exit 1; }
scale=${SCALE:-50}
mkdir -p bench/.cache
db=bench/.cache/demo-${scale}.gpkg
[[ -f $db ]] || build/covermap demo --out "$db" --scale "$scale" >/dev/null
work=$(mktemp -d)
chmod 755 "$work"
trap 'kill $rpid $cpid 2>/dev/null || true; rm -rf "$work"' EXIT
build/covermap export --db "$db" --layer areas --level grid --format gpkg --out "$work/grid.gpkg" >/dev/null

# The renderd style: the palette of tiles/src/renderer.cpp (kCoveragePalette) on org_rate.
{
  echo '<Map srs="epsg:3857" background-color="transparent" buffer-size="128">'
  echo '<FontSet name="cjk"><Font face-name="WenQuanYi Micro Hei Regular"/><Font face-name="DejaVu Sans Book"/></FontSet>'
  echo '<Style name="fill">'
  echo '<Rule><Filter>[operating] = 0</Filter><PolygonSymbolizer fill="#c8c8c8" fill-opacity="0.72"/></Rule>'
  for r in "0:0.2:#d7191c" "0.2:0.4:#f46d43" "0.4:0.6:#fee08b" "0.6:0.8:#a6d96a" "0.8:1:#66bd63"; do
    IFS=: read -r lo hi col <<<"$r"
    echo "<Rule><Filter>[operating] &gt; 0 and [org_rate] &gt;= $lo and [org_rate] &lt; $hi</Filter><PolygonSymbolizer fill=\"$col\" fill-opacity=\"0.72\"/></Rule>"
  done
  echo '<Rule><Filter>[operating] &gt; 0 and [org_rate] &gt;= 1</Filter><PolygonSymbolizer fill="#1a9850" fill-opacity="0.72"/></Rule>'
  echo '<Rule><LineSymbolizer stroke="#4d4d4d" stroke-width="0.6" stroke-opacity="0.8"/></Rule></Style>'
  echo '<Style name="labels"><Rule><MaxScaleDenominator>17232</MaxScaleDenominator>'
  echo '<TextSymbolizer fontset-name="cjk" size="12" fill="#1a1a1a" halo-fill="rgba(255,255,255,0.9)" halo-radius="1.6" placement="interior" minimum-padding="4" wrap-width="80">[name]</TextSymbolizer></Rule></Style>'
  echo '<Layer name="grid" srs="epsg:4326"><StyleName>fill</StyleName><StyleName>labels</StyleName>'
  echo "<Datasource><Parameter name=\"type\">ogr</Parameter><Parameter name=\"file\">$work/grid.gpkg</Parameter><Parameter name=\"layer\">areas</Parameter></Datasource></Layer>"
  echo '</Map>'
} > "$work/style.xml"
cat > "$work/renderd.conf" <<CONF
[renderd]
socketname=$work/renderd.sock
num_threads=2
tile_dir=$work/tiles
stats_file=$work/renderd.stats

[mapnik]
plugins_dir=$(mapnik-config --input-plugins)
font_dir=/usr/share/fonts/truetype
font_dir_recurse=true

[default]
URI=/tiles/
TILEDIR=$work/tiles
XML=$work/style.xml
HOST=localhost
TILESIZE=256
CONF
mkdir -p "$work/tiles"
renderd -f -c "$work/renderd.conf" >"$work/renderd.log" 2>&1 &
rpid=$!
for _ in $(seq 100); do [[ -S $work/renderd.sock ]] && break; sleep 0.1; done

token=$(build/covermap token add --db "$db" --role viewer --name bench-cold)
build/covermap serve --db "$db" --port 18501 --threads 2 --no-access-log --cache-mb 4096 --rate-per-client 0 >"$work/out" 2>/dev/null &
cpid=$!
for _ in $(seq 300); do grep -q serving "$work/out" && break; sleep 0.1; done

# Warm-up, not timed: both load their styles and data on first use.
echo "0 0 3" | render_list -f -n 2 -s "$work/renderd.sock" -m default -t "$work/tiles" >/dev/null 2>&1
curl -sf -o /dev/null -H "Authorization: Bearer $token" http://127.0.0.1:18501/tiles/coverage-grid/3/0/0.png || true

# Metatile-aligned 8 x 8 blocks over Tieling city and around it (at most 16 per zoom).
printf '%-5s %10s %14s %14s %8s\n' zoom tiles "renderd t/s" "covermap t/s" ratio
for z in ${ZOOMS:-8 12 14 16}; do
  read -r cx cy < <(/usr/bin/python3 -c "
import math
lon,lat,z=123.84,42.29,$z; n=2**z
print(int((lon+180)/360*n), int((1-math.log(math.tan(math.radians(lat))+1/math.cos(math.radians(lat)))/math.pi)/2*n))")
  : > "$work/meta.txt"
  side=$(( z >= 12 ? 4 : 1 ))
  for i in $(seq 0 $((side - 1))); do for j in $(seq 0 $((side - 1))); do
    echo "$(( (cx / 8 + i - side / 2) * 8 )) $(( (cy / 8 + j - side / 2) * 8 )) $z" >> "$work/meta.txt"
  done; done
  metas=$(wc -l < "$work/meta.txt"); tiles=$((metas * 64))
  s=$(date +%s.%N)
  render_list -f -n 2 -s "$work/renderd.sock" -m default -t "$work/tiles" < "$work/meta.txt" >/dev/null 2>&1
  e=$(date +%s.%N); rt=$(echo "$e - $s" | bc)
  # covermap: one request per covermap metatile inside the same blocks (4 x 4 below z10).
  cm=$(( z >= 10 ? 8 : 4 ))
  : > "$work/urls.txt"
  while read -r x y zz; do
    for dx in $(seq 0 $cm 7); do for dy in $(seq 0 $cm 7); do
      echo "http://127.0.0.1:18501/tiles/coverage-grid/$zz/$((x + dx))/$((y + dy)).png" >> "$work/urls.txt"
    done; done
  done < "$work/meta.txt"
  # Two curl processes, each asking for its half of the metatiles over one kept-alive
  # connection, as render_list's two threads ask renderd over its socket.
  : > "$work/curl0.cfg"; : > "$work/curl1.cfg"
  i=0
  while read -r u; do
    printf 'url = "%s"\noutput = "/dev/null"\n' "$u" >> "$work/curl$((i % 2)).cfg"; i=$((i + 1))
  done < "$work/urls.txt"
  s=$(date +%s.%N)
  curl -sf -H "Authorization: Bearer $token" -K "$work/curl0.cfg" & c0=$!
  curl -sf -H "Authorization: Bearer $token" -K "$work/curl1.cfg" & c1=$!
  wait "$c0" "$c1"
  e=$(date +%s.%N); ct=$(echo "$e - $s" | bc)
  printf '%-5s %10d %14.0f %14.0f %8.2f\n' "$z" "$tiles" "$(echo "$tiles / $rt" | bc -l)" "$(echo "$tiles / $ct" | bc -l)" "$(echo "$rt / $ct" | bc -l)"
done
echo "renderd metatiles written: $(find "$work/tiles" -name "*.meta" | wc -l), $(du -sk "$work/tiles" | cut -f1) kB; renderd log errors: $(grep -ci error "$work/renderd.log" || true)"
