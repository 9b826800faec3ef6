# SPDX-License-Identifier: GPL-2.0-only
# mcpwire build, in the style of libbpf-tools: one output folder, quiet unless
# V=1, warnings are errors, BPF compiled with clang against the vendored
# vmlinux.h and wrapped in a bpftool-generated skeleton.

OUTPUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PKG_CONFIG ?= pkg-config

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX := vmlinux/$(ARCH)/vmlinux.h
VERSION := 0.1.0$(shell git rev-parse --short HEAD 2>/dev/null | sed "s/^/+/")

# Debian 12 packages the build and the tests need (make deps).
BUILD_DEPS := clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libmicrohttpd-dev \
	libjansson-dev pkg-config libcmocka-dev libncurses-dev libpcap-dev libcurl4-openssl-dev
TEST_DEPS := iproute2 prometheus curl procps tmux tcpdump iptables libnetfilter-queue-dev python3
# What `make bench` runs beside the test network and node (docs/performance.md).
BENCH_DEPS := nginx wrk tshark

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
	  -D_GNU_SOURCE \
	  -Iuserspace -Ibpf -I$(OUTPUT)
LIBS := -lbpf -lelf -lz -lmicrohttpd -ljansson -lpcap -lcurl -lpthread -lm
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf \
	$(BPF_EXTRA_CFLAGS)

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

# Every pipeline stage is a library object set; main.c alone makes the daemon.
# Every folder under userspace/ but mcptop/ (a separate program) is one.
LIB_SRCS := $(sort $(filter-out userspace/mcptop/%,$(wildcard userspace/*/*.c)))
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS))
MAIN_OBJ := $(OUTPUT)/obj/userspace/main.o

# mcptop is an API client: jansson and ncurses, no libbpf and none of the
# pipeline (when it captures by itself it runs build/mcpwire). stats and
# model have no I/O and are linked into the unit tests too.
MCPTOP_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(sort $(wildcard userspace/mcptop/*.c)))
MCPTOP_PURE_OBJS := $(OUTPUT)/obj/userspace/mcptop/stats.o $(OUTPUT)/obj/userspace/mcptop/model.o
MCPTOP_LIBS := -ljansson $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo) -lm

TEST_SRCS := $(sort $(wildcard selftests/unit/test_*.c))
TEST_BINS := $(patsubst selftests/unit/%.c,$(OUTPUT)/tests/%,$(TEST_SRCS))
BENCH_SRCS := $(sort $(wildcard selftests/bench/bench_*.c))
BENCH_BINS := $(patsubst selftests/bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))
TEST_HELPER_SRCS := $(filter-out $(TEST_SRCS),$(wildcard selftests/unit/*.c))
TEST_HELPER_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(TEST_HELPER_SRCS))

.PHONY: all deps test-deps bench-deps test unit integration demo microbench bench bpfcost clean FORCE
.DELETE_ON_ERROR:

all: $(OUTPUT)/mcpwire $(OUTPUT)/mcptop

# Installs what is missing on a fresh Debian 12 machine; a no-op otherwise.
deps:
	$(Q)missing=$$(for p in $(BUILD_DEPS) $(DEPS_EXTRA); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Node.js may come from Debian's nodejs+npm or from another package that
# bundles npm: ask for the commands, not for the package names.
test-deps:
	$(Q)$(MAKE) --no-print-directory deps DEPS_EXTRA="$(TEST_DEPS)"
	$(Q)if ! command -v node >/dev/null || ! command -v npm >/dev/null; then \
		echo "  DEPS     installing: nodejs npm"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null; \
	fi
	$(Q)cd selftests/integration && [ -d node_modules/@modelcontextprotocol/sdk ] || npm ci --no-audit --no-fund --loglevel=error

$(OUTPUT) $(OUTPUT)/tests:
	$(Q)mkdir -p $@

# Rewritten only when the version changes, so a new commit rebuilds exactly
# the objects that embed it.
$(OUTPUT)/version.h: FORCE | $(OUTPUT)
	$(Q)echo '#define MCPWIRE_VERSION "$(VERSION)"' > $@.tmp; \
	cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUTPUT)/obj/%.o: %.c $(SKELS) | $(OUTPUT) $(OUTPUT)/version.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/mcpwire: $(MAIN_OBJ) $(LIB_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(OUTPUT)/mcptop: $(MCPTOP_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(MCPTOP_LIBS) -o $@

$(OUTPUT)/tests/test_api $(OUTPUT)/tests/test_mcptop_stats: $(MCPTOP_PURE_OBJS)
$(OUTPUT)/tests/test_api: $(OUTPUT)/obj/userspace/mcptop/fetch.o

$(OUTPUT)/tests/%: $(OUTPUT)/obj/selftests/unit/%.o $(LIB_OBJS) $(TEST_HELPER_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -lcmocka -o $@

$(OUTPUT)/bench/%: $(OUTPUT)/obj/selftests/bench/%.o $(LIB_OBJS)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# What the BPF programs cost the kernel (root): load time, verified
# instructions and run time per program (selftests/bench/bpfcost.c,
# docs/performance.md). Not part of microbench, which runs without root.
bpfcost: $(OUTPUT)/bench/bpfcost
$(OUTPUT)/bench/bpfcost: selftests/bench/bpfcost.c $(OUTPUT)/mcpwire.skel.h
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $< -lbpf -lelf -lz -o $@

# Userspace micro-benchmarks: print figures, assert nothing.
microbench: $(BENCH_BINS)
	$(Q)for b in $(BENCH_BINS); do echo "== $$b"; $$b; done

# The side-by-side benchmark of issue 6 (docs/performance.md): root, about
# 10 minutes, the integration lock held throughout. Not part of `make test`.
# tshark's package asks whether non-root users may capture: answer no.
bench-deps:
	$(Q)echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
	$(Q)$(MAKE) --no-print-directory test-deps
	$(Q)$(MAKE) --no-print-directory deps DEPS_EXTRA="$(BENCH_DEPS)"

bench:
	$(Q)$(MAKE) --no-print-directory bench-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)selftests/bench/bench.sh

# Unit tests: no root needed.
unit: $(TEST_BINS)
	$(Q)fail=0; for t in $(TEST_BINS); do \
		MCPWIRE_FIXTURES=$(CURDIR)/selftests/fixtures MCPWIRE_CAPTURES=$(CURDIR)/selftests/fixtures/wire-captures \
		$$t || fail=1; done; exit $$fail

# Integration tests: root, network namespaces, real MCP servers. Each script
# prints TAP and "N passed, N failed"; all run even when one fails.
INTEGRATION_SCRIPTS := run.sh stdio.sh calllog.sh mcptop.sh dashboards.sh http-full.sh pcap.sh \
	transports.sh bigmsg.sh ipv6.sh netdelay.sh unix.sh scope.sh netobs.sh attrib.sh
integration: $(OUTPUT)/mcpwire $(OUTPUT)/mcptop
	$(Q)rc=0; for t in $(INTEGRATION_SCRIPTS); do selftests/integration/$$t || rc=1; done; exit $$rc

# The README's test command: installs what it needs, builds, runs everything.
test:
	$(Q)$(MAKE) --no-print-directory test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(MAKE) --no-print-directory deploy-check
	$(Q)$(MAKE) --no-print-directory vmtest
	$(Q)$(MAKE) --no-print-directory vmtest-core-break

demo:
	$(Q)$(MAKE) --no-print-directory test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)selftests/integration/demo.sh

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT)

-include $(shell find $(OUTPUT)/obj -name '*.d' 2>/dev/null)
.SECONDARY:

# --- Fuzzing (docs/fuzzing.md) ---
# libFuzzer targets for the HTTP, SSE and JSON-RPC parsers and the whole
# pipeline, built with clang under ASan and UBSan. The userspace objects are
# compiled again with the same sanitizers and coverage into their own folder,
# so the normal build never links instrumented code.
FUZZ_DEPS := clang libclang-rt-14-dev zlib1g-dev
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_OUT := $(OUTPUT)/fuzz
FUZZ_TARGETS := http1 sse jsonrpc pipeline
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) -std=gnu11 -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wshadow -D_GNU_SOURCE -Iuserspace -Ibpf -I$(OUTPUT)
FUZZ_LIB_SRCS := $(sort $(wildcard userspace/stream/*.c userspace/proto/*.c userspace/mcp/*.c \
	userspace/metrics/*.c userspace/calllog/*.c))
FUZZ_LIBS := -lz -ljansson -lm -lpthread
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_BINS := $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_TARGETS))
# Per unit: a slow input is a bug too (a loop per gap byte, a gzip bomb).
FUZZ_FLAGS ?= -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1

.PHONY: fuzz fuzz-deps fuzz-build

fuzz-deps:
	$(Q)$(MAKE) --no-print-directory deps DEPS_EXTRA="$(FUZZ_DEPS)"

$(FUZZ_OUT)/obj/%.o: %.c | $(OUTPUT)/version.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_OUT)/fuzz_%: selftests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS) $(wildcard selftests/fuzz/*.h)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB_OBJS) $(FUZZ_LIBS) -o $@

# The seed generator runs the real parsers over the captures; no coverage.
$(FUZZ_OUT)/mkseeds: selftests/fuzz/mkseeds.c selftests/unit/captures.c \
		$(wildcard selftests/fuzz/*.h) $(wildcard userspace/proto/*.[ch]) | $(OUTPUT)/version.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) selftests/fuzz/mkseeds.c selftests/unit/captures.c \
		userspace/proto/http1.c userspace/proto/sse.c -lz -o $@

fuzz-build: $(FUZZ_BINS) $(FUZZ_OUT)/mkseeds

# Each target runs FUZZ_SECONDS from the seeds (regenerated from the captures),
# the regression inputs of selftests/fixtures/fuzz/ and what earlier runs kept
# in $(FUZZ_OUT)/corpus/. Crash files land in $(FUZZ_OUT)/; any crash fails.
fuzz:
	$(Q)$(MAKE) --no-print-directory fuzz-deps
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)rm -rf $(FUZZ_OUT)/seeds && \
		MCPWIRE_CAPTURES=$(CURDIR)/selftests/fixtures/wire-captures \
		$(FUZZ_OUT)/mkseeds $(FUZZ_OUT)/seeds
	$(Q)fail=0; summary=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_OUT)/corpus/$$t $(FUZZ_OUT)/seeds/$$t; \
		dirs="$(FUZZ_OUT)/corpus/$$t $(FUZZ_OUT)/seeds/$$t"; \
		[ -d selftests/fixtures/fuzz/$$t ] && dirs="$$dirs selftests/fixtures/fuzz/$$t"; \
		dict=""; [ -f selftests/fuzz/$$t.dict ] && dict="-dict=selftests/fuzz/$$t.dict"; \
		printf '  %-8s %s (%ss)\n' FUZZ fuzz_$$t $(FUZZ_SECONDS); \
		$(FUZZ_OUT)/fuzz_$$t $(FUZZ_FLAGS) $$dict -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=$(FUZZ_OUT)/$$t- $$dirs > $(FUZZ_OUT)/$$t.log 2>&1; \
		rc=$$?; \
		execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_OUT)/$$t.log | tail -1); \
		rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_OUT)/$$t.log | tail -1); \
		cov=$$(grep -o 'cov: [0-9]*' $(FUZZ_OUT)/$$t.log | tail -1 | cut -d' ' -f2); \
		if [ $$rc -eq 0 ]; then res=ok; else res="FAIL (rc $$rc, see $(FUZZ_OUT)/$$t.log)"; fail=1; fi; \
		summary="$$summary$$(printf '  %-10s %10s execs %7s exec/s  cov %6s  %s' \
			$$t "$${execs:-?}" "$${rate:-?}" "$${cov:-?}" "$$res")\n"; \
	done; \
	printf '\nfuzz summary (%ss per target):\n%b' $(FUZZ_SECONDS) "$$summary"; \
	ls $(FUZZ_OUT)/*-crash-* $(FUZZ_OUT)/*-leak-* $(FUZZ_OUT)/*-timeout-* $(FUZZ_OUT)/*-oom-* 2>/dev/null | sed 's/^/  artifact  /'; \
	exit $$fail

-include $(shell find $(FUZZ_OUT)/obj -name '*.d' 2>/dev/null)

# Offline checks of dashboards/ and deploy/: alert rules (promtool), dashboards'
# JSON, Kubernetes manifests, compose file, systemd unit, the Dockerfile's steps
# (selftests/deploy/run.sh; docs/deploy.md).
.PHONY: deploy-check
deploy-check:
	$(Q)selftests/deploy/run.sh

# --- Other kernels under qemu (docs/kernels.md) ---
# Boots a Debian kernel package (KERNEL, default the current linux-image-amd64)
# under qemu with the host's root file system shared read-only and runs the
# end-to-end test (selftests/integration/run.sh) inside it with the binaries
# and BPF object built here. Software emulation: about 4 minutes (docs/kernels.md).
# vmtest-core-break builds the BPF with -DMW_CORE_BREAK (a read of a field
# only newer kernels have, without bpf_core_field_exists) into
# $(OUTPUT)/core-break and passes only if that build fails to load in the
# guest: the proof that vmtest can catch a CO-RE break.
VM_DEPS := qemu-system-x86 busybox-static cpio kmod xz-utils zstd
KERNEL ?= linux-image-amd64

.PHONY: vmtest vmtest-deps vmtest-core-break

vmtest-deps:
	$(Q)$(MAKE) --no-print-directory test-deps
	$(Q)$(MAKE) --no-print-directory deps DEPS_EXTRA="$(VM_DEPS)"

vmtest: vmtest-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)KERNEL="$(KERNEL)" selftests/vm/vmtest.sh

vmtest-core-break: vmtest-deps
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/core-break BPF_EXTRA_CFLAGS=-DMW_CORE_BREAK all
	$(Q)KERNEL="$(KERNEL)" VM_BUILD=$(OUTPUT)/core-break selftests/vm/vmtest.sh --expect-core-break
