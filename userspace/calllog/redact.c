// SPDX-License-Identifier: GPL-2.0-only
/*
 * calllog/redact — secret removal for logged payloads (rules in redact.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "calllog/redact.h"

/* Longest key compared; a longer one is judged by its last bytes, which is
 * where every suffix below sits. */
#define REDACT_KEY_MAX 64

static const char *const redact_suffixes[] = {
	"password",  "passwd",	   "secret",	  "token",	 "apikey",
	"privatekey", "secretkey", "accesskey",	  "credential",	 "credentials",
	"cookie",    "authorization",
};

int redact_key_is_secret(const char *key, size_t len)
{
	char norm[REDACT_KEY_MAX];
	const char *k;
	size_t n = 0;

	/* normalise from the end, so the suffix survives a long key */
	for (size_t i = len; i > 0 && n < sizeof(norm); i--) {
		unsigned char c = (unsigned char)key[i - 1];

		if (c == '-' || c == '_' || c == '.' || c == ' ')
			continue;
		norm[sizeof(norm) - 1 - n++] = (char)tolower(c);
	}
	k = norm + sizeof(norm) - n;
	if (n == 7 && !memcmp(k, "session", 7))
		return 1;
	for (size_t i = 0; i < sizeof(redact_suffixes) / sizeof(redact_suffixes[0]); i++) {
		size_t sl = strlen(redact_suffixes[i]);

		if (n >= sl && !memcmp(k + n - sl, redact_suffixes[i], sl))
			return 1;
	}
	return 0;
}

/* A copy built only once something is replaced. */
struct redact_buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void redact_put(struct redact_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* RFC 6750 b64token characters; Basic's token is plain base64. */
static int redact_b64token_char(unsigned char c)
{
	return isalnum(c) || strchr("-._~+/=", c);
}

static int redact_base64_char(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '/' || c == '=';
}

/*
 * Length of the token that follows an auth scheme at s[i..end) ("Bearer"
 * any case, "Basic" as written), from the scheme's first byte: 0 when s[i]
 * starts no such scheme. *tok is where the token starts.
 */
static size_t redact_scheme_at(const char *s, size_t i, size_t end, size_t *tok)
{
	static const struct {
		const char *word;
		int any_case;
		int (*ok)(unsigned char c);
	} schemes[] = {
		{ "bearer", 1, redact_b64token_char },
		{ "Basic", 0, redact_base64_char },
	};

	for (size_t k = 0; k < 2; k++) {
		size_t wl = strlen(schemes[k].word), j, t;

		if (end - i < wl + 1)
			continue;
		if (schemes[k].any_case ? strncasecmp(s + i, schemes[k].word, wl) :
					  strncmp(s + i, schemes[k].word, wl))
			continue;
		j = i + wl;
		if (s[j] != ' ' && s[j] != '\t')
			continue;
		while (j < end && (s[j] == ' ' || s[j] == '\t'))
			j++;
		for (t = j; t < end && schemes[k].ok((unsigned char)s[t]); t++)
			;
		/* short words after "bearer"/"Basic" in prose are not tokens */
		if (t - j < 8 || (t < end && isalnum((unsigned char)s[t])))
			continue;
		if (!schemes[k].any_case && (t - j) % 4)
			continue;
		*tok = j;
		return t - j;
	}
	return 0;
}

/* Header or environment style "Name: value" / "NAME=value" at the line
 * s[ls..le): the offset just past the separator when Name is secret and a
 * value follows, else 0. */
static size_t redact_header_at(const char *s, size_t ls, size_t le)
{
	size_t i = ls, ns, ne;

	while (i < le && (s[i] == ' ' || s[i] == '\t'))
		i++;
	ns = i;
	while (i < le && (isalnum((unsigned char)s[i]) || strchr("-_.", s[i])) && s[i])
		i++;
	ne = i;
	if (ne == ns)
		return 0;
	if (s[i] != '=')
		while (i < le && (s[i] == ' ' || s[i] == '\t'))
			i++;
	if (i >= le || (s[i] != ':' && !(s[i] == '=' && i == ne)))
		return 0;
	if (!redact_key_is_secret(s + ns, ne - ns))
		return 0;
	for (size_t j = i + 1; j < le; j++)
		if (s[j] != ' ' && s[j] != '\t' && s[j] != '\r')
			return i + 1;
	return 0;
}

/* A JSON object or array in a string: redacted as JSON. Returns 1 when it
 * parsed (*out then NULL when nothing was secret), 0 when it is not JSON. */
static int redact_embedded_json(const char *s, size_t len, char **out, size_t *out_len,
				int *oom)
{
	size_t i = 0;
	json_t *v;
	int n;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	if (i == len || (s[i] != '{' && s[i] != '['))
		return 0;
	v = json_loadb(s, len, 0, NULL);
	if (!v)
		return 0;
	*out = NULL;
	n = redact_json(v);
	if (n < 0)
		*oom = 1;
	if (n > 0) {
		*out = json_dumps(v, JSON_COMPACT);
		if (!*out)
			*oom = 1;
		else
			*out_len = strlen(*out);
	}
	json_decref(v);
	return 1;
}

char *redact_text(const char *s, size_t len, size_t *out_len, int *oom)
{
	struct redact_buf b = { 0 };
	size_t copied = 0, ls = 0;
	char *out;

	*oom = 0;
	if (redact_embedded_json(s, len, &out, out_len, oom))
		return out;
	while (ls < len) {
		const char *nl = memchr(s + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - s) : len, sep, tok, tl;

		sep = redact_header_at(s, ls, le);
		if (sep) {
			size_t ve = le;
			const char *rep = s[sep - 1] == ':' ? " " REDACTED : REDACTED;

			/* keep a CRLF line end */
			if (ve > sep && s[ve - 1] == '\r')
				ve--;
			redact_put(&b, s + copied, sep - copied);
			redact_put(&b, rep, strlen(rep));
			copied = ve;
		} else {
			for (size_t i = ls; i < le; i++) {
				if (i > ls && isalnum((unsigned char)s[i - 1]))
					continue;
				tl = redact_scheme_at(s, i, le, &tok);
				if (!tl)
					continue;
				redact_put(&b, s + copied, tok - copied);
				redact_put(&b, REDACTED, sizeof(REDACTED) - 1);
				copied = tok + tl;
				i = copied - 1;
			}
		}
		ls = le + 1;
	}
	if (!copied && !b.p)
		return NULL;
	redact_put(&b, s + copied, len - copied);
	if (b.oom) {
		free(b.p);
		*oom = 1;
		return NULL;
	}
	*out_len = b.len;
	return b.p;
}

int redact_json(json_t *v)
{
	int n = 0, r;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			json_t *val = json_object_iter_value(it);

			if (redact_key_is_secret(json_object_iter_key(it),
						 json_object_iter_key_len(it))) {
				json_t *red = json_string(REDACTED);

				if (!red || json_object_iter_set_new(v, it, red))
					return -1;
				n++;
				continue;
			}
			r = redact_json(val);
			if (r < 0)
				return -1;
			n += r;
		}
		return n;
	case JSON_ARRAY:
		for (size_t i = 0; i < json_array_size(v); i++) {
			r = redact_json(json_array_get(v, i));
			if (r < 0)
				return -1;
			n += r;
		}
		return n;
	case JSON_STRING: {
		size_t olen = 0;
		int oom;
		char *out = redact_text(json_string_value(v), json_string_length(v), &olen, &oom);

		if (oom)
			return -1;
		if (!out)
			return 0;
		/* replacements sit at ASCII boundaries, so the copy stays UTF-8 */
		r = json_string_setn(v, out, olen);
		free(out);
		if (r && json_string_set(v, REDACTED))
			return -1;
		return 1;
	}
	default:
		return 0;
	}
}
