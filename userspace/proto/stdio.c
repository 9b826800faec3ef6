// SPDX-License-Identifier: GPL-2.0-only
/*
 * proto/stdio — newline-delimited JSON-RPC of a stdio MCP server's fd 0/1.
 * See stdio.h for the contract and mcp-wire.md §5 for the transport.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/jsonrpc.h"
#include "proto/stdio.h"
#include "proto/tail.h"

#define STDIO_DEFAULT_MAX_BODY (16u << 20)
/* /proc/<pid>/cmdline bytes looked at: enough for an interpreter, a few
 * options and a long node_modules path. */
#define STDIO_CMDLINE_MAX 4096
/* Processes whose label is remembered: a server opens fd 0 and fd 1 one right
 * after the other, so /proc is read once per server process. */
#define STDIO_LABEL_CACHE 16

struct stdio_conn {
	const struct proto_sink *sink;
	struct mcp_wire_ctx ctx;
	uint32_t max_line;
	int8_t dir;	    /* enum stream_dir carrying MCP, -1: none (not fd 0/1) */
	uint8_t skip;	    /* drop bytes until the next '\n' (gap, too long) */
	uint8_t failed;	    /* this line is not JSON: drop it at its '\n' */
	uint8_t mcp_seen;   /* a JSON-RPC message went over this fd */
	uint8_t ignore;	    /* not JSON-RPC: no more parsing */
	uint8_t bad_lines;  /* lines that were not JSON-RPC before mcp_seen */
	uint8_t line_msgs;  /* JSON-RPC messages found in the current line */
	uint64_t line_bytes;
	uint64_t ts;
	struct jsonrpc_scan js;
	struct tail_rec tr;  /* a line with a hole of the capture cap */
};

static void stdio_error(struct stdio_conn *c, const char *reason)
{
	c->ctx.ts_ns = c->ts;
	if (c->sink->parse_error)
		c->sink->parse_error(c->sink->arg, &c->ctx, reason);
}

/* A line that did not hold JSON-RPC: an error on an MCP stream, otherwise a
 * hint that this pipe carries something else. */
static void stdio_bad_line(struct stdio_conn *c, const char *reason)
{
	if (c->mcp_seen) {
		stdio_error(c, reason);
		return;
	}
	if (++c->bad_lines >= STDIO_GIVE_UP)
		c->ignore = 1;
}

static void stdio_on_msg(void *arg, const struct jsonrpc_msg *m)
{
	struct stdio_conn *c = arg;

	if (m->kind == JSONRPC_INVALID) {
		stdio_bad_line(c, "not_jsonrpc");
		return;
	}
	c->mcp_seen = 1;
	c->line_msgs++;
	c->ctx.ts_ns = c->ts;
	if (c->sink->message)
		c->sink->message(c->sink->arg, &c->ctx, m);
}

static void stdio_line_reset(struct stdio_conn *c)
{
	c->line_bytes = 0;
	c->line_msgs = 0;
	c->skip = 0;
	c->failed = 0;
	jsonrpc_scan_reset(&c->js);
}

/* The '\n' ending a line arrived. */
static void stdio_line_end(struct stdio_conn *c)
{
	struct jsonrpc_msg m;
	int err;

	if (c->tr.active) {
		/* the line is the message's framing: head + tail, or lost */
		if (tail_end(&c->tr, &m))
			stdio_on_msg(c, &m);
		else if (c->mcp_seen)
			stdio_error(c, "too_large");
	} else if (!c->skip && !c->failed) {
		err = jsonrpc_scan_end(&c->js);
		if (err && err != JSONRPC_E_EMPTY)
			stdio_bad_line(c, "json");
	}
	stdio_line_reset(c);
}

/* Bytes of the current line, without its '\n'. */
static void stdio_line_bytes(struct stdio_conn *c, const uint8_t *p, size_t n)
{
	if (c->skip || c->failed || !n)
		return;
	if (c->tr.active) {
		tail_feed(&c->tr, p, n);
		return;
	}
	c->line_bytes += n;
	if (c->line_bytes > c->max_line) {
		stdio_error(c, "too_large");
		c->skip = 1;
		return;
	}
	if (jsonrpc_scan_feed(&c->js, p, n)) {
		c->failed = 1;
		stdio_bad_line(c, "json");
	}
}

void stdio_conn_data(struct stdio_conn *c, enum stream_dir dir, const uint8_t *data, size_t len,
		     uint64_t ts_ns)
{
	c->ts = ts_ns;
	if ((int)dir != c->dir)
		return;
	while (len && !c->ignore) {
		const uint8_t *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;

		stdio_line_bytes(c, data, n);
		if (!nl)
			return;
		stdio_line_end(c);
		data += n + 1;
		len -= n + 1;
	}
}

void stdio_conn_gap(struct stdio_conn *c, enum stream_dir dir, uint64_t nbytes, int after_cap,
		    uint64_t ts_ns)
{
	c->ts = ts_ns;
	if ((int)dir != c->dir || c->ignore || !nbytes)
		return;
	/* left out of one large write: the line's end still comes */
	if (after_cap && !c->skip && !c->failed && !tail_begin(&c->tr, &c->js))
		return;
	tail_reset(&c->tr);
	/* A message is one line and has no length to skip by: the line in
	 * progress is lost whatever the gap's size, and the next '\n' is the
	 * next place a message can start. */
	if (!c->skip && c->mcp_seen)
		stdio_error(c, after_cap ? "too_large" : "gap");
	jsonrpc_scan_reset(&c->js);
	c->failed = 0;
	c->skip = 1;
}

/* --- naming --- */

static const char *stdio_basename(const char *s)
{
	const char *slash = strrchr(s, '/');

	return slash ? slash + 1 : s;
}

/* Interpreters and runners whose own name says nothing about the server. */
static int stdio_is_runner(const char *name)
{
	static const char *const runners[] = {
		"node", "nodejs", "bun", "deno", "npx", "npm", "pnpm", "pnpx", "yarn", "bunx",
		"uv", "uvx", "pipx", "poetry", "ruby", "perl", "php", "java", "dotnet", "tsx",
		"ts-node", "sh", "bash", "dash", "env", "docker", "podman", NULL,
	};

	for (const char *const *r = runners; *r; r++)
		if (!strcmp(name, *r))
			return 1;
	/* python, python3, python3.12, pypy3 */
	return !strncmp(name, "python", 6) || !strncmp(name, "pypy", 4);
}

/* Words of a runner's command line that are neither options nor the target. */
static int stdio_is_subcommand(const char *w)
{
	static const char *const words[] = { "run", "exec", "x", "dlx", "tool", "start", NULL };

	for (const char *const *r = words; *r; r++)
		if (!strcmp(w, *r))
			return 1;
	return 0;
}

/* Options of runners that take the next word as their value (uv run --with
 * mcp, node -r ts-node/register, npx -p pkg). */
static int stdio_option_takes_value(const char *w)
{
	static const char *const opts[] = { "--with", "--from", "--python", "-p", "--package",
					     "--directory", "--project", "--env-file", "-r",
					     "--require", "--import", "--loader", "-c", "-w",
					     "--with-requirements", "--index", NULL };

	for (const char *const *o = opts; *o; o++)
		if (!strcmp(w, *o))
			return 1;
	return 0;
}

/* Directory names that say nothing about the package they are in. */
static int stdio_is_build_dir(const char *s, size_t n)
{
	static const char *const dirs[] = { "dist", "build", "lib", "src", "bin", "out", "cjs",
					     "esm", "target", "release", NULL };

	for (const char *const *d = dirs; *d; d++)
		if (strlen(*d) == n && !memcmp(s, *d, n))
			return 1;
	return 0;
}

static int stdio_is_generic(const char *s, size_t n)
{
	static const char *const names[] = { "index", "main", "server", "cli", "__main__", "app",
					     "mod", "start", NULL };

	for (const char *const *d = names; *d; d++)
		if (strlen(*d) == n && !memcmp(s, *d, n))
			return 1;
	return 0;
}

/* Copies [s, s+n) into out, sanitised and bounded. */
static void stdio_put(char *out, const char *s, size_t n)
{
	size_t i;

	if (n > STDIO_CMD_MAX)
		n = STDIO_CMD_MAX;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		out[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				 (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ||
				 ch == '+' || ch == '@' ?
			 ch : '_';
	}
	out[n] = 0;
}

/* The name a script path or package spec stands for. */
static void stdio_target_name(const char *t, char *out)
{
	const char *nm = NULL, *p, *end;
	size_t n;

	/* .../node_modules/@scope/pkg/... or .../node_modules/.bin/cmd */
	for (p = t; (p = strstr(p, "node_modules/")); p += 13)
		nm = p + 13;
	if (nm && !strncmp(nm, ".bin/", 5)) {
		t = stdio_basename(nm + 5);
		stdio_put(out, t, strlen(t));
		return;
	}
	if (nm || (t[0] == '@' && strchr(t, '/'))) {
		/* a package: @scope/name, name; a spec may end in @version */
		p = nm ? nm : t;
		if (*p == '@' && strchr(p, '/'))
			p = strchr(p, '/') + 1;
		end = p + strcspn(p, "/@");
		stdio_put(out, p, (size_t)(end - p));
		return;
	}
	/* a path: its base name without extension, unless that is generic
	 * (index.js, __main__.py): then the nearest telling directory */
	end = t + strlen(t);
	for (;;) {
		const char *base = end;
		const char *dot;

		while (base > t && base[-1] != '/')
			base--;
		n = (size_t)(end - base);
		dot = memchr(base, '.', n);
		if (dot && dot > base)
			n = (size_t)(dot - base);
		if (n && !stdio_is_generic(base, n) && !stdio_is_build_dir(base, n)) {
			stdio_put(out, base, n);
			return;
		}
		if (base == t)
			break;
		end = base - 1; /* the directory above */
	}
	/* nothing telling: the base name as it is */
	t = stdio_basename(t);
	stdio_put(out, t, strlen(t));
}

void stdio_command_name(const char *argv, size_t len, char *out)
{
	const char *end = argv + len, *a = argv, *prog;
	int module = 0;

	out[0] = 0;
	if (!len || !argv[0])
		return;
	/* cmdline normally ends in NUL; a process may have rewritten it */
	if (argv[len - 1] != 0)
		return;
	prog = stdio_basename(a);
	if (!stdio_is_runner(prog)) {
		stdio_put(out, prog, strlen(prog));
		return;
	}
	for (a += strlen(a) + 1; a < end; a += strlen(a) + 1) {
		if (!a[0])
			continue;
		if (module) {
			stdio_put(out, a, strlen(a));
			return;
		}
		if (!strcmp(a, "-m")) {
			module = 1; /* python -m package */
			continue;
		}
		if (stdio_option_takes_value(a)) {
			a += strlen(a) + 1; /* and its value */
			if (a >= end)
				break;
			continue;
		}
		if (a[0] == '-' || stdio_is_subcommand(a) || strchr(a, '='))
			continue;
		/* a runner running a runner: npx → node, uv run python */
		if (stdio_is_runner(stdio_basename(a)))
			continue;
		stdio_target_name(a, out);
		if (out[0])
			return;
	}
	stdio_put(out, prog, strlen(prog));
}

static struct {
	uint32_t tgid;
	char comm[16];
	char label[sizeof(((struct mcp_endpoint *)0)->label)];
} stdio_labels[STDIO_LABEL_CACHE];
static unsigned int stdio_labels_next;

static void stdio_label(uint32_t tgid, const char *comm, char *label, size_t size)
{
	char path[40], buf[STDIO_CMDLINE_MAX], name[STDIO_CMD_MAX + 1] = "";
	unsigned int i, slot;
	ssize_t n = -1;
	int fd;

	/* the comm tells a pid reused since, or an exec, from the same process */
	for (i = 0; i < STDIO_LABEL_CACHE; i++) {
		if (stdio_labels[i].tgid == tgid && !strcmp(stdio_labels[i].comm, comm)) {
			snprintf(label, size, "%s", stdio_labels[i].label);
			return;
		}
	}
	snprintf(path, sizeof(path), "/proc/%u/cmdline", tgid);
	fd = tgid ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n > 0) {
		/* a command line cut at the buffer still has whole first words */
		if ((size_t)n == sizeof(buf))
			buf[n - 1] = 0;
		stdio_command_name(buf, (size_t)n, name);
	}
	if (!name[0])
		stdio_put(name, comm, strnlen(comm, 15));
	snprintf(label, size, "stdio:%s", name[0] ? name : "unknown");

	slot = stdio_labels_next++ % STDIO_LABEL_CACHE;
	stdio_labels[slot].tgid = tgid;
	snprintf(stdio_labels[slot].comm, sizeof(stdio_labels[slot].comm), "%s", comm);
	snprintf(stdio_labels[slot].label, sizeof(stdio_labels[slot].label), "%s", label);
}

/* --- lifecycle --- */

struct stdio_conn *stdio_conn_new(const struct stdio_conn_params *p, const struct proto_sink *sink)
{
	struct stdio_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sink = sink;
	c->max_line = p->max_body ? p->max_body : STDIO_DEFAULT_MAX_BODY;
	c->dir = p->fd == 0 ? STREAM_RECV : p->fd == 1 ? STREAM_SEND : -1;
	c->ctx.flow_id = p->flow_id;
	c->ctx.observer = MCP_OBS_SERVER;
	c->ctx.dir = p->fd == 0 ? MCP_C2S : MCP_S2C;
	c->ctx.transport = MCP_TRANSPORT_STDIO;
	c->ctx.tgid = p->tgid;
	memcpy(c->ctx.comm, p->comm, sizeof(c->ctx.comm));
	c->ctx.comm[sizeof(c->ctx.comm) - 1] = 0;
	if (c->dir >= 0)
		stdio_label(p->tgid, c->ctx.comm, c->ctx.server.label, sizeof(c->ctx.server.label));
	jsonrpc_scan_init(&c->js, stdio_on_msg, c);
	jsonrpc_scan_set_capture(&c->js, p->payloads);
	return c;
}

void stdio_conn_free(struct stdio_conn *c, uint64_t ts_ns)
{
	if (!c)
		return;
	c->ts = ts_ns;
	/* the client closed the server's stdin, or the server exited */
	if (c->dir == STREAM_RECV && c->mcp_seen && c->sink->session_end) {
		c->ctx.ts_ns = ts_ns;
		c->sink->session_end(c->sink->arg, &c->ctx);
	}
	tail_free(&c->tr);
	jsonrpc_scan_fini(&c->js);
	free(c);
}
