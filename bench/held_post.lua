-- wrk script: POST one HELD locationRequest per request over a kept-alive connection, and
-- print a machine-readable summary line that bench/run.sh parses.
-- The body comes from the file named by $BENCH_BODY (bench/run.sh passes deploy/sample/
-- request.xml when present); otherwise a minimal RFC 5985 §6.1 request is sent.
local body = [[<?xml version="1.0" encoding="UTF-8"?>
<locationRequest xmlns="urn:ietf:params:xml:ns:geopriv:held" responseTime="emergencyRouting">
  <locationType exact="false">civic geodetic</locationType>
</locationRequest>
]]

local path = os.getenv("BENCH_BODY")
if path ~= nil and path ~= "" then
  local f = assert(io.open(path, "rb"))
  body = f:read("*a")
  f:close()
end

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/held+xml; charset=utf-8"

-- Runs once after the load; latency values are microseconds.
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "WRKSTAT requests=%d secs=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "mean_us=%.1f non2xx=%d connect_err=%d read_err=%d write_err=%d timeout=%d\n",
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, e.status, e.connect, e.read, e.write, e.timeout))
end
