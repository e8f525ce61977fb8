-- wrk script of `manage.py bench_callbacks`: POSTs pre-signed JSON bodies, one per line of
-- the file given after `--`, cycling over them (each thread from its own offset). Every
-- request is formatted once, in init(); request() only hands the next one out. done()
-- prints the figures as one JSON line for the command to read.
--   wrk -s bench/callbacks.lua http://127.0.0.1:8000/JDCloud/master/sync -- bodies.txt

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  local headers = { ["Content-Type"] = "application/json" }
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("POST", nil, headers, line)
  end
  next_index = (id * 7919) % #requests
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
