#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// Compares mcpwire's /metrics (and a Prometheus that scraped it) with the
// ground-truth record client.mjs wrote. Prints TAP lines without numbers
// ("ok - …", "not ok - …" followed by "#" diagnostics); run.sh numbers them.
//
//   node check.mjs --record rec.json --metrics-url http://127.0.0.1:P/metrics
//        [--server-name NAME] [--server-version V] [--prom-url http://127.0.0.1:Q]
//        [--settle-seconds S] [--save FILE]
//        [--phase after --absent-server NAME] [--transport LABEL]
//
// Requests the server sent to the client (client.mjs --server-requests:
// sampling/createMessage, elicitation/create, roots/list) are requests like
// the client's in mcp_requests_total, each with the status of the client's
// answer ("server_answers"). When the record has some, their durations are
// checked too: each took at least as long as the client took to answer it
// ("server_answer_ms"), and the tools/call that made the server send it
// ("nested") lasted at least as long as the nested request.
//
// --transport LABEL: mcp_server_info and every mcp_sessions_active series of
// the server carry transport="LABEL" (sse for the 2024-11-05 HTTP+SSE
// transport, streamable_http, stdio).
//
// --phase after: mcpwire was started while the client was paused (client.mjs
// --pause-file), so it never saw the session's initialize. The truth is then
// the record's "after" part alone, under the fallback server_name (--server-name
// "<ip>:<port>"); nothing from before the pause may be counted, no series may
// carry the name from the unseen initialize (--absent-server), and the session,
// never seen starting, is not in mcp_sessions_active (0, never negative).
//
// The metric contract is design.md "Metric contract". Every comparison is
// exact: a series the client did not cause is as much a failure as a missing one.

import { writeFileSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseExposition, sumBy } from './expo.mjs';

const { values: opt } = parseArgs({
	options: {
		record: { type: 'string' },
		'metrics-url': { type: 'string' },
		'server-name': { type: 'string' },
		'server-version': { type: 'string' },
		'prom-url': { type: 'string' },
		'settle-seconds': { type: 'string', default: '10' },
		save: { type: 'string' },
		phase: { type: 'string' },
		'absent-server': { type: 'string' },
		transport: { type: 'string' },
	},
});
if (!opt.record || !opt['metrics-url']) {
	console.error('usage: check.mjs --record FILE --metrics-url URL [...]');
	process.exit(2);
}

const rec = JSON.parse(readFileSync(opt.record, 'utf8'));
const S = opt['server-name'] ?? rec.server_info?.name;
// JOINED: judge the part of the record after the pause (see the header).
const JOINED = opt.phase !== undefined;
if (JOINED && (opt.phase !== 'after' || !rec.phases?.after || !opt['server-name'])) {
	console.error('check.mjs: --phase after needs a record with phases (client.mjs --pause-file) and --server-name');
	process.exit(2);
}
const T = JOINED ? rec.phases.after : rec; // the counts to equal
const SETTLE_MS = Number(opt['settle-seconds']) * 1000;
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, Infinity];
const CONTRACT_TYPES = {
	mcp_requests_total: 'counter',
	mcp_tool_calls_total: 'counter',
	mcp_request_errors_total: 'counter',
	mcp_notifications_total: 'counter',
	mcp_request_duration_seconds: 'histogram',
	mcp_tool_call_duration_seconds: 'histogram',
	mcp_server_info: 'gauge',
	mcp_sessions_active: 'gauge',
	mcp_requests_in_flight: 'gauge',
	mcpwire_build_info: 'gauge',
	mcpwire_events_lost_total: 'counter',
	mcpwire_parse_errors_total: 'counter',
};

let failures = 0;
function result(ok, name, diag = []) {
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}`);
	if (!ok) failures++;
	if (!ok) for (const d of diag) for (const l of String(d).split("\n")) console.log(`#   ${l}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function fetchText(url, timeoutMs = 5000) {
	const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
	if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
	return { text: await r.text(), contentType: r.headers.get('content-type') };
}

// ---- expected values from the record ---------------------------------------

const nz = (m) => new Map([...m].filter(([, v]) => v !== 0));
const expRequests = new Map();
const expReqTotal = new Map();
for (const [method, c] of Object.entries(T.requests ?? {}))
	for (const st of ['ok', 'error', 'cancelled']) {
		expRequests.set(JSON.stringify([method, st]), c[st] ?? 0);
		expReqTotal.set(JSON.stringify([method]), (expReqTotal.get(JSON.stringify([method])) ?? 0) + (c[st] ?? 0));
	}
const expTools = new Map();
const expToolTotal = new Map();
for (const [tool, c] of Object.entries(T.tools ?? {}))
	for (const st of ['ok', 'error', 'cancelled']) {
		expTools.set(JSON.stringify([tool, st]), c[st] ?? 0);
		expToolTotal.set(JSON.stringify([tool]), (expToolTotal.get(JSON.stringify([tool])) ?? 0) + (c[st] ?? 0));
	}
// the server's requests to the client, by the status of the client's answer
for (const [method, c] of Object.entries(T.server_answers ?? {}))
	for (const st of ['ok', 'error', 'cancelled']) {
		const k = JSON.stringify([method, st]);
		expRequests.set(k, (expRequests.get(k) ?? 0) + (c[st] ?? 0));
		expReqTotal.set(JSON.stringify([method]), (expReqTotal.get(JSON.stringify([method])) ?? 0) + (c[st] ?? 0));
	}
const expErrors = new Map();
for (const codesOf of [T.error_codes, T.server_answer_error_codes])
	for (const [method, codes] of Object.entries(codesOf ?? {}))
		for (const [code, n] of Object.entries(codes)) {
			const k = JSON.stringify([method, code]);
			expErrors.set(k, (expErrors.get(k) ?? 0) + n);
		}
const expNotif = new Map();
for (const [m, n] of Object.entries(T.notifications?.sent ?? {})) expNotif.set(JSON.stringify([m, 'client_to_server']), n);
for (const [m, n] of Object.entries(T.notifications?.received ?? {})) expNotif.set(JSON.stringify([m, 'server_to_client']), n);

// Compares two Map<key, number> (zeros = absent); returns diagnostics or [].
function diffMaps(label, expected, observed) {
	const e = nz(expected);
	const o = nz(observed);
	const keys = [...new Set([...e.keys(), ...o.keys()])].sort();
	const bad = keys.filter((k) => e.get(k) !== o.get(k));
	if (!bad.length) return [];
	const w = Math.max(5, ...keys.map((k) => k.length));
	return [
		`  ${label.padEnd(w)}  expected  observed`,
		...keys.map(
			(k) =>
				`${bad.includes(k) ? '!' : ' '} ${k.padEnd(w)}  ${String(e.get(k) ?? '-').padStart(8)}  ${String(o.get(k) ?? '-').padStart(8)}`,
		),
	];
}

const onlyS = { server_name: S };

// ---- fetch /metrics, letting mcpwire settle (bounded) ----------------------

let text = '';
let contentType = '';
let parsed;
let fetches = 0;
const until = Date.now() + SETTLE_MS;
// Counts that equal the record once may still grow: when both ends of a
// connection are on the host, mcpwire holds each message up to 1 s to match
// it with its other sighting (dedup), so a message counted twice shows up
// late. Settled means equal on two fetches taken more than that hold apart.
const DEDUP_HOLD_MS = 1500;
let equalOnce = false;
for (;;) {
	fetches++;
	try {
		({ text, contentType } = await fetchText(opt['metrics-url']));
		parsed = parseExposition(text);
		const settled =
			diffMaps('r', expRequests, sumBy(parsed, 'mcp_requests_total', ['method', 'status'], onlyS)).length === 0 &&
			(sumBy(parsed, 'mcp_requests_in_flight', [], onlyS).get('[]') ?? 0) === 0;
		if (settled && equalOnce) break;
		equalOnce = settled;
		if (settled) {
			await sleep(DEDUP_HOLD_MS);
			continue;
		}
		if (Date.now() >= until) break;
	} catch (e) {
		if (Date.now() >= until) {
			result(false, `GET ${opt['metrics-url']}`, [String(e.message ?? e)]);
			process.exit(1);
		}
	}
	await sleep(1000);
}
if (opt.save) writeFileSync(opt.save, text);

// ---- /metrics checks --------------------------------------------------------

result(true, `fetched /metrics (${text.length} bytes, ${fetches} fetch(es) to settle)`);
result(
	/^text\/plain/.test(contentType ?? '') && /version=0\.0\.4/.test(contentType ?? ''),
	'/metrics Content-Type is text/plain; version=0.0.4',
	[`observed: ${contentType}`],
);
result(parsed.problems.length === 0, 'exposition format parses strictly', parsed.problems.slice(0, 30));
{
	const bad = [];
	for (const [name, t] of Object.entries(CONTRACT_TYPES)) {
		const f = parsed.families.get(name);
		if (f && f.type !== t) bad.push(`${name}: expected TYPE ${t}, observed ${f.typed ? f.type : 'no TYPE line'}`);
	}
	result(bad.length === 0, 'contract metrics have their contract TYPE', bad);
}
if (!JOINED)
	result(
		rec.server_info?.name === S,
		`client saw serverInfo.name "${S}"`,
		[`client record: ${JSON.stringify(rec.server_info)}`],
	);
else {
	// The premise: the session was initialized before the pause, nothing was
	// pending across it, and the client resumed.
	const b = rec.phases.before;
	result(
		rec.server_info?.name === opt['absent-server'] && b.requests?.initialize?.ok === 1 &&
			rec.pause?.state === 'resumed' && rec.pause?.pending_at_pause === 0,
		`client initialized "${rec.server_info?.name}" before the pause, resumed with nothing pending`,
		[`serverInfo ${JSON.stringify(rec.server_info)}; pause ${JSON.stringify(rec.pause)}`,
			`before-pause requests ${JSON.stringify(b.requests)}`],
	);
}

const PART = JOINED ? "the after-pause part of the client's record" : "the client's record";
let d = diffMaps('(method,status)', expRequests, sumBy(parsed, 'mcp_requests_total', ['method', 'status'], onlyS));
result(d.length === 0, `mcp_requests_total{server_name="${S}"} by (method,status) equals ${PART}`, d);

if (JOINED) {
	// Nothing from before the pause, under any server_name.
	const total = (reqs) => Object.values(reqs ?? {}).reduce((a, c) => a + c.ok + c.error + c.cancelled, 0);
	const after = total(T.requests);
	const before = total(rec.phases.before.requests);
	const all = [...sumBy(parsed, 'mcp_requests_total', []).values()].reduce((a, v) => a + v, 0);
	const byMethod = sumBy(parsed, 'mcp_requests_total', ['server_name', 'method']);
	result(all === after, `nothing from before the pause is counted: all mcp_requests_total sum to ${after} (after), not up to ${after + before} (whole session)`, [
		`observed ${all}: ${JSON.stringify(Object.fromEntries(byMethod))}`,
		`before the pause the client sent ${JSON.stringify(rec.phases.before.requests)}`,
	]);
}

d = diffMaps('(tool_name,status)', expTools, sumBy(parsed, 'mcp_tool_calls_total', ['tool_name', 'status'], onlyS));
result(d.length === 0, `mcp_tool_calls_total{server_name="${S}"} by (tool_name,status) equals ${PART}`, d);

{
	const obs = sumBy(parsed, 'mcp_request_errors_total', ['method', 'error_code'], onlyS);
	const tErr = T.error_codes?.['tools/call']?.tool_error ?? 0;
	const oErr = obs.get(JSON.stringify(['tools/call', 'tool_error'])) ?? 0;
	result(oErr === tErr, `mcp_request_errors_total{method="tools/call",error_code="tool_error"} = ${tErr}`, [
		`expected ${tErr}, observed ${oErr}`,
	]);
	d = diffMaps('(method,error_code)', expErrors, obs);
	result(d.length === 0, `mcp_request_errors_total by (method,error_code) equals ${PART}`, d);
}

d = diffMaps('(method)', expReqTotal, sumBy(parsed, 'mcp_request_duration_seconds_count', ['method'], onlyS));
result(d.length === 0, 'mcp_request_duration_seconds_count by method equals requests sent', d);
d = diffMaps('(tool_name)', expToolTotal, sumBy(parsed, 'mcp_tool_call_duration_seconds_count', ['tool_name'], onlyS));
result(d.length === 0, 'mcp_tool_call_duration_seconds_count by tool_name equals tool calls sent', d);

for (const h of ['mcp_request_duration_seconds', 'mcp_tool_call_duration_seconds']) {
	const f = parsed.families.get(h);
	const bad = [];
	if (!f?.histograms) bad.push(`no histogram ${h}`);
	else
		for (const [k, g] of f.histograms) {
			if (g.labels.server_name !== S) continue;
			if (JSON.stringify(g.les) !== JSON.stringify(BUCKETS)) bad.push(`${k}: le = ${g.les.join(',')}`);
			if (g.count > 0 && !(g.sum > 0)) bad.push(`${k}: count ${g.count} but sum ${g.sum}`);
			if (g.count > 0 && g.sum / g.count > 60) bad.push(`${k}: mean ${g.sum / g.count}s is not a local call`);
		}
	result(bad.length === 0, `${h}: contract buckets, positive plausible sums`, bad.slice(0, 10));
}

// Requests the server sent inside a tools/call (mcp-wire.md §7, "Nested
// requests"): each lasted at least as long as the client took to answer it,
// and a call that contained one lasted at least as long as it. Timed at the
// server's syscalls (the server is local), so both bounds are strict.
if (Object.keys(T.server_answers ?? {}).length && rec.server_answer_ms) {
	const hist = (h, label, v) => [...(parsed.families.get(h)?.histograms?.values() ?? [])]
		.find((g) => g.labels.server_name === S && g.labels[label] === v);
	// observations at or under (ms - 2) seconds, 2 ms for the client's clock
	const below = (g, ms) => g.buckets.filter((b) => b[0] < (ms - 2) / 1000).reduce((a, b) => Math.max(a, b[1]), 0);
	for (const [method, list] of Object.entries(rec.server_answer_ms)) {
		const g = hist('mcp_request_duration_seconds', 'method', method);
		const min = Math.min(...list);
		const clientSum = list.reduce((a, v) => a + v, 0) / 1000;
		const bad = [];
		if (!g) bad.push('no histogram series');
		else {
			if (below(g, min) !== 0) bad.push(`${below(g, min)} observation(s) under ${min - 2} ms, the client's fastest answer`);
			if (!(g.sum >= clientSum - 0.002 * list.length)) bad.push(`sum ${g.sum}s < the client's answer times, ${clientSum}s`);
		}
		result(bad.length === 0,
			`${method} (server->client) timed at the server from its request to the client's answer: each >= the client's answer time (min ${min} ms), sum ${g?.sum?.toFixed(3)}s >= ${clientSum.toFixed(3)}s`, bad);
	}
	for (const [tool, method] of Object.entries(rec.nested ?? {})) {
		const calls = T.tools?.[tool] ? T.tools[tool].ok + T.tools[tool].error + T.tools[tool].cancelled : 0;
		const answers = T.server_answers?.[method] ? T.server_answers[method].ok + T.server_answers[method].error + T.server_answers[method].cancelled : 0;
		if (!calls || calls !== answers) {
			// e.g. server-everything's own roots/list 350 ms after initialize
			console.log(`# note: ${tool} x${calls} vs ${method} x${answers}: not one nested request per call, containment not judged`);
			continue;
		}
		const gt = hist('mcp_tool_call_duration_seconds', 'tool_name', tool);
		const gm = hist('mcp_request_duration_seconds', 'method', method);
		const min = Math.min(...rec.server_answer_ms[method]);
		const bad = [];
		if (!gt || !gm) bad.push(`histogram series missing: tool ${!!gt}, ${method} ${!!gm}`);
		else {
			if (below(gt, min) !== 0) bad.push(`${below(gt, min)} call(s) under ${min - 2} ms, shorter than the request nested in them`);
			if (!(gt.sum >= gm.sum)) bad.push(`tool sum ${gt.sum}s < ${method} sum ${gm.sum}s`);
		}
		result(bad.length === 0,
			`tools/call ${tool} x${calls} includes its nested ${method}: tool sum ${gt?.sum?.toFixed(3)}s >= ${method} sum ${gm?.sum?.toFixed(3)}s, none under ${min - 2} ms`, bad);
	}
}

{
	const obs = sumBy(parsed, 'mcp_notifications_total', ['method', 'direction'], onlyS);
	const k = JSON.stringify(['notifications/initialized', 'client_to_server']);
	const sessions = T.requests?.initialize?.ok ?? 0;
	if (!JOINED)
		result(sessions > 0 && obs.get(k) === sessions,
			`mcp_notifications_total{method="notifications/initialized",direction="client_to_server"} = ${sessions} (one per session)`, [
			`observed ${obs.get(k) ?? 'absent'}`,
		]);
	d = diffMaps('(method,direction)', expNotif, obs);
	result(d.length === 0, `mcp_notifications_total by (method,direction) equals ${PART}`, d);
}

if (JOINED) {
	const si = parsed.samples.filter((s) => s.name === 'mcp_server_info');
	console.log(`# note: mcp_server_info (no initialize result seen): ${si.map((s) => `${JSON.stringify(s.labels)} ${s.value}`).join('; ') || 'absent'}`);
} else {
	const si = parsed.samples.filter((s) => s.name === 'mcp_server_info' && s.labels.server_name === S);
	const wantV = opt['server-version'] ?? rec.server_info?.version;
	const diag = si.map((s) => `observed ${JSON.stringify(s.labels)} ${s.value}`);
	result(
		si.length === 1 && si[0].value === 1 && si[0].labels.server_version === wantV,
		`mcp_server_info{server_name="${S}"} is 1 with server_version "${wantV}"`,
		diag.length ? diag : ['observed: absent'],
	);
	result(
		si.length === 1 && si[0].labels.protocol_version === rec.protocol_version && (si[0].labels.transport ?? '') !== '',
		`mcp_server_info protocol_version "${rec.protocol_version}" and a transport label`,
		diag.length ? diag : ['observed: absent'],
	);
	if (opt.transport !== undefined) {
		const ss = parsed.samples.filter((s) => s.name === 'mcp_sessions_active' && s.labels.server_name === S);
		result(si.length === 1 && si[0].labels.transport === opt.transport,
			`mcp_server_info{server_name="${S}"} has transport="${opt.transport}"`, diag.length ? diag : ['observed: absent']);
		result(ss.length > 0 && ss.every((s) => s.labels.transport === opt.transport),
			`mcp_sessions_active{server_name="${S}"} series all have transport="${opt.transport}"`,
			[`observed ${ss.map((s) => `${JSON.stringify(s.labels)} ${s.value}`).join('; ') || 'absent'}`]);
	}
}

{
	const lost = parsed.samples.filter((s) => s.name === 'mcpwire_events_lost_total');
	const bad = lost.filter((s) => s.value !== 0).map((s) => `${JSON.stringify(s.labels)} ${s.value}`);
	result(bad.length === 0, `mcpwire_events_lost_total all zero (${lost.length} series)`, bad);
}
{
	const f = parsed.samples.filter((s) => s.name === 'mcp_requests_in_flight' && s.labels.server_name === S);
	result(f.length === 1 && f[0].value === 0, `mcp_requests_in_flight{server_name="${S}"} = 0 after the client finished`, [
		`observed ${f.map((s) => s.value).join(',') || 'absent'}`,
	]);
}
if (JOINED) {
	// The session was never seen starting (its initialize was before mcpwire
	// started), so it never entered mcp_sessions_active; its DELETE must not
	// take anything out of it either.
	const f = parsed.samples.filter((s) => s.name === 'mcp_sessions_active');
	const bad = f.filter((s) => s.value !== 0);
	result(bad.length === 0,
		'mcp_sessions_active = 0 for every series: the session never seen starting is not counted, its DELETE makes nothing negative', [
		`observed ${f.map((s) => `${JSON.stringify(s.labels)} ${s.value}`).join('; ') || 'absent'}`,
	]);
} else {
	const f = parsed.samples.filter((s) => s.name === 'mcp_sessions_active' && s.labels.server_name === S);
	const sum = f.reduce((a, s) => a + s.value, 0);
	const how = rec.transport === 'sse' ? 'its SSE stream closed' : 'DELETE';
	result(sum === 0, `mcp_sessions_active{server_name="${S}"} = 0 after ${how} of all ${rec.sessions} session(s)`, [
		`observed ${f.map((s) => `${JSON.stringify(s.labels)} ${s.value}`).join('; ') || 'absent'}`,
	]);
}
{
	const f = parsed.samples.filter((s) => s.name === 'mcpwire_build_info');
	result(f.length === 1 && f[0].value === 1 && !!f[0].labels.version, 'mcpwire_build_info is 1 with a version', [
		`observed ${f.map((s) => `${JSON.stringify(s.labels)} ${s.value}`).join('; ') || 'absent'}`,
	]);
}
{
	// Negative check: curl of /metrics and Prometheus's scrapes are HTTP on
	// this host too; none of it is MCP, so no other server may appear.
	const others = new Map();
	for (const s of parsed.samples)
		if (s.name.startsWith('mcp_') && 'server_name' in s.labels && s.labels.server_name !== S)
			others.set(`${s.labels.server_name} (${s.name})`, true);
	result(others.size === 0, `no server_name other than "${S}" (scrapes of /metrics are not MCP)`, [...others.keys()].slice(0, 20));
}
if (opt['absent-server'] !== undefined) {
	const A = opt['absent-server'];
	const hits = parsed.samples.filter((s) => s.labels.server_name === A).map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`);
	result(hits.length === 0, `no series with server_name="${A}" (its initialize was not seen)`, hits.slice(0, 20));
}
if (JOINED) {
	// For diagnosis: every non-zero mcpwire_* counter of this fresh daemon.
	const own = parsed.samples.filter((s) => s.name.startsWith('mcpwire_') && s.name !== 'mcpwire_build_info' && s.value !== 0);
	for (const s of own) console.log(`# note: ${s.name}${JSON.stringify(s.labels)} ${s.value}`);
}
{
	const pe = parsed.samples.filter((s) => s.name === 'mcpwire_parse_errors_total' && s.value !== 0);
	if (pe.length) console.log(`# note: mcpwire_parse_errors_total ${pe.map((s) => `${JSON.stringify(s.labels)}=${s.value}`).join(' ')}`);
}

// ---- Prometheus -------------------------------------------------------------

async function promQuery(q) {
	const u = new URL('/api/v1/query', opt['prom-url']);
	u.searchParams.set('query', q);
	const r = await fetch(u, { signal: AbortSignal.timeout(5000) });
	const j = await r.json();
	if (j.status !== 'success') throw new Error(`${q}: ${j.errorType}: ${j.error}`);
	return j.data.result;
}

async function promCheck(name, q, by, expected) {
	const end = Date.now() + SETTLE_MS;
	let diag = [];
	let tries = 0;
	for (;;) {
		tries++;
		try {
			const res = await promQuery(q);
			const obs = new Map();
			const others = [];
			for (const s of res) {
				if (s.metric.server_name !== S) {
					others.push(`${JSON.stringify(s.metric)} ${s.value[1]}`);
					continue;
				}
				obs.set(JSON.stringify(by.map((b) => s.metric[b] ?? '')), Number(s.value[1]));
			}
			diag = [...diffMaps(`(${by.join(',')})`, expected, obs), ...others.map((o) => `other server: ${o}`)];
			if (!diag.length) break;
		} catch (e) {
			diag = [String(e.message ?? e)];
		}
		if (Date.now() >= end) break;
		await sleep(1000);
	}
	result(diag.length === 0, `${name} (${tries} query/ies)`, [`query: ${q}`, ...diag]);
}

if (opt['prom-url']) {
	await promCheck(
		'Prometheus: sum by (server_name, tool_name) (mcp_tool_calls_total) equals the record',
		'sum by (server_name, tool_name) (mcp_tool_calls_total)',
		['tool_name'],
		expToolTotal,
	);
	await promCheck(
		'Prometheus: sum by (server_name, method, status) (mcp_requests_total) equals the record',
		'sum by (server_name, method, status) (mcp_requests_total)',
		['method', 'status'],
		expRequests,
	);
	try {
		const up = await promQuery('up{job="mcpwire"}');
		result(up.length === 1 && up[0].value[1] === '1', 'Prometheus: up{job="mcpwire"} = 1', [JSON.stringify(up)]);
	} catch (e) {
		result(false, 'Prometheus: up{job="mcpwire"} = 1', [String(e.message ?? e)]);
	}
}

process.exit(failures ? 1 : 0);
