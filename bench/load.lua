-- wrk script for bench/load.sh: a planner's mix of reads: tiles of every layer at z8-14 over
-- Tieling, coverage at every level, organizations, OGC pages with a bbox. Edits run beside it
-- (bench/load_edits.py), since an edit needs the version a read just returned.
local token = os.getenv("COVERMAP_TOKEN")
local layers = { "coverage-district", "coverage-park", "coverage-street", "coverage-community", "coverage-grid",
  "heatmap", "orgs", "assignments" }
local levels = { "district", "park", "street", "community", "grid" }

local function tile()
  local z = math.random(8, 14)
  local lon = 123.5 + math.random() * 1.4
  local lat = math.rad(42.0 + math.random() * 1.2)
  local n = 2 ^ z
  local x = math.floor((lon + 180) / 360 * n)
  local y = math.floor((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * n)
  return string.format("/tiles/%s/%d/%d/%d.png", layers[math.random(#layers)], z, x, y)
end

request = function()
  local r = math.random(1, 20)
  local path
  if r <= 10 then
    path = tile()
  elseif r <= 14 then
    path = "/api/orgs/" .. math.random(1, 2000)
  elseif r <= 17 then
    path = "/api/coverage?level=" .. levels[math.random(#levels)]
  else
    local lon, lat = 123.5 + math.random() * 1.2, 42.0 + math.random() * 1.0
    path = string.format("/ogc/collections/orgs/items?limit=20&bbox=%.3f,%.3f,%.3f,%.3f", lon, lat, lon + 0.2, lat + 0.2)
  end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx/3xx: %d, socket errors: connect %d read %d write %d timeout %d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
