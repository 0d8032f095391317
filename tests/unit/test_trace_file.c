/*
 * test_trace_file.c — the trace file format, its writer and live reader
 * (src/trace/trace_file.h, trace_record.h).
 *
 * The list follows docs/reliability.md §4, itself LevelDB's
 * log_test.cc: empty, round trip, many records, a big record, a torn tail
 * cut at every byte, a flipped bit, a zero tail, data after END; then
 * processes: a writer killed with SIGKILL at random moments, a reader
 * following a live writer, two writers appending to one file.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/mem.h"
#include "trace/trace_file.h"

static char dir[64];
static char path[128];
static char lock_path[140];
static char writers_path[140];
static int64_t live_at_start;

static void
setup(void)
{
	strcpy(dir, "/tmp/kharon-tfile-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.trace", dir);
	snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
	snprintf(writers_path, sizeof(writers_path), "%s.writers", path);
	live_at_start = mem_live();
	diag_clear();
}

static void
teardown(void)
{
	mem_fail_reset();
	unlink(path);
	unlink(lock_path);
	unlink(writers_path);
	cr_assert_eq(rmdir(dir), 0, "a file was left behind in %s: %s", dir,
		     strerror(errno));
}

TestSuite(trace_file, .init = setup, .fini = teardown);

static void
check_no_leak(void)
{
	cr_assert_eq(mem_live(), live_at_start, "leaked %" PRId64 " blocks",
		     mem_live() - live_at_start);
}

static const char *const test_cords[] = {"tx", "net0", "client0"};
static const struct trace_meta test_meta = {
	.scenario = "push-storm", .seed = 42, .mode = "sim",
	.cords = test_cords, .n_cords = 3, .created_by = "test_trace_file",
};

/* An event with `seq` and one int field "k" = seq * 3, one str "s". */
static void
add_simple(struct trace_writer *w, uint64_t seq, const char *cord)
{
	struct trace_field f[2] = {
		{.key = "k", .i = (int64_t)seq * 3},
		{.key = "s", .s = "abc"},
	};
	struct trace_event e = {
		.seq = seq, .t = seq * 1000, .cord = cord, .ev = "cpipe.push",
		.fields = f, .n_fields = 2,
	};
	cr_assert_eq(trace_writer_add(w, &e), 0, "%s", diag_msg());
}

static void
check_simple(const struct trace_event *e, uint64_t seq)
{
	cr_assert_eq(e->seq, seq, "got seq %" PRIu64 ", want %" PRIu64,
		     e->seq, seq);
	cr_assert_eq(e->t, seq * 1000);
	cr_assert_str_eq(e->ev, "cpipe.push");
	cr_assert_eq(e->n_fields, 2);
	cr_assert_str_eq(e->fields[0].key, "k");
	cr_assert_null(e->fields[0].s);
	cr_assert_eq(e->fields[0].i, (int64_t)seq * 3);
	cr_assert_str_eq(e->fields[1].s, "abc");
}

/* Write `n` simple events, one record each; return the file's offsets. */
static void
write_simple(int n, bool end)
{
	struct trace_writer *w = trace_writer_new(path, &test_meta);
	cr_assert_not_null(w, "%s", diag_msg());
	for (int i = 0; i < n; i++) {
		add_simple(w, (uint64_t)i, "tx");
		cr_assert_eq(trace_writer_flush(w), 0, "%s", diag_msg());
	}
	cr_assert_eq(trace_writer_close(w, end), 0, "%s", diag_msg());
}

/* Read until not an event; returns the count and the final code. */
static int
read_simple(struct trace_reader *r, int *rc)
{
	struct trace_event e;
	int n = 0;
	while ((*rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		check_simple(&e, (uint64_t)n);
		n++;
	}
	return n;
}

static uint64_t
file_size(void)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static void
append_bytes(const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

Test(trace_file, empty)
{
	write_simple(0, false);
	cr_assert_gt(file_size(), TRACE_FILE_PREFIX + TRACE_RECORD_FRAME);
	struct trace_reader *r = trace_reader_new(path);
	cr_assert_not_null(r);
	cr_assert_null(trace_reader_meta(r));
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_AGAIN, "%s",
		     diag_msg());
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_AGAIN);
	const struct trace_meta *m = trace_reader_meta(r);
	cr_assert_not_null(m);
	cr_assert_str_eq(m->scenario, "push-storm");
	cr_assert_eq(m->seed, 42);
	cr_assert_str_eq(m->mode, "sim");
	cr_assert_eq(m->n_cords, 3);
	cr_assert_str_eq(m->cords[0], "tx");
	cr_assert_str_eq(m->cords[1], "net0");
	cr_assert_str_eq(m->cords[2], "client0");
	cr_assert_str_eq(m->created_by, "test_trace_file");
	cr_assert_eq(trace_reader_offset(r), file_size());
	trace_reader_delete(r);
	check_no_leak();
}

Test(trace_file, empty_file_is_not_yet_written)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_AGAIN);
	/* Half of the magic: still "not yet". */
	append_bytes("KHAR", 4);
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_AGAIN);
	/* Something else: not a trace file. */
	append_bytes("XXXX", 4);
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_ERROR);
	cr_assert(strstr(diag_msg(), "magic") != NULL, "%s", diag_msg());
	trace_reader_delete(r);
	check_no_leak();
}

/* Strings of every MsgPack str size class. */
static char *
str_of(size_t n, char c)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

Test(trace_file, read_write)
{
	static const int64_t ints[] = {
		0, 1, -1, -32, -33, 127, 128, -128, -129, 255, 256, 32767,
		-32768, -32769, 65535, 65536, INT32_MAX, INT32_MIN,
		(int64_t)INT32_MIN - 1, (int64_t)UINT32_MAX,
		(int64_t)UINT32_MAX + 1, INT64_MAX, INT64_MIN,
	};
	static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536};
	enum { N_INTS = sizeof(ints) / sizeof(ints[0]) };
	enum { N_LENS = sizeof(lens) / sizeof(lens[0]) };
	char *strs[N_LENS];
	char keys[N_INTS + N_LENS][16];
	struct trace_field f[N_INTS + N_LENS];
	for (int i = 0; i < N_INTS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "i%d", i);
		f[i] = (struct trace_field){.key = keys[i], .i = ints[i]};
	}
	for (int i = 0; i < N_LENS; i++) {
		strs[i] = str_of(lens[i], (char)('a' + i));
		snprintf(keys[N_INTS + i], sizeof(keys[0]), "s%d", i);
		f[N_INTS + i] = (struct trace_field){
			.key = keys[N_INTS + i], .s = strs[i]};
	}
	struct trace_event events[] = {
		{.seq = 0, .t = 0, .cord = "tx", .ev = "task.start",
		 .fields = f, .n_fields = N_INTS + N_LENS},
		{.seq = UINT64_MAX, .t = UINT64_MAX, .cord = "", .ev = "",
		 .fields = NULL, .n_fields = 0},
		{.seq = 7, .t = 1u << 20, .cord = "net0", .ev = "kharon.depart",
		 .fields = f + N_INTS, .n_fields = 1},
	};
	enum { N_EV = sizeof(events) / sizeof(events[0]) };
	struct trace_writer *w = trace_writer_new(path, NULL);
	cr_assert_not_null(w, "%s", diag_msg());
	for (int i = 0; i < N_EV; i++)
		cr_assert_eq(trace_writer_add(w, &events[i]), 0);
	cr_assert_eq(trace_writer_close(w, true), 0, "%s", diag_msg());

	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	for (int i = 0; i < N_EV; i++) {
		cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT,
			     "event %d: %s", i, diag_msg());
		struct trace_event *copy = trace_event_dup(&e);
		cr_assert_not_null(copy);
		for (int pass = 0; pass < 2; pass++) {
			const struct trace_event *got = pass == 0 ? &e : copy;
			const struct trace_event *want = &events[i];
			cr_assert_eq(got->seq, want->seq);
			cr_assert_eq(got->t, want->t);
			cr_assert_str_eq(got->cord, want->cord);
			cr_assert_str_eq(got->ev, want->ev);
			cr_assert_eq(got->n_fields, want->n_fields);
			for (int j = 0; j < want->n_fields; j++) {
				const struct trace_field *a = &got->fields[j];
				const struct trace_field *b = &want->fields[j];
				cr_assert_str_eq(a->key, b->key);
				if (b->s == NULL) {
					cr_assert_null(a->s, "%s", b->key);
					cr_assert_eq(a->i, b->i, "%s: %" PRId64
						     " != %" PRId64, b->key,
						     a->i, b->i);
				} else {
					cr_assert_not_null(a->s);
					cr_assert_str_eq(a->s, b->s);
				}
			}
		}
		mem_free(copy);
	}
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_END, "%s",
		     diag_msg());
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_END);
	cr_assert_str_eq(trace_reader_meta(r)->mode, "real");
	cr_assert_eq(trace_reader_meta(r)->n_cords, 0);
	trace_reader_delete(r);
	for (int i = 0; i < N_LENS; i++)
		free(strs[i]);
	check_no_leak();
}

Test(trace_file, many_records)
{
	enum { N = 100000 };
	write_simple(N, true);
	struct trace_reader *r = trace_reader_new(path);
	int rc;
	cr_assert_eq(read_simple(r, &rc), N);
	cr_assert_eq(rc, TRACE_READ_END, "%s", diag_msg());
	trace_reader_delete(r);
	check_no_leak();
}

Test(trace_file, batched_records)
{
	enum { N = 20000 };
	struct trace_writer *w = trace_writer_new(path, &test_meta);
	trace_writer_set_flush_size(w, 4096);
	for (int i = 0; i < N; i++)
		add_simple(w, (uint64_t)i, "tx");
	cr_assert_eq(trace_writer_close(w, true), 0);
	struct trace_reader *r = trace_reader_new(path);
	int rc;
	cr_assert_eq(read_simple(r, &rc), N);
	cr_assert_eq(rc, TRACE_READ_END, "%s", diag_msg());
	trace_reader_delete(r);
	check_no_leak();
}

Test(trace_file, one_mib_record)
{
	char *big = str_of(1 << 20, 'x');
	big[12345] = 'y';
	struct trace_field f = {.key = "payload", .s = big};
	struct trace_event ev = {.seq = 1, .t = 2, .cord = "tx", .ev = "push",
				 .fields = &f, .n_fields = 1};
	struct trace_writer *w = trace_writer_new(path, NULL);
	cr_assert_eq(trace_writer_add(w, &ev), 0);
	cr_assert_eq(trace_writer_close(w, true), 0);
	cr_assert_gt(file_size(), 1 << 20);
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT, "%s",
		     diag_msg());
	cr_assert_eq(strlen(e.fields[0].s), 1u << 20);
	cr_assert_eq(memcmp(e.fields[0].s, big, 1 << 20), 0);
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_END);
	trace_reader_delete(r);
	free(big);
	check_no_leak();
}

/* The whole file in memory. */
static char *
slurp(size_t *size)
{
	*size = file_size();
	char *p = malloc(*size);
	int fd = open(path, O_RDONLY);
	cr_assert_eq(read(fd, p, *size), (ssize_t)*size);
	close(fd);
	return p;
}

static void
spit(const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

Test(trace_file, torn_tail_every_offset)
{
	enum { N = 5 };
	struct trace_writer *w = trace_writer_new(path, &test_meta);
	cr_assert_not_null(w, "%s", diag_msg());
	for (int i = 0; i < N - 1; i++) {
		add_simple(w, (uint64_t)i, "tx");
		cr_assert_eq(trace_writer_flush(w), 0, "%s", diag_msg());
	}
	uint64_t last_start = file_size();
	/* A last record of a few hundred bytes. */
	char *s = str_of(300, 'q');
	struct trace_field f = {.key = "s", .s = s};
	struct trace_event ev = {.seq = N - 1, .t = 0, .cord = "tx",
				 .ev = "x", .fields = &f, .n_fields = 1};
	cr_assert_eq(trace_writer_add(w, &ev), 0);
	cr_assert_eq(trace_writer_close(w, false), 0);
	size_t size;
	char *all = slurp(&size);
	cr_assert_gt(size, last_start + 300);
	for (uint64_t cut = last_start; cut < size; cut++) {
		spit(all, cut);
		struct trace_reader *r = trace_reader_new(path);
		int rc;
		cr_assert_eq(read_simple(r, &rc), N - 1, "cut at %" PRIu64,
			     cut);
		cr_assert_eq(rc, TRACE_READ_AGAIN, "cut at %" PRIu64 ": %s",
			     cut, diag_msg());
		cr_assert_eq(trace_reader_offset(r), last_start);
		trace_reader_delete(r);
	}
	/* Cut inside the header: nothing yet, no error. */
	for (uint64_t cut = 1; cut < TRACE_FILE_PREFIX + 12; cut++) {
		spit(all, cut);
		struct trace_reader *r = trace_reader_new(path);
		struct trace_event e;
		cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_AGAIN,
			     "cut at %" PRIu64 ": %s", cut, diag_msg());
		trace_reader_delete(r);
	}
	/* The intact file gives the last record too. */
	spit(all, size);
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	for (int i = 0; i < N - 1; i++) {
		cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
		check_simple(&e, (uint64_t)i);
	}
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
	cr_assert_eq(e.seq, N - 1);
	cr_assert_str_eq(e.fields[0].s, s);
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_AGAIN);
	trace_reader_delete(r);
	free(all);
	free(s);
	check_no_leak();
}

Test(trace_file, flipped_bit_mid_file)
{
	enum { N = 10, BAD = 5 };
	write_simple(N, true);
	/* Learn where record BAD starts from an intact read. */
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	uint64_t bad_off = 0;
	for (int i = 0; i < BAD; i++)
		cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
	bad_off = trace_reader_offset(r);
	trace_reader_delete(r);

	size_t size;
	char *all = slurp(&size);
	all[bad_off + TRACE_RECORD_FRAME + 6] ^= 0x10;
	spit(all, size);
	r = trace_reader_new(path);
	int rc;
	cr_assert_eq(read_simple(r, &rc), BAD);
	cr_assert_eq(rc, TRACE_READ_ERROR);
	char want[64];
	snprintf(want, sizeof(want), "offset %" PRIu64 ":", bad_off);
	cr_assert(strstr(diag_msg(), want) != NULL, "%s", diag_msg());
	cr_assert(strstr(diag_msg(), "checksum") != NULL, "%s", diag_msg());
	/* Sticky: the next call does not skip to a later record. */
	diag_clear();
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_ERROR);
	cr_assert(strstr(diag_msg(), want) != NULL);
	trace_reader_delete(r);

	/* A bad length mid-file is reported too. */
	all[bad_off + TRACE_RECORD_FRAME + 6] ^= 0x10;
	trace_record_store_u32(all + bad_off, TRACE_RECORD_MAX + 1u);
	spit(all, size);
	r = trace_reader_new(path);
	cr_assert_eq(read_simple(r, &rc), BAD);
	cr_assert_eq(rc, TRACE_READ_ERROR);
	cr_assert(strstr(diag_msg(), want) != NULL, "%s", diag_msg());
	trace_reader_delete(r);
	free(all);
	check_no_leak();
}

Test(trace_file, zero_tail_is_not_a_record)
{
	enum { N = 3 };
	write_simple(N, false);
	uint64_t end = file_size();
	static const char zeros[4096];
	append_bytes(zeros, sizeof(zeros));
	struct trace_reader *r = trace_reader_new(path);
	int rc;
	cr_assert_eq(read_simple(r, &rc), N);
	cr_assert_eq(rc, TRACE_READ_AGAIN, "%s", diag_msg());
	cr_assert_eq(read_simple(r, &rc), 0);
	cr_assert_eq(rc, TRACE_READ_AGAIN);
	cr_assert_eq(trace_reader_offset(r), end);
	trace_reader_delete(r);
	/* All-zero frame: crc32 covers the length, so it never validates. */
	char frame[4] = {0};
	cr_assert_neq(trace_record_crc(0, frame), 0);
	check_no_leak();
}

Test(trace_file, data_after_end_is_an_error)
{
	enum { N = 3 };
	write_simple(N, true);
	uint64_t end = file_size();
	/*
	 * A writer refuses to append to an ended file (it starts it anew),
	 * so make the bad file by hand: valid event records of a second
	 * trace, copied after this one's END.
	 */
	char other[160];
	snprintf(other, sizeof(other), "%s/other.trace", dir);
	struct trace_writer *w = trace_writer_new(other, &test_meta);
	cr_assert_not_null(w, "%s", diag_msg());
	struct stat st;
	cr_assert_eq(stat(other, &st), 0);
	off_t header = st.st_size;
	add_simple(w, N, "tx");
	cr_assert_eq(trace_writer_close(w, false), 0);
	FILE *src = fopen(other, "rb");
	FILE *dst = fopen(path, "ab");
	cr_assert(src != NULL && dst != NULL);
	fseek(src, header, SEEK_SET);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), src)) > 0)
		fwrite(buf, 1, n, dst);
	fclose(src);
	fclose(dst);
	unlink(other);
	char other_lock[170];
	snprintf(other_lock, sizeof(other_lock), "%s.lock", other);
	unlink(other_lock);
	snprintf(other_lock, sizeof(other_lock), "%s.writers", other);
	unlink(other_lock);
	struct trace_reader *r = trace_reader_new(path);
	int rc;
	cr_assert_eq(read_simple(r, &rc), N);
	cr_assert_eq(rc, TRACE_READ_ERROR);
	char want[64];
	snprintf(want, sizeof(want), "after the END record at offset %" PRIu64,
		 end);
	cr_assert(strstr(diag_msg(), want) != NULL, "%s", diag_msg());
	trace_reader_delete(r);
	check_no_leak();
}

Test(trace_file, a_writer_starts_an_ended_file_anew)
{
	write_simple(3, true);
	struct trace_writer *w = trace_writer_new(path, &test_meta);
	cr_assert_not_null(w, "%s", diag_msg());
	add_simple(w, 7, "tx");
	cr_assert_eq(trace_writer_close(w, true), 0);
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), 1);
	cr_assert_eq(e.seq, 7, "only the new run's events");
	cr_assert_eq(trace_reader_next(r, &e), 2);
	trace_reader_delete(r);
	check_no_leak();
}

Test(trace_file, pause_pins_the_end)
{
	struct trace_writer *w = trace_writer_new(path, &test_meta);
	cr_assert_not_null(w, "%s", diag_msg());
	for (int i = 0; i < 3; i++) {
		add_simple(w, (uint64_t)i, "tx");
		cr_assert_eq(trace_writer_flush(w), 0, "%s", diag_msg());
	}
	struct trace_reader *r = trace_reader_new(path);
	cr_assert_eq(trace_reader_pause(r), 0);
	for (int i = 3; i < 6; i++)
		add_simple(w, (uint64_t)i, "tx");
	cr_assert_eq(trace_writer_close(w, true), 0);
	int rc;
	cr_assert_eq(read_simple(r, &rc), 3);
	cr_assert_eq(rc, TRACE_READ_AGAIN);
	trace_reader_continue(r);
	struct trace_event e;
	for (int i = 3; i < 6; i++) {
		cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
		check_simple(&e, (uint64_t)i);
	}
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_END);
	trace_reader_delete(r);
	check_no_leak();
}

Test(trace_file, truncated_and_replaced_are_reported)
{
	write_simple(3, false);
	struct trace_reader *r = trace_reader_new(path);
	int rc;
	cr_assert_eq(read_simple(r, &rc), 3);
	cr_assert_eq(truncate(path, TRACE_FILE_PREFIX), 0);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_ERROR);
	cr_assert(strstr(diag_msg(), "truncated") != NULL, "%s", diag_msg());
	trace_reader_delete(r);

	unlink(path);
	write_simple(2, false);
	r = trace_reader_new(path);
	cr_assert_eq(read_simple(r, &rc), 2);
	cr_assert_eq(rc, TRACE_READ_AGAIN);
	unlink(path);
	write_simple(1, false);
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_ERROR);
	cr_assert(strstr(diag_msg(), "replaced") != NULL, "%s", diag_msg());
	trace_reader_delete(r);
	check_no_leak();
}

Test(trace_file, writer_rejects_a_foreign_file)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_eq(write(fd, "hello, world, not a trace", 25), 25);
	close(fd);
	cr_assert_null(trace_writer_new(path, NULL));
	cr_assert(strstr(diag_msg(), "magic") != NULL, "%s", diag_msg());
	cr_assert_eq(file_size(), 25, "the foreign file is left alone");
	/* A torn header while a writer is alive: refused. */
	unlink(path);
	write_simple(0, false);
	/* Cut inside META (the header is magic, META, WRITER). */
	cr_assert_eq(truncate(path, TRACE_FILE_PREFIX + TRACE_RECORD_FRAME + 4),
		     0);
	int alive = open(writers_path, O_RDWR);
	cr_assert_geq(alive, 0);
	cr_assert_eq(flock(alive, LOCK_SH), 0);
	cr_assert_null(trace_writer_new(path, NULL));
	cr_assert(strstr(diag_msg(), "torn header") != NULL, "%s",
		  diag_msg());
	/* The same with nobody alive: a dead run's file, started afresh. */
	close(alive);
	struct trace_writer *w = trace_writer_new(path, &test_meta);
	cr_assert_not_null(w, "%s", diag_msg());
	cr_assert_eq(trace_writer_close(w, true), 0);
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_END, "%s",
		     diag_msg());
	trace_reader_delete(r);
	check_no_leak();
}

/* Fail the Nth allocation, for every N, across write and read. */
Test(trace_file, alloc_failure_loop)
{
	bool done = false;
	int64_t n_failed = 0;
	for (int64_t n = 1; !done && n < 1000; n++) {
		unlink(path);
		mem_fail_after(n, 1);
		int ok = 0;
		struct trace_writer *w = trace_writer_new(path, &test_meta);
		if (w != NULL) {
			struct trace_field f = {.key = "k", .s = "v"};
			struct trace_event e = {.seq = 1, .cord = "tx",
						.ev = "e", .fields = &f,
						.n_fields = 1};
			if (trace_writer_add(w, &e) == 0)
				ok++;
			if (trace_writer_close(w, true) == 0)
				ok++;
		}
		n_failed += mem_fail_count();
		mem_fail_reset();
		struct trace_reader *r = NULL;
		if (ok == 2) {
			mem_fail_after(n, 1);
			r = trace_reader_new(path);
			if (r != NULL) {
				struct trace_event e;
				int rc = trace_reader_next(r, &e);
				if (rc == TRACE_READ_EVENT) {
					cr_assert_str_eq(e.fields[0].s, "v");
					done = trace_reader_next(r, &e) ==
						TRACE_READ_END;
				} else {
					cr_assert_eq(rc, TRACE_READ_ERROR);
					cr_assert(strstr(diag_msg(),
						  "allocate") != NULL,
						  "%s", diag_msg());
				}
				trace_reader_delete(r);
			}
			n_failed += mem_fail_count();
			mem_fail_reset();
		}
		check_no_leak();
	}
	cr_assert(done, "never succeeded");
	cr_assert_gt(n_failed, 5, "the loop injected only %" PRId64
		     " failures", n_failed);
}

/* ------------------------------------------------------- processes */

static void
child_exit(int code)
{
	/* Skip atexit handlers: Criterion's belong to the parent. */
	_exit(code);
}

Test(trace_file, sigkill_keeps_acknowledged_prefix)
{
	unsigned seed = 20240607;
	uint64_t total_acked = 0;
	for (int iter = 0; iter < 200; iter++) {
		unlink(path);
		int ack[2];
		cr_assert_eq(pipe(ack), 0);
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			close(ack[0]);
			struct trace_writer *w =
				trace_writer_new(path, &test_meta);
			if (w == NULL)
				child_exit(1);
			for (uint64_t seq = 0;; seq++) {
				struct trace_field f[2] = {
					{.key = "k", .i = (int64_t)seq * 3},
					{.key = "s", .s = "abc"},
				};
				struct trace_event e = {
					.seq = seq, .t = seq * 1000,
					.cord = "tx", .ev = "cpipe.push",
					.fields = f, .n_fields = 2,
				};
				if (trace_writer_add(w, &e) != 0 ||
				    trace_writer_flush(w) != 0)
					child_exit(2);
				if (write(ack[1], &seq, sizeof(seq)) !=
				    sizeof(seq))
					child_exit(3);
			}
		}
		close(ack[1]);
		usleep((useconds_t)(rand_r(&seed) % 20000));
		kill(pid, SIGKILL);
		int status;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFSIGNALED(status), "writer exited on its own: %d",
			  status);
		uint64_t acked = 0, seq;
		while (read(ack[0], &seq, sizeof(seq)) == sizeof(seq))
			acked = seq + 1;
		close(ack[0]);
		total_acked += acked;
		if (access(path, F_OK) != 0) {
			cr_assert_eq(acked, 0);
			continue;
		}
		struct trace_reader *r = trace_reader_new(path);
		cr_assert_not_null(r);
		int rc;
		uint64_t k = (uint64_t)read_simple(r, &rc);
		cr_assert_eq(rc, TRACE_READ_AGAIN, "iteration %d: %s", iter,
			     diag_msg());
		cr_assert_geq(k, acked, "iteration %d: read %" PRIu64
			      ", acknowledged %" PRIu64, iter, k, acked);
		trace_reader_delete(r);
	}
	/* The kills did land while records were being written. */
	cr_assert_gt(total_acked, 200);
	check_no_leak();
}

static void
sleep_1ms(void *arg)
{
	(void)arg;
	usleep(1000);
}

/* Record i carries a string of a size from 1 B to ~8 KiB. */
static size_t
live_len(uint64_t i)
{
	return 1 + (size_t)((i * 2654435761u) % 8192);
}

Test(trace_file, live_follow)
{
	enum { N = 100000, SPLIT_EVERY = 997 };
	/*
	 * Created before the fork so the reader can open it at once, and
	 * kept open (alive) until the child has surely joined: its first
	 * event is read. Whichever of the two closes last ends the file.
	 */
	struct trace_writer *w0 = trace_writer_new(path, &test_meta);
	cr_assert_not_null(w0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* Drop the copy of the parent's writer (its locks too). */
		trace_writer_close(w0, false);
		struct trace_writer *w = trace_writer_new(path, NULL);
		if (w == NULL)
			child_exit(1);
		char *buf = malloc(8193);
		for (uint64_t i = 0; i < N; i++) {
			size_t len = live_len(i);
			memset(buf, 'a' + (int)(i % 26), len);
			buf[len] = '\0';
			struct trace_field f[2] = {
				{.key = "len", .i = (int64_t)len},
				{.key = "s", .s = buf},
			};
			struct trace_event e = {.seq = i, .t = i, .cord = "tx",
						.ev = "obuf.reserve",
						.fields = f, .n_fields = 2};
			if (i % SPLIT_EVERY == 0)
				trace_writer_split_next(w, sleep_1ms, NULL);
			if (trace_writer_add(w, &e) != 0 ||
			    trace_writer_flush(w) != 0)
				child_exit(2);
		}
		free(buf);
		child_exit(trace_writer_close(w, true) == 0 ? 0 : 3);
	}
	struct trace_reader *r = trace_reader_new(path);
	cr_assert_not_null(r);
	uint64_t next = 0;
	int rc;
	struct trace_event e;
	while ((rc = trace_reader_next(r, &e)) != TRACE_READ_END) {
		if (rc == TRACE_READ_AGAIN) {
			usleep(200);
			continue;
		}
		cr_assert_eq(rc, TRACE_READ_EVENT, "after %" PRIu64 ": %s",
			     next, diag_msg());
		cr_assert_eq(e.seq, next, "got %" PRIu64 ", want %" PRIu64,
			     e.seq, next);
		size_t len = live_len(next);
		cr_assert_eq(e.fields[0].i, (int64_t)len);
		cr_assert_eq(strlen(e.fields[1].s), len);
		cr_assert_eq(e.fields[1].s[0], 'a' + (int)(next % 26));
		cr_assert_eq(e.fields[1].s[len - 1], 'a' + (int)(next % 26));
		if (next++ == 0)
			cr_assert_eq(trace_writer_close(w0, true), 0);
	}
	cr_assert_eq(next, N);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	trace_reader_delete(r);
	check_no_leak();
}

static void
pipe_put(int fd)
{
	char c = 1;
	if (write(fd, &c, 1) != 1)
		child_exit(9);
}

static bool
pipe_get(int fd)
{
	char c;
	return read(fd, &c, 1) == 1;
}

/*
 * Two processes append at once; both close with end = true, and only the
 * last one to close writes END (before: data after END, or no END).
 */
Test(trace_file, two_writers_one_file)
{
	enum { N = 20000 };
	int joined[2], go[2];
	cr_assert_eq(pipe(joined), 0);
	cr_assert_eq(pipe(go), 0);
	pid_t pids[2];
	for (int k = 0; k < 2; k++) {
		pids[k] = fork();
		cr_assert_geq(pids[k], 0);
		if (pids[k] != 0)
			continue;
		/* Both race to create the file: one header only. */
		struct trace_writer *w = trace_writer_new(path, &test_meta);
		if (w == NULL)
			child_exit(1);
		/* Both alive before either writes: neither starts it anew. */
		pipe_put(joined[1]);
		if (!pipe_get(go[0]))
			child_exit(4);
		trace_writer_set_flush_size(w, k == 0 ? 512 : 3000);
		for (uint64_t i = 0; i < N; i++)
			add_simple(w, i, k == 0 ? "server" : "client");
		child_exit(trace_writer_close(w, true) == 0 ? 0 : 2);
	}
	cr_assert(pipe_get(joined[0]) && pipe_get(joined[0]));
	pipe_put(go[1]);
	pipe_put(go[1]);
	for (int k = 0; k < 2; k++) {
		int status;
		cr_assert_eq(waitpid(pids[k], &status, 0), pids[k]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "writer %d: status %d", k, status);
	}
	for (int k = 0; k < 2; k++) {
		close(joined[k]);
		close(go[k]);
	}
	struct trace_reader *r = trace_reader_new(path);
	uint64_t next[2] = {0, 0};
	struct trace_event e;
	int rc;
	while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		int k = strcmp(e.cord, "server") == 0 ? 0 : 1;
		cr_assert(k == 0 || strcmp(e.cord, "client") == 0);
		check_simple(&e, next[k]);
		next[k]++;
	}
	cr_assert_eq(rc, TRACE_READ_END, "%s", diag_msg());
	cr_assert_eq(next[0], N);
	cr_assert_eq(next[1], N);
	cr_assert_eq(trace_reader_offset(r), file_size(), "END is last");
	cr_assert_str_eq(trace_reader_meta(r)->scenario, "push-storm");
	trace_reader_delete(r);
	check_no_leak();
}

/* Read everything there is; returns the events, *rc the final code. */
static int
read_all(const char *cord, int *rc)
{
	struct trace_reader *r = trace_reader_new(path);
	cr_assert_not_null(r, "%s", diag_msg());
	struct trace_event e;
	int n = 0;
	while ((*rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		cr_assert_str_eq(e.cord, cord);
		n++;
	}
	trace_reader_delete(r);
	return n;
}

/*
 * `kharon serve --trace F` (first, the creator) stops while
 * `kharon run --target ... --trace F` (another process) still writes:
 * the file ends only when the last writer closes.
 */
Test(trace_file, the_last_writer_ends_the_file)
{
	int joined[2], go[2];
	cr_assert_eq(pipe(joined), 0);
	cr_assert_eq(pipe(go), 0);
	struct trace_writer *server = trace_writer_new(path, &test_meta);
	cr_assert_not_null(server, "%s", diag_msg());
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		trace_writer_close(server, false);
		struct trace_writer *w = trace_writer_new(path, NULL);
		if (w == NULL)
			child_exit(1);
		add_simple(w, 0, "tx");
		if (trace_writer_flush(w) != 0)
			child_exit(2);
		pipe_put(joined[1]);
		if (!pipe_get(go[0]))
			child_exit(3);
		add_simple(w, 1, "tx");
		child_exit(trace_writer_close(w, true) == 0 ? 0 : 4);
	}
	cr_assert(pipe_get(joined[0]));
	add_simple(server, 2, "tx");
	cr_assert_eq(trace_writer_close(server, true), 0, "%s", diag_msg());
	int rc;
	cr_assert_eq(read_all("tx", &rc), 2);
	cr_assert_eq(rc, TRACE_READ_AGAIN, "no END while the client writes: "
		     "%d %s", rc, diag_msg());
	pipe_put(go[1]);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%d", status);
	cr_assert_eq(read_all("tx", &rc), 3);
	cr_assert_eq(rc, TRACE_READ_END, "%s", diag_msg());
	for (int k = 0; k < 2; k++) {
		close(joined[k]);
		close(go[k]);
	}

	/* The same in one process: two writers, two descriptions. */
	struct trace_writer *a = trace_writer_new(path, &test_meta);
	struct trace_writer *b = trace_writer_new(path, NULL);
	cr_assert(a != NULL && b != NULL, "%s", diag_msg());
	add_simple(a, 0, "tx");
	add_simple(b, 1, "tx");
	cr_assert_eq(trace_writer_close(a, true), 0);
	cr_assert_eq(read_all("tx", &rc), 1);
	cr_assert_eq(rc, TRACE_READ_AGAIN);
	cr_assert_eq(trace_writer_close(b, true), 0);
	cr_assert_eq(read_all("tx", &rc), 2);
	cr_assert_eq(rc, TRACE_READ_END, "%s", diag_msg());
	check_no_leak();
}

/*
 * A writer SIGKILLed mid-run leaves a file without END: nobody will
 * finish it, so the next writer starts it afresh (before: it appended to
 * the dead run). A reader of the dead run sees it replaced.
 */
Test(trace_file, a_dead_run_is_started_afresh)
{
	int joined[2];
	cr_assert_eq(pipe(joined), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct trace_writer *w = trace_writer_new(path, &test_meta);
		if (w == NULL)
			child_exit(1);
		for (uint64_t i = 0; i < 3; i++) {
			add_simple(w, i, "dead");
			if (trace_writer_flush(w) != 0)
				child_exit(2);
		}
		pipe_put(joined[1]);
		for (;;)
			pause();
	}
	cr_assert(pipe_get(joined[0]));
	close(joined[0]);
	close(joined[1]);
	int rc;
	cr_assert_eq(read_all("dead", &rc), 3);
	cr_assert_eq(rc, TRACE_READ_AGAIN);
	struct trace_reader *old = trace_reader_new(path);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(old, &e), TRACE_READ_EVENT);
	/* Alive: a new writer joins it. */
	struct trace_writer *w = trace_writer_new(path, NULL);
	cr_assert_not_null(w, "%s", diag_msg());
	cr_assert_eq(trace_writer_close(w, false), 0);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status));
	/* Dead: the next one starts it anew. */
	w = trace_writer_new(path, &test_meta);
	cr_assert_not_null(w, "%s", diag_msg());
	add_simple(w, 0, "new");
	cr_assert_eq(trace_writer_close(w, true), 0);
	cr_assert_eq(read_all("new", &rc), 1);
	cr_assert_eq(rc, TRACE_READ_END, "%s", diag_msg());
	/* The old reader's next events are gone with the old run. */
	cr_assert_eq(trace_reader_next(old, &e), TRACE_READ_ERROR);
	cr_assert(strstr(diag_msg(), "replaced") != NULL, "%s", diag_msg());
	trace_reader_delete(old);
	check_no_leak();
}

/*
 * A reader in the middle of an ended trace while the next run starts the
 * file afresh: it reports the replacement and returns no event of the old
 * run it had not returned yet (before: the file was rewritten in place and
 * the reader's cached bytes of the old run were served).
 */
Test(trace_file, a_replaced_file_gives_no_stale_event)
{
	write_simple(5, true);
	struct stat before, after;
	cr_assert_eq(stat(path, &before), 0);
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
	check_simple(&e, 0);
	struct trace_writer *w = trace_writer_new(path, &test_meta);
	cr_assert_not_null(w, "%s", diag_msg());
	trace_writer_set_flush_size(w, 1);
	for (int i = 0; i < 50; i++)
		add_simple(w, (uint64_t)i, "new");
	cr_assert_eq(trace_writer_close(w, true), 0);
	cr_assert_eq(stat(path, &after), 0);
	cr_assert_neq(before.st_ino, after.st_ino, "a new inode");
	cr_assert_eq(after.st_mode & 0777, before.st_mode & 0777);
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_ERROR);
	cr_assert(strstr(diag_msg(), "replaced") != NULL, "%s", diag_msg());
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_ERROR, "sticky");
	trace_reader_delete(r);
	/* No temporary file is left (teardown checks the directory). */
	int rc;
	cr_assert_eq(read_all("new", &rc), 50);
	cr_assert_eq(rc, TRACE_READ_END);
	check_no_leak();
}

/* Shrinking is never growth: the reader stops serving cached bytes. */
Test(trace_file, a_shrunk_file_gives_no_stale_event)
{
	write_simple(5, false);
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
	/* Cut one byte: events 2 and 3 are still whole, but not trusted. */
	cr_assert_eq(truncate(path, (off_t)file_size() - 1), 0);
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_ERROR);
	cr_assert(strstr(diag_msg(), "truncated") != NULL, "%s", diag_msg());
	trace_reader_delete(r);
	check_no_leak();
}

/* What `kharon trace check` counts: records whole, the header included. */
Test(trace_file, n_records_counts_whole_records)
{
	write_simple(2, true);
	size_t size;
	char *all = slurp(&size);
	size_t header = 0;
	{
		struct trace_reader *r = trace_reader_new(path);
		struct trace_event e;
		cr_assert_eq(trace_reader_n_records(r), 0);
		cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
		cr_assert_eq(trace_reader_n_records(r), 3, "META, WRITER, 1");
		cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
		cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_END);
		cr_assert_eq(trace_reader_n_records(r), 5,
			     "META, WRITER, 2, END");
		trace_reader_delete(r);
	}
	for (size_t cut = 1; cut < size; cut++) {
		spit(all, cut);
		struct trace_reader *r = trace_reader_new(path);
		struct trace_event e;
		int rc = trace_reader_next(r, &e);
		cr_assert_neq(rc, TRACE_READ_ERROR, "%s", diag_msg());
		if (trace_reader_meta(r) == NULL) {
			cr_assert_eq(trace_reader_n_records(r), 0,
				     "incomplete header at %zu", cut);
			cr_assert_eq(trace_reader_offset(r), 0);
		} else if (header == 0) {
			header = cut;
		}
		trace_reader_delete(r);
	}
	cr_assert_gt(header, TRACE_FILE_PREFIX);
	free(all);
	check_no_leak();
}

Test(trace_file, writer_as_trace_sink)
{
	struct trace_writer *w = trace_writer_new(path, &test_meta);
	cr_assert_not_null(w);
	trace_set_sink(trace_writer_sink, w);
	trace_cord_enter("tx", NULL, NULL);
	TRACE("task.start", {.key = "task", .i = 7});
	TRACE("push", {.key = "sync", .i = -5}, {.key = "to", .s = "client0"});
	trace_set_sink(NULL, NULL);
	cr_assert_eq(trace_writer_close(w, true), 0, "%s", diag_msg());
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
	cr_assert_eq(e.seq, 1);
	cr_assert_str_eq(e.cord, "tx");
	cr_assert_str_eq(e.ev, "task.start");
	cr_assert_eq(e.fields[0].i, 7);
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_EVENT);
	cr_assert_eq(e.seq, 2);
	cr_assert_eq(e.fields[0].i, -5);
	cr_assert_str_eq(e.fields[1].s, "client0");
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_END);
	trace_reader_delete(r);

	/* A sink cannot fail; close reports the first error it met. */
	unlink(path);
	w = trace_writer_new(path, NULL);
	trace_set_sink(trace_writer_sink, w);
	char *big = str_of(4000, 'z');
	mem_fail_after(1, 1);
	TRACE("obuf.reserve", {.key = "s", .s = big});
	mem_fail_reset();
	trace_set_sink(NULL, NULL);
	cr_assert_eq(trace_writer_close(w, true), -1);
	cr_assert(strstr(diag_msg(), "allocate") != NULL, "%s", diag_msg());
	free(big);
	check_no_leak();
}

/* Random bytes never crash the decoders (ASan checks the bounds). */
Test(trace_file, decoders_survive_garbage)
{
	unsigned seed = 7;
	struct trace_record_batch batch;
	trace_record_batch_create(&batch);
	/* Start from a valid payload and mutate it. */
	struct trace_record_buf b;
	trace_record_buf_create(&b);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_EVENTS), 0);
	struct trace_field f[2] = {{.key = "n", .i = -300},
				   {.key = "to", .s = "tx"}};
	struct trace_event ev = {.seq = 1, .t = 2, .cord = "net0",
				 .ev = "cpipe.flush", .fields = f, .n_fields = 2};
	for (int i = 0; i < 3; i++)
		cr_assert_eq(trace_record_add_event(&b, &ev), 0);
	const char *payload = b.data + TRACE_RECORD_FRAME + 1;
	size_t len = b.used - TRACE_RECORD_FRAME - 1;
	cr_assert_eq(trace_record_batch_decode(&batch, payload,
					       payload + len), 0);
	cr_assert_eq(batch.n_events, 3);
	int n_ok = 0, n_bad = 0;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = (size_t)rand_r(&seed) % (len + 1);
		char *copy = malloc(n + 1);
		memcpy(copy, payload, n);
		int flips = rand_r(&seed) % 3;
		for (int k = 0; k < flips && n > 0; k++)
			copy[(size_t)rand_r(&seed) % n] ^=
				(char)(1 << (rand_r(&seed) % 8));
		if (trace_record_batch_decode(&batch, copy, copy + n) == 0)
			n_ok++;
		else
			n_bad++;
		struct trace_meta *m = trace_meta_decode(copy, copy + n);
		mem_free(m);
		free(copy);
	}
	cr_assert_gt(n_ok, 0);
	cr_assert_gt(n_bad, 0);
	trace_record_buf_destroy(&b);
	trace_record_batch_destroy(&batch);
	check_no_leak();
}
