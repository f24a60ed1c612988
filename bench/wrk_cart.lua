-- wrk script: every request is a different shopper posting a signed 10-line cart,
-- as the storefront script does (text/plain JSON, an Origin, a router's
-- X-Forwarded-For). Built by bench/common.py's run_wrk; arguments after "--":
--   template_file customers_file run_tag start origin
-- The template holds @CID@, @SIG@ (a signed customer from customers_file),
-- @TOKEN@ (the cart token) and @SEQ@ (in the note), so no two carts are alike.

local literals, markers, customers = {}, {}, {}
local headers = {}
local tag, start, n = "", 0, 0

local threads = 0
function setup(thread)
   thread:set("thread_index", threads)
   threads = threads + 1
end

function init(args)
   local file = assert(io.open(args[1], "rb"))
   local text = file:read("*a")
   file:close()
   local pos = 1
   while true do
      local first, last, name = string.find(text, "@(%u+)@", pos)
      if not first then break end
      literals[#literals + 1] = string.sub(text, pos, first - 1)
      markers[#markers + 1] = name
      pos = last + 1
   end
   literals[#literals + 1] = string.sub(text, pos)
   for line in io.lines(args[2]) do
      local id, signature = string.match(line, "^(%d+) (%x+)$")
      if id then customers[#customers + 1] = { id, signature } end
   end
   local index = thread_index or 0
   tag = args[3] .. "-" .. index
   start = tonumber(args[4]) + index * 1000003
   headers["Content-Type"] = "text/plain;charset=UTF-8"
   headers["Origin"] = args[5]
end

function request()
   n = n + 1
   local k = start + n
   local who = customers[(k % #customers) + 1]
   local values = { CID = who[1], SIG = who[2], TOKEN = tag .. "-" .. n, SEQ = tag .. "-" .. n }
   local out = {}
   for i = 1, #markers do
      out[#out + 1] = literals[i]
      out[#out + 1] = values[markers[i]]
   end
   out[#out + 1] = literals[#literals]
   headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", (thread_index or 0) % 256,
                                              math.floor(k / 256) % 256, k % 256)
   return wrk.format("POST", nil, headers, table.concat(out))
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("BENCH %d %d %d %d %d %d %d %d %d %d %d %d\n",
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
