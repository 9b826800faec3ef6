#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0-only
//
// The Docker Engine API's network inspect, answered on a unix socket, for
// scope.sh's --network NAME (no Docker engine runs on the test machines).
// Answers GET /networks/<name-or-id> (optionally under /v1.xx/) the way
// dockerd does for a user-defined bridge network: Name, Id (64 hex digits),
// Driver "bridge", Scope "local", an empty Options object (so the bridge is
// "br-" + the first 12 hex digits of the Id), and 404 with a "message" for
// anything else. Logs each request line to stdout.
//
//   node docker-api.mjs --socket PATH --network NAME=ID64

import { createServer } from 'node:http';
import { unlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
	options: {
		socket: { type: 'string' },
		network: { type: 'string', multiple: true, default: [] },
	},
});
if (!opt.socket || !opt.network.length) {
	console.error('usage: docker-api.mjs --socket PATH --network NAME=ID64');
	process.exit(2);
}
const nets = opt.network.map((s) => {
	const [name, id] = s.split('=');
	return { Name: name, Id: id, Created: new Date().toISOString(), Scope: 'local', Driver: 'bridge',
		EnableIPv6: false, IPAM: { Driver: 'default', Options: {}, Config: [] }, Internal: false,
		Attachable: false, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
		Containers: {}, Options: {}, Labels: {} };
});

try { unlinkSync(opt.socket); } catch { /* not there */ }
const server = createServer((req, res) => {
	console.log(`${req.method} ${req.url}`);
	const m = /^(?:\/v1\.\d+)?\/networks\/([^/?]+)$/.exec(new URL(req.url, 'http://docker').pathname);
	const ref = m ? decodeURIComponent(m[1]) : null;
	const net = ref && nets.find((n) => n.Name === ref || n.Id === ref || (ref.length >= 12 && n.Id.startsWith(ref)));
	res.setHeader('Content-Type', 'application/json');
	res.setHeader('Api-Version', '1.43');
	if (req.method === 'GET' && net) {
		res.end(JSON.stringify(net));
	} else {
		res.statusCode = 404;
		res.end(JSON.stringify({ message: ref ? `network ${ref} not found` : 'page not found' }));
	}
});
server.listen(opt.socket, () => console.log(`listening on ${opt.socket}`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
