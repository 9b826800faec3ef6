// SPDX-License-Identifier: GPL-2.0-only
//
// attrib-fakes.mjs — the two APIs attrib.sh needs and this machine lacks (no
// Docker engine, no kubelet), answered with the shapes the real ones send:
//
//   Docker Engine API on a unix socket: GET /containers/<id>/json (any
//   /v1.xx prefix) → {"Id": <id>, "Name": "/<name>", ...} for the ids given,
//   404 {"message": "No such container: <id>"} otherwise.
//   kubelet on plain http, 127.0.0.1: GET /pods → a v1 PodList with one pod
//   per --pod, its containerStatuses carrying "containerd://<id>".
//
// Usage:
//   node attrib-fakes.mjs --docker-sock PATH --kubelet-port-file FILE --log FILE
//        [--container ID=NAME]... [--pod UID=NAMESPACE/POD/CONTAINER/ID]...
// Writes the kubelet's port to FILE once both listen; logs one line per
// request ("docker GET /containers/…", "kubelet GET /pods") to --log.

import fs from 'node:fs';
import http from 'node:http';

const args = process.argv.slice(2);
const opt = { container: [], pod: [] };
for (let i = 0; i < args.length; i += 2) {
	const k = args[i].replace(/^--/, '');
	if (Array.isArray(opt[k])) opt[k].push(args[i + 1]);
	else opt[k] = args[i + 1];
}
const names = new Map(opt.container.map((c) => c.split('=')));
const log = (l) => fs.appendFileSync(opt.log, l + '\n');
const json = (res, status, body) => {
	res.writeHead(status, { 'Content-Type': 'application/json', 'Api-Version': '1.45' });
	res.end(JSON.stringify(body));
};

const docker = http.createServer((req, res) => {
	log(`docker ${req.method} ${req.url}`);
	const m = /^(?:\/v[0-9.]+)?\/containers\/([^/]+)\/json$/.exec(req.url);
	if (req.method === 'GET' && m && names.has(m[1]))
		return json(res, 200, { Id: m[1], Created: '2026-11-22T04:00:00Z', Path: 'node',
					Name: '/' + names.get(m[1]), State: { Status: 'running', Pid: 0 },
					Config: { Hostname: m[1].slice(0, 12), Image: 'node:22' } });
	json(res, 404, { message: `No such container: ${m ? m[1] : req.url}` });
});

const podList = () => ({
	kind: 'PodList', apiVersion: 'v1', metadata: {},
	items: opt.pod.map((p) => {
		const [uid, rest] = p.split('=');
		const [ns, pod, ctr, id] = rest.split('/');
		return {
			metadata: { name: pod, namespace: ns, uid, labels: { app: 'mcp-everything' } },
			spec: { containers: [{ name: ctr, image: 'node:22' }], nodeName: 'selftest-node' },
			status: { phase: 'Running', qosClass: 'Burstable',
				  containerStatuses: [{ name: ctr, ready: true, restartCount: 0,
							state: { running: { startedAt: '2026-11-22T04:00:00Z' } },
							image: 'docker.io/library/node:22', imageID: 'sha256:00',
							containerID: `containerd://${id}`, started: true }] },
		};
	}),
});

const kubelet = http.createServer((req, res) => {
	log(`kubelet ${req.method} ${req.url}`);
	if (req.method === 'GET' && req.url === '/pods') return json(res, 200, podList());
	res.writeHead(404).end('404 page not found');
});

try { fs.unlinkSync(opt['docker-sock']); } catch { /* none */ }
docker.listen(opt['docker-sock'], () => {
	kubelet.listen(0, '127.0.0.1', () => {
		fs.writeFileSync(opt['kubelet-port-file'], String(kubelet.address().port));
	});
});
process.on('SIGTERM', () => process.exit(0));
