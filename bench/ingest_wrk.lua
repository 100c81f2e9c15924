-- wrk script for bench/ingest_wrk.py: each connection's thread POSTs pre-built NDJSON bodies.
-- The bodies, their stream and their key are listed in <dir>/manifest.tsv
-- (file<TAB>stream<TAB>key<TAB>events); thread t takes the lines whose number mod threads = t,
-- so no two threads send the same body (every event id is new: no duplicate is cheap).

local threads = {}
local counter = 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    local dir, total = args[1], tonumber(args[2])
    bodies, paths, keys, events = {}, {}, {}, {}
    accepted, refused, sent = 0, 0, 0
    local number = 0
    for line in io.lines(dir .. "/manifest.tsv") do
        if number % total == id then
            local file, stream, key, count = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)\t(%d+)")
            local handle = io.open(dir .. "/" .. file, "rb")
            table.insert(bodies, handle:read("*a"))
            handle:close()
            table.insert(paths, "/api/v1/logs/" .. stream)
            table.insert(keys, "Bearer " .. key)
            table.insert(events, tonumber(count))
        end
        number = number + 1
    end
    next_body = 0
end

function request()
    next_body = next_body % #bodies + 1
    sent = sent + 1
    return wrk.format("POST", paths[next_body], {
        ["Authorization"] = keys[next_body],
        ["Content-Type"] = "application/x-ndjson",
    }, bodies[next_body])
end

function response(status, headers, body)
    if status == 200 then
        accepted = accepted + tonumber(body:match('"accepted":(%d+)') or "0")
    else
        refused = refused + 1
    end
end

function done(summary, latency, requests)
    local total_accepted, total_refused, total_sent, bodies_per_thread = 0, 0, 0, 0
    for _, thread in ipairs(threads) do
        total_accepted = total_accepted + thread:get("accepted")
        total_refused = total_refused + thread:get("refused")
        total_sent = total_sent + thread:get("sent")
    end
    io.write(string.format(
        "RESULT accepted=%d refused=%d requests=%d duration_us=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
        total_accepted, total_refused, summary.requests, summary.duration,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
