/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * calllog/redact — removing secrets from payload values before the call log
 * writes them (--log-payloads; docs/call-log.md "Redaction").
 *
 * Rules, applied to a parsed JSON value:
 *  - Secret keys: an object member whose key names a secret has its value,
 *    whatever its type (string, number, object, array, null), replaced by
 *    the string "[REDACTED]". A key is compared lower-cased with '-', '_',
 *    '.' and spaces removed; it names a secret when it is "session" or ends
 *    with one of: password, passwd, secret, token, apikey, privatekey,
 *    secretkey, accesskey, credential, credentials, cookie, authorization.
 *    This covers api_key, x-api-key, access_token, refresh_token,
 *    client_secret, private_key, set-cookie, apiKey, GITHUB_TOKEN,
 *    AWS_SECRET_ACCESS_KEY; it also catches harmless ones such as
 *    progressToken, which costs nothing but a hidden value.
 *  - Strings (values, not keys), line by line:
 *     - "Name: value" and "NAME=value" lines whose Name names a secret as
 *       above keep "Name:" / "NAME=" and get " [REDACTED]" / "[REDACTED]"
 *       for the value (HTTP headers, environment dumps);
 *     - "Bearer <token>" (any case) and "Basic <base64>" with a token of at
 *       least 8 characters become "Bearer [REDACTED]" / "Basic [REDACTED]";
 *     - a string that is itself a JSON object or array (tool results often
 *       carry JSON.stringify()ed data) is parsed, redacted by these rules and
 *       written back compact when anything in it was replaced.
 */
#ifndef MCPWIRE_CALLLOG_REDACT_H
#define MCPWIRE_CALLLOG_REDACT_H

#include <stddef.h>

#include <jansson.h>

#define REDACTED "[REDACTED]"

/* 1 when the key (len bytes, not NUL-terminated) names a secret. */
int redact_key_is_secret(const char *key, size_t len);

/*
 * Redacts the string s (len bytes). Returns NULL when nothing in it is
 * secret, else a malloc()ed NUL-terminated copy with the secrets replaced
 * (its length in *out_len). *oom is set when memory ran out; the caller must
 * then treat the whole string as secret.
 */
char *redact_text(const char *s, size_t len, size_t *out_len, int *oom);

/* Redacts v in place, recursively. Returns the number of values replaced,
 * or -1 when memory ran out (v is then partly redacted: do not write it). */
int redact_json(json_t *v);

#endif /* MCPWIRE_CALLLOG_REDACT_H */
