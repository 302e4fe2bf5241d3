-- Order status lookups (GET /v1/orders/{order_id}) at a fixed rate, for wrk 4 (LuaJIT).
--
--   ORDERLEDGER_BENCH_API_KEY=... wrk -t2 -c16 -d30s --latency -s bench/status_lookup.lua \
--       http://127.0.0.1:8000 -- ids.txt 1000 2
--
-- Script arguments (after "--"), each falling back to an environment variable:
--   1. ids file, one order id a line    ORDERLEDGER_BENCH_IDS_FILE
--   2. target rate, requests/s in all   ORDERLEDGER_BENCH_RATE     (default 1000)
--   3. wrk's thread count (-t)          ORDERLEDGER_BENCH_THREADS  (required: a thread cannot see -t)
--   4. API key (the Bearer token)       ORDERLEDGER_BENCH_API_KEY  (prefer the variable: argv is public)
-- ORDERLEDGER_BENCH_PICK=random picks ids at random instead of round-robin.
--
-- How the rate is held. Plain wrk is closed-loop: each connection sends its next request as soon as
-- the previous response arrives. Here every thread keeps its own schedule of send slots, one every
-- threads/rate seconds (its share of the rate), on CLOCK_MONOTONIC read through the LuaJIT FFI. wrk
-- calls delay() on a connection before each request; the call claims the thread's next slot and
-- returns the milliseconds until it (rounded up, wrk's timers count whole ms), or 0 when the slot has
-- passed. The schedule never slips, so after a stall the free connections catch up: open-loop, as
-- closely as wrk 4 allows.
--
-- What it cannot do (coordinated omission). wrk 4 measures latency from when the request is written,
-- not from its scheduled slot, and a connection only claims a slot once its previous response is in.
-- When the server is slower than connections/rate per request, requests queue in the load generator
-- and that wait is not in the latency. wrk 4 back-fills synthetic samples from the average
-- per-connection interval after the run (stats_correct), a rough correction, not the schedule's.
-- So the script counts the slots claimed more than 1 ms after their time ("late") and the worst delay
-- ("max_behind_us"): when "late" is not ~0 the rate was not held and the percentiles are optimistic
-- (add connections, or use wrk2, which measures from the schedule).
--
-- done() prints one line: BENCH_JSON {...}. Latencies are microseconds; every non-2xx response is an
-- error (errors_status; wrk's own count takes only status > 399).

local ffi = require("ffi")

ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } orderledger_bench_timespec;
int clock_gettime(int clk_id, orderledger_bench_timespec *tp);
]])

local CLOCK_MONOTONIC = 1 -- Linux
local LATE_US = 1000 -- a slot claimed later than this counts as late
local timespec = ffi.new("orderledger_bench_timespec")

local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
   return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

local function setting(args, position, variable, default)
   local value = args and args[position]
   if value == nil or value == "" then
      value = os.getenv(variable)
   end
   if value == nil or value == "" then
      value = default
   end
   if value == nil then
      error(string.format("status_lookup.lua: give script argument %d or set %s", position, variable))
   end
   return value
end

local function positive_number(text, what)
   local n = tonumber(text)
   if n == nil or n <= 0 then
      error(string.format("status_lookup.lua: %s must be a positive number, not %q", what, tostring(text)))
   end
   return n
end

local function read_ids(file_name)
   local file, problem = io.open(file_name, "r")
   if file == nil then
      error("status_lookup.lua: cannot read the ids file: " .. tostring(problem))
   end
   local ids = {}
   for line in file:lines() do
      local id = line:match("^%s*(.-)%s*$")
      if id ~= "" then
         ids[#ids + 1] = id
      end
   end
   file:close()
   if #ids == 0 then
      error("status_lookup.lua: no order ids in " .. file_name)
   end
   return ids
end

local function url_encode(text)
   return (text:gsub("[^%w%-%._~]", function(c)
      return string.format("%%%02X", c:byte())
   end))
end

-- ------------------------------------------------------------------ setup and done (wrk's main state)

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads) -- 0-based; init() of this thread runs right after
   threads[#threads + 1] = thread
end

-- ------------------------------------------------------------------ running (one state per thread)

-- Read by done() through thread:get, hence globals.
bench_late = 0
bench_max_behind_us = 0
bench_non2xx = 0
bench_scheduled = 0

local requests = {}
local cursor = 0
local pick_random = false
local interval_us = nil
local next_slot_us = nil

function init(args)
   local ids = read_ids(setting(args, 1, "ORDERLEDGER_BENCH_IDS_FILE"))
   local rate = positive_number(setting(args, 2, "ORDERLEDGER_BENCH_RATE", "1000"), "the rate")
   local thread_count = positive_number(setting(args, 3, "ORDERLEDGER_BENCH_THREADS"), "the thread count")
   local key = setting(args, 4, "ORDERLEDGER_BENCH_API_KEY")
   local index = thread_index or 0

   interval_us = 1e6 * thread_count / rate -- this thread's share: rate / threads
   pick_random = os.getenv("ORDERLEDGER_BENCH_PICK") == "random"
   math.randomseed(os.time() + index)

   -- The URL may be the service root or already end in /v1/orders/.
   local prefix = wrk.path
   if not prefix:match("/v1/orders/?$") then
      prefix = prefix:gsub("/+$", "") .. "/v1/orders"
   end
   prefix = prefix:gsub("/+$", "") .. "/"

   -- Each thread takes every thread_count-th id, so threads look up different orders; with fewer ids
   -- than threads, each starts at a different one.
   local mine = {}
   if #ids >= thread_count then
      for i = index + 1, #ids, thread_count do
         mine[#mine + 1] = ids[i]
      end
   else
      for i = 0, #ids - 1 do
         mine[#mine + 1] = ids[(index + i) % #ids + 1]
      end
   end

   -- Built once: request() only picks one (wrk's SCRIPTING advice).
   local headers = { ["Authorization"] = "Bearer " .. key }
   for i, id in ipairs(mine) do
      requests[i] = wrk.format("GET", prefix .. url_encode(id), headers)
   end
end

function request()
   if pick_random then
      return requests[math.random(#requests)]
   end
   cursor = cursor % #requests + 1
   return requests[cursor]
end

function delay()
   local now = now_us()
   if next_slot_us == nil then
      next_slot_us = now
   end
   local slot = next_slot_us
   next_slot_us = slot + interval_us
   bench_scheduled = bench_scheduled + 1
   local ahead = slot - now
   if ahead > 0 then
      return math.ceil(ahead / 1000)
   end
   local behind = -ahead
   if behind > LATE_US then
      bench_late = bench_late + 1
   end
   if behind > bench_max_behind_us then
      bench_max_behind_us = behind
   end
   return 0
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      bench_non2xx = bench_non2xx + 1
   end
end

-- ------------------------------------------------------------------ the report

local function json_line(fields)
   local parts = {}
   for _, field in ipairs(fields) do
      local name, value = field[1], field[2]
      local text
      if value ~= value or value == math.huge or value == -math.huge then
         text = "null"
      elseif value == math.floor(value) then
         text = string.format("%d", value)
      else
         text = string.format("%.3f", value)
      end
      parts[#parts + 1] = string.format("%q:%s", name, text)
   end
   return "{" .. table.concat(parts, ",") .. "}"
end

function done(summary, latency, requests_per_thread)
   local late, max_behind, non2xx, scheduled = 0, 0, 0, 0
   for _, thread in ipairs(threads) do
      late = late + (thread:get("bench_late") or 0)
      non2xx = non2xx + (thread:get("bench_non2xx") or 0)
      scheduled = scheduled + (thread:get("bench_scheduled") or 0)
      max_behind = math.max(max_behind, thread:get("bench_max_behind_us") or 0)
   end
   local errors = summary.errors
   local fields = {
      { "requests", summary.requests },
      { "duration_us", summary.duration },
      { "threads", #threads },
      { "scheduled", scheduled },
      { "late", late },
      { "max_behind_us", math.floor(max_behind) },
      { "errors_status", non2xx },
      { "errors_status_over_399", errors.status },
      { "errors_connect", errors.connect },
      { "errors_read", errors.read },
      { "errors_write", errors.write },
      { "errors_timeout", errors.timeout },
      { "p50_us", latency:percentile(50) },
      { "p90_us", latency:percentile(90) },
      { "p99_us", latency:percentile(99) },
      { "p999_us", latency:percentile(99.9) },
      { "max_us", latency.max },
      { "mean_us", latency.mean },
   }
   io.write("BENCH_JSON ", json_line(fields), "\n")
   io.flush()
end
