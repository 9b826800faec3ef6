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
	libjansson-dev pkg-config libcmocka-dev
TEST_DEPS := iproute2 prometheus curl procps

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
	  -D_GNU_SOURCE \
	  -Iuserspace -Ibpf -I$(OUTPUT)
LIBS := -lbpf -lelf -lz -lmicrohttpd -ljansson -lpthread -lm
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf

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
LIB_SRCS := $(sort $(wildcard userspace/capture/*.c userspace/stream/*.c userspace/proto/*.c \
	userspace/mcp/*.c userspace/metrics/*.c userspace/http/*.c))
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS))
MAIN_OBJ := $(OUTPUT)/obj/userspace/main.o

TEST_SRCS := $(sort $(wildcard selftests/unit/test_*.c))
TEST_BINS := $(patsubst selftests/unit/%.c,$(OUTPUT)/tests/%,$(TEST_SRCS))
BENCH_SRCS := $(sort $(wildcard selftests/bench/bench_*.c))
BENCH_BINS := $(patsubst selftests/bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))
TEST_HELPER_SRCS := $(filter-out $(TEST_SRCS),$(wildcard selftests/unit/*.c))
TEST_HELPER_OBJS := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(TEST_HELPER_SRCS))

.PHONY: all deps test-deps test unit integration demo microbench clean FORCE
.DELETE_ON_ERROR:

all: $(OUTPUT)/mcpwire

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

$(OUTPUT)/tests/%: $(OUTPUT)/obj/selftests/unit/%.o $(LIB_OBJS) $(TEST_HELPER_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -lcmocka -o $@

$(OUTPUT)/bench/%: $(OUTPUT)/obj/selftests/bench/%.o $(LIB_OBJS)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# Userspace micro-benchmarks: print figures, assert nothing.
microbench: $(BENCH_BINS)
	$(Q)for b in $(BENCH_BINS); do echo "== $$b"; $$b; done

# Unit tests: no root needed.
unit: $(TEST_BINS)
	$(Q)fail=0; for t in $(TEST_BINS); do \
		MCPWIRE_FIXTURES=$(CURDIR)/selftests/fixtures MCPWIRE_CAPTURES=$(CURDIR)/selftests/fixtures/wire-captures \
		$$t || fail=1; done; exit $$fail

# Integration tests: root, network namespaces, real MCP servers.
integration: $(OUTPUT)/mcpwire
	$(Q)selftests/integration/run.sh

# The README's test command: installs what it needs, builds, runs everything.
test:
	$(Q)$(MAKE) --no-print-directory test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration

demo:
	$(Q)$(MAKE) --no-print-directory test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)selftests/integration/demo.sh

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT)

-include $(shell find $(OUTPUT)/obj -name '*.d' 2>/dev/null)
.SECONDARY:
