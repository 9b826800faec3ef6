#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// report.mjs — turns bench.sh's raw figures into the table and results.json.
//
//   node report.mjs RAW.jsonl RESULTS.json
//
// RAW.jsonl: one JSON object per measurement ("kind": machine, overhead,
// kernel, pipeline, memory, sustain, loss, total), written by the
// measurement scripts. Every figure quoted is a median over the repetitions
// of one run, and every comparison is against a baseline measured in the same
// run, interleaved with it. Targets are issue 6's; each is printed with PASS
// or MISS. Exit status 0 (a MISS is a finding, not a failure of the bench);
// 1 when a measurement is missing or inconsistent (counts that must match
// and do not).

import fs from "node:fs";

const [rawFile, outFile] = process.argv.slice(2);
const raw = fs.readFileSync(rawFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const of = (kind) => raw.filter((r) => r.kind === kind);
const median = (a) => {
	const s = a.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((x, y) => x - y);
	if (!s.length) return null;
	const m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x, d = 0) => (x === null || x === undefined || Number.isNaN(x) ? "-" : Number(x).toFixed(d));
const fmtInt = (x) => (x === null || x === undefined ? "-" : Math.round(x).toLocaleString("en-US"));
const out = { machine: of("machine")[0] || {}, total: of("total")[0] || {}, targets: [] };
const lines = [];
const say = (s = "") => lines.push(s);
let broken = false;

// target(name, value shown, pass) — pass null: not measured
function target(name, goal, shown, pass) {
	out.targets.push({ name, goal, value: shown, pass });
	say(`   ${pass === null ? "n/a " : pass ? "PASS" : "MISS"}  ${name}: ${shown} (target ${goal})`);
}

const m = out.machine;
say(`mcpwire bench — ${m.mcpwire || "?"}, ${m.date || ""}`);
say(`machine: ${m.cpus} CPUs (${m.model}), ${m.mem_mib} MiB, kernel ${m.kernel}; load average ${m.load1_start} at start, ${out.total.load1_end} at end.`);
say(`A shared machine: other work runs meanwhile, so single figures are noisy; ratios are of medians of ${m.reps} interleaved runs.`);

// ------------------------------------------------------------- 1. overhead
const ov = of("overhead");
if (ov.length) {
	out.overhead = {};
	say();
	say(`1. Overhead on the traced server (wrk, tools/call, ${m.seconds} s per run, runs interleaved bare/mcpwire/sidecar)`);
	say("   target       config    calls/s   ×bare   p50 µs   ×bare   p99 µs   ×bare   mcpwire: CPU s / wake-ups per 1k calls");
	for (const tgt of ["nginx", "everything"]) {
		const o = (out.overhead[tgt] = {});
		for (const cfg of ["bare", "mcpwire", "sidecar", "mcpwire_b"]) {
			const runs = ov.filter((r) => r.target === tgt && r.config === cfg);
			if (!runs.length) continue;
			o[cfg] = {
				rps: median(runs.map((r) => r.wrk.rps)),
				p50_us: median(runs.map((r) => r.wrk.p50_us)),
				p99_us: median(runs.map((r) => r.wrk.p99_us)),
				runs: runs.map((r) => ({ rep: r.rep, rps: r.wrk.rps, p50_us: r.wrk.p50_us, p99_us: r.wrk.p99_us,
					wrk_calls: r.wrk.requests, server_calls: r.server_calls, mcpwire_calls: r.mcpwire_calls,
					mcpwire_cpu_s: r.mcpwire_cpu_s, mcpwire_wakeups: r.mcpwire_wakeups, errors: r.wrk.errors })),
			};
			if (cfg.startsWith("mcpwire")) {
				o[cfg].cpu_s_per_1k_calls = median(runs.map((r) => (r.mcpwire_calls ? (1000 * r.mcpwire_cpu_s) / r.mcpwire_calls : null)));
				o[cfg].wakeups_per_1k_calls = median(runs.map((r) => (r.mcpwire_calls ? (1000 * r.mcpwire_wakeups) / r.mcpwire_calls : null)));
			}
		}
		for (const cfg of ["mcpwire", "sidecar", "mcpwire_b"]) {
			if (!o[cfg] || !o.bare) continue;
			o[cfg].rps_ratio = o[cfg].rps / o.bare.rps;
			o[cfg].p50_ratio = o[cfg].p50_us / o.bare.p50_us;
			o[cfg].p99_ratio = o[cfg].p99_us / o.bare.p99_us;
		}
		for (const cfg of ["bare", "mcpwire", "sidecar", "mcpwire_b"]) {
			const c = o[cfg];
			if (!c) continue;
			say(`   ${(tgt === "nginx" ? "nginx canned" : "everything").padEnd(13)}${cfg.padEnd(10)}${fmtInt(c.rps).padStart(8)}` +
				`${(cfg === "bare" ? "" : fmt(c.rps_ratio, 3)).padStart(8)}${fmtInt(c.p50_us).padStart(9)}${(cfg === "bare" ? "" : fmt(c.p50_ratio, 3)).padStart(8)}` +
				`${fmtInt(c.p99_us).padStart(9)}${(cfg === "bare" ? "" : fmt(c.p99_ratio, 3)).padStart(8)}` +
				`${cfg.startsWith("mcpwire") ? `${fmt(c.cpu_s_per_1k_calls, 4).padStart(12)} / ${fmt(c.wakeups_per_1k_calls, 0)}` : ""}`);
		}
	}
	// counts: mcpwire's tools/call for this server vs what wrk and nginx saw
	say("   calls counted (each mcpwire run): wrk completed / server answered / mcpwire counted in /metrics");
	let countsOk = true;
	for (const r of ov.filter((x) => x.config.startsWith("mcpwire"))) {
		const srvOk = r.server_calls === null || r.server_calls === r.mcpwire_calls;
		const wrkOk = r.mcpwire_calls >= r.wrk.requests && r.mcpwire_calls <= r.wrk.requests + r.conns;
		countsOk = countsOk && srvOk && wrkOk;
		say(`     ${r.target.padEnd(10)} ${r.config.padEnd(9)} #${r.rep}: ${fmtInt(r.wrk.requests)} / ${r.server_calls === null ? "-" : fmtInt(r.server_calls)} / ${fmtInt(r.mcpwire_calls)}` +
			`  ${srvOk && wrkOk ? "match" : "MISMATCH"} (wrk drops the ≤ ${r.conns} calls in flight when its clock stops; the server answers them)`);
	}
	out.overhead.counts_match = countsOk;
	if (!countsOk) broken = true;
	const n = out.overhead.nginx || {}, e = out.overhead.everything || {};
	say("   targets:");
	if (e.mcpwire) {
		target("server-everything throughput with mcpwire", "loss ≤ 1%", `${fmt(100 * (1 - e.mcpwire.rps_ratio), 1)}% loss (×${fmt(e.mcpwire.rps_ratio, 3)})`, e.mcpwire.rps_ratio >= 0.99);
		target("server-everything p99 with mcpwire", "≤ +5%", `${fmt(100 * (e.mcpwire.p99_ratio - 1), 1)}% (×${fmt(e.mcpwire.p99_ratio, 3)})`, e.mcpwire.p99_ratio <= 1.05);
	}
	if (n.mcpwire) {
		target("canned nginx throughput with mcpwire (saturated)", "loss ≤ 10%", `${fmt(100 * (1 - n.mcpwire.rps_ratio), 1)}% loss (×${fmt(n.mcpwire.rps_ratio, 3)}); sidecar ×${fmt(n.sidecar && n.sidecar.rps_ratio, 3)}`, n.mcpwire.rps_ratio >= 0.9);
	}
	target("/metrics call count equals the server's and wrk's", "exact (wrk + in flight)", countsOk ? "all runs match" : "mismatch", countsOk);
}

// ------------------------------------------------------------ 2. kernel cost
const kr = of("kernel");
if (kr.length) {
	const DATA = ["read", "write", "readv", "writev", "recvfrom", "sendto", "recvmsg", "sendmsg"];
	const delta = (r) => {
		const d = {};
		for (const k in r.after) {
			const b = r.before[k] || { run_time_ns: 0, run_cnt: 0 };
			d[k] = { t: r.after[k].run_time_ns - b.run_time_ns, n: r.after[k].run_cnt - b.run_cnt };
		}
		return d;
	};
	const perRep = { filtered: [], captured: [] };
	for (const phase of ["filtered", "captured"]) {
		for (const r of kr.filter((x) => x.phase === phase)) {
			const idle = kr.find((x) => x.phase === "idle" && x.rep === r.rep);
			const d = delta(r), di = idle ? delta(idle) : {};
			const scale = idle ? r.ns / idle.ns : 0;
			const net = {};
			for (const k in d) {
				const bi = di[k] || { t: 0, n: 0 };
				net[k] = { t: d[k].t - scale * bi.t, n: d[k].n - scale * bi.n };
			}
			let t = 0, n = 0;
			for (const s of DATA) {
				for (const p of [`mw_enter_${s}`, `mw_exit_${s}`]) if (net[p]) t += net[p].t;
				if (net[`mw_exit_${s}`]) n += net[`mw_exit_${s}`].n;
			}
			perRep[phase].push({ rep: r.rep, per_syscall_ns: n > 0 ? t / n : null, syscalls: n, net });
		}
	}
	const progs = [...new Set(kr.flatMap((r) => Object.keys(r.after)))].sort();
	const k = (out.kernel = {
		derivation: "per phase: run_time_ns and run_cnt deltas of each program (bpftool, kernel.bpf_stats_enabled=1) minus the same repetition's idle phase scaled to the phase's length (the host's background); filtered = dd bs=64 /dev/zero → /dev/null, captured = wrk → canned nginx (both socket ends on this host); per syscall = enter + exit programs' time of the data syscalls / exit invocations",
		per_syscall_ns: {
			filtered: median(perRep.filtered.map((x) => x.per_syscall_ns)),
			captured: median(perRep.captured.map((x) => x.per_syscall_ns)),
		},
		syscalls: { filtered: median(perRep.filtered.map((x) => x.syscalls)), captured: median(perRep.captured.map((x) => x.syscalls)) },
		per_program_ns: {},
	});
	for (const p of progs) {
		const v = {};
		for (const phase of ["filtered", "captured"]) {
			v[phase] = median(perRep[phase].map((x) => (x.net[p] && x.net[p].n > 1000 ? x.net[p].t / x.net[p].n : null)));
			v[`${phase}_invocations`] = median(perRep[phase].map((x) => (x.net[p] ? Math.round(x.net[p].n) : 0)));
		}
		k.per_program_ns[p] = v;
	}
	say();
	say(`2. Kernel cost (ns per invocation, bpf_stats; median of ${perRep.filtered.length} repetitions, background of an idle phase subtracted)`);
	say("   program               filtered (dd)   invocations   captured (MCP)   invocations");
	for (const p of progs) {
		const v = k.per_program_ns[p];
		if (v.filtered === null && v.captured === null) continue;
		say(`   ${p.padEnd(22)}${fmt(v.filtered).padStart(14)}${fmtInt(v.filtered_invocations).padStart(14)}${fmt(v.captured).padStart(17)}${fmtInt(v.captured_invocations).padStart(14)}`);
	}
	say(`   per syscall (entry + exit program): filtered ${fmt(k.per_syscall_ns.filtered)} ns, captured ${fmt(k.per_syscall_ns.captured)} ns`);
	say("   targets:");
	target("kernel time per captured syscall (entry + exit)", "< 1000 ns", `${fmt(k.per_syscall_ns.captured)} ns`, k.per_syscall_ns.captured === null ? null : k.per_syscall_ns.captured < 1000);
	target("kernel time per filtered syscall (entry + exit)", "< 100 ns", `${fmt(k.per_syscall_ns.filtered)} ns`, k.per_syscall_ns.filtered === null ? null : k.per_syscall_ns.filtered < 100);
}

// ------------------------------------------------------- 3. pipeline
const pl = of("pipeline");
if (pl.length) {
	const rate = (r) => r.messages / (r.user_s + r.sys_s);
	const mw = pl.filter((r) => r.tool === "mcpwire"), ts = pl.filter((r) => r.tool === "tshark");
	const p = (out.pipeline = {
		pcap_bytes: mw[0] && mw[0].pcap_bytes,
		messages: mw[0] && mw[0].messages,
		calls_decoded: mw[0] && mw[0].calls,
		wrk_calls: mw[0] && mw[0].wrk_calls,
		tshark_lines: ts[0] && ts[0].lines,
		mcpwire: { cpu_s: median(mw.map((r) => r.user_s + r.sys_s)), msgs_per_cpu_s: median(mw.map(rate)) },
		tshark: { cpu_s: median(ts.map((r) => r.user_s + r.sys_s)), msgs_per_cpu_s: median(ts.map(rate)) },
	});
	p.ratio = p.mcpwire.msgs_per_cpu_s / p.tshark.msgs_per_cpu_s;
	say();
	say(`3. Pipeline throughput on one recorded pcap (${fmt(p.pcap_bytes / 1048576, 1)} MiB, ${fmtInt(p.messages)} MCP messages; wrk completed ${fmtInt(p.wrk_calls)} calls during the capture; tshark printed ${fmtInt(p.tshark_lines)} HTTP messages)`);
	say(`   mcpwire --read: ${fmt(p.mcpwire.cpu_s, 3)} CPU s, ${fmtInt(p.mcpwire.msgs_per_cpu_s)} messages/s per core`);
	say(`   tshark -Y 'http or json' -T fields: ${fmt(p.tshark.cpu_s, 3)} CPU s, ${fmtInt(p.tshark.msgs_per_cpu_s)} messages/s per core`);
	say("   targets:");
	target("pipeline messages/s per core", "≥ 1,000,000", fmtInt(p.mcpwire.msgs_per_cpu_s), p.mcpwire.msgs_per_cpu_s >= 1e6);
	target("pipeline vs tshark on the same file", "≥ 10×", `${fmt(p.ratio, 1)}×`, p.ratio >= 10);
}

// ------------------------------------------------------- 4. memory
const mem = of("memory")[0], sus = of("sustain")[0];
if (mem || sus) {
	say();
	say("4. Memory (VmRSS of mcpwire)");
	out.memory = {};
	if (mem) {
		out.memory.connections = mem;
		say(`   idle after start-up: ${fmt(mem.rss_idle_kib / 1024, 1)} MiB (anonymous ${fmt(mem.anon_idle_kib / 1024, 1)} MiB); ${fmtInt(mem.conns)} connections open (${mem.conns_log}): ${fmt(mem.rss_open_kib / 1024, 1)} MiB (anonymous ${fmt(mem.anon_open_kib / 1024, 1)} MiB); peak ${fmt(mem.hwm_kib / 1024, 1)} MiB`);
		say(`   pings mcpwire counted for that server: ${fmtInt(mem.mcpwire_pings)} of ${fmtInt(mem.answered)} answered`);
	}
	if (sus) {
		const s = sus.samples;
		const fit = s.slice(Math.floor(s.length / 3));
		let slope = null, growth = null;
		if (fit.length >= 2) {
			const mx = fit.reduce((a, x) => a + x[0], 0) / fit.length, my = fit.reduce((a, x) => a + x[1], 0) / fit.length;
			const num = fit.reduce((a, x) => a + (x[0] - mx) * (x[1] - my), 0), den = fit.reduce((a, x) => a + (x[0] - mx) ** 2, 0);
			slope = den ? (num / den) * 60 : 0; // KiB per minute
			growth = fit[fit.length - 1][1] - fit[0][1];
		}
		out.memory.sustain = { seconds: sus.seconds, calls: sus.wrk && sus.wrk.requests, mcpwire_calls: sus.mcpwire_calls, rps: sus.wrk && sus.wrk.rps,
			samples_kib: s, slope_kib_per_min: slope, growth_kib_fitted: growth };
		say(`   sustained: ${sus.seconds} s at ${fmtInt(sus.wrk && sus.wrk.rps)} calls/s (unique ids; wrk ${fmtInt(sus.wrk && sus.wrk.requests)}, mcpwire ${fmtInt(sus.mcpwire_calls)} calls), RSS ${fmt(s[0] && s[0][1] / 1024, 1)} → ${fmt(s.length && s[s.length - 1][1] / 1024, 1)} MiB; slope after the first third ${fmt(slope, 0)} KiB/min (${fmt(growth, 0)} KiB over the fitted samples)`);
	}
	say("   targets:");
	if (mem) target(`RSS with ${fmtInt(mem.conns)} connections open`, "≤ 64 MiB", `${fmt(mem.rss_open_kib / 1024, 1)} MiB`, mem.rss_open_kib <= 64 * 1024);
	if (mem) target(`every one of the ${fmtInt(mem.conns)} connections' pings counted`, "all", `${fmtInt(mem.mcpwire_pings)} of ${fmtInt(mem.answered)}`, mem.mcpwire_pings === mem.answered);
	if (out.memory.sustain) target("RSS flat under sustained load", "growth < 1 MiB after the first third", `${fmt(out.memory.sustain.growth_kib_fitted, 0)} KiB`, out.memory.sustain.growth_kib_fitted !== null && out.memory.sustain.growth_kib_fitted < 1024);
}

// ------------------------------------------------------- 5. loss
const ls = of("loss");
if (ls.length) {
	const sum = (o) => Object.values(o || {}).reduce((a, x) => a + x, 0);
	const diff = (a, b) => Object.fromEntries(Object.keys(a || {}).map((k) => [k, a[k] - ((b || {})[k] || 0)]).filter(([, v]) => v));
	const steps = ls.map((r) => ({ step: r.step, threads: r.threads, conns: r.conns, paused_s: r.paused_s || 0, rps: r.wrk.rps,
		wrk_calls: r.wrk.requests, server_calls: r.server_calls, mcpwire_calls: r.mcpwire_calls,
		lost: diff(r.lost, r.lost_before), expired: r.expired - r.expired_before, parse_errors: diff(r.parse_errors, r.parse_errors_before) }));
	const clean = steps.filter((s) => !s.paused_s && sum(s.lost) === 0);
	const lossy = steps.filter((s) => !s.paused_s && sum(s.lost) > 0);
	const l = (out.loss = { steps, max_rate_without_loss: clean.length ? Math.max(...clean.map((s) => s.rps)) : null,
		lowest_rate_with_loss: lossy.length ? Math.min(...lossy.map((s) => s.rps)) : null });
	say();
	say(`5. Loss threshold (canned nginx, rising load; mcpwire --request-timeout so unanswered requests expire within the run)`);
	say("   step  wrk           calls/s   server   mcpwire   lost (by reason)            expired  parse errors");
	for (const s of steps) {
		say(`   ${String(s.step).padEnd(6)}${(`${s.threads}t ${s.conns}c` + (s.paused_s ? ` +stop ${s.paused_s}s` : "")).padEnd(14)}${fmtInt(s.rps).padStart(8)}${fmtInt(s.server_calls).padStart(9)}` +
			`${fmtInt(s.mcpwire_calls).padStart(10)}   ${(JSON.stringify(s.lost) === "{}" ? "0" : JSON.stringify(s.lost)).padEnd(28)}${String(s.expired).padStart(7)}  ${JSON.stringify(s.parse_errors) === "{}" ? "0" : JSON.stringify(s.parse_errors)}`);
	}
	say(`   highest rate without loss: ${fmtInt(l.max_rate_without_loss)} calls/s${l.lowest_rate_with_loss ? `; loss from ${fmtInt(l.lowest_rate_with_loss)} calls/s` : " (no loss at any unpaused step: the machine's full rate)"}`);
	const top = out.overhead && out.overhead.nginx && out.overhead.nginx.bare ? out.overhead.nginx.bare.rps : null;
	say("   targets:");
	// With mcpwire attached, the canned nginx's full rate is the highest
	// the sweep reaches: nothing on this machine drives it faster.
	target("zero lost events up to the canned nginx's full rate", `0 lost at every step up to the highest rate reached with mcpwire attached${top ? ` (bare nginx alone: ${fmtInt(top)} calls/s)` : ""}`,
		`${lossy.length ? `loss from ${fmtInt(l.lowest_rate_with_loss)} calls/s` : "0 lost"}; highest rate ${fmtInt(Math.max(...steps.filter((s) => !s.paused_s).map((s) => s.rps)))} calls/s`, lossy.length === 0);
}

say();
say(`total: ${out.total.seconds} s`);
fs.writeFileSync(outFile, JSON.stringify(out, null, 1) + "\n");
console.log(lines.join("\n"));
process.exit(broken ? 1 : 0);
