#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// A stand-in for build/mcpwire, for testing the harness itself, never mcpwire:
// it serves /healthz and a /metrics that renders the metric contract straight
// from the newest client record (/tmp/mcpwire-*/record.json or
// record-joined.json; of a joined record, the part after the pause under the
// fallback server_name "<ip>:<port>", as a daemon started at the pause would), so
//   MCPWIRE=selftests/integration/fake-mcpwire.mjs selftests/integration/run.sh
// must pass, and with FAKE_BREAK=1 (one echo call too many) must fail with a
// readable diff; FAKE_BREAK=whole (the joined scenario counted from the
// session's start, as if the part before the pause had been seen) must fail
// its "joined:" checks. It sees no traffic at all.
//
//   fake-mcpwire.mjs --listen 127.0.0.1:PORT

import http from 'node:http';
import { readFileSync, readdirSync, statSync } from 'node:fs';

const listen = process.argv[process.argv.indexOf('--listen') + 1] ?? '127.0.0.1:9473';
const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const esc = (v) => String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const L = (o) => '{' + Object.entries(o).map(([k, v]) => `${k}="${esc(v)}"`).join(',') + '}';

// run.sh names its work directory in MCPWIRE_SELFTEST_WORK; without it, any
// /tmp/mcpwire-* (a kept directory of an older run may then be the newest).
function newestRecord() {
	let best = null;
	const dirs = process.env.MCPWIRE_SELFTEST_WORK
		? [process.env.MCPWIRE_SELFTEST_WORK]
		: readdirSync('/tmp').filter((d) => d.startsWith('mcpwire-')).map((d) => `/tmp/${d}`);
	for (const d of dirs) {
		for (const f of [`${d}/record.json`, `${d}/record-joined.json`])
			try {
				const t = statSync(f).mtimeMs;
				if (!best || t > best.t) best = { f, t };
			} catch {}
	}
	try {
		return best ? JSON.parse(readFileSync(best.f, 'utf8')) : null;
	} catch {
		return null;
	}
}

function render() {
	let rec = newestRecord();
	let S = rec?.server_info?.name;
	if (rec?.phases) {
		// joined mid-session: only the part after the pause, no initialize
		// seen; FAKE_BREAK=whole counts the whole session instead
		S = new URL(rec.url).host;
		if (process.env.FAKE_BREAK !== 'whole') rec = { ...rec.phases.after, server_info: null };
	}
	if (rec && process.env.FAKE_BREAK && process.env.FAKE_BREAK !== 'whole') rec.tools.echo.ok += 1;
	const tot = (c) => c.ok + c.error + (c.cancelled ?? 0);
	let o = '';
	const fam = (name, type, help) => (o += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
	fam('mcp_requests_total', 'counter', 'MCP requests.');
	for (const [m, c] of Object.entries(rec?.requests ?? {}))
		for (const st of ['ok', 'error', 'cancelled'])
			if (c[st]) o += `mcp_requests_total${L({ server_name: S, method: m, status: st })} ${c[st]}\n`;
	fam('mcp_tool_calls_total', 'counter', 'MCP tool calls.');
	for (const [t, c] of Object.entries(rec?.tools ?? {}))
		for (const st of ['ok', 'error', 'cancelled'])
			if (c[st]) o += `mcp_tool_calls_total${L({ status: st, tool_name: t, server_name: S })} ${c[st]}\n`;
	fam('mcp_request_errors_total', 'counter', 'MCP errors.');
	for (const [m, cs] of Object.entries(rec?.error_codes ?? {}))
		for (const [c, n] of Object.entries(cs)) o += `mcp_request_errors_total${L({ server_name: S, method: m, error_code: c })} ${n}\n`;
	fam('mcp_notifications_total', 'counter', 'MCP notifications.');
	for (const [dir, src] of [['client_to_server', 'sent'], ['server_to_client', 'received']])
		for (const [m, n] of Object.entries(rec?.notifications?.[src] ?? {}))
			o += `mcp_notifications_total${L({ server_name: S, method: m, direction: dir })} ${n}\n`;
	const hist = (name, lab, groups) => {
		fam(name, 'histogram', 'Durations.');
		for (const [k, n] of groups) {
			for (const b of BUCKETS) o += `${name}_bucket${L({ server_name: S, [lab]: k, le: b })} ${b >= 0.001 ? n : 0}\n`;
			o += `${name}_bucket${L({ server_name: S, [lab]: k, le: '+Inf' })} ${n}\n`;
			o += `${name}_sum${L({ server_name: S, [lab]: k })} ${n * 0.0009}\n${name}_count${L({ server_name: S, [lab]: k })} ${n}\n`;
		}
	};
	hist('mcp_request_duration_seconds', 'method', Object.entries(rec?.requests ?? {}).map(([m, c]) => [m, tot(c)]));
	hist('mcp_tool_call_duration_seconds', 'tool_name', Object.entries(rec?.tools ?? {}).map(([m, c]) => [m, tot(c)]));
	fam('mcp_server_info', 'gauge', 'Server info.');
	if (rec?.server_info)
		o += `mcp_server_info${L({ server_name: S, server_version: rec.server_info.version, protocol_version: rec.protocol_version, transport: 'streamable_http' })} 1\n`;
	fam('mcp_sessions_active', 'gauge', 'Sessions.');
	if (rec) o += `mcp_sessions_active${L({ server_name: S, transport: 'streamable_http' })} 0\n`;
	fam('mcp_requests_in_flight', 'gauge', 'In flight.');
	if (rec) o += `mcp_requests_in_flight${L({ server_name: S })} 0\n`;
	fam('mcpwire_build_info', 'gauge', 'Build.');
	o += 'mcpwire_build_info{version="fake"} 1\n';
	fam('mcpwire_events_lost_total', 'counter', 'Lost.');
	o += 'mcpwire_events_lost_total{reason="ringbuf_full"} 0\n';
	return o;
}

const srv = http
	.createServer((req, res) => {
		if (req.url === '/healthz') return res.end('ok\n');
		if (req.url === '/metrics') {
			res.setHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
			return res.end(render());
		}
		res.statusCode = 404;
		res.end();
	})
	.listen(port, host, () => process.stderr.write(`fake-mcpwire: capturing nothing; metrics on http://${listen}/metrics\n`));
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => {
		srv.close();
		process.exit(0);
	});
