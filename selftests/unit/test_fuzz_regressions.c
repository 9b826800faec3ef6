// SPDX-License-Identifier: GPL-2.0-only
/*
 * Inputs the fuzz targets (selftests/fuzz, docs/fuzzing.md) once crashed on,
 * fed through the same entry points in the normal unit-test build, so a fixed
 * crash stays fixed without clang or libFuzzer. The target sources are
 * included with their libFuzzer entry left out; a broken invariant becomes a
 * cmocka failure instead of abort().
 *
 * Every file under selftests/fixtures/fuzz/<target>/ is replayed; the named
 * tests below say what each saved input found.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "captures.h"

/* test_checker_rejects expects failures: it points this at its jmp_buf */
static jmp_buf *fuzz_expect_fail;

#define MCPWIRE_FUZZ_NO_ENTRY
#define FUZZ_FAIL(...)                                                                             \
	do {                                                                                       \
		if (fuzz_expect_fail)                                                              \
			longjmp(*fuzz_expect_fail, 1);                                             \
		fail_msg(__VA_ARGS__);                                                             \
	} while (0)
#include "../fuzz/fuzz_http1.c"
#include "../fuzz/fuzz_sse.c"
#include "../fuzz/fuzz_jsonrpc.c"
#include "../fuzz/fuzz_pipeline.c"

typedef int (*fuzz_one_fn)(const uint8_t *data, size_t size);

static fuzz_one_fn fuzz_entry(const char *target)
{
	if (!strcmp(target, "http1"))
		return fuzz_http1_one;
	if (!strcmp(target, "sse"))
		return fuzz_sse_one;
	if (!strcmp(target, "jsonrpc"))
		return fuzz_jsonrpc_one;
	if (!strcmp(target, "pipeline"))
		return fuzz_pipeline_one;
	return NULL;
}

/* Feeds selftests/fixtures/fuzz/<target>/<name> to the target. */
static void replay(const char *target, const char *name)
{
	char rel[512];
	uint8_t *data;
	size_t len = 0;

	snprintf(rel, sizeof(rel), "fuzz/%s/%s", target, name);
	data = fixture_load(rel, &len);
	if (!data)
		fail_msg("cannot read fixture %s", rel);
	print_message("replay %s (%zu bytes)\n", rel, len);
	fuzz_entry(target)(data, len);
	free(data);
}

/* Every saved input, named test or not: a new crash file needs no code. */
static void test_replay_all(void **state)
{
	static const char *const targets[] = { "http1", "sse", "jsonrpc", "pipeline" };
	const char *root = getenv("MCPWIRE_FIXTURES");
	int n = 0;

	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		char dir[1024];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s/fuzz/%s", root ? root : "selftests/fixtures",
			 targets[t]);
		d = opendir(dir);
		if (!d)
			continue;
		while ((de = readdir(d)))
			if (de->d_name[0] != '.') {
				replay(targets[t], de->d_name);
				n++;
			}
		closedir(d);
	}
	print_message("%d saved fuzz inputs replayed\n", n);
}

/*
 * The pipeline target is only as good as its exposition checker: it must
 * accept what metrics/ renders and reject each broken rule, or a clean fuzz
 * run means nothing.
 */
static void test_checker_rejects(void **state)
{
	static const struct {
		const char *text;
		uint32_t pending;
	} bad[] = {
		{ "a{b=\"\\x\"} 1\n", 0 },			/* escape other than \\ \" \n */
		{ "a{b=\"\xff\"} 1\n", 0 },			/* not UTF-8 */
		{ "a{b=\"\xed\xa0\x80\"} 1\n", 0 },		/* surrogate */
		{ "a{b=\"x} 1\n", 0 },				/* unterminated value */
		{ "a{b=\"x\"} 1.\n", 0 },			/* not Go float syntax */
		{ "a{b=\"x\"} inf\n", 0 },
		{ "1a 1\n", 0 },					/* bad metric name */
		{ "a 1", 0 },						/* no final newline */
		{ "# TYPE a summ\n", 0 },
		{ "mcp_requests_in_flight{server_name=\"s\"} -1\n", 0 },
		{ "mcp_requests_in_flight{server_name=\"s\"} 2\n", 1 }, /* pending 1 */
		{ "mcp_sessions_active{server_name=\"s\",transport=\"sse\"} -1\n", 0 },
		{ "mcp_requests_total{server_name=\"s\",method=\"ping\",status=\"ok\"} 2\n"
		  "mcp_request_duration_seconds_bucket{server_name=\"s\",method=\"ping\",le=\"+Inf\"} 1\n"
		  "mcp_request_duration_seconds_count{server_name=\"s\",method=\"ping\"} 1\n", 0 },
		{ "mcp_tool_calls_total{server_name=\"s\",tool_name=\"t\",status=\"ok\"} 1\n", 0 },
		{ "mcp_request_duration_seconds_bucket{server_name=\"s\",method=\"m\",le=\"1\"} 2\n"
		  "mcp_request_duration_seconds_bucket{server_name=\"s\",method=\"m\",le=\"+Inf\"} 1\n"
		  "mcp_request_duration_seconds_count{server_name=\"s\",method=\"m\"} 1\n", 0 },
	};
	static const char good[] =
		"# HELP mcp_requests_total MCP requests finished, by outcome.\n"
		"# TYPE mcp_requests_total counter\n"
		"mcp_requests_total{server_name=\"a\\\\b\\\"c\\nd\xc3\xa9\",method=\"ping\",status=\"ok\"} 3\n"
		"mcp_request_duration_seconds_bucket{server_name=\"a\\\\b\\\"c\\nd\xc3\xa9\",method=\"ping\",le=\"0.5\"} 3\n"
		"mcp_request_duration_seconds_bucket{server_name=\"a\\\\b\\\"c\\nd\xc3\xa9\",method=\"ping\",le=\"+Inf\"} 3\n"
		"mcp_request_duration_seconds_sum{server_name=\"a\\\\b\\\"c\\nd\xc3\xa9\",method=\"ping\"} 1.5e-05\n"
		"mcp_request_duration_seconds_count{server_name=\"a\\\\b\\\"c\\nd\xc3\xa9\",method=\"ping\"} 3\n"
		"mcp_requests_in_flight{server_name=\"x\"} 2\n"
		"mcpwire_messages_deduplicated_total 0\n";
	jmp_buf jb;

	fp_check_text(good, sizeof(good) - 1, 2, "good");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (setjmp(jb) == 0) {
			fuzz_expect_fail = &jb;
			fp_check_text(bad[i].text, strlen(bad[i].text), bad[i].pending, "bad");
			fuzz_expect_fail = NULL;
			fail_msg("checker accepted bad exposition %zu: %s", i, bad[i].text);
		}
		fuzz_expect_fail = NULL;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_rejects),
		cmocka_unit_test(test_replay_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
