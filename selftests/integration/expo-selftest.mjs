#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// Tests expo.mjs on hand-written expositions: escaping, label order,
// histograms, special values, and the format violations it must report.
// Prints TAP (run.sh runs it first; `node expo-selftest.mjs` by hand).

import assert from 'node:assert/strict';
import { parseExposition, sumBy } from './expo.mjs';

const GOOD = String.raw`# HELP mcp_requests_total MCP requests by method and status.\nSecond "line".
# TYPE mcp_requests_total counter
mcp_requests_total{server_name="mcp-servers/everything",method="tools/call",status="ok"} 11
mcp_requests_total{status="error",method="tools/call",server_name="mcp-servers/everything"} 1
mcp_requests_total { server_name = "we\"ird\\name\nx" , method="ping",status="ok", } 2 1700000000000
# a plain comment
mcp_requests_total{server_name="mcp-servers/everything",method="ping",status="ok"} 2e0

# TYPE mcp_request_duration_seconds histogram
mcp_request_duration_seconds_bucket{server_name="s",method="ping",le="0.0005"} 1
mcp_request_duration_seconds_bucket{server_name="s",method="ping",le="0.001"} 2
mcp_request_duration_seconds_bucket{le="+Inf",method="ping",server_name="s"} 2
mcp_request_duration_seconds_sum{server_name="s",method="ping"} 0.0012
mcp_request_duration_seconds_count{server_name="s",method="ping"} 2
mcp_request_duration_seconds_bucket{server_name="s",method="initialize",le="0.0005"} 0
mcp_request_duration_seconds_bucket{server_name="s",method="initialize",le="+Inf"} 1
mcp_request_duration_seconds_sum{server_name="s",method="initialize"} 0.004
mcp_request_duration_seconds_count{server_name="s",method="initialize"} 1
# TYPE odd gauge
odd NaN
odd{x="1"} -Inf
odd{x="2"} +Inf
odd{x="3"} -1.5e-3
# TYPE mcpwire_events_lost_total counter
mcpwire_events_lost_total{reason="ringbuf_full"} 0
untyped_thing 7
`;

let n = 0;
let failed = 0;
function t(name, fn) {
	n++;
	try {
		fn();
		console.log(`ok ${n} - expo: ${name}`);
	} catch (e) {
		failed++;
		console.log(`not ok ${n} - expo: ${name}`);
		for (const l of String(e.message).split('\n')) console.log(`#   ${l}`);
	}
}

const p = parseExposition(GOOD);

t('well-formed sample has no problems', () => assert.deepEqual(p.problems, []));
t('HELP unescapes \\n and keeps quotes', () =>
	assert.equal(p.families.get('mcp_requests_total').help, 'MCP requests by method and status.\nSecond "line".'));
t('label values unescape \\" \\\\ \\n, spaces and trailing comma allowed', () => {
	const s = p.samples.find((x) => x.labels.server_name?.startsWith('we'));
	assert.equal(s.labels.server_name, 'we"ird\\name\nx');
	assert.equal(s.value, 2);
});
t('label order does not matter for grouping', () => {
	const m = sumBy(p, 'mcp_requests_total', ['method', 'status'], { server_name: 'mcp-servers/everything' });
	assert.deepEqual(
		Object.fromEntries(m),
		{ '["tools/call","ok"]': 11, '["tools/call","error"]': 1, '["ping","ok"]': 2 },
	);
});
t('histogram samples belong to their family and are checked', () => {
	const f = p.families.get('mcp_request_duration_seconds');
	assert.equal(f.type, 'histogram');
	assert.equal(f.samples.length, 9);
	assert.equal(f.histograms.size, 2);
	const ping = [...f.histograms.values()].find((g) => g.labels.method === 'ping');
	assert.deepEqual(ping.les, [0.0005, 0.001, Infinity]);
	assert.equal(ping.count, 2);
	assert.equal(ping.sum, 0.0012);
	const c = sumBy(p, 'mcp_request_duration_seconds_count', ['method'], { server_name: 's' });
	assert.deepEqual(Object.fromEntries(c), { '["ping"]': 2, '["initialize"]': 1 });
});
t('NaN, +Inf, -Inf, exponents', () => {
	const v = p.families.get('odd').samples.map((s) => s.value);
	assert.ok(Number.isNaN(v[0]));
	assert.deepEqual(v.slice(1), [-Infinity, Infinity, -0.0015]);
});
t('untyped sample without TYPE is accepted', () => assert.equal(p.families.get('untyped_thing').type, 'untyped'));

const bad = [
	['bad escape', 'm{a="x\\q"} 1\n', /bad escape/],
	['unterminated label value', 'm{a="x} 1\n', /unterminated/],
	['duplicate label', 'm{a="1",a="2"} 1\n', /duplicate label/],
	['missing value', 'm{a="1"}\n', /expected value/],
	['bad value', 'm 1,5\n', /bad value/],
	['duplicate series (label order differs)', 'm{a="1",b="2"} 1\nm{b="2",a="1"} 1\n', /duplicate series/],
	['no trailing newline', 'm 1', /newline/],
	['TYPE after samples', 'm 1\n# TYPE m counter\n', /after its samples/],
	['non-contiguous family', '# TYPE a counter\na 1\n# TYPE b counter\nb 1\na{x="1"} 2\n', /not contiguous/],
	[
		'histogram +Inf != count',
		'# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n',
		/\+Inf bucket 2 != _count 3/,
	],
	['histogram decreasing bucket', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', /decreases/],
	['histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /no \+Inf/],
	['unknown type', '# TYPE m countr\nm 1\n', /unknown type/],
];
for (const [name, text, re] of bad)
	t(`reports ${name}`, () => {
		const r = parseExposition(text);
		assert.ok(r.problems.some((x) => re.test(x)), `problems: ${JSON.stringify(r.problems)}`);
	});

console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
