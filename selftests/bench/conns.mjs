#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// conns.mjs — `make bench`'s memory measurement (memory.sh): opens many
// concurrent keep-alive MCP connections and holds them open.
//
//   node conns.mjs --url http://IP:PORT/mcp --count N --ready-file F
//        --hold-file H [--parallel P] [--max-seconds S]
//
// Each connection is a plain TCP socket that POSTs one JSON-RPC ping (the
// headers of an MCP client, a unique id per connection) and reads the whole
// answer (Content-Length), then stays open and idle. At most P (default 200)
// connections are being opened at once. When all N have their answer, it
// prints "open N ok K failed F" and creates the ready file; then it waits for
// the hold file (or --max-seconds, default 60, from the start), closes every
// socket and exits: 0 when every connection was answered, 1 otherwise.

import net from "node:net";
import fs from "node:fs";

const arg = (name, def) => {
	const i = process.argv.indexOf(`--${name}`);
	return i > 0 ? process.argv[i + 1] : def;
};
const url = new URL(arg("url"));
const count = Number(arg("count", 10000));
const parallel = Number(arg("parallel", 200));
const ready = arg("ready-file");
const hold = arg("hold-file");
const maxMs = Number(arg("max-seconds", 60)) * 1000;
const t0 = Date.now();
const sockets = [];
let next = 0, answered = 0, failed = 0, active = 0;

function request(id) {
	const body = `{"jsonrpc":"2.0","id":${id},"method":"ping"}`;
	return `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
		`Accept: application/json, text/event-stream\r\nX-Mcp-Id: ${id}\r\n` +
		`Content-Length: ${body.length}\r\n\r\n${body}`;
}

function openOne() {
	const id = ++next;
	active++;
	const s = net.connect({ host: url.hostname, port: Number(url.port) });
	sockets.push(s);
	let buf = "", done = false;
	const finish = (ok) => {
		if (done) return;
		done = true;
		active--;
		if (ok) answered++; else failed++;
		pump();
	};
	s.setNoDelay(true);
	s.on("connect", () => s.write(request(id)));
	s.on("data", (d) => {
		if (done) return;
		buf += d.toString("latin1");
		const h = buf.indexOf("\r\n\r\n");
		if (h < 0) return;
		const m = /content-length:\s*(\d+)/i.exec(buf.slice(0, h));
		if (m && buf.length >= h + 4 + Number(m[1])) finish(buf.startsWith("HTTP/1.1 200"));
	});
	s.on("error", () => finish(false));
	s.on("close", () => finish(false));
}

function pump() {
	while (active < parallel && next < count && Date.now() - t0 < maxMs) openOne();
	if (active === 0 && (next >= count || Date.now() - t0 >= maxMs)) allOpen();
}

let reported = false;
function allOpen() {
	if (reported) return;
	reported = true;
	console.log(`open ${count} ok ${answered} failed ${failed} in ${Date.now() - t0} ms`);
	if (ready) fs.writeFileSync(ready, `${answered}\n`);
	const timer = setInterval(() => {
		if ((hold && fs.existsSync(hold)) || Date.now() - t0 >= maxMs) {
			clearInterval(timer);
			for (const s of sockets) s.destroy();
			process.exit(answered === count ? 0 : 1);
		}
	}, 100);
}

setTimeout(() => { console.log(`timeout: ${answered} answered, ${failed} failed`); process.exit(1); }, maxMs + 5000).unref();
pump();
