#!/usr/bin/env bash
# Planner at scale: the demo at scales 1, 50 (and 500 with SCALES="1 50 500"), the whole plan
# in both cost modes; prints each stage's time (from plan.json) and the peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/.cache
for scale in ${SCALES:-1 50}; do
  db=bench/.cache/demo-${scale}.gpkg
  [[ -f $db ]] || build/covermap demo --out "$db" --scale "$scale" >/dev/null
  for cost in distance planning; do
    out=bench/.cache/plan-${scale}-${cost}.json
    /usr/bin/time -f "%e %M" -o bench/.cache/time.txt build/covermap plan --db "$db" --cost "$cost" --out "$out" >/dev/null
    read -r secs kb < bench/.cache/time.txt
    orgs=$(ogrinfo -so "$db" orgs | sed -n 's/^Feature Count: //p')
    stages=$(/usr/bin/python3 -c "import json,sys; t=json.load(open('$out'))['summary']['timings_ms']; print(' '.join(f'{k}={v:.0f}ms' for k,v in t.items()))")
    printf 'scale %-4s %8s orgs  %-8s total %6.2f s (load + plan)  peak %5d MB  %s\n' "$scale" "$orgs" "$cost" "$secs" $((kb / 1024)) "$stages"
  done
done
