// SPDX-License-Identifier: GPL-2.0-only
/*
 * text/event-stream parser, WHATWG HTML §9.2.6. Constant memory: the data
 * field streams through, only the event type, the id and the field name of
 * the current line are kept (bounded, truncated beyond).
 */
#include <string.h>
#include "proto/sse.h"

enum { L_START, L_NAME, L_VALUE_START, L_VALUE, L_SKIPLINE };

enum { FD_OTHER, FD_EVENT, FD_DATA, FD_ID, FD_RETRY };

static const uint8_t sse_bom[3] = { 0xef, 0xbb, 0xbf };

void sse_init(struct sse_parser *p, const struct sse_ops *ops, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->ops = ops;
	p->arg = arg;
}

void sse_reset(struct sse_parser *p)
{
	sse_init(p, p->ops, p->arg);
}

static void sse_clear_event(struct sse_parser *p)
{
	p->data_lines = 0;
	p->data_len = 0;
	p->type_len = 0;
	p->type_trunc = 0;
	p->type[0] = 0;
}

static void sse_discard(struct sse_parser *p)
{
	if (p->data_lines && p->ops->discard)
		p->ops->discard(p->arg);
	sse_clear_event(p);
}

/* "If the line is empty (a blank line): dispatch the event." */
static void sse_blank_line(struct sse_parser *p)
{
	struct sse_event ev;

	if (p->skip_event) {
		p->skip_event = 0;
		sse_discard(p);
		return;
	}
	if (!p->data_lines) {
		/* empty data buffer: reset and do not dispatch */
		sse_clear_event(p);
		return;
	}
	p->type[p->type_len] = 0;
	ev.type = p->type;
	ev.type_truncated = p->type_trunc;
	ev.last_id = p->last_id;
	ev.data_lines = p->data_lines;
	ev.data_len = p->data_len;
	ev.after_gap = p->gap_seen;
	p->gap_seen = 0;
	p->events++;
	p->ops->dispatch(p->arg, &ev);
	sse_clear_event(p);
}

static void sse_field_begin(struct sse_parser *p)
{
	const char *n = p->name;

	p->field = FD_OTHER;
	if (p->name_len == 5 && !memcmp(n, "event", 5)) {
		p->field = FD_EVENT;
		p->type_len = 0;
		p->type_trunc = 0;
	} else if (p->name_len == 4 && !memcmp(n, "data", 4)) {
		p->field = FD_DATA;
		if (p->skip_event)
			return;
		if (p->data_lines) {
			/* the LF the spec appends after the previous line */
			p->ops->data(p->arg, (const uint8_t *)"\n", 1);
			p->data_len++;
		}
		p->data_lines++;
	} else if (p->name_len == 2 && !memcmp(n, "id", 2)) {
		p->field = FD_ID;
		p->id_len = 0;
	} else if (p->name_len == 5 && !memcmp(n, "retry", 5)) {
		p->field = FD_RETRY;
		p->retry_len = 0;
		p->retry_bad = 0;
		p->retry_acc = 0;
	}
}

static void sse_value(struct sse_parser *p, const uint8_t *s, size_t n)
{
	size_t room;

	switch (p->field) {
	case FD_EVENT:
		room = sizeof(p->type) - 1 - p->type_len;
		if (n > room) {
			n = room;
			p->type_trunc = 1;
		}
		memcpy(p->type + p->type_len, s, n);
		p->type_len += n;
		break;
	case FD_DATA:
		if (p->skip_event)
			break;
		p->ops->data(p->arg, s, n);
		p->data_len += n;
		break;
	case FD_ID:
		/* a value with NUL is ignored; so is one too long to keep whole */
		if (memchr(s, 0, n) || n > sizeof(p->id_buf) - 1 - p->id_len) {
			p->id_len = UINT16_MAX;
			break;
		}
		if (p->id_len == UINT16_MAX)
			break;
		memcpy(p->id_buf + p->id_len, s, n);
		p->id_len += n;
		break;
	case FD_RETRY:
		/* "If the field value consists of only ASCII digits" */
		for (size_t i = 0; i < n && !p->retry_bad; i++) {
			if (s[i] < '0' || s[i] > '9' || p->retry_len > 18)
				p->retry_bad = 1;
			p->retry_acc = p->retry_acc * 10 + (s[i] - '0');
			p->retry_len++;
		}
		break;
	}
}

static void sse_line_end(struct sse_parser *p)
{
	if (p->field == FD_ID && p->id_len != UINT16_MAX && !p->skip_event) {
		memcpy(p->last_id, p->id_buf, p->id_len);
		p->last_id[p->id_len] = 0;
	}
	if (p->field == FD_RETRY && p->retry_len && !p->retry_bad)
		p->retry_ms = p->retry_acc;
	p->state = L_START;
}

/* First CR or LF at or after s, or end: a data line is most of an event, so
 * it is searched with memchr rather than byte by byte. */
static const uint8_t *sse_line_span(const uint8_t *s, const uint8_t *end)
{
	const uint8_t *lf = memchr(s, '\n', end - s), *lim = lf ? lf : end;
	const uint8_t *cr = memchr(s, '\r', lim - s);

	return cr ? cr : lim;
}

static void sse_parse(struct sse_parser *p, const uint8_t *s, const uint8_t *end)
{
	while (s < end) {
		uint8_t c = *s;

		if (p->cr) {
			p->cr = 0;
			if (c == '\n') {
				s++;
				continue;
			}
		}
		switch (p->state) {
		case L_START:
			s++;
			if (c == '\r' || c == '\n') {
				p->cr = c == '\r';
				sse_blank_line(p);
			} else if (c == ':') {
				p->comments++;
				p->state = L_SKIPLINE;
			} else {
				p->name[0] = c;
				p->name_len = 1;
				p->state = L_NAME;
			}
			break;
		case L_NAME:
			s++;
			if (c == ':') {
				sse_field_begin(p);
				p->state = L_VALUE_START;
			} else if (c == '\r' || c == '\n') {
				/* "field" alone: the whole line is the name, value "" */
				p->cr = c == '\r';
				sse_field_begin(p);
				sse_line_end(p);
			} else {
				if (p->name_len < sizeof(p->name))
					p->name[p->name_len] = c;
				if (p->name_len < UINT8_MAX)
					p->name_len++;
			}
			break;
		case L_VALUE_START:
			p->state = L_VALUE;
			if (c == ' ') {
				s++;
				break;
			}
			/* fall through */
		case L_VALUE:
		case L_SKIPLINE: {
			const uint8_t *q = sse_line_span(s, end);

			if (p->state == L_VALUE && q > s)
				sse_value(p, s, q - s);
			s = q;
			if (s < end) {
				p->cr = *s == '\r';
				s++;
				if (p->state == L_VALUE)
					sse_line_end(p);
				p->state = L_START;
			}
			break;
		}
		}
	}
}

void sse_feed(struct sse_parser *p, const void *data, size_t len)
{
	const uint8_t *s = data, *end = s + len;

	/* WHATWG: one leading U+FEFF of the stream is ignored */
	while (p->bom != 0xff && s < end) {
		if (*s == sse_bom[p->bom]) {
			s++;
			if (++p->bom == 3)
				p->bom = 0xff;
			continue;
		}
		if (p->bom)
			sse_parse(p, sse_bom, sse_bom + p->bom);
		p->bom = 0xff;
	}
	sse_parse(p, s, end);
}

void sse_gap(struct sse_parser *p)
{
	sse_discard(p);
	p->skip_event = 1;
	p->gap_seen = 1;
	p->cr = 0;
	p->bom = 0xff;
	p->state = L_SKIPLINE;
}

int sse_in_data(const struct sse_parser *p)
{
	return p->state == L_VALUE && p->field == FD_DATA && !p->skip_event;
}

void sse_end(struct sse_parser *p)
{
	sse_discard(p);
	p->state = L_START;
	p->skip_event = 0;
	p->cr = 0;
}
