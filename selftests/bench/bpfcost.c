// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpfcost: what bpf/mcpwire.bpf.c costs the kernel. Root only, so it is not
 * one of the bench_* programs `make microbench` runs; build it with
 * `make bpfcost`.
 *
 *   build/bench/bpfcost                  load time and verified_insns per program
 *   build/bench/bpfcost -- CMD ARGS...   also attach, enable run-time stats
 *                                        for as long as it runs
 *                                        (BPF_ENABLE_STATS: no sysctl is
 *                                        changed), run CMD and drain the ring
 *                                        buffer meanwhile, as mcpwire would;
 *                                        prints run_cnt and run_time_ns /
 *                                        run_cnt per program over CMD's run
 *
 * With BPFCOST_NO_STATS=1 in the environment the programs run without stats
 * (and their figures are 0), for timing CMD itself with the programs attached.
 *
 * Programs are loaded the way userspace/capture/capture.c loads them (same
 * skeleton and rodata defaults, this process as self_tgid, programs whose
 * tracepoint is missing left out). Stats include their own cost: two clock
 * reads per run, about 55 ns on the development VM (an empty tracepoint
 * program measures that much).
 * run_time_ns of a program that tail-calls covers the program it jumps to.
 * Other processes' syscalls are counted too: run it on a quiet machine and
 * make CMD's syscalls the bulk.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "mcpwire.skel.h"

#define BPFCOST_MAX_PROGS 64

static double bpfcost_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bpfcost_tp_exists(const char *sec)
{
	char path[256];
	struct stat st;

	if (strncmp(sec, "tp/", 3))
		return 1;
	snprintf(path, sizeof(path), "/sys/kernel/tracing/events/%s", sec + 3);
	return stat(path, &st) == 0;
}

static int bpfcost_discard(void *ctx, void *data, size_t size)
{
	return 0;
}

static int bpfcost_info(struct bpf_program *p, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);
	int fd = bpf_program__fd(p);

	memset(info, 0, sizeof(*info));
	if (fd < 0)
		return -1;
	return bpf_obj_get_info_by_fd(fd, info, &len);
}

int main(int argc, char **argv)
{
	struct bpf_prog_info info, before[BPFCOST_MAX_PROGS];
	struct ring_buffer *rb;
	struct mcpwire_bpf *skel;
	struct bpf_program *p;
	double t0, t1, t2, t3;
	unsigned long total = 0;
	int run = argc > 2 && !strcmp(argv[1], "--");
	int err, i, stats_fd = -1, status = 0;
	pid_t pid;

	t0 = bpfcost_now();
	skel = mcpwire_bpf__open();
	if (!skel) {
		fprintf(stderr, "bpfcost: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->self_tgid = getpid();
	bpf_object__for_each_program(p, skel->obj)
		if (!bpfcost_tp_exists(bpf_program__section_name(p)))
			bpf_program__set_autoload(p, false);
	t1 = bpfcost_now();
	err = mcpwire_bpf__load(skel);
	t2 = bpfcost_now();
	if (err) {
		fprintf(stderr, "bpfcost: load failed: %s\n", strerror(-err));
		return 1;
	}
	bpf_object__for_each_program(p, skel->obj) {
		if (bpfcost_info(p, &info))
			continue;
		printf("%-22s verified_insns %7u  xlated %5u insns\n", bpf_program__name(p),
		       info.verified_insns, info.xlated_prog_len / 8);
		total += info.verified_insns;
	}
	err = mcpwire_bpf__attach(skel);
	t3 = bpfcost_now();
	printf("open %.3f s, load %.3f s, attach %.3f s; verified_insns in all %lu\n", t1 - t0,
	       t2 - t1, t3 - t2, total);
	if (err) {
		fprintf(stderr, "bpfcost: attach failed: %s\n", strerror(-err));
		return 1;
	}
	if (!run)
		goto out;

	if (!getenv("BPFCOST_NO_STATS"))
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (!getenv("BPFCOST_NO_STATS") && stats_fd < 0) {
		fprintf(stderr, "bpfcost: BPF_ENABLE_STATS: %s\n", strerror(errno));
		return 1;
	}
	i = 0;
	bpf_object__for_each_program(p, skel->obj)
		if (i < BPFCOST_MAX_PROGS)
			bpfcost_info(p, &before[i++]);
	t0 = bpfcost_now();
	pid = fork();
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), bpfcost_discard, NULL, NULL);
	while (waitpid(pid, &status, WNOHANG) == 0)
		if (rb) {
			/* a poll that times out consumes nothing */
			ring_buffer__poll(rb, 20);
			ring_buffer__consume(rb);
		}
		else
			usleep(100000);
	ring_buffer__free(rb);
	t1 = bpfcost_now();
	printf("%-22s %10s %9s   (%s: %.2f s)\n", "program", "run_cnt", "ns/run", argv[2],
	       t1 - t0);
	i = 0;
	bpf_object__for_each_program(p, skel->obj) {
		__u64 cnt, ns;

		if (i >= BPFCOST_MAX_PROGS || bpfcost_info(p, &info)) {
			i++;
			continue;
		}
		cnt = info.run_cnt - before[i].run_cnt;
		ns = info.run_time_ns - before[i].run_time_ns;
		i++;
		if (cnt)
			printf("%-22s %10llu %9.1f\n", bpf_program__name(p), (unsigned long long)cnt,
			       (double)ns / cnt);
	}
	if (stats_fd >= 0)
		close(stats_fd);
out:
	mcpwire_bpf__destroy(skel);
	return 0;
}
