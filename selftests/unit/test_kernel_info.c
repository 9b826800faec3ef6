// SPDX-License-Identifier: GPL-2.0-only
/*
 * capture/kernel_info: the start-up probes' report. Runs without root, where
 * the BPF probes come out absent: what is checked is the shape operators and
 * dashboards rely on (release = uname -r, features a sorted comma-separated
 * subset of the fixed names, matching the bits) and the exported series.
 * The probes themselves are exercised by run.sh on this kernel and by make
 * vmtest on Debian's 6.1 (docs/kernels.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <cmocka.h>

#include "capture/kernel_info.h"
#include "metrics/metrics.h"

static void test_release_and_list(void **state)
{
	struct kernel_info ki;
	struct utsname u;
	char expect[96] = "";
	size_t off = 0;
	int f;

	kernel_info_probe(&ki);
	assert_int_equal(uname(&u), 0);
	assert_string_equal(ki.release, u.release);
	for (f = 0; f < KF__MAX; f++)
		if (ki.features & (1u << f))
			off += (size_t)snprintf(expect + off, sizeof(expect) - off, "%s%s",
						off ? "," : "", kernel_feature_name(f));
	assert_string_equal(ki.features_str, expect);
	assert_true(ki.probe_ms >= 0);
	assert_int_equal(ki.features >> KF__MAX, 0);
}

static void test_names_sorted(void **state)
{
	int f;

	for (f = 1; f < KF__MAX; f++)
		assert_true(strcmp(kernel_feature_name(f - 1), kernel_feature_name(f)) < 0);
	assert_string_equal(kernel_feature_name(KF_BTF), "btf");
	assert_string_equal(kernel_feature_name(KF_TRACEPOINTS), "tracepoints");
	assert_string_equal(kernel_feature_name(KF__MAX), "unknown");
	assert_string_equal(kernel_feature_name(-1), "unknown");
}

static void test_exported(void **state)
{
	struct metrics_config cfg = { 0 };
	struct metrics *m = metrics_new(&cfg);
	struct metrics_snapshot *snap;

	assert_non_null(m);
	metrics_kernel_info_set(m, "6.1.0-56-amd64", "btf,fentry,kprobes,ringbuf,tc,tracepoints");
	metrics_kernel_info_set(m, "6.1.0-56-amd64", "btf,fentry,kprobes,ringbuf,tc,tracepoints");
	metrics_publish(m);
	snap = metrics_snapshot_get(m);
	assert_non_null(strstr(snap->text, "# TYPE mcpwire_kernel_info gauge\n"));
	assert_non_null(strstr(snap->text, "mcpwire_kernel_info{release=\"6.1.0-56-amd64\","
					   "features=\"btf,fentry,kprobes,ringbuf,tc,tracepoints\"} 1\n"));
	metrics_snapshot_put(snap);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_and_list),
		cmocka_unit_test(test_names_sorted),
		cmocka_unit_test(test_exported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
