/*
 * test_obuf.c — the output buffer: bytes never move, chunk growth,
 * reserve-then-savepoint contiguity, rollback, copies across chunks, the
 * reader's iovec view, and every allocation-failure path.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "buf/obuf.h"

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

TestSuite(obuf, .init = setup, .fini = teardown);

static void
fill(char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)(seed * 31 + i);
}

static void
expect_filled(const char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(p[i], (char)(seed * 31 + i), "byte %zu", i);
}

/** Concatenate all data into `out` (size obuf_size()). */
static void
flatten(const struct obuf *ob, char *out)
{
	size_t off = 0;
	for (int i = 0; i < obuf_iovcnt(ob); i++) {
		memcpy(out + off, ob->iov[i].iov_base, ob->iov[i].iov_len);
		off += ob->iov[i].iov_len;
	}
	cr_assert_eq(off, obuf_size(ob));
}

Test(obuf, create_allocates_nothing)
{
	struct obuf ob;
	obuf_create(&ob, 64);
	cr_expect_eq(obuf_size(&ob), 0);
	cr_expect_eq(obuf_iovcnt(&ob), 0);
	cr_expect_eq(obuf_capacity(&ob), 0);
	cr_expect_eq(mem_live(), live_at_start);
	/* reserve(0) on a fresh obuf still yields a real pointer. */
	cr_expect_not_null(obuf_reserve(&ob, 0));
	cr_expect_eq(obuf_capacity(&ob), 64);
	obuf_destroy(&ob);
	obuf_destroy(&ob); /* harmless twice */
}

Test(obuf, chunk_sizes_are_start_shifted)
{
	struct obuf ob;
	obuf_create(&ob, 16);
	char byte = 'x';
	/* 16 + 32 + 64 + 128 + 256 = 496 bytes fill chunks 0..4 exactly. */
	for (int i = 0; i < 496; i++)
		cr_assert_eq(obuf_dup(&ob, &byte, 1), 0);
	cr_expect_eq(ob.n_iov, 5);
	cr_expect_eq(obuf_iovcnt(&ob), 5);
	for (int i = 0; i < 5; i++) {
		cr_expect_eq(ob.capacity[i], (size_t)16 << i, "chunk %d", i);
		cr_expect_eq(ob.iov[i].iov_len, (size_t)16 << i, "chunk %d", i);
	}
	cr_expect_null(ob.iov[5].iov_base, "end marker");
	cr_expect_eq(ob.iov[5].iov_len, 0);
	cr_expect_eq(obuf_capacity(&ob), 496);
	cr_assert_eq(obuf_dup(&ob, &byte, 1), 0);
	cr_expect_eq(ob.capacity[5], 512);
	obuf_destroy(&ob);
}

enum { N_APPENDS = 4000 };

Test(obuf, written_bytes_never_move)
{
	static char *ptr[N_APPENDS];
	static size_t len[N_APPENDS];
	static char expect[N_APPENDS * 100];
	struct obuf ob;
	obuf_create(&ob, 64);
	size_t total = 0;
	for (int i = 0; i < N_APPENDS; i++) {
		len[i] = 1 + (size_t)(i * 7919) % 97;
		if (i % 3 == 0) {
			/* obuf_dup may split: checked by the flat copy. */
			char tmp[100];
			fill(tmp, len[i], (unsigned)i);
			cr_assert_eq(obuf_dup(&ob, tmp, len[i]), 0);
			ptr[i] = NULL;
		} else {
			ptr[i] = obuf_alloc(&ob, len[i]);
			cr_assert_not_null(ptr[i]);
			fill(ptr[i], len[i], (unsigned)i);
		}
		fill(expect + total, len[i], (unsigned)i);
		total += len[i];
	}
	cr_expect_eq(obuf_size(&ob), total);
	/* Every alloc'ed record is still at its address, intact. */
	for (int i = 0; i < N_APPENDS; i++)
		if (ptr[i] != NULL)
			expect_filled(ptr[i], len[i], (unsigned)i);
	static char got[N_APPENDS * 100];
	flatten(&ob, got);
	cr_expect_eq(memcmp(got, expect, total), 0);
	cr_expect_lt(ob.n_iov, OBUF_IOV_MAX);
	obuf_destroy(&ob);
}

Test(obuf, reserve_then_svp_is_contiguous)
{
	struct obuf ob;
	obuf_create(&ob, 64);
	cr_assert_not_null(obuf_alloc(&ob, 54)); /* 10 bytes left */
	char *p = obuf_reserve(&ob, 35);
	cr_assert_not_null(p);
	struct obuf_svp svp = obuf_create_svp(&ob);
	cr_expect_eq(svp.pos, 1, "moved to the next chunk");
	cr_expect_eq(svp.iov_len, 0);
	cr_expect_eq(svp.used, 54);
	cr_expect_eq(obuf_svp_to_ptr(&ob, &svp), p);
	cr_expect_eq(obuf_iovcnt(&ob), 1, "reserve alone adds no data");
	cr_assert_eq(obuf_alloc(&ob, 35), p);
	cr_expect_eq(ob.iov[0].iov_len, 54, "chunk 0 not split");
	cr_expect_eq(ob.capacity[1], 128);
	/* Dump a body that spans chunks, then patch the header. */
	char body[300];
	fill(body, sizeof(body), 9);
	cr_assert_eq(obuf_dup(&ob, body, sizeof(body)), 0);
	cr_expect_eq(obuf_iovcnt(&ob), 3);
	char header[35];
	fill(header, sizeof(header), 4);
	memcpy(obuf_svp_to_ptr(&ob, &svp), header, sizeof(header));
	cr_expect_eq(obuf_size(&ob) - svp.used, 335);
	expect_filled(ob.iov[1].iov_base, 35, 4);
	expect_filled((char *)ob.iov[1].iov_base + 35, 128 - 35, 9);
	obuf_destroy(&ob);
}

Test(obuf, rollback_across_chunks_reuses_memory)
{
	struct obuf ob;
	obuf_create(&ob, 32);
	char data[600];
	fill(data, sizeof(data), 1);
	cr_assert_eq(obuf_dup(&ob, data, 20), 0);
	struct obuf_svp svp = obuf_create_svp(&ob);
	/* 50 small pieces: 12 + 64 + 128 + 256 + 40 over chunks 0..4. */
	for (int i = 0; i < 50; i++)
		cr_assert_eq(obuf_dup(&ob, data + 10 * i, 10), 0);
	cr_expect_eq(obuf_size(&ob), 520);
	int n_iov = ob.n_iov;
	cr_expect_eq(n_iov, 5);
	void *bases[OBUF_IOV_MAX];
	for (int i = 0; i < n_iov; i++)
		bases[i] = ob.iov[i].iov_base;
	int64_t live = mem_live();

	obuf_rollback_to_svp(&ob, &svp);
	cr_expect_eq(obuf_size(&ob), 20);
	cr_expect_eq(obuf_iovcnt(&ob), 1);
	cr_expect_eq(ob.pos, 0);
	cr_expect_eq(ob.iov[0].iov_len, 20);
	for (int i = 1; i < n_iov; i++)
		cr_expect_eq(ob.iov[i].iov_len, 0, "chunk %d emptied", i);
	cr_expect_eq(ob.n_iov, n_iov, "memory kept");
	cr_expect_eq(mem_live(), live);

	fill(data, sizeof(data), 2);
	for (int i = 0; i < 50; i++)
		cr_assert_eq(obuf_dup(&ob, data + 10 * i, 10), 0);
	cr_expect_eq(mem_live(), live, "no new allocation");
	cr_expect_eq(ob.n_iov, n_iov);
	for (int i = 0; i < n_iov; i++)
		cr_expect_eq(ob.iov[i].iov_base, bases[i]);
	expect_filled((char *)ob.iov[0].iov_base + 20, 12, 2);
	obuf_destroy(&ob);
}

Test(obuf, dup_splits_across_chunks)
{
	struct obuf ob;
	obuf_create(&ob, 16);
	char a[10], b[20];
	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	cr_assert_eq(obuf_dup(&ob, a, sizeof(a)), 0);
	cr_assert_eq(obuf_dup(&ob, b, sizeof(b)), 0);
	cr_expect_eq(ob.iov[0].iov_len, 16, "rest of chunk 0 filled first");
	cr_expect_eq(ob.iov[1].iov_len, 14);
	cr_expect_eq(ob.capacity[1], 32);
	expect_filled(ob.iov[0].iov_base, 10, 1);
	expect_filled((char *)ob.iov[0].iov_base + 10, 6, 2);
	for (int i = 0; i < 14; i++)
		cr_expect_eq(((char *)ob.iov[1].iov_base)[i], b[6 + i]);
	/* A dup bigger than the next chunk's natural size: one bigger chunk. */
	char big[1000];
	fill(big, sizeof(big), 3);
	cr_assert_eq(obuf_dup(&ob, big, sizeof(big)), 0);
	cr_expect_eq(ob.iov[1].iov_len, 32);
	cr_expect_eq(ob.capacity[2], 1024, "64 doubled to fit 982");
	cr_expect_eq(ob.iov[2].iov_len, 1000 - 18);
	cr_expect_eq(obuf_size(&ob), 1030);
	obuf_destroy(&ob);
}

Test(obuf, reserve_larger_than_next_chunk)
{
	struct obuf ob;
	obuf_create(&ob, 64);
	cr_assert_not_null(obuf_alloc(&ob, 10));
	char *p = obuf_reserve(&ob, 1000);
	cr_assert_not_null(p);
	cr_expect_eq(ob.pos, 1);
	cr_expect_eq(ob.capacity[1], 1024, "128 doubled until >= 1000");
	cr_expect_eq(p, ob.iov[1].iov_base);
	cr_assert_eq(obuf_alloc(&ob, 1000), p);
	cr_assert_not_null(obuf_alloc(&ob, 100));
	cr_expect_eq(ob.capacity[2], 256, "chunk 2 back to its natural size");
	obuf_destroy(&ob);
}

Test(obuf, reset_keeps_memory_and_empty_chunk_is_replaced)
{
	struct obuf ob;
	obuf_create(&ob, 64);
	cr_assert_not_null(obuf_alloc(&ob, 60));
	cr_assert_not_null(obuf_alloc(&ob, 60));
	cr_expect_eq(ob.n_iov, 2);
	int64_t live = mem_live();
	obuf_reset(&ob);
	cr_expect_eq(obuf_size(&ob), 0);
	cr_expect_eq(obuf_iovcnt(&ob), 0);
	cr_expect_eq(ob.n_iov, 2);
	cr_expect_eq(mem_live(), live);
	/* Chunk 0 is allocated, empty and too small: its block is swapped. */
	char *p = obuf_reserve(&ob, 200);
	cr_assert_not_null(p);
	cr_expect_eq(ob.pos, 0);
	cr_expect_eq(ob.capacity[0], 256);
	cr_expect_eq(p, ob.iov[0].iov_base);
	cr_expect_eq(mem_live(), live);
	cr_expect_eq(obuf_capacity(&ob), 256 + 128);
	obuf_destroy(&ob);
}

Test(obuf, iov_between_and_svp_advance)
{
	struct obuf ob;
	obuf_create(&ob, 16);
	char data[200];
	fill(data, sizeof(data), 5);
	/* Small pieces, so chunks keep natural sizes: 16 + 32 + 52 of 64. */
	for (int i = 0; i < 100; i++)
		cr_assert_eq(obuf_dup(&ob, data + i, 1), 0);
	struct obuf_svp begin = { 0, 4, 4 };
	struct obuf_svp end = obuf_create_svp(&ob);
	cr_assert_eq(end.pos, 2);
	/* The writer goes on; the reader's view stays clamped to `end`. */
	cr_assert_eq(obuf_dup(&ob, data + 100, 100), 0);

	struct iovec iov[OBUF_IOV_MAX];
	int n = obuf_iov_between(&ob, &begin, &end, iov, OBUF_IOV_MAX);
	cr_assert_eq(n, 3);
	cr_expect_eq(iov[0].iov_base, (char *)ob.iov[0].iov_base + 4);
	cr_expect_eq(iov[0].iov_len, 12);
	cr_expect_eq(iov[1].iov_len, 32);
	cr_expect_eq(iov[2].iov_len, 52);

	/* Send one piece, then 5 bytes at a time, like short writev()s. */
	char got[200];
	size_t off = 0;
	struct obuf_svp wpos = begin;
	while (wpos.used < end.used) {
		n = obuf_iov_between(&ob, &wpos, &end, iov, 1);
		cr_assert_eq(n, 1);
		size_t sent = iov[0].iov_len < 5 ? iov[0].iov_len : 5;
		memcpy(got + off, iov[0].iov_base, sent);
		off += sent;
		obuf_svp_advance(&ob, &wpos, &end, sent);
		cr_assert_eq(wpos.used, 4 + off);
	}
	cr_expect_eq(off, 96);
	cr_expect_eq(memcmp(got, data + 4, 96), 0);
	cr_expect_eq(wpos.pos, end.pos);
	cr_expect_eq(wpos.iov_len, end.iov_len);
	cr_expect_eq(obuf_iov_between(&ob, &wpos, &end, iov, 4), 0);

	/* Advancing exactly to a chunk end normalizes to the next chunk. */
	struct obuf_svp s = { 0, 0, 0 };
	obuf_svp_advance(&ob, &s, &end, 16);
	cr_expect_eq(s.pos, 1);
	cr_expect_eq(s.iov_len, 0);
	cr_expect_eq(s.used, 16);
	obuf_destroy(&ob);
}

Test(obuf, all_chunks_used_is_an_error)
{
	struct obuf ob;
	obuf_create(&ob, 1);
	/*
	 * One byte per chunk, then a reserve that does not fit forces the
	 * next chunk. Chunk i is 1 << i bytes: about 2 GiB of address space
	 * in total, of which only a page per chunk is touched.
	 */
	for (int i = 0; i < OBUF_IOV_MAX; i++) {
		cr_assert_not_null(obuf_reserve(&ob, (size_t)1 << i), "%d", i);
		cr_assert_eq(ob.pos, i);
		cr_assert_not_null(obuf_alloc(&ob, 1));
	}
	cr_expect_eq(ob.n_iov, OBUF_IOV_MAX);
	cr_expect_eq(obuf_iovcnt(&ob), OBUF_IOV_MAX);
	size_t used = obuf_size(&ob);
	diag_clear();
	cr_expect_null(obuf_reserve(&ob, (size_t)1 << 30));
	cr_expect_eq(diag_last()->code, DIAG_ER_MEMORY_ISSUE);
	cr_expect_eq(ob.pos, OBUF_IOV_MAX - 1);
	char big[64] = { 0 };
	/* Fill the last chunk but 10 bytes, then a dup of 64 cannot fit. */
	cr_assert_not_null(obuf_alloc(&ob, ob.capacity[OBUF_IOV_MAX - 1] -
					   ob.iov[OBUF_IOV_MAX - 1].iov_len -
					   10));
	used = obuf_size(&ob);
	size_t last_len = ob.iov[OBUF_IOV_MAX - 1].iov_len;
	cr_expect_eq(obuf_dup(&ob, big, sizeof(big)), -1);
	cr_expect_eq(obuf_size(&ob), used, "partial copy rolled back");
	cr_expect_eq(ob.iov[OBUF_IOV_MAX - 1].iov_len, last_len);
	cr_expect_null(ob.iov[OBUF_IOV_MAX].iov_base, "end marker intact");
	obuf_destroy(&ob);
}

/* ---------------------------------------------------------------------- */
/* Allocation-failure loop: fail the Nth allocation for N = 1, 2, ...      */

struct obuf_snap {
	int pos, n_iov;
	size_t used;
	size_t capacity[OBUF_IOV_MAX + 1];
	struct iovec iov[OBUF_IOV_MAX + 1];
};

static void
snap_take(struct obuf_snap *s, const struct obuf *ob)
{
	s->pos = ob->pos;
	s->n_iov = ob->n_iov;
	s->used = ob->used;
	memcpy(s->capacity, ob->capacity, sizeof(s->capacity));
	memcpy(s->iov, ob->iov, sizeof(s->iov));
}

static void
snap_expect_same(const struct obuf_snap *s, const struct obuf *ob, int step)
{
	cr_assert_eq(ob->pos, s->pos, "step %d", step);
	cr_assert_eq(ob->n_iov, s->n_iov, "step %d", step);
	cr_assert_eq(ob->used, s->used, "step %d", step);
	for (int i = 0; i <= OBUF_IOV_MAX; i++) {
		cr_assert_eq(ob->capacity[i], s->capacity[i], "step %d", step);
		cr_assert_eq(ob->iov[i].iov_base, s->iov[i].iov_base,
			     "step %d", step);
		cr_assert_eq(ob->iov[i].iov_len, s->iov[i].iov_len,
			     "step %d", step);
	}
}

/**
 * Run a fixed sequence touching every allocating path (first chunk,
 * next chunk from reserve and from dup, bigger-than-natural chunk,
 * replacement of an empty chunk after reset). Returns the step that
 * failed, or 0 when all succeeded. A failed step must leave the obuf
 * exactly as before it, with diag set.
 */
static int
run_sequence(struct obuf *ob, char *data)
{
	struct obuf_snap snap;
	struct obuf_svp svp = { 0, 0, 0 };
	for (int step = 1; step <= 12; step++) {
		snap_take(&snap, ob);
		diag_clear();
		int rc = 0;
		switch (step) {
		case 1: rc = obuf_dup(ob, data, 10); break;
		case 2: rc = obuf_reserve(ob, 35) ? 0 : -1; break;
		case 3: svp = obuf_create_svp(ob);
			rc = obuf_alloc(ob, 35) ? 0 : -1; break;
		case 4: rc = obuf_dup(ob, data, 300); break;
		case 5: rc = obuf_alloc(ob, 50) ? 0 : -1; break;
		case 6: obuf_rollback_to_svp(ob, &svp); break;
		case 7: rc = obuf_dup(ob, data, 1000); break;
		case 8: rc = obuf_alloc(ob, 3000) ? 0 : -1; break;
		case 9: obuf_reset(ob); break;
		case 10: rc = obuf_reserve(ob, 500) ? 0 : -1; break;
		case 11: rc = obuf_dup(ob, data, 2000); break;
		case 12: rc = obuf_dup(ob, data, 4000); break;
		}
		if (rc != 0) {
			cr_assert_eq(diag_last()->code, DIAG_ER_MEMORY_ISSUE,
				     "step %d", step);
			snap_expect_same(&snap, ob, step);
			return step;
		}
	}
	return 0;
}

Test(obuf, every_allocation_failure_is_clean)
{
	static char data[4000];
	fill(data, sizeof(data), 8);
	int n_failed_runs = 0;
	for (int64_t n = 1; n < 1000; n++) {
		int64_t live = mem_live();
		struct obuf ob;
		obuf_create(&ob, 16);
		mem_fail_after(n, 0);
		int failed_step = run_sequence(&ob, data);
		int64_t injected = mem_fail_count();
		mem_fail_reset();
		if (failed_step == 0) {
			cr_expect_eq(injected, 0, "n=%lld: failure swallowed",
				     (long long)n);
			cr_expect_eq(obuf_size(&ob), 2000 + 4000);
			/* Still writable after the sequence. */
			cr_expect_eq(obuf_dup(&ob, data, 1), 0);
			obuf_destroy(&ob);
			cr_expect_eq(mem_live(), live);
			break;
		}
		n_failed_runs++;
		cr_expect_eq(injected, 1, "n=%lld", (long long)n);
		/* The buffer is still valid: it can write and be destroyed. */
		cr_expect_eq(obuf_dup(&ob, data, 100), 0);
		obuf_destroy(&ob);
		cr_expect_eq(mem_live(), live, "n=%lld leaked", (long long)n);
	}
	/*
	 * Seven allocations: chunk 0 (dup), chunk 1 (reserve), chunk 2
	 * (dup), chunk 3 (dup), chunk 4 (alloc, bigger than natural), the
	 * swap of empty chunk 0 after reset, chunk 5 (dup).
	 */
	cr_expect_eq(n_failed_runs, 7);
}

/* --------------------------------------------------------------- cache */

/* A destroyed obuf's chunks go to its cache; the next obuf takes them. */
Test(obuf_cache, chunks_are_kept_and_reused)
{
	int64_t before = mem_live();
	struct obuf_cache cache;
	obuf_cache_create(&cache);
	struct obuf a;
	obuf_create(&a, 64);
	a.cache = &cache;
	char data[300];
	memset(data, 'x', sizeof(data));
	cr_assert_eq(obuf_dup(&a, data, sizeof(data)), 0);
	int n_chunks = a.n_iov;
	cr_assert_gt(n_chunks, 0);
	int64_t with_chunks = mem_live();
	obuf_destroy(&a);
	cr_assert_eq(mem_live(), with_chunks, "kept, not freed");
	cr_assert_gt(cache.size, 0);
	cr_assert_eq(a.cache, &cache, "a destroyed obuf keeps its cache");

	struct obuf b;
	obuf_create(&b, 64);
	b.cache = &cache;
	cr_assert_eq(obuf_dup(&b, data, sizeof(data)), 0);
	cr_assert_eq(mem_live(), with_chunks, "nothing new allocated");
	cr_assert_eq(cache.n_reused, (unsigned long long)n_chunks);
	cr_assert_eq(cache.size, 0);
	cr_assert_eq(memcmp(b.iov[0].iov_base, data,
			    b.iov[0].iov_len), 0);
	obuf_destroy(&b);
	obuf_cache_destroy(&cache);
	cr_assert_eq(mem_live(), before, "the cache frees what it kept");
}
