#!/usr/bin/python3
"""libpysal's side of bench/adjacency.sh. Usage: pysal_adjacency.py LAYER KIND TOLERANCE PAIRS_OUT
KIND: queen | rook (Queen/Rook.from_dataframe: shared vertices / edges), touch
(fuzzy_contiguity without buffering: geometries that intersect), fuzzy (fuzzy_contiguity
buffering each geometry by TOLERANCE / 2, so borders within TOLERANCE meet; LAYER must then be
in metres). Prints one JSON line {"seconds", "links", "islands", "dropped"}; the pairs are
written as FIDs (GeoPackage: the row's position + 1) for comparison."""
import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import geopandas
from libpysal.weights import Queen, Rook, fuzzy_contiguity

path, kind, tol, pairs_out = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
df = geopandas.read_file(path)
n_all = len(df)
# libpysal stops on missing geometries: leave them out (they are islands on both sides)
# and keep each row's position in the file for the comparison.
df = df[~(df.geometry.isna() | df.geometry.is_empty)]
fids = [1 + int(k) for k in df.index]
df = df.reset_index(drop=True)
t = time.perf_counter()
if kind == "queen":
    w = Queen.from_dataframe(df, silence_warnings=True)
elif kind == "rook":
    w = Rook.from_dataframe(df, silence_warnings=True)
elif kind == "touch":
    w = fuzzy_contiguity(df, buffering=False, drop=False, silence_warnings=True)
else:
    w = fuzzy_contiguity(df, buffering=True, buffer=tol / 2, drop=False, silence_warnings=True)
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
