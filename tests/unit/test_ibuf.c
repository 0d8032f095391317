/*
 * test_ibuf.c — the input buffer: reserve in place, compaction, growth,
 * reset, and allocation failures that must leave the ibuf unchanged.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "buf/ibuf.h"

static int64_t live_at_start;

static void
setup(void)
{
	mem_fail_reset();
	diag_clear();
	live_at_start = mem_live();
}

static void
teardown(void)
{
	mem_fail_reset();
	cr_expect_eq(mem_live(), live_at_start, "leaked %lld blocks",
		     (long long)(mem_live() - live_at_start));
}

TestSuite(ibuf, .init = setup, .fini = teardown);

/** Append `n` bytes of a recognisable pattern starting at value `seed`. */
static void
put_pattern(struct ibuf *ibuf, size_t n, unsigned seed)
{
	char *p = ibuf_alloc(ibuf, n);
	cr_assert_not_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(seed + i);
}

static void
expect_pattern(const char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(p[i], (char)(seed + i), "byte %zu", i);
}

Test(ibuf, create_allocates_nothing)
{
	struct ibuf ib;
	ibuf_create(&ib, 64);
	cr_expect_null(ib.buf);
	cr_expect_eq(ibuf_used(&ib), 0);
	cr_expect_eq(ibuf_capacity(&ib), 0);
	cr_expect_eq(mem_live(), live_at_start);
	ibuf_destroy(&ib);
}

Test(ibuf, first_reserve_gets_start_capacity)
{
	struct ibuf ib;
	ibuf_create(&ib, 64);
	char *p = ibuf_reserve(&ib, 10);
	cr_assert_not_null(p);
	cr_expect_eq(p, ib.buf);
	cr_expect_eq(ibuf_capacity(&ib), 64);
	cr_expect_eq(ib.last_move, IBUF_MOVE_GROW);
	cr_expect_eq(ibuf_used(&ib), 0, "reserve does not advance");
	/* reserve(0) on a fresh buffer must not return NULL either. */
	struct ibuf ib0;
	ibuf_create(&ib0, 16);
	cr_expect_not_null(ibuf_reserve(&ib0, 0));
	cr_expect_eq(ibuf_capacity(&ib0), 16);
	ibuf_destroy(&ib0);
	ibuf_destroy(&ib);
}

Test(ibuf, reserve_within_capacity_does_not_move)
{
	struct ibuf ib;
	ibuf_create(&ib, 64);
	put_pattern(&ib, 20, 1);
	char *buf = ib.buf, *rpos = ib.rpos;
	ibuf_consume(&ib, 5);
	char *p = ibuf_reserve(&ib, 64 - 20);
	cr_assert_eq(p, buf + 20);
	cr_expect_eq(ib.buf, buf);
	cr_expect_eq(ib.rpos, rpos + 5);
	cr_expect_eq(ib.last_move, IBUF_MOVE_NONE);
	cr_expect_eq(ib.n_compact, 0);
	cr_expect_eq(ib.n_grow, 1);
	expect_pattern(ib.rpos, 15, 6);
	ibuf_destroy(&ib);
}

Test(ibuf, compaction_moves_data_to_buf)
{
	struct ibuf ib;
	ibuf_create(&ib, 64);
	put_pattern(&ib, 60, 0);
	ibuf_consume(&ib, 40);
	char *old_rpos = ib.rpos;
	char *buf = ib.buf;
	/* 20 used + 30 <= 64 but only 4 free after wpos: compact. */
	char *p = ibuf_reserve(&ib, 30);
	cr_assert_not_null(p);
	cr_expect_eq(ib.last_move, IBUF_MOVE_COMPACT);
	cr_expect_eq(ib.n_compact, 1);
	cr_expect_eq(ib.buf, buf, "same memory");
	cr_expect_eq(ib.rpos, ib.buf);
	cr_expect_neq(ib.rpos, old_rpos, "data moved");
	cr_expect_eq(ib.wpos, ib.buf + 20);
	cr_expect_eq(p, ib.wpos);
	cr_expect_eq(ibuf_capacity(&ib), 64);
	expect_pattern(ib.rpos, 20, 40);
	ibuf_destroy(&ib);
}

Test(ibuf, growth_doubles_and_keeps_data)
{
	struct ibuf ib;
	ibuf_create(&ib, 64);
	put_pattern(&ib, 50, 7);
	ibuf_consume(&ib, 10);
	/* used 40 + 30 > 64: grow to max(64, 128) = 128. */
	char *p = ibuf_reserve(&ib, 30);
	cr_assert_not_null(p);
	cr_expect_eq(ib.last_move, IBUF_MOVE_GROW);
	cr_expect_eq(ib.n_grow, 2);
	cr_expect_eq(ibuf_capacity(&ib), 128);
	cr_expect_eq(ib.rpos, ib.buf);
	cr_expect_eq(ibuf_used(&ib), 40);
	cr_expect_eq(p, ib.buf + 40);
	expect_pattern(ib.rpos, 40, 17);
	/* used 40 + 1000: 256, 512, 1024, 2048 -> first >= 1040 is 2048. */
	p = ibuf_reserve(&ib, 1000);
	cr_assert_not_null(p);
	cr_expect_eq(ibuf_capacity(&ib), 2048);
	expect_pattern(ib.rpos, 40, 17);
	cr_expect_str_eq(ibuf_move_name(ib.last_move), "grow");
	ibuf_destroy(&ib);
}

Test(ibuf, growth_floor_is_start_capacity)
{
	struct ibuf ib;
	ibuf_create(&ib, 100);
	char *p = ibuf_reserve(&ib, 250);
	cr_assert_not_null(p);
	/* max(100, 0) = 100, doubled until >= 250: 400. */
	cr_expect_eq(ibuf_capacity(&ib), 400);
	ibuf_destroy(&ib);
}

Test(ibuf, reset_discard_reinit)
{
	struct ibuf ib;
	ibuf_create(&ib, 64);
	put_pattern(&ib, 30, 0);
	ibuf_discard(&ib, 10);
	cr_expect_eq(ibuf_used(&ib), 20);
	ibuf_consume(&ib, 5);
	cr_expect_eq(ibuf_pos(&ib), 5);
	char *buf = ib.buf;
	ibuf_reset(&ib);
	cr_expect_eq(ib.rpos, buf);
	cr_expect_eq(ib.wpos, buf);
	cr_expect_eq(ibuf_capacity(&ib), 64, "memory kept");
	cr_expect_eq(ibuf_unused(&ib), 64);
	ibuf_reinit(&ib);
	cr_expect_null(ib.buf);
	cr_expect_eq(ib.start_capacity, 64);
	cr_expect_eq(mem_live(), live_at_start);
	put_pattern(&ib, 3, 0);
	ibuf_destroy(&ib);
}

static void
expect_same(const struct ibuf *a, const struct ibuf *b)
{
	cr_expect_eq(a->buf, b->buf);
	cr_expect_eq(a->rpos, b->rpos);
	cr_expect_eq(a->wpos, b->wpos);
	cr_expect_eq(a->end, b->end);
	cr_expect_eq(a->last_move, b->last_move);
	cr_expect_eq(a->n_grow, b->n_grow);
	cr_expect_eq(a->n_compact, b->n_compact);
}

Test(ibuf, oom_on_first_reserve_leaves_it_unchanged)
{
	struct ibuf ib;
	ibuf_create(&ib, 64);
	struct ibuf before = ib;
	mem_fail_after(1, 0);
	cr_expect_null(ibuf_reserve(&ib, 10));
	cr_expect_eq(mem_fail_count(), 1);
	cr_expect_eq(diag_last()->code, DIAG_ER_MEMORY_ISSUE);
	expect_same(&ib, &before);
	/* The injection was one-shot: the next try succeeds. */
	cr_expect_not_null(ibuf_alloc(&ib, 1));
	ibuf_destroy(&ib);
}

Test(ibuf, oom_on_growth_leaves_it_unchanged)
{
	struct ibuf ib;
	ibuf_create(&ib, 64);
	put_pattern(&ib, 50, 3);
	ibuf_consume(&ib, 2);
	struct ibuf before = ib;
	mem_fail_after(1, 0);
	diag_clear();
	cr_expect_null(ibuf_alloc(&ib, 100));
	cr_expect_eq(diag_last()->code, DIAG_ER_MEMORY_ISSUE);
	expect_same(&ib, &before);
	expect_pattern(ib.rpos, 48, 5);
	/* Still usable: the next attempt grows. */
	cr_assert_not_null(ibuf_alloc(&ib, 100));
	expect_pattern(ib.rpos, 48, 5);
	ibuf_destroy(&ib);
}

Test(ibuf, huge_reserve_fails_cleanly)
{
	struct ibuf ib;
	ibuf_create(&ib, 64);
	put_pattern(&ib, 8, 0);
	struct ibuf before = ib;
	cr_expect_null(ibuf_reserve(&ib, SIZE_MAX - 4));
	cr_expect_eq(diag_last()->code, DIAG_ER_MEMORY_ISSUE);
	expect_same(&ib, &before);
	ibuf_destroy(&ib);
}
