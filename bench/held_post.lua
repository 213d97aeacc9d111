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

-- $BENCH_TARGETS names a file of devices, one a line: "ip4 ADDRESS", "ip6 ADDRESS", "mac
-- 02-42-00-00-00-01" or "uri sip:...". Then each request names one of them, drawn at random
-- (RFC 6155 device identity: a third-party request, the requester authorized by address),
-- instead of sending $BENCH_BODY. The requests are formatted once, in each thread's init.
local targets = os.getenv("BENCH_TARGETS")
if targets ~= nil and targets ~= "" then
  local element = {
    ip4 = '<ip v="4">%s</ip>', ip6 = '<ip v="6">%s</ip>', mac = "<mac>%s</mac>",
    uri = "<uri>%s</uri>",
  }
  local reqs = {}
  local threads = 0

  function setup(thread)
    threads = threads + 1
    thread:set("thread_no", threads)
  end

  function init(args)
    for line in io.lines(targets) do
      local kind, value = line:match("^(%S+) (%S+)$")
      local fmt = kind and element[kind]
      assert(fmt, "BENCH_TARGETS: not a device line: " .. line)
      local req = '<?xml version="1.0" encoding="UTF-8"?>\n' ..
        '<locationRequest xmlns="urn:ietf:params:xml:ns:geopriv:held" ' ..
        'responseTime="emergencyRouting">' ..
        '<locationType exact="false">civic geodetic</locationType>' ..
        '<device xmlns="urn:ietf:params:xml:ns:geopriv:held:id">' ..
        string.format(fmt, value) .. "</device></locationRequest>\n"
      reqs[#reqs + 1] = wrk.format(nil, nil, nil, req)
    end
    assert(#reqs > 0, "BENCH_TARGETS: no device in " .. targets)
    -- the same draws in every run: thread k always starts from seed k
    math.randomseed(thread_no or 1)
  end

  function request()
    return reqs[math.random(#reqs)]
  end
end

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
