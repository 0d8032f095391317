/*
 * test_trace_torn.c — a shared trace survives a writer killed in the middle
 * of its write() (src/trace/trace_file.h, format version 2).
 *
 * Synthetic files first: a record of writer B cut at every byte, followed
 * by writer A's records, read whole and while it grows (the follower's
 * view): every event of A comes back, the torn bytes are counted as
 * skipped, nothing else is. Then what is *not* a torn record (damage,
 * a writer that wrote again after its "torn" record), the format 1 files
 * of earlier kharons, and the corrupt-record message. Last, processes:
 * one writer that lives, victims killed with SIGKILL one after another
 * while a reader follows the file — every record the survivor wrote is
 * read. KHARON_TORN_KILLS sets the number of kills (default 30: seconds
 * in `make test`; the soak figure is 200).
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/mem.h"
#include "trace/trace_file.h"

static char dir[64];
static char path[128];
static int64_t live_at_start;

static void
remove_file(const char *suffix)
{
	char p[160];
	snprintf(p, sizeof(p), "%s%s", path, suffix);
	unlink(p);
}

static void
setup(void)
{
	strcpy(dir, "/tmp/kharon-ttorn-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.trace", dir);
	live_at_start = mem_live();
	diag_clear();
}

static void
teardown(void)
{
	remove_file("");
	remove_file(".lock");
	remove_file(".writers");
	cr_assert_eq(rmdir(dir), 0, "a file was left behind in %s: %s", dir,
		     strerror(errno));
}

TestSuite(trace_torn, .init = setup, .fini = teardown);

static void
check_no_leak(void)
{
	cr_assert_eq(mem_live(), live_at_start, "leaked %" PRId64 " blocks",
		     mem_live() - live_at_start);
}

/* ------------------------------------------------ synthetic files */

enum { WRITER_A = 0x0a0a0a0a, WRITER_B = 0x0b0b0b0b };

/* A file being assembled in memory, records sealed where they land. */
struct image {
	char data[64 * 1024];
	size_t size;
};

static void
image_put(struct image *im, struct trace_record_buf *b, uint32_t writer)
{
	cr_assert_eq(trace_record_finish(b), 0);
	trace_record_seal(b->data, writer, im->size);
	cr_assert_leq(im->size + b->used, sizeof(im->data));
	memcpy(im->data + im->size, b->data, b->used);
	im->size += b->used;
}

static void
image_header(struct image *im)
{
	static const char *const cords[] = {"tx"};
	const struct trace_meta meta = {
		.scenario = "torn", .seed = 7, .mode = "real",
		.cords = cords, .n_cords = 1, .created_by = "test",
	};
	memcpy(im->data, trace_file_magic, 8);
	trace_record_store_u32(im->data + 8, TRACE_FILE_VERSION);
	im->size = TRACE_FILE_PREFIX;
	struct trace_record_buf b;
	trace_record_buf_create(&b);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_META), 0);
	cr_assert_eq(trace_record_add_meta(&b, &meta), 0);
	image_put(im, &b, WRITER_A);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_WRITER), 0);
	cr_assert_eq(trace_record_add_writer(&b, 1234, 5678), 0);
	image_put(im, &b, WRITER_A);
	trace_record_buf_destroy(&b);
}

/* One EVENTS record of `n` events seq0, seq0 + 1... on cord `cord`. */
static void
image_events(struct image *im, uint32_t writer, const char *cord,
	     uint64_t seq0, int n)
{
	struct trace_record_buf b;
	trace_record_buf_create(&b);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_EVENTS), 0);
	for (int i = 0; i < n; i++) {
		struct trace_field f = {.key = "k", .i = (int64_t)(seq0 + i)};
		struct trace_event e = {
			.seq = seq0 + (uint64_t)i, .t = 1, .cord = cord,
			.ev = "push", .fields = &f, .n_fields = 1,
		};
		cr_assert_eq(trace_record_add_event(&b, &e), 0);
	}
	image_put(im, &b, writer);
	trace_record_buf_destroy(&b);
}

static void
image_end(struct image *im, uint32_t writer)
{
	struct trace_record_buf b;
	trace_record_buf_create(&b);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_END), 0);
	image_put(im, &b, writer);
	trace_record_buf_destroy(&b);
}

static void
file_write(const char *p, size_t n, bool append)
{
	int fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC),
		      0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/*
 * Read what there is: A's events must be seq `*next`, `*next` + 1...
 * (cord "a", writer 1), B's (cord "b") are counted in *n_b. Returns the
 * final code.
 */
static int
read_on(struct trace_reader *r, uint64_t *next, int *n_b)
{
	struct trace_event e;
	int rc;
	while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		if (strcmp(e.cord, "b") == 0) {
			(*n_b)++;
			continue;
		}
		cr_assert_str_eq(e.cord, "a");
		cr_assert_eq(e.writer, 1);
		cr_assert_eq(e.seq, *next, "got seq %" PRIu64 ", want %" PRIu64,
			     e.seq, *next);
		(*next)++;
	}
	return rc;
}

/*
 * Writer B's record of `b_events` events cut after every byte count k,
 * then writer A's records (`a_events` in the first) and END. Read twice:
 * the whole file, and as a follower sees it (the torn prefix first, then
 * the rest appended). A's 3 + a_events + 2 events all come back, the k
 * torn bytes are reported as one torn record, nothing else is skipped.
 */
static void
cut_everywhere(int b_events, int a_events)
{
	struct image pre, torn;
	image_header(&pre);
	image_events(&pre, WRITER_A, "a", 0, 3);
	torn.size = pre.size;
	image_events(&torn, WRITER_B, "b", 100, b_events);
	size_t b_len = torn.size - pre.size;
	const char *b_rec = torn.data + pre.size;
	for (size_t k = 1; k < b_len; k++) {
		struct image all = pre;
		memcpy(all.data + all.size, b_rec, k);
		all.size += k;
		size_t cut = all.size;
		image_events(&all, WRITER_A, "a", 3, a_events);
		image_events(&all, WRITER_A, "a", 3 + (uint64_t)a_events, 2);
		image_end(&all, WRITER_A);
		for (int follow = 0; follow < 2; follow++) {
			file_write(all.data, follow ? cut : all.size, false);
			struct trace_reader *r = trace_reader_new(path);
			cr_assert_not_null(r);
			uint64_t next = 0;
			int n_b = 0;
			int rc = read_on(r, &next, &n_b);
			if (follow) {
				cr_assert_eq(rc, TRACE_READ_AGAIN,
					     "k %zu: %s", k, diag_msg());
				cr_assert_eq(next, 3);
				cr_assert_eq(trace_reader_tail(r), k);
				file_write(all.data + cut, all.size - cut, true);
				rc = read_on(r, &next, &n_b);
			}
			cr_assert_eq(rc, TRACE_READ_END, "k %zu follow %d: %s",
				     k, follow, diag_msg());
			cr_assert_eq(next, 5 + (uint64_t)a_events, "k %zu", k);
			cr_assert_eq(n_b, 0);
			const struct trace_reader_skips *s =
				trace_reader_skips(r);
			cr_assert_eq(s->n_torn, 1, "k %zu", k);
			cr_assert_eq(s->torn_bytes, k);
			cr_assert_eq(s->last_off, pre.size);
			cr_assert_eq(s->n_torn_alive, 0);
			cr_assert_eq(trace_reader_tail(r), 0);
			cr_assert_eq(trace_reader_offset(r), all.size);
			trace_reader_delete(r);
		}
	}
	check_no_leak();
}

/* The torn record claims more than the file holds after it. */
Test(trace_torn, resync_at_every_cut_past_the_end)
{
	cut_everywhere(40, 1);
}

/* The torn record's claimed span ends inside the survivor's records. */
Test(trace_torn, resync_at_every_cut_checksum_mismatch)
{
	cut_everywhere(2, 60);
}

/* A writer that goes on after its "torn" record did not die there. */
Test(trace_torn, torn_record_of_a_live_writer_is_flagged)
{
	struct image im;
	image_header(&im);
	image_events(&im, WRITER_A, "a", 0, 1);
	size_t at = im.size;
	image_events(&im, WRITER_B, "b", 100, 10);
	im.size = at + 50;
	image_events(&im, WRITER_A, "a", 1, 1);
	image_events(&im, WRITER_B, "b", 200, 1);
	image_end(&im, WRITER_A);
	file_write(im.data, im.size, false);
	struct trace_reader *r = trace_reader_new(path);
	uint64_t next = 0;
	int n_b = 0;
	cr_assert_eq(read_on(r, &next, &n_b), TRACE_READ_END, "%s",
		     diag_msg());
	cr_assert_eq(next, 2);
	cr_assert_eq(n_b, 1);
	cr_assert_eq(trace_reader_skips(r)->n_torn, 1);
	cr_assert_eq(trace_reader_skips(r)->n_torn_alive, 1);
	cr_assert_eq(trace_reader_n_writers(r), 2);
	trace_reader_delete(r);
	check_no_leak();
}

/*
 * Damage is not a torn record: a flipped byte in a record followed by a
 * record where the damaged one said it would end, or a header that does
 * not start like one, stops the reader with the offset.
 */
Test(trace_torn, damage_is_not_skipped)
{
	struct image im;
	image_header(&im);
	size_t at = im.size;
	image_events(&im, WRITER_A, "a", 0, 3);
	size_t len = im.size - at;
	image_events(&im, WRITER_A, "a", 3, 3);
	image_end(&im, WRITER_A);
	/* Every byte of the first EVENTS record, in turn. */
	for (size_t i = 0; i < len; i++) {
		im.data[at + i] ^= 0x20;
		file_write(im.data, im.size, false);
		struct trace_reader *r = trace_reader_new(path);
		uint64_t next = 0;
		int n_b = 0;
		cr_assert_eq(read_on(r, &next, &n_b), TRACE_READ_ERROR,
			     "byte %zu", i);
		cr_assert_eq(next, 0);
		char want[64];
		snprintf(want, sizeof(want), "corrupt record at offset %zu",
			 at);
		cr_assert_not_null(strstr(diag_msg(), want), "%s",
				   diag_msg());
		cr_assert_eq(trace_reader_skips(r)->n_torn, 0);
		trace_reader_delete(r);
		im.data[at + i] ^= 0x20;
	}
	check_no_leak();
}

/* reader_corrupt() once formatted the diag buffer into itself. */
Test(trace_torn, corrupt_payload_keeps_its_reason)
{
	struct image im;
	image_header(&im);
	size_t at = im.size;
	struct trace_record_buf b;
	trace_record_buf_create(&b);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_EVENTS), 0);
	/* A 3-element array where an event needs 4: checksums are fine. */
	b.data[b.used++] = (char)0x93;
	b.data[b.used++] = 1;
	b.data[b.used++] = 2;
	b.data[b.used++] = 3;
	image_put(&im, &b, WRITER_A);
	trace_record_buf_destroy(&b);
	image_end(&im, WRITER_A);
	file_write(im.data, im.size, false);
	struct trace_reader *r = trace_reader_new(path);
	struct trace_event e;
	cr_assert_eq(trace_reader_next(r, &e), TRACE_READ_ERROR);
	char want[200];
	snprintf(want, sizeof(want), "trace file %s: corrupt record at offset "
		 "%zu: bad trace record payload: ", path, at);
	cr_assert_eq(strncmp(diag_msg(), want, strlen(want)), 0, "%s",
		     diag_msg());
	const char *reason = diag_msg() + strlen(want);
	cr_assert(reason[0] != '\0' && strstr(reason, "corrupt") == NULL,
		  "%s", diag_msg());
	trace_reader_delete(r);
	check_no_leak();
}

/* Files of format version 1 (kharon before the writer id) still read. */
Test(trace_torn, version_1_is_read)
{
	static const char *const cords[] = {"tx"};
	const struct trace_meta meta = {
		.scenario = "old", .seed = 1, .mode = "sim", .cords = cords,
		.n_cords = 1, .created_by = "kharon",
	};
	char data[4096];
	memcpy(data, trace_file_magic, 8);
	trace_record_store_u32(data + 8, 1);
	size_t size = TRACE_FILE_PREFIX;
	struct trace_record_buf b;
	trace_record_buf_create(&b);
	for (int i = 0; i < 3; i++) {
		enum trace_record_type types[] = {
			TRACE_RECORD_META, TRACE_RECORD_EVENTS, TRACE_RECORD_END,
		};
		cr_assert_eq(trace_record_begin(&b, types[i]), 0);
		if (i == 0)
			cr_assert_eq(trace_record_add_meta(&b, &meta), 0);
		for (int j = 0; i == 1 && j < 5; j++) {
			struct trace_event e = {
				.seq = (uint64_t)j, .t = 9, .cord = "a",
				.ev = "push",
			};
			cr_assert_eq(trace_record_add_event(&b, &e), 0);
		}
		uint32_t len = (uint32_t)(b.used - TRACE_RECORD_FRAME);
		const char *payload = b.data + TRACE_RECORD_FRAME;
		trace_record_store_u32(data + size, len);
		trace_record_store_u32(data + size + 4,
				       trace_record_crc(len, payload));
		memcpy(data + size + TRACE_RECORD_FRAME_V1, payload, len);
		size += TRACE_RECORD_FRAME_V1 + len;
	}
	trace_record_buf_destroy(&b);
	file_write(data, size, false);
	struct trace_reader *r = trace_reader_new(path);
	uint64_t next = 0;
	int n_b = 0;
	cr_assert_eq(read_on(r, &next, &n_b), TRACE_READ_END, "%s",
		     diag_msg());
	cr_assert_eq(next, 5);
	cr_assert_str_eq(trace_reader_meta(r)->scenario, "old");
	cr_assert_eq(trace_reader_n_records(r), 3);
	trace_reader_delete(r);
	/* Joining a version 1 file that a writer is still writing: refused. */
	char wpath[160];
	snprintf(wpath, sizeof(wpath), "%s.writers", path);
	int alive = open(wpath, O_RDWR | O_CREAT, 0644);
	cr_assert_geq(alive, 0);
	cr_assert_eq(flock(alive, LOCK_SH), 0);
	cr_assert_null(trace_writer_new(path, NULL));
	cr_assert_not_null(strstr(diag_msg(), "format version 1"), "%s",
			   diag_msg());
	close(alive);
	check_no_leak();
}

/* ------------------------------------------------ killed writers */

static void
child_exit(int code)
{
	/* Skip atexit handlers: Criterion's belong to the parent. */
	_exit(code);
}

static void
sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

/* Tells the parent that half a record is written, then waits to die. */
static void
victim_between(void *arg)
{
	int fd = *(int *)arg;
	char c = 1;
	if (write(fd, &c, 1) != 1)
		child_exit(7);
	for (;;)
		pause();
}

/*
 * A victim: joins the file and writes big records until it is killed.
 * With `ready_fd` >= 0 its third record is written in two halves and it
 * waits between them (trace_writer_split_next) for the parent's SIGKILL:
 * a torn record for sure. Otherwise it is killed at a random moment,
 * often in the middle of a write() of 96 KiB (the kernel stops copying
 * at a page boundary).
 */
static void
victim_main(int ready_fd)
{
	struct trace_writer *w = trace_writer_new(path, NULL);
	if (w == NULL)
		child_exit(1);
	enum { BIG = 96 * 1024 };
	char *s = malloc(BIG + 1);
	memset(s, 'v', BIG);
	s[BIG] = '\0';
	for (uint64_t i = 0;; i++) {
		struct trace_field f = {.key = "s", .s = s};
		struct trace_event e = {.seq = i, .t = i, .cord = "victim",
					.ev = "push", .fields = &f,
					.n_fields = 1};
		if (ready_fd >= 0 && i == 2)
			trace_writer_split_next(w, victim_between, &ready_fd);
		if (trace_writer_add(w, &e) != 0 || trace_writer_flush(w) != 0)
			child_exit(2);
		sleep_us(300);
	}
}

/*
 * The survivor: small records, one flush every 200 us, until its stop
 * pipe closes; then it reports how many events it wrote and ends the
 * file (it is the last writer alive).
 */
static void
survivor_main(struct trace_writer *w, int stop_fd, int count_fd)
{
	uint64_t i = 0;
	for (;; i++) {
		struct trace_field f = {.key = "i", .i = (int64_t)i};
		struct trace_event e = {.seq = i, .t = i, .cord = "survivor",
					.ev = "push", .fields = &f,
					.n_fields = 1};
		if (trace_writer_add(w, &e) != 0)
			child_exit(2);
		if (i % 4 == 3 && trace_writer_flush(w) != 0)
			child_exit(3);
		char c;
		if (read(stop_fd, &c, 1) == 0)
			break;
		sleep_us(50);
	}
	i++;
	if (write(count_fd, &i, sizeof(i)) != sizeof(i))
		child_exit(4);
	child_exit(trace_writer_close(w, true) == 0 ? 0 : 5);
}

static int
kills_wanted(void)
{
	const char *s = getenv("KHARON_TORN_KILLS");
	int n = s != NULL ? atoi(s) : 30;
	return n > 0 ? n : 30;
}

Test(trace_torn, killed_writers_lose_only_their_torn_records,
     .timeout = 300)
{
	int kills = kills_wanted();
	int stop[2], count[2];
	cr_assert_eq(pipe(stop), 0);
	cr_assert_eq(pipe(count), 0);
	cr_assert_eq(fcntl(stop[0], F_SETFL, O_NONBLOCK), 0);
	/* Created before the fork: the reader and the victims find it. */
	struct trace_writer *w = trace_writer_new(path, NULL);
	cr_assert_not_null(w, "%s", diag_msg());
	pid_t survivor = fork();
	cr_assert_geq(survivor, 0);
	if (survivor == 0) {
		close(stop[1]);
		close(count[0]);
		survivor_main(w, stop[0], count[1]);
	}
	/* The parent's copy of the writer must not end the file. */
	cr_assert_eq(trace_writer_close(w, false), 0);
	close(stop[0]);
	close(count[1]);
	struct trace_reader *r = trace_reader_new(path);
	cr_assert_not_null(r);
	uint64_t next = 0, n_victim = 0;
	unsigned seed = 12;
	struct trace_event e;
	int rc = TRACE_READ_AGAIN;
	for (int k = 0; k < kills; k++) {
		int ready[2];
		cr_assert_eq(pipe(ready), 0);
		bool is_split = k % 2 == 0;
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			close(ready[0]);
			victim_main(is_split ? ready[1] : -1);
		}
		close(ready[1]);
		char c;
		if (is_split)
			cr_assert_eq(read(ready[0], &c, 1), 1);
		else
			sleep_us(500 + rand_r(&seed) % 3000);
		close(ready[0]);
		kill(pid, SIGKILL);
		int status;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFSIGNALED(status), "victim exited: %d", status);
		/* Follow as it grows. */
		while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
			if (strcmp(e.cord, "victim") == 0) {
				cr_assert_gt(e.writer, 1);
				n_victim++;
				continue;
			}
			cr_assert_str_eq(e.cord, "survivor");
			cr_assert_eq(e.writer, 1);
			cr_assert_eq(e.seq, next, "got %" PRIu64 ", want %"
				     PRIu64, e.seq, next);
			next++;
		}
		cr_assert_eq(rc, TRACE_READ_AGAIN, "%s", diag_msg());
	}
	close(stop[1]);
	uint64_t written = 0;
	cr_assert_eq(read(count[0], &written, sizeof(written)),
		     sizeof(written));
	close(count[0]);
	int status;
	cr_assert_eq(waitpid(survivor, &status, 0), survivor);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "survivor: %d", status);
	while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		if (strcmp(e.cord, "victim") == 0) {
			n_victim++;
			continue;
		}
		cr_assert_eq(e.seq, next);
		next++;
	}
	cr_assert_eq(rc, TRACE_READ_END, "%s", diag_msg());
	cr_assert_eq(next, written, "read %" PRIu64 " of the survivor's %"
		     PRIu64, next, written);
	const struct trace_reader_skips *s = trace_reader_skips(r);
	cr_assert_eq(s->n_torn_alive, 0);
	/* Every split victim left a torn record; random kills may too. */
	cr_assert_geq(s->n_torn, (uint64_t)(kills + 1) / 2);
	cr_assert_leq(trace_reader_n_writers(r), 1 + kills);
	cr_log_info("%d kills: %" PRIu64 " torn records (%" PRIu64
		    " bytes) skipped, %" PRIu64 " survivor events, %" PRIu64
		    " victim events read\n", kills, s->n_torn, s->torn_bytes,
		    next, n_victim);
	fprintf(stderr, "trace_torn: %d kills: %" PRIu64 " torn records (%"
		PRIu64 " bytes) skipped, all %" PRIu64 " survivor events "
		"read\n", kills, s->n_torn, s->torn_bytes, next);
	trace_reader_delete(r);
	check_no_leak();
}
