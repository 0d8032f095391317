/*
 * intmap.c — open addressing with linear probing. See intmap.h.
 */
#include "base/intmap.h"

#include <string.h>

#include "base/diag.h"
#include "base/mem.h"

enum { INTMAP_MIN_CAPACITY = 64 };

/* Half of MurmurHash3's finalizer: sequential ids spread over the table. */
static uint64_t
intmap_mix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	return k;
}

void
intmap_create(struct intmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
intmap_destroy(struct intmap *m)
{
	mem_free(m->slots);
	memset(m, 0, sizeof(*m));
}

static int
intmap_grow(struct intmap *m)
{
	size_t capacity = m->capacity != 0 ? m->capacity * 2 :
			  INTMAP_MIN_CAPACITY;
	struct intmap_slot *slots = mem_zalloc(capacity * sizeof(*slots));
	if (slots == NULL) {
		diag_set_oom(capacity * sizeof(*slots), "intmap");
		m->is_oom = true;
		return -1;
	}
	for (size_t i = 0; i < m->capacity; i++) {
		if (!m->slots[i].is_used)
			continue;
		size_t j = intmap_mix(m->slots[i].key) & (capacity - 1);
		while (slots[j].is_used)
			j = (j + 1) & (capacity - 1);
		slots[j] = m->slots[i];
	}
	mem_free(m->slots);
	m->slots = slots;
	m->capacity = capacity;
	return 0;
}

struct intmap_slot *
intmap_find(struct intmap *m, uint64_t key, bool create)
{
	/*
	 * Keep the table at most half full: probes stay short. (Grown before
	 * the lookup, as the invariant checker always did: the slot order,
	 * which its report follows, stays the same.)
	 */
	if (create && (m->count + 1) * 2 > m->capacity && intmap_grow(m) != 0)
		return NULL;
	if (m->capacity == 0)
		return NULL;
	size_t i = intmap_mix(key) & (m->capacity - 1);
	while (m->slots[i].is_used) {
		if (m->slots[i].key == key)
			return &m->slots[i];
		i = (i + 1) & (m->capacity - 1);
	}
	if (!create)
		return NULL;
	m->slots[i].is_used = true;
	m->slots[i].key = key;
	m->slots[i].value = 0;
	m->count++;
	return &m->slots[i];
}

int64_t
intmap_get(struct intmap *m, uint64_t key)
{
	struct intmap_slot *s = intmap_find(m, key, false);
	return s != NULL ? s->value : 0;
}

int
intmap_add(struct intmap *m, uint64_t key, int64_t delta)
{
	struct intmap_slot *s = intmap_find(m, key, true);
	if (s == NULL)
		return -1;
	s->value += delta;
	return 0;
}

int
intmap_set(struct intmap *m, uint64_t key, int64_t value)
{
	struct intmap_slot *s = intmap_find(m, key, true);
	if (s == NULL)
		return -1;
	s->value = value;
	return 0;
}

uint64_t
intmap_hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	return h;
}
