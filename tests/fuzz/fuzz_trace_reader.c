/*
 * fuzz_trace_reader — the trace file reader (src/trace/trace_file.h) on a
 * file it did not write: the viewer must survive any bytes it finds there.
 *
 *   input: [flags][split][body ...............................]
 *     flags bit 0: 0 = body follows a valid header (magic, version, META
 *                  and WRITER records written by trace_writer_new), 1 = body is
 *                  the whole file (raw)
 *     flags bit 1: 1 = body is a list of [u16 LE n][u8 writer][u8 cut]
 *                  [n payload bytes]; the target frames each payload as a
 *                  record (format 2) with the right length, checksums and
 *                  offset, so the fuzzer reaches the MsgPack payload
 *                  decoder instead of stopping at the checksum
 *     flags bit 2: with bit 1, cut each record whose cut byte is not 0 to
 *                  cut/256 of its bytes (a writer killed mid-write): the
 *                  resynchronisation past torn records runs
 *     split:       the file is written in two appends, the first one
 *                  split/256 of it, so the "torn tail, read again later"
 *                  path runs too
 *
 *   write part 1 ──► trace_reader_next() until not EVENT
 *   append part 2 ─► trace_reader_next() until not EVENT; once more: same
 *                    answer (END and ERROR are sticky, AGAIN stays AGAIN
 *                    on an unchanged file)
 *   skipped bytes ≤ the file's size; torn-but-alive ≤ torn
 *   trace_reader_delete ──► mem_live() as before (no leak, per input)
 *
 * The file lives in /dev/shm (else $TMPDIR or /tmp), one per process.
 *
 * Lesson: lessons/en/00-scenarios.md.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>
#include <zlib.h>

#include "base/diag.h"
#include "base/mem.h"
#include "trace/trace_file.h"

static char trace_path[256];
static char *trace_header;
static size_t trace_header_size;

static void
trace_cleanup(void)
{
	char lock[300];
	unlink(trace_path);
	snprintf(lock, sizeof(lock), "%s.lock", trace_path);
	unlink(lock);
}

static void
trace_write(const char *p, size_t n, bool append)
{
	int fd = open(trace_path, O_WRONLY | O_CREAT |
		      (append ? O_APPEND : O_TRUNC), 0600);
	FUZZ_CHECK(fd >= 0);
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		FUZZ_CHECK(w > 0);
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

/** Once: a valid header (magic, version, META) made by the real writer. */
static void
trace_init(void)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
			  getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(trace_path, sizeof(trace_path), "%s/kharon-fuzz-%d.trace",
		 dir, (int)getpid());
	unlink(trace_path);
	atexit(trace_cleanup);
	static const char *const cords[] = {"tx", "net"};
	struct trace_meta meta = {
		.scenario = "fuzz", .seed = 1, .mode = "sim",
		.cords = cords, .n_cords = 2, .created_by = "fuzz",
	};
	struct trace_writer *w = trace_writer_new(trace_path, &meta);
	FUZZ_CHECK(w != NULL);
	FUZZ_CHECK(trace_writer_close(w, false) == 0);
	int fd = open(trace_path, O_RDONLY);
	FUZZ_CHECK(fd >= 0);
	off_t size = lseek(fd, 0, SEEK_END);
	FUZZ_CHECK(size > TRACE_FILE_PREFIX);
	trace_header = malloc((size_t)size);
	FUZZ_CHECK(trace_header != NULL);
	FUZZ_CHECK(pread(fd, trace_header, (size_t)size, 0) == size);
	trace_header_size = (size_t)size;
	close(fd);
}

/*
 * Frame [u16 n][u8 writer][u8 cut][payload]... into records with good
 * checksums, each sealed for the offset it lands at (`base` + where it is
 * in the body). With `is_torn`, a record whose cut byte is not 0 is cut to
 * cut/256 of its bytes (a writer killed mid-write), the next records
 * still sealed where they land: the reader's resynchronisation runs.
 */
static char *
trace_frame_records(const uint8_t *p, size_t n, size_t base, bool is_torn,
		    size_t *out_size)
{
	/* Each 4-byte prefix grows into a 20-byte frame: at most 5x + 20. */
	char *out = malloc(n * 5 + TRACE_RECORD_FRAME);
	FUZZ_CHECK(out != NULL);
	size_t used = 0;
	while (n > 0) {
		size_t hdr = n < 4 ? n : 4;
		size_t len = p[0] | (hdr > 1 ? (size_t)p[1] << 8 : 0);
		uint32_t writer = hdr > 2 ? p[2] : 0;
		uint8_t cut = hdr > 3 ? p[3] : 0;
		p += hdr;
		n -= hdr;
		if (len > n)
			len = n;
		char *f = out + used;
		memcpy(f, trace_record_marker, 4);
		trace_record_store_u32(f + 4, (uint32_t)len);
		trace_record_store_u32(f + 12, trace_record_crc(
			(uint32_t)len, (const char *)p));
		trace_record_seal(f, writer, base + used);
		memcpy(f + TRACE_RECORD_FRAME, p, len);
		size_t rec = TRACE_RECORD_FRAME + len;
		if (is_torn && cut != 0)
			rec = rec * cut / 256;
		used += rec;
		p += len;
		n -= len;
	}
	*out_size = used;
	return out;
}

/** Read until the reader stops giving events; touch every string. */
static int
trace_read_all(struct trace_reader *r)
{
	struct trace_event e;
	int rc;
	diag_clear();
	while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		FUZZ_CHECK(e.cord != NULL && e.ev != NULL);
		(void)strlen(e.cord);
		(void)strlen(e.ev);
		FUZZ_CHECK(e.n_fields >= 0);
		for (int i = 0; i < e.n_fields; i++) {
			(void)strlen(e.fields[i].key);
			if (e.fields[i].s != NULL)
				(void)strlen(e.fields[i].s);
		}
	}
	FUZZ_CHECK(rc == TRACE_READ_AGAIN || rc == TRACE_READ_END ||
		   rc == TRACE_READ_ERROR);
	if (rc == TRACE_READ_ERROR)
		FUZZ_CHECK(diag_msg()[0] != '\0');
	const struct trace_meta *meta = trace_reader_meta(r);
	if (meta != NULL) {
		(void)strlen(meta->scenario);
		(void)strlen(meta->mode);
		(void)strlen(meta->created_by);
		for (int i = 0; i < meta->n_cords; i++)
			(void)strlen(meta->cords[i]);
	}
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (trace_header == NULL)
		trace_init();
	if (size < 2)
		return 0;
	bool is_raw = data[0] & 1;
	bool is_framed = data[0] & 2;
	uint8_t split = data[1];
	data += 2;
	size -= 2;

	bool is_torn = data[-2] & 4;
	size_t head = is_raw ? 0 : trace_header_size;
	size_t body_size = size;
	char *body = is_framed ?
		     trace_frame_records(data, size, head, is_torn, &body_size) :
		     fuzz_dup(data, size);
	size_t file_size = head + body_size;
	char *file = malloc(file_size > 0 ? file_size : 1);
	FUZZ_CHECK(file != NULL);
	if (head > 0)
		memcpy(file, trace_header, head);
	if (body_size > 0)
		memcpy(file + head, body, body_size);
	free(body);
	size_t first = file_size * split / 256;

	int64_t live = mem_live();
	trace_write(file, first, false);
	struct trace_reader *r = trace_reader_new(trace_path);
	FUZZ_CHECK(r != NULL);
	int rc = trace_read_all(r);
	if (rc == TRACE_READ_AGAIN || first == file_size) {
		trace_write(file + first, file_size - first, true);
		rc = trace_read_all(r);
		/* Nothing changed since: the same answer again. */
		FUZZ_CHECK(trace_read_all(r) == rc);
	}
	/* Skipped bytes are bytes of the file, never more. */
	const struct trace_reader_skips *sk = trace_reader_skips(r);
	FUZZ_CHECK(sk->torn_bytes <= file_size);
	FUZZ_CHECK(sk->n_torn_alive <= sk->n_torn);
	trace_reader_delete(r);
	FUZZ_CHECK(mem_live() == live);
	free(file);
	return 0;
}
