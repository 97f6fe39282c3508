#!/usr/bin/env bash
# Planner at scale: the demo at scales 1 and 50 (add 500 with SCALES="1 50 500"), the whole
# `covermap plan` command (open, load, plan, write) in both cost modes, ROUNDS times each
# (default 3); prints the median wall time and peak memory against the targets (< 1 s at scale
# 50, < 5 s at scale 500, < 2 GB), the load/plan/write split the command reports, and each
# stage's time from plan.json (of the median run).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/.cache
rounds=${ROUNDS:-3}
target() { case $1 in 50) echo 1;; 500) echo 5;; *) echo "";; esac; }
for scale in ${SCALES:-1 50}; do
  db=bench/.cache/demo-${scale}.gpkg
  [[ -f $db ]] || build/covermap demo --out "$db" --scale "$scale" >/dev/null
  orgs=$(ogrinfo -so "$db" orgs | sed -n 's/^Feature Count: //p')
  for cost in distance planning; do
    runs=()
    for ((r = 0; r < rounds; r++)); do
      out=bench/.cache/plan-${scale}-${cost}-${r}.json
      /usr/bin/time -f "%e %M" -o bench/.cache/time.txt \
        build/covermap plan --db "$db" --cost "$cost" --out "$out" 2>bench/.cache/split.txt >/dev/null
      read -r secs kb < bench/.cache/time.txt
      runs+=("$secs $kb $r $(grep -o 'load .* write [0-9]* ms' bench/.cache/split.txt | tr ' ' '_')")
    done
    read -r secs kb r split < <(printf '%s\n' "${runs[@]}" | sort -n | sed -n "$(((rounds + 1) / 2))p")
    out=bench/.cache/plan-${scale}-${cost}-${r}.json
    stages=$(/usr/bin/python3 -c "import json; t=json.load(open('$out'))['summary']['timings_ms']; print(' '.join(f'{k.replace(\" \", \"\")}={v:.0f}' for k,v in t.items()))")
    all=$(printf '%s\n' "${runs[@]}" | cut -d' ' -f1 | sort -n | tr '\n' ' ')
    goal=$(target "$scale")
    verdict=""
    if [[ -n $goal ]]; then
      ok=$(echo "$secs < $goal && $kb < 2097152" | bc)
      verdict=$([[ $ok == 1 ]] && echo "target < ${goal} s, < 2 GB: met" || echo "target < ${goal} s, < 2 GB: MISSED")
    fi
    printf 'scale %-4s %8s orgs  %-8s median %6.2f s of %s(%d runs)  peak %5d MB  %s\n' \
      "$scale" "$orgs" "$cost" "$secs" "$all" "$rounds" $((kb / 1024)) "$verdict"
    printf '    %s\n    stages ms: %s\n' "${split//_/ }" "$stages"
  done
done
