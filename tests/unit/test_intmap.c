/*
 * test_intmap.c — the integer hash map of src/base/intmap.h: get/set/add,
 * growth keeps every entry, huge and colliding keys cost a slot each, an
 * allocation failure leaves the map as it was.
 */
#include <criterion/criterion.h>
#include <inttypes.h>

#include "base/diag.h"
#include "base/intmap.h"
#include "base/mem.h"

static int64_t live_at_start;

static void
setup(void)
{
	live_at_start = mem_live();
}

static void
teardown(void)
{
	mem_fail_reset();
}

TestSuite(intmap, .init = setup, .fini = teardown);

Test(intmap, set_get_add)
{
	struct intmap m;
	intmap_create(&m);
	cr_assert_eq(intmap_get(&m, 7), 0, "absent reads as 0");
	cr_assert_null(intmap_find(&m, 7, false));
	cr_assert_eq(mem_live(), live_at_start, "a lookup allocates nothing");
	cr_assert_eq(intmap_set(&m, 7, 42), 0);
	cr_assert_eq(intmap_add(&m, 7, -2), 0);
	cr_assert_eq(intmap_add(&m, 8, 5), 0);
	cr_assert_eq(intmap_get(&m, 7), 40);
	cr_assert_eq(intmap_get(&m, 8), 5);
	cr_assert_eq(m.count, 2);
	intmap_destroy(&m);
	cr_assert_eq(m.count, 0);
	cr_assert_eq(mem_live(), live_at_start);
}

Test(intmap, growth_keeps_every_entry)
{
	enum { N = 100000 };
	struct intmap m;
	intmap_create(&m);
	for (uint64_t k = 0; k < N; k++)
		cr_assert_eq(intmap_set(&m, k * 7919, (int64_t)k), 0);
	cr_assert_eq(m.count, N);
	cr_assert_leq(m.capacity, 4 * (size_t)N, "at most half full, doubled");
	size_t used = 0;
	for (size_t i = 0; i < m.capacity; i++)
		used += m.slots[i].is_used;
	cr_assert_eq(used, N);
	for (uint64_t k = 0; k < N; k++)
		cr_assert_eq(intmap_get(&m, k * 7919), (int64_t)k);
	cr_assert_eq(intmap_get(&m, 1), 0);
	intmap_destroy(&m);
	cr_assert_eq(mem_live(), live_at_start);
}

/* Memory follows the number of keys, never their size. */
Test(intmap, huge_keys_cost_one_slot)
{
	struct intmap m;
	intmap_create(&m);
	cr_assert_eq(intmap_set(&m, UINT64_MAX, 1), 0);
	cr_assert_eq(intmap_set(&m, 60000000, 2), 0);
	cr_assert_eq(intmap_set(&m, (uint64_t)1 << 63, 3), 0);
	cr_assert_eq(m.capacity, 64);
	cr_assert_eq(intmap_get(&m, UINT64_MAX), 1);
	cr_assert_eq(intmap_get(&m, 60000000), 2);
	cr_assert_eq(intmap_get(&m, (uint64_t)1 << 63), 3);
	intmap_destroy(&m);
}

Test(intmap, oom_leaves_the_map_unchanged)
{
	struct intmap m;
	intmap_create(&m);
	mem_fail_after(1, 1);
	cr_assert_eq(intmap_set(&m, 1, 1), -1);
	cr_assert_eq(diag_last()->code, DIAG_ER_MEMORY_ISSUE, "%s", diag_msg());
	cr_assert(m.is_oom);
	cr_assert_eq(m.count, 0);
	mem_fail_reset();
	for (uint64_t k = 0; k < 32; k++)
		cr_assert_eq(intmap_set(&m, k, (int64_t)k + 1), 0);
	/* The 33rd key needs a bigger table. */
	mem_fail_after(1, 1);
	cr_assert_null(intmap_find(&m, 1000, true));
	mem_fail_reset();
	cr_assert_eq(m.count, 32);
	for (uint64_t k = 0; k < 32; k++)
		cr_assert_eq(intmap_get(&m, k), (int64_t)k + 1);
	intmap_destroy(&m);
	cr_assert_eq(mem_live(), live_at_start);
}

Test(intmap, string_hash)
{
	cr_assert_neq(intmap_hash_str("tx"), intmap_hash_str("net0"));
	cr_assert_eq(intmap_hash_str("client7"), intmap_hash_str("client7"));
	cr_assert_eq(intmap_hash_str(""), 0xcbf29ce484222325ULL);
}
