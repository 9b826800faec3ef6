// SPDX-License-Identifier: GPL-2.0-only
//
// A strict parser for the Prometheus text exposition format 0.0.4, written for
// the integration tests so they judge mcpwire's /metrics the way a scraper
// would, not with regular expressions over lines.
//
// parseExposition(text) -> { families: Map<name, {type, help, samples[]}>,
//                            samples: [{name, labels, value, family}], problems: [string] }
//
// Reference: prometheus docs "Exposition formats" (text format 0.0.4):
// - lines are `# HELP name docstring`, `# TYPE name type`, other `#` comments,
//   blank lines, and samples `name[{l="v",...}] value [timestamp]`;
// - label values escape `\\`, `\"` and `\n`; HELP escapes `\\` and `\n`;
// - values are Go floats, also `NaN`, `+Inf`, `-Inf`;
// - a family's TYPE comes before its first sample, once; a histogram named h
//   owns h_bucket (with `le`), h_sum and h_count; a summary owns s, s_sum, s_count.
// Problems (format violations) are collected, not thrown, so a test can print
// all of them at once.

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parseFloatProm(s) {
	if (s === 'NaN') return NaN;
	if (s === '+Inf' || s === 'Inf') return Infinity;
	if (s === '-Inf') return -Infinity;
	if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return undefined;
	return Number(s);
}

function unescapeLabel(s, problems, lineNo) {
	let out = '';
	for (let i = 0; i < s.length; i++) {
		const c = s[i];
		if (c !== '\\') {
			out += c;
			continue;
		}
		const n = s[++i];
		if (n === '\\') out += '\\';
		else if (n === '"') out += '"';
		else if (n === 'n') out += '\n';
		else {
			problems.push(`line ${lineNo}: bad escape \\${n ?? ''} in label value`);
			out += '\\' + (n ?? '');
		}
	}
	return out;
}

// Parses `{a="x",b="y"}` starting at s[0] === '{'. Returns [labels, rest] or
// throws a message.
function parseLabels(s, problems, lineNo) {
	const labels = {};
	let i = 1;
	for (;;) {
		while (s[i] === ' ' || s[i] === '\t') i++;
		if (s[i] === '}') return [labels, s.slice(i + 1)];
		const m = LABEL_RE.exec(s.slice(i));
		if (!m) throw `bad label name at column ${i + 1}`;
		const lname = m[0];
		i += lname.length;
		while (s[i] === ' ' || s[i] === '\t') i++;
		if (s[i] !== '=') throw `expected = after label ${lname}`;
		i++;
		while (s[i] === ' ' || s[i] === '\t') i++;
		if (s[i] !== '"') throw `expected " to open label ${lname}`;
		i++;
		let raw = '';
		for (;;) {
			if (i >= s.length) throw `unterminated value of label ${lname}`;
			if (s[i] === '\\') {
				raw += s[i] + (s[i + 1] ?? '');
				i += 2;
				continue;
			}
			if (s[i] === '"') break;
			raw += s[i++];
		}
		i++;
		if (lname in labels) throw `duplicate label ${lname}`;
		labels[lname] = unescapeLabel(raw, problems, lineNo);
		while (s[i] === ' ' || s[i] === '\t') i++;
		if (s[i] === ',') {
			i++;
			continue;
		}
		if (s[i] === '}') return [labels, s.slice(i + 1)];
		throw `expected , or } after label ${lname}`;
	}
}

// The family a sample name belongs to, given the TYPEs seen so far.
function familyOf(name, families) {
	if (families.has(name)) {
		const t = families.get(name).type;
		if (t !== 'histogram') return name;
	}
	for (const suf of ['_bucket', '_sum', '_count']) {
		if (!name.endsWith(suf)) continue;
		const base = name.slice(0, -suf.length);
		const f = families.get(base);
		if (f && (f.type === 'histogram' || (f.type === 'summary' && suf !== '_bucket'))) return base;
	}
	return name;
}

export function labelKey(labels) {
	return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

export function parseExposition(text) {
	const families = new Map();
	const samples = [];
	const problems = [];
	const seenSeries = new Set();
	const finished = new Set(); // families whose samples ended (must stay contiguous)
	let current = null;

	const lines = text.split('\n');
	if (lines.length && lines[lines.length - 1] === '') lines.pop();
	else if (text.length) problems.push('exposition does not end with a newline');

	lines.forEach((line, idx) => {
		const lineNo = idx + 1;
		if (line.endsWith('\r')) problems.push(`line ${lineNo}: CR line ending`);
		if (line.trim() === '') return;
		if (line.startsWith('#')) {
			const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
			if (!m) return; // a plain comment
			const [, kind, fname, rest = ''] = m;
			if (!NAME_RE.test(fname) || NAME_RE.exec(fname)[0] !== fname) {
				problems.push(`line ${lineNo}: bad metric name in ${kind}: ${fname}`);
				return;
			}
			let f = families.get(fname);
			if (!f) {
				f = { name: fname, type: 'untyped', help: undefined, typed: false, samples: [] };
				families.set(fname, f);
			}
			if (kind === 'TYPE') {
				const t = rest.trim();
				if (!TYPES.has(t)) problems.push(`line ${lineNo}: unknown type ${t} for ${fname}`);
				if (f.typed) problems.push(`line ${lineNo}: second TYPE for ${fname}`);
				if (f.samples.length) problems.push(`line ${lineNo}: TYPE for ${fname} after its samples`);
				f.type = t;
				f.typed = true;
			} else {
				if (f.help !== undefined) problems.push(`line ${lineNo}: second HELP for ${fname}`);
				f.help = rest.replace(/\\(\\|n)/g, (_, c) => (c === 'n' ? '\n' : '\\'));
			}
			return;
		}
		const nm = NAME_RE.exec(line);
		if (!nm) {
			problems.push(`line ${lineNo}: cannot parse: ${JSON.stringify(line)}`);
			return;
		}
		const name = nm[0];
		let rest = line.slice(name.length);
		let labels = {};
		const afterName = rest.replace(/^[ \t]+/, '');
		if (afterName.startsWith('{')) {
			rest = afterName;
			try {
				[labels, rest] = parseLabels(rest, problems, lineNo);
			} catch (e) {
				problems.push(`line ${lineNo}: ${e}: ${JSON.stringify(line)}`);
				return;
			}
		}
		const fields = rest.trim().split(/[ \t]+/);
		if (!/^[ \t]/.test(rest) || fields[0] === '' || fields.length > 2) {
			problems.push(`line ${lineNo}: expected value [timestamp]: ${JSON.stringify(line)}`);
			return;
		}
		const value = parseFloatProm(fields[0]);
		if (value === undefined) {
			problems.push(`line ${lineNo}: bad value ${fields[0]}`);
			return;
		}
		if (fields.length === 2 && !/^-?\d+$/.test(fields[1])) problems.push(`line ${lineNo}: bad timestamp ${fields[1]}`);

		const fname = familyOf(name, families);
		let f = families.get(fname);
		if (!f) {
			f = { name: fname, type: 'untyped', help: undefined, typed: false, samples: [] };
			families.set(fname, f);
		}
		if (current !== fname) {
			if (finished.has(fname)) problems.push(`line ${lineNo}: samples of ${fname} are not contiguous`);
			if (current) finished.add(current);
			current = fname;
		}
		const key = name + labelKey(labels);
		if (seenSeries.has(key)) problems.push(`line ${lineNo}: duplicate series ${name}${labelKey(labels)}`);
		seenSeries.add(key);
		const s = { name, labels, value, family: fname, line: lineNo };
		f.samples.push(s);
		samples.push(s);
	});

	for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f, problems);
	return { families, samples, problems };
}

// Per series (labels without le): buckets cumulative and non-decreasing in le,
// a +Inf bucket equal to _count, and _sum and _count present.
function checkHistogram(f, problems) {
	const groups = new Map();
	for (const s of f.samples) {
		const { le, ...rest } = s.labels;
		const k = labelKey(rest);
		if (!groups.has(k)) groups.set(k, { buckets: [], sum: undefined, count: undefined, labels: rest });
		const g = groups.get(k);
		if (s.name === `${f.name}_bucket`) {
			if (le === undefined) problems.push(`${f.name}_bucket without le ${k}`);
			else g.buckets.push([parseFloatProm(le), s.value, le]);
		} else if (s.name === `${f.name}_sum`) g.sum = s.value;
		else if (s.name === `${f.name}_count`) g.count = s.value;
		else problems.push(`histogram ${f.name} has foreign sample ${s.name}`);
	}
	for (const [k, g] of groups) {
		if (g.count === undefined) problems.push(`${f.name}${k}: no _count`);
		if (g.sum === undefined) problems.push(`${f.name}${k}: no _sum`);
		const inf = g.buckets.find((b) => b[0] === Infinity);
		if (!inf) problems.push(`${f.name}${k}: no +Inf bucket`);
		else if (g.count !== undefined && inf[1] !== g.count)
			problems.push(`${f.name}${k}: +Inf bucket ${inf[1]} != _count ${g.count}`);
		for (let i = 1; i < g.buckets.length; i++) {
			if (!(g.buckets[i][0] > g.buckets[i - 1][0]))
				problems.push(`${f.name}${k}: le not increasing at ${g.buckets[i][2]}`);
			if (g.buckets[i][1] < g.buckets[i - 1][1])
				problems.push(`${f.name}${k}: bucket le=${g.buckets[i][2]} decreases`);
		}
		g.les = g.buckets.map((b) => b[0]);
	}
	f.histograms = groups;
}

// Sums the samples of metric `name` matching `match` (label -> value, or a
// function of the labels), grouped by the label names in `by`.
// Returns Map<JSON of by-values, value>.
export function sumBy(parsed, name, by, match = {}) {
	const out = new Map();
	for (const s of parsed.samples) {
		if (s.name !== name) continue;
		if (typeof match === 'function') {
			if (!match(s.labels)) continue;
		} else if (Object.entries(match).some(([k, v]) => (s.labels[k] ?? '') !== v)) continue;
		const key = JSON.stringify(by.map((b) => s.labels[b] ?? ''));
		out.set(key, (out.get(key) ?? 0) + s.value);
	}
	return out;
}
