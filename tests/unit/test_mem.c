/*
 * test_mem.c — base/mem.c: the live-block count kept per thread and
 * summed when read, and the failure hook.
 */
#include <criterion/criterion.h>
#include <pthread.h>

#include "base/mem.h"

enum { N_BLOCKS = 1000 };

struct mem_job {
	void **blocks;
	bool is_alloc;
	bool does_exit;
};

static void *
mem_job_f(void *arg)
{
	struct mem_job *job = arg;
	for (int i = 0; i < N_BLOCKS; i++) {
		if (job->is_alloc)
			job->blocks[i] = mem_alloc(16);
		else
			mem_free(job->blocks[i]);
	}
	if (job->does_exit)
		mem_thread_exit();
	return NULL;
}

static void
mem_run(struct mem_job *job)
{
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, mem_job_f, job), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
}

/* Allocated on one thread, freed on another: the sum is what is live. */
Test(mem, live_count_across_threads)
{
	static void *blocks[N_BLOCKS];
	int64_t before = mem_live();
	struct mem_job alloc = { blocks, true, true };
	mem_run(&alloc);
	cr_assert_eq(mem_live(), before + N_BLOCKS,
		     "the allocating thread ended: its count was kept");
	struct mem_job release = { blocks, false, false };
	mem_run(&release);
	cr_assert_eq(mem_live(), before, "freed by a thread of its own");
	/* A cell handed back is reused, and counts from zero. */
	mem_run(&alloc);
	void *own = mem_alloc(8);
	cr_assert_eq(mem_live(), before + N_BLOCKS + 1);
	mem_free(own);
	release.does_exit = true;
	mem_run(&release);
	cr_assert_eq(mem_live(), before);
}

Test(mem, nth_allocation_fails)
{
	int64_t before = mem_live();
	mem_fail_after(2, 0);
	void *a = mem_alloc(1);
	void *b = mem_alloc(1);
	void *c = mem_alloc(1);
	cr_assert_not_null(a);
	cr_assert_null(b);
	cr_assert_not_null(c);
	cr_assert_eq(mem_fail_count(), 1);
	mem_fail_reset();
	mem_free(a);
	mem_free(c);
	cr_assert_eq(mem_live(), before);
}
