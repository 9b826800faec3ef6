/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * calllog/ — the call log (--log-calls FILE): one JSON object per line for
 * every call mcp/ reports finished (struct mcp_call_record), in the format
 * docs/call-log.md describes.
 *
 * Output is buffered and written by calllog_flush(), which the daemon calls
 * every tick (~100 ms) and at exit, so a record reaches the file at most one
 * tick after the call ended (plus the dedup window for calls seen only at a
 * client's socket). Only whole lines are written, with O_APPEND. A record
 * that cannot be encoded or written is dropped and counted
 * (calllog_errors()); nothing here is fatal after calllog_open().
 *
 * Single-threaded: every function runs on the pipeline thread.
 */
#ifndef MCPWIRE_CALLLOG_H
#define MCPWIRE_CALLLOG_H

#include <stddef.h>
#include <stdint.h>

#include "mcp/mcp.h"

/* Buffered output written at once when full or at calllog_flush(). */
#define CALLLOG_BUF_SIZE (64 * 1024)

struct calllog;

/*
 * Opens path for appending, creating it with mode 0640 (less the umask), or
 * uses standard output when path is "-". With payloads, argument values and
 * results the records carry are logged, redacted (calllog/redact.h). Returns
 * NULL with a one-line reason in err on failure.
 */
struct calllog *calllog_open(const char *path, int payloads, char *err, size_t errlen);
/* Flushes, then closes (standard output stays open). NULL is a no-op. */
void calllog_close(struct calllog *l);

/* The mcp/ call sink that appends to l. */
struct mcp_call_sink calllog_sink(struct calllog *l);
/* Appends one record (what calllog_sink() calls). */
void calllog_write(struct calllog *l, const struct mcp_call_record *r);

/*
 * The record as a malloc()ed JSON text without the line end, or NULL when it
 * cannot be encoded. Times are converted with l's clock offset.
 */
char *calllog_format(struct calllog *l, const struct mcp_call_record *r);

/* Writes the buffered lines out, and re-reads the offset between
 * CLOCK_MONOTONIC and the wall clock (so a stepped clock is followed).
 * Returns 0, or -errno of a failed write (the lines are then dropped). */
int calllog_flush(struct calllog *l);

/*
 * For log rotation (SIGHUP): flushes, then opens the path again, so a file
 * renamed by logrotate is left and a new one created. On failure the old
 * file stays in use, a reason is put in err and -errno returned. A no-op for
 * standard output.
 */
int calllog_reopen(struct calllog *l, char *err, size_t errlen);

/* Attribution (docs/attribution.md): the container, pod and namespace of
 * server_pid and client_pid are looked up through src (non-blocking) when a
 * record is written, and logged when known. NULL: none (the default). */
void calllog_set_identity_source(struct calllog *l, const struct mcp_identity_source *src);

/* Records dropped because they could not be encoded or written, since open
 * (mcpwire_call_log_errors_total). */
uint64_t calllog_errors(const struct calllog *l);
/* Records written (handed to write(2) successfully), since open. */
uint64_t calllog_records(const struct calllog *l);

/* Tests: the wall clock is CLOCK_MONOTONIC + offset_ns from now on, never
 * re-read. */
void calllog_set_clock_offset(struct calllog *l, int64_t offset_ns);

#endif /* MCPWIRE_CALLLOG_H */
