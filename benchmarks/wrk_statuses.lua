-- wrk script for benchmarks/load.sh and benchmarks/fault.sh: counts the HTTP status of every response and,
-- when WRK_PATHS names a file of paths (one a line), cycles through them so one run covers a mix of pages.
--   wrk -t2 -c64 -d60s -s benchmarks/wrk_statuses.lua http://127.0.0.1:PORT
-- At the end it prints one line "statuses: 200=N 503=M ..." that the shell scripts read.

local threads = {}
local counter = 0

function setup(thread)
  -- each wrk thread has its own Lua state; keep them to add up their counts in done()
  counter = counter + 1
  thread:set("offset", counter * 7919)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  paths = {}
  local file = os.getenv("WRK_PATHS")
  if file and file ~= "" then
    for line in io.lines(file) do
      if line ~= "" then
        table.insert(paths, line)
      end
    end
  end
  position = offset or 0
end

function request()
  if #paths == 0 then
    return wrk.format("GET")
  end
  position = position + 1
  return wrk.format("GET", paths[(position % #paths) + 1])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + n
    end
  end
  local codes = {}
  for status in pairs(total) do
    table.insert(codes, status)
  end
  table.sort(codes)
  local parts = {}
  for _, status in ipairs(codes) do
    table.insert(parts, status .. "=" .. total[status])
  end
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
  io.write(string.format("latency: p50=%.1fms p99=%.1fms max=%.1fms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
