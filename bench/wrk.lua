-- wrk script for bench/run.py: one thread per connection, so each connection has its own
-- session key to increment ("c<thread id>") and its own count of successful responses.
-- BENCH_PATH, BENCH_COOKIE and BENCH_WRITE come from the environment.

local counter = 1
local threads = {}

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  ok = 0
  bad = 0
  local path = os.getenv("BENCH_PATH")
  local headers = { Cookie = os.getenv("BENCH_COOKIE"), ["User-Agent"] = "bench" }
  if os.getenv("BENCH_WRITE") == "1" then
    req = wrk.format("POST", path .. "?k=c" .. id, headers, "")
  else
    req = wrk.format("GET", path, headers)
  end
end

function request()
  return req
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  local counts = {}
  local good, failed = 0, 0
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    failed = failed + t:get("bad")
    table.insert(counts, "c" .. t:get("id") .. "=" .. t:get("ok"))
  end
  io.write(string.format("RESULT %d %d %d %d %d %s\n", good, failed, summary.requests,
    summary.duration, latency:percentile(99), table.concat(counts, ",")))
end
