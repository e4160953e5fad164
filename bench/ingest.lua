-- wrk script for bench/bench_ingest.py: round-robin over a fleet of vehicles, one reading each per
-- second of simulated time, so every request stores a new reading on its vehicle's open trip.
-- args: mode ("upload" or "baseline"), fleet file ("token vehicle_id trip_id" per line),
--       first reading time in ms, session name, query string of the reading
local fleet = {}
local index, at = 0, 0
local mode, session, query

function init(args)
  mode, session, query = args[1], args[4], args[5]
  at = tonumber(args[3])
  for line in io.lines(args[2]) do
    local token, vehicle, trip = line:match("(%S+) (%S+) (%S+)")
    fleet[#fleet + 1] = {token, vehicle, trip}
  end
end

function request()
  index = index % #fleet + 1
  if index == 1 then at = at + 1000 end
  local v = fleet[index]
  local path
  if mode == "upload" then
    path = "/api/torque/upload/" .. v[1] .. "?" .. query .. "&session=" .. session .. "&time=" .. at
  else
    path = "/bench/baseline/" .. v[2] .. "/" .. v[3] .. "?session=" .. session .. "&time=" .. at
  end
  return wrk.format("GET", path)
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
