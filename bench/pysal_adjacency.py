#!/usr/bin/python3
"""libpysal's side of bench/adjacency.sh: Queen.from_dataframe on the same layer; prints
one JSON line {"seconds", "links", "islands", "pairs_file"}. Neighbour ids are positions
in the layer, mapped to the layer's FIDs for comparison."""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import geopandas
from libpysal.weights import Queen, Rook

path, layer, mode, pairs_out = sys.argv[1:5]
fuzzy_m = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
df = geopandas.read_file(path, layer=layer or None)
n_all = len(df)
first = 1 if path.endswith(".gpkg") else 0
# libpysal stops on missing geometries: leave them out (they are islands on both sides)
# and keep each row's position in the file for the comparison.
df = df[~(df.geometry.isna() | df.geometry.is_empty)]
fids = [first + int(k) for k in df.index]
df = df.reset_index(drop=True)
t = time.perf_counter()
if fuzzy_m > 0:
    from libpysal.weights import fuzzy_contiguity
    # Degrees at the layer's mean latitude, as covermap converts its metres.
    import math
    lat = (df.total_bounds[1] + df.total_bounds[3]) / 2
    # Both shapes are grown by `buffer`: borders within 2 × buffer meet. Half the tolerance.
    buffer = fuzzy_m / 2 / (111319.49 * max(0.05, math.cos(math.radians(lat))))
    w = fuzzy_contiguity(df, buffering=True, buffer=buffer, drop=False, silence_warnings=True)
else:
    w = (Queen if mode == "queen" else Rook).from_dataframe(df, silence_warnings=True)
secs = time.perf_counter() - t
pairs = set()
for i, ns in w.neighbors.items():
    for j in ns:
        a, b = fids[i], fids[j]
        pairs.add((min(a, b), max(a, b)))
with open(pairs_out, "w") as f:
    f.write("a,b\n")
    for a, b in sorted(pairs):
        f.write(f"{a},{b}\n")
print(json.dumps({"seconds": secs, "links": len(pairs), "islands": len(w.islands), "dropped": int(n_all - len(df))}))
