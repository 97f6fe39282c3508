-- wrk: cycles through the tile paths listed in $TILE_LIST, with an optional bearer token.
local paths = {}
for line in io.lines(os.getenv("TILE_LIST")) do paths[#paths + 1] = line end
local token = os.getenv("COVERMAP_TOKEN")
local i = 0
request = function()
  i = i % #paths + 1
  if token and token ~= "" then
    return wrk.format("GET", paths[i], { ["Authorization"] = "Bearer " .. token })
  end
  return wrk.format("GET", paths[i])
end
done = function(summary)
  io.write(string.format("non-2xx: %d, errors: %d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
