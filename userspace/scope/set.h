/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scope/set — a small sorted set of network namespace inode numbers (the
 * value of /proc/PID/ns/net's st_ino and of the kernel's net->ns.inum, which
 * the BPF open event carries as `netns`, bpf/mcpwire.h). Pure: no I/O.
 */
#ifndef MCPWIRE_SCOPE_SET_H
#define MCPWIRE_SCOPE_SET_H

#include <stddef.h>
#include <stdint.h>

/* Largest number of namespaces in scope; the BPF map has as many entries.
 * A bridge has at most 1024 ports (BR_MAX_PORTS), so this is never reached
 * by one network. */
#define SCOPE_SET_MAX 4096

struct scope_set {
	uint32_t v[SCOPE_SET_MAX]; /* ascending, no duplicates */
	uint32_t n;
};

static inline void scope_set_clear(struct scope_set *s)
{
	s->n = 0;
}

/* Adds ino (0 is never a namespace and is refused). Returns 1 when added, 0
 * when already there, -EINVAL for 0, -ENOSPC when the set holds SCOPE_SET_MAX. */
int scope_set_add(struct scope_set *s, uint32_t ino);

/* 1 when ino is in s. O(log n). */
int scope_set_has(const struct scope_set *s, uint32_t ino);

/* 1 when both hold the same inodes. */
int scope_set_equal(const struct scope_set *a, const struct scope_set *b);

/*
 * The differences from old to new: cb(ino, 1, arg) for each inode only in new
 * (joined), then cb(ino, 0, arg) for each only in old (left). Returns the
 * number of calls.
 */
size_t scope_set_diff(const struct scope_set *old, const struct scope_set *new_,
		      void (*cb)(uint32_t ino, int joined, void *arg), void *arg);

#endif
