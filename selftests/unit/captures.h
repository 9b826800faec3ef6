/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loader for the shared/docs/wire-captures files, the logging-proxy captures of
 * the reference servers (mcp-wire.md). File format, as verified on the files:
 *   - optional blank line(s), then records "=== connN C->S|S->C <N>B\n"
 *     followed by the N raw bytes and a "\n" (the last record may end at EOF);
 *   - N counts the bytes on the wire, but the proxy wrote them decoded as
 *     Latin-1 and re-encoded as UTF-8, so a wire byte >= 0x80 appears as two
 *     bytes (C2/C3 xx). The loader undoes that to give the wire bytes back.
 */
#ifndef MCPWIRE_TEST_CAPTURES_H
#define MCPWIRE_TEST_CAPTURES_H

#include <stddef.h>
#include <stdint.h>

struct capture_seg {
	int conn;		/* N of "connN" */
	int c2s;		/* 1: client to server */
	const uint8_t *data;
	size_t len;
};

struct capture {
	uint8_t *buf;		/* wire bytes of all segments, back to back */
	struct capture_seg *segs;
	size_t nsegs;
	int max_conn;
};

/* name is a file of $MCPWIRE_CAPTURES (default ../shared/docs/wire-captures,
 * then /work/shared/docs/wire-captures). Returns 0, or -1 with a message on
 * stderr. */
int capture_load(struct capture *cap, const char *name);
void capture_free(struct capture *cap);

/* Whole file from $MCPWIRE_FIXTURES (default selftests/fixtures); *len set;
 * NULL on error. Caller frees. */
uint8_t *fixture_load(const char *name, size_t *len);

#endif /* MCPWIRE_TEST_CAPTURES_H */
