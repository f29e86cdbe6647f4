-- wrk script of the next-cid benchmark: each request takes the next path of the file named by
-- WRK_PATHS (one path a line, the same list autocannon cycles through), and at the end one JSON
-- line with the figures run.ts reads (wrk's own summary is for people, not for parsing).
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  paths[#paths + 1] = line
end
local i = 0

function request()
  i = i + 1
  return wrk.format(nil, paths[(i % #paths) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"non2xx":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end

-- WRK_SHOW_ERRORS=N: print the first N answers that are not 2xx (status and body) to stderr. Off by
-- default: a response() function makes wrk parse every body.
local show = tonumber(os.getenv("WRK_SHOW_ERRORS") or "0")
if show > 0 then
  local shown = 0
  function response(status, headers, body)
    if status >= 300 and shown < show then
      shown = shown + 1
      io.stderr:write(string.format("wrk: %d %s\n", status, body))
    end
  end
end
