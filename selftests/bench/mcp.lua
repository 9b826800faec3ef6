-- SPDX-License-Identifier: GPL-2.0-only
--
-- mcp.lua — wrk script for `make bench` (selftests/bench/bench.sh): MCP
-- Streamable HTTP load, one JSON-RPC tools/call "echo" per POST, with the
-- headers an MCP client sends (mcp-wire.md §3): Accept for both JSON and SSE
-- answers, Content-Type, and Mcp-Session-Id / Mcp-Protocol-Version when the
-- server gave a session.
--
-- Environment:
--   MCP_SESSION=ID     send Mcp-Session-Id: ID (server-everything); unset for
--                      the canned nginx, which needs no session
--   MCP_UNIQUE_IDS=1   every request its own JSON-RPC id (thread * 1e9 + n),
--                      also sent as X-Mcp-Id so the canned nginx can echo it.
--                      Needed where requests of one session overlap (one
--                      session shared by all of wrk's connections); costs a
--                      Lua call per request, so the canned runs leave it off
--                      and post id 1 on every connection (the session is the
--                      connection there, and wrk never has two requests in
--                      flight on one connection)
--   WRK_JSON=FILE      done() writes the run's figures there as one JSON
--                      object: requests, duration_us, rps, latency p50/p99 in
--                      µs, errors (connect, read, write, status, timeout)

local session = os.getenv("MCP_SESSION")
local unique = os.getenv("MCP_UNIQUE_IDS") == "1"

wrk.method = "POST"
wrk.path = "/mcp"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
if session and session ~= "" then
	wrk.headers["Mcp-Session-Id"] = session
	wrk.headers["Mcp-Protocol-Version"] = "2025-06-18"
end

local function call(id)
	return '{"jsonrpc":"2.0","id":' .. id ..
		',"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}'
end

wrk.body = call(1)

local threads = {}
local next_tid = 1

function setup(thread)
	thread:set("tid", next_tid)
	next_tid = next_tid + 1
	table.insert(threads, thread)
end

local n = 0
if unique then
	function request()
		n = n + 1
		local id = string.format("%d", tid * 1000000000 + n)
		wrk.headers["X-Mcp-Id"] = id
		return wrk.format(nil, nil, nil, call(id))
	end
end

function done(summary, latency, requests)
	local out = os.getenv("WRK_JSON")
	if not out then return end
	local e = summary.errors
	local f = assert(io.open(out, "w"))
	f:write(string.format('{"requests":%d,"duration_us":%d,"rps":%.1f,"p50_us":%d,"p99_us":%d,' ..
		'"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
		summary.requests, summary.duration, summary.requests * 1e6 / summary.duration,
		latency:percentile(50), latency:percentile(99),
		e.connect, e.read, e.write, e.status, e.timeout))
	f:close()
end
