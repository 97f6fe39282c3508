-- wrk script for bench/load.sh: a planner's mix of reads (organizations, coverage, OGC pages).
local token = os.getenv("COVERMAP_TOKEN")
local paths = {}
request = function()
  local r = math.random(1, 10)
  local path
  if r <= 6 then
    path = "/api/orgs/" .. math.random(1, 2000)
  elseif r <= 8 then
    path = "/api/coverage?level=street"
  else
    path = "/ogc/collections/orgs/items?limit=20&offset=" .. math.random(0, 2000)
  end
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx: %d, socket errors: connect %d read %d write %d timeout %d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
