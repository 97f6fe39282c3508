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
df = geopandas.read_file(path, layer=layer or None)
fids = list(range(1, len(df) + 1)) if path.endswith(".gpkg") else list(range(len(df)))
t = time.perf_counter()
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
print(json.dumps({"seconds": secs, "links": len(pairs), "islands": len(w.islands)}))
