// SPDX-License-Identifier: GPL-2.0-only
//
// unixFetch(socketPath): a fetch (WHATWG Fetch, the shape the MCP SDK's
// `fetch` transport option takes) that sends every request, whatever its
// URL's host, over HTTP/1.1 on the unix socket at socketPath, with node:http
// and a keep-alive agent, so the SDK's StreamableHTTPClientTransport talks
// to a server listening on a path (node:http's listen('/path.sock')). Node's
// global fetch would need an undici Agent with connect.socketPath, and the
// undici package is not among this test's npm dependencies.
//
// The answer's body streams (Readable.toWeb), so SSE answers and the
// standalone GET stream arrive event by event; init.signal aborts the
// request and its body, which is how the SDK ends the GET stream.

import http from 'node:http';
import { Readable } from 'node:stream';

export function unixFetch(socketPath) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
	const fetchUnix = (url, init = {}) =>
		new Promise((resolve, reject) => {
			const u = new URL(url);
			const method = (init.method ?? 'GET').toUpperCase();
			const headers = {};
			new Headers(init.headers ?? {}).forEach((v, k) => (headers[k] = v));
			const signal = init.signal;
			if (signal?.aborted) return reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
			const req = http.request({ socketPath, agent, method, path: u.pathname + u.search, headers }, (res) => {
				const h = new Headers();
				for (const [k, v] of Object.entries(res.headers))
					for (const x of Array.isArray(v) ? v : [v]) h.append(k, x);
				const noBody = method === 'HEAD' || [101, 204, 205, 304].includes(res.statusCode);
				if (noBody) res.resume();
				resolve(new Response(noBody ? null : Readable.toWeb(res), {
					status: res.statusCode,
					statusText: res.statusMessage,
					headers: h,
				}));
			});
			req.on('error', reject);
			if (signal) {
				const abort = () => req.destroy(signal.reason ?? new DOMException('aborted', 'AbortError'));
				signal.addEventListener('abort', abort, { once: true });
				req.on('close', () => signal.removeEventListener('abort', abort));
			}
			const body = init.body;
			if (body === undefined || body === null) req.end();
			else req.end(typeof body === 'string' || body instanceof Uint8Array ? body : String(body));
		});
	fetchUnix.agent = agent;
	return fetchUnix;
}
