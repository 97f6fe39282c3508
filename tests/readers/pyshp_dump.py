#!/usr/bin/python3
"""Reads every shapefile in a covermap export zip with pyshp (Debian's python3-pyshp) and
prints one JSON document: {layer: {"encoding", "fields", "records": [{field: value}],
"shapes": [[[x, y]…]…]}}. The encoding comes from the .cpg, as a desktop GIS would take it."""
import io
import json
import sys
import zipfile

import shapefile


def main(path):
    out = {}
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        for shp in [n for n in names if n.endswith(".shp")]:
            base = shp[:-4]
            encoding = z.read(base + ".cpg").decode("ascii").strip() if base + ".cpg" in names else "utf-8"
            reader = shapefile.Reader(
                shp=io.BytesIO(z.read(base + ".shp")),
                shx=io.BytesIO(z.read(base + ".shx")),
                dbf=io.BytesIO(z.read(base + ".dbf")),
                encoding=encoding,
            )
            fields = [f[0] for f in reader.fields[1:]]
            records, shapes = [], []
            for sr in reader.iterShapeRecords():
                records.append({k: v for k, v in zip(fields, list(sr.record))})
                shapes.append([[float(x), float(y)] for x, y in sr.shape.points])
            out[base] = {"encoding": encoding, "fields": fields, "records": records, "shapes": shapes}
    json.dump(out, sys.stdout, ensure_ascii=False, default=str)


if __name__ == "__main__":
    main(sys.argv[1])
