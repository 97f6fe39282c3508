// Reads a covermap export zip with shpjs (npm) and prints its GeoJSON: what a web map
// built on shpjs would show. shpjs decodes the DBF with the .cpg and reprojects with the .prj.
import { readFileSync } from 'node:fs';
import shp from 'shpjs';

const data = readFileSync(process.argv[2]);
const result = await shp(data);
const collections = Array.isArray(result) ? result : [result];
const out = {};
for (const c of collections) out[c.fileName || 'layer'] = c.features;
process.stdout.write(JSON.stringify(out));
