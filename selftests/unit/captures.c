// SPDX-License-Identifier: GPL-2.0-only
/* See captures.h for the format and why the bytes need re-decoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "captures.h"

static uint8_t *capture_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(n + 1);
	if (b && fread(b, 1, n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	if (b) {
		b[n] = 0;
		*len = n;
	}
	return b;
}

static uint8_t *capture_open(const char *env, const char *const *dirs, const char *name,
			     size_t *len)
{
	char path[1024];
	const char *d = getenv(env);
	uint8_t *b;

	if (d) {
		snprintf(path, sizeof(path), "%s/%s", d, name);
		return capture_read(path, len);
	}
	for (; *dirs; dirs++) {
		snprintf(path, sizeof(path), "%s/%s", *dirs, name);
		b = capture_read(path, len);
		if (b)
			return b;
	}
	return NULL;
}

uint8_t *fixture_load(const char *name, size_t *len)
{
	static const char *const dirs[] = { "selftests/fixtures", "../selftests/fixtures",
					    "/work/main/selftests/fixtures", NULL };

	return capture_open("MCPWIRE_FIXTURES", dirs, name, len);
}

int capture_load(struct capture *cap, const char *name)
{
	static const char *const dirs[] = { "../shared/docs/wire-captures",
					    "/work/shared/docs/wire-captures", NULL };
	size_t flen, pos = 0, out = 0, cap_segs = 0;
	uint8_t *f = capture_open("MCPWIRE_CAPTURES", dirs, name, &flen);

	memset(cap, 0, sizeof(*cap));
	if (!f) {
		fprintf(stderr, "capture %s: cannot read\n", name);
		return -1;
	}
	cap->buf = malloc(flen + 1);
	if (!cap->buf)
		goto fail;
	while (pos < flen) {
		int conn, n, used = 0;
		char dir[8];
		size_t want;

		if (f[pos] == '\n') {
			pos++;
			continue;
		}
		if (sscanf((char *)f + pos, "=== conn%d %4s %dB\n%n", &conn, dir, &n, &used) != 3 ||
		    !used || n < 0 || f[pos + used - 1] != '\n') {
			fprintf(stderr, "capture %s: bad record header at %zu\n", name, pos);
			goto fail;
		}
		pos += used;
		if (cap->nsegs == cap_segs) {
			cap_segs = cap_segs ? cap_segs * 2 : 32;
			cap->segs = realloc(cap->segs, cap_segs * sizeof(*cap->segs));
			if (!cap->segs)
				goto fail;
		}
		cap->segs[cap->nsegs].conn = conn;
		cap->segs[cap->nsegs].c2s = !strcmp(dir, "C->S");
		cap->segs[cap->nsegs].len = n;
		/* data pointers are fixed up once buf is complete */
		cap->segs[cap->nsegs].data = (const uint8_t *)(uintptr_t)out;
		cap->nsegs++;
		if (conn > cap->max_conn)
			cap->max_conn = conn;
		for (want = n; want; want--) {
			uint8_t c;

			if (pos >= flen)
				goto short_rec;
			c = f[pos++];
			if (c >= 0x80) {
				/* U+0080..U+00FF as UTF-8 is the wire byte */
				if ((c != 0xc2 && c != 0xc3) || pos >= flen ||
				    (f[pos] & 0xc0) != 0x80)
					goto short_rec;
				c = (uint8_t)((c & 0x03) << 6 | (f[pos++] & 0x3f));
			}
			cap->buf[out++] = c;
		}
		if (pos < flen && f[pos] != '\n') {
			fprintf(stderr, "capture %s: record not followed by newline at %zu\n", name,
				pos);
			goto fail;
		}
	}
	for (size_t i = 0; i < cap->nsegs; i++)
		cap->segs[i].data = cap->buf + (uintptr_t)cap->segs[i].data;
	free(f);
	return 0;
short_rec:
	fprintf(stderr, "capture %s: record shorter than announced at %zu\n", name, pos);
fail:
	free(f);
	capture_free(cap);
	return -1;
}

void capture_free(struct capture *cap)
{
	free(cap->buf);
	free(cap->segs);
	memset(cap, 0, sizeof(*cap));
}
