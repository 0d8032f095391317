/*
 * intmap.h — a small hash map from 64-bit integer keys to 64-bit values.
 *
 * Trace tools keep state per id found in a trace: per message, per
 * connection and buffer, per cord name hash. Those ids come from a file and
 * may be anything (a damaged or hostile trace can say msg=60000000), so a
 * table indexed by the id would cost memory proportional to the largest id.
 * This map costs memory proportional to the number of distinct keys: open
 * addressing with linear probing, a power-of-two table kept at most half
 * full, doubled when needed. No deletion (set a value to 0 instead).
 *
 *   key --mix--> slot index --probe--> { key, value, is_used }
 *
 * Callers embed the struct (intmap_create / intmap_destroy); slots may be
 * walked directly (`slots[0..capacity)`, skip !is_used) to visit every
 * entry, in no particular order.
 *
 * Not thread-safe: one owner at a time.
 * Lesson: lessons/en/00-scenarios.md (the trace checkers that use it).
 */
#ifndef KHARON_BASE_INTMAP_H
#define KHARON_BASE_INTMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct intmap_slot {
	uint64_t key;
	int64_t value;
	bool is_used;
};

struct intmap {
	struct intmap_slot *slots;
	/** 0 or a power of two. */
	size_t capacity;
	/** Keys inserted. */
	size_t count;
	/** An insertion failed for lack of memory since create. */
	bool is_oom;
};

/** An empty map; allocates nothing until the first insertion. */
void
intmap_create(struct intmap *m);

/** Free the slots; the map is empty (and usable) again. */
void
intmap_destroy(struct intmap *m);

/**
 * The slot of `key`, or NULL when absent. With `create`, an absent key is
 * inserted with value 0; NULL then means OOM (diag set, is_oom set, the
 * map unchanged). The pointer is valid until the next insertion.
 * Cost: O(1) expected; an insertion that grows the table is O(capacity).
 */
struct intmap_slot *
intmap_find(struct intmap *m, uint64_t key, bool create);

/** The value at `key`, 0 when absent. */
int64_t
intmap_get(struct intmap *m, uint64_t key);

/**
 * Add `delta` to the value at `key` (inserted as 0 first).
 * Returns 0, or -1 on OOM (diag set).
 */
int
intmap_add(struct intmap *m, uint64_t key, int64_t delta);

/** Set the value at `key`. Returns 0, or -1 on OOM (diag set). */
int
intmap_set(struct intmap *m, uint64_t key, int64_t value);

/** A 64-bit hash of a NUL-terminated string (FNV-1a), for string keys. */
uint64_t
intmap_hash_str(const char *s);

#endif /* KHARON_BASE_INTMAP_H */
