-- wrk script for the rolling-restart test: alternates GET / and POST /echo (a small body), counts
-- every response by status and checks each body. Run: wrk -t1 -c32 -d20s --latency -s mix.lua URL
-- With `-- close` after the URL, every request carries `Connection: close` (one connection per
-- request between wrk and its target).
--
-- At the end it prints one line that tests/rollout/run.ts parses:
--   ROLLOUT {"status":{"200":123},"get":61,"post":62,"badBody":0}

local echo_body = "rolling-restart-probe-0123456789abcdef"
local get_request
local post_request
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local get_headers = {}
  local post_headers = { ["Content-Type"] = "text/plain" }
  if args[1] == "close" then
    get_headers["Connection"] = "close"
    post_headers["Connection"] = "close"
  end
  get_request = wrk.format("GET", "/", get_headers)
  post_request = wrk.format("POST", "/echo", post_headers, echo_body)
  -- Per-thread state, read back by done() through thread:get().
  status_counts = {}
  sent_get = 0
  sent_post = 0
  bad_body = 0
  next_is_post = false
end

function request()
  next_is_post = not next_is_post
  if next_is_post then
    sent_post = sent_post + 1
    return post_request
  end
  sent_get = sent_get + 1
  return get_request
end

function response(status, headers, body)
  local key = tostring(status)
  status_counts[key] = (status_counts[key] or 0) + 1
  -- A 200 must carry one of the two bodies the routes produce.
  if status == 200 and body ~= "ok" and body ~= echo_body then
    bad_body = bad_body + 1
  end
end

function done(summary, latency, requests)
  local status = {}
  local get_total, post_total, bad_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("status_counts")) do
      status[key] = (status[key] or 0) + count
    end
    get_total = get_total + thread:get("sent_get")
    post_total = post_total + thread:get("sent_post")
    bad_total = bad_total + thread:get("bad_body")
  end
  local parts = {}
  for key, count in pairs(status) do
    table.insert(parts, string.format('"%s":%d', key, count))
  end
  io.write(string.format(
    'ROLLOUT {"status":{%s},"get":%d,"post":%d,"badBody":%d}\n',
    table.concat(parts, ","), get_total, post_total, bad_total
  ))
end
