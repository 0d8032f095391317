/*
 * trace_file.c — the trace file's writer and live reader. See trace_file.h.
 *
 * The writer's lock is a small spin lock on a C11 atomic_flag (yielding
 * while taken): trace sits below rt/ and cannot use rt_mutex, and glibc's
 * C11 mtx_t is invisible to ThreadSanitizer (its mtx_lock calls the
 * internal pthread function, which TSan does not intercept), so races
 * would be reported that are not there. It is held once per batch handed
 * over, and while a batch is written.
 */
#include "trace/trace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/mem.h"

const char trace_file_magic[8] = {'K', 'H', 'A', 'R', 'O', 'N', 'T', 'R'};

enum { TRACE_READ_CHUNK = 64 * 1024 };

static void
sys_error(const char *what, const char *path)
{
	diag_set(DIAG_ER_SYSTEM, "SystemError", "%s %s: %s", what, path,
		 strerror(errno));
}

static char *
path_dup(const char *path, const char *suffix)
{
	size_t a = strlen(path), b = strlen(suffix);
	char *s = mem_alloc(a + b + 1);
	if (s == NULL) {
		diag_set_oom(a + b + 1, "trace file path");
		return NULL;
	}
	memcpy(s, path, a);
	memcpy(s + a, suffix, b + 1);
	return s;
}

/* ------------------------------------------------------------- reader */

/** A writer process met in the file (format version 2). */
struct reader_writer {
	/** The id in its records' frames. */
	uint32_t id;
	/** From its WRITER record; 0 while none was read. */
	uint32_t pid;
	uint64_t start;
	/** A record of it was torn and nothing of it has been read since. */
	bool is_torn;
};

struct trace_reader {
	int fd;
	char *path;
	/** The last good offset: the next record starts here. */
	uint64_t off;
	/** Records fully read (the header's META included). */
	uint64_t n_records;
	/** The file's size at the last look: it may only grow. */
	uint64_t size;
	/** A window of the file: bytes [buf_off, buf_off + buf_len). */
	char *buf;
	size_t buf_cap;
	uint64_t buf_off;
	size_t buf_len;
	bool is_paused;
	/** While paused: nothing at or past this offset is read. */
	uint64_t limit;
	/** NULL until the header has been read. */
	struct trace_meta *meta;
	bool is_end;
	/** A sticky failure; `error` is restored into diag on every call. */
	bool is_broken;
	struct diag error;
	/** The events of the last EVENTS record, handed out one by one. */
	struct trace_record_batch batch;
	int next_event;
	/** The format version from the header (0 until read). */
	uint32_t version;
	/** The writer id of the record reader_record() returned last. */
	uint32_t record_writer;
	/** The number (1, 2, ...) of the writer of `batch`. */
	int batch_writer;
	/** Writers met, in order: their number is their index + 1. */
	struct reader_writer *writers;
	int n_writers, cap_writers;
	struct trace_reader_skips skips;
	/** Bytes past `off` at the last look that were no whole record. */
	uint64_t tail;
};

struct trace_reader *
trace_reader_new(const char *path)
{
	struct trace_reader *r = mem_zalloc(sizeof(*r));
	if (r == NULL) {
		diag_set_oom(sizeof(*r), "trace reader");
		return NULL;
	}
	r->path = path_dup(path, "");
	if (r->path == NULL)
		goto err_free;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		sys_error("cannot open", path);
		goto err_free_path;
	}
	trace_record_batch_create(&r->batch);
	return r;
err_free_path:
	mem_free(r->path);
err_free:
	mem_free(r);
	return NULL;
}

void
trace_reader_delete(struct trace_reader *r)
{
	close(r->fd);
	trace_record_batch_destroy(&r->batch);
	mem_free(r->meta);
	mem_free(r->writers);
	mem_free(r->buf);
	mem_free(r->path);
	mem_free(r);
}

const struct trace_meta *
trace_reader_meta(const struct trace_reader *r)
{
	return r->meta;
}

uint64_t
trace_reader_offset(const struct trace_reader *r)
{
	return r->off;
}

uint64_t
trace_reader_n_records(const struct trace_reader *r)
{
	return r->n_records;
}

const struct trace_reader_skips *
trace_reader_skips(const struct trace_reader *r)
{
	return &r->skips;
}

uint64_t
trace_reader_tail(const struct trace_reader *r)
{
	return r->tail;
}

int
trace_reader_n_writers(const struct trace_reader *r)
{
	return r->n_writers;
}

int
trace_reader_writer(const struct trace_reader *r, int n, uint32_t *pid,
		    uint64_t *start)
{
	if (n < 1 || n > r->n_writers)
		return -1;
	*pid = r->writers[n - 1].pid;
	*start = r->writers[n - 1].start;
	return 0;
}

/*
 * The writer with frame id `id`, added at the end when new (its number is
 * its index + 1). NULL on OOM (diag set).
 */
static struct reader_writer *
reader_writer_find(struct trace_reader *r, uint32_t id)
{
	for (int i = 0; i < r->n_writers; i++) {
		if (r->writers[i].id == id)
			return &r->writers[i];
	}
	if (r->n_writers == r->cap_writers) {
		int cap = r->cap_writers == 0 ? 4 : r->cap_writers * 2;
		struct reader_writer *ws =
			mem_realloc(r->writers, (size_t)cap * sizeof(*ws));
		if (ws == NULL) {
			diag_set_oom((size_t)cap * sizeof(*ws),
				     "trace reader writers");
			return NULL;
		}
		r->writers = ws;
		r->cap_writers = cap;
	}
	struct reader_writer *w = &r->writers[r->n_writers++];
	memset(w, 0, sizeof(*w));
	w->id = id;
	return w;
}

/* The frame in front of each payload in this file's format version. */
static uint64_t
reader_frame(const struct trace_reader *r)
{
	return r->version == 1 ? TRACE_RECORD_FRAME_V1 : TRACE_RECORD_FRAME;
}

/* The file's real size, or -1 (diag set). */
static int
reader_size(struct trace_reader *r, uint64_t *size)
{
	struct stat st;
	if (fstat(r->fd, &st) != 0) {
		sys_error("cannot stat", r->path);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

int
trace_reader_pause(struct trace_reader *r)
{
	uint64_t size;
	if (reader_size(r, &size) != 0)
		return -1;
	r->is_paused = true;
	r->limit = size;
	return 0;
}

void
trace_reader_continue(struct trace_reader *r)
{
	r->is_paused = false;
}

/* Make the failure sticky and return TRACE_READ_ERROR. */
static int
reader_break(struct trace_reader *r)
{
	r->is_broken = true;
	r->error = *diag_last();
	r->batch.n_events = 0;
	r->next_event = 0;
	/* Its bytes may no longer be the file's: never serve them again. */
	r->buf_len = 0;
	return TRACE_READ_ERROR;
}

/*
 * A failure that may pass (OOM, an I/O error): not sticky, the offset
 * stays, the next call tries again. Anything else breaks the reader.
 */
static int
reader_fail(struct trace_reader *r)
{
	int code = diag_last()->code;
	if (code == DIAG_ER_MEMORY_ISSUE || code == DIAG_ER_SYSTEM)
		return TRACE_READ_ERROR;
	return reader_break(r);
}

/*
 * `what` may be diag_msg() itself (a decoder's reason): it is copied
 * first, since diag_set() formats into that very buffer.
 */
static int
reader_corrupt(struct trace_reader *r, uint64_t off, const char *what)
{
	char why[DIAG_MSG_MAX];
	snprintf(why, sizeof(why), "%s", what);
	diag_set(DIAG_ER_UNKNOWN, "TraceError",
		 "trace file %s: corrupt record at offset %" PRIu64 ": %s",
		 r->path, off, why);
	return reader_break(r);
}

/*
 * Bytes [off, off + n) of the file (the caller knows they are below the
 * end it measured). NULL with *rc = TRACE_READ_AGAIN when the file turned
 * out shorter, or TRACE_READ_ERROR (diag set).
 */
static const char *
reader_window(struct trace_reader *r, uint64_t off, size_t n, uint64_t end,
	      int *rc)
{
	if (off >= r->buf_off && off + n <= r->buf_off + r->buf_len)
		return r->buf + (off - r->buf_off);
	size_t want = n > TRACE_READ_CHUNK ? n : TRACE_READ_CHUNK;
	if (want > end - off)
		want = (size_t)(end - off);
	if (want > r->buf_cap) {
		char *buf = mem_realloc(r->buf, want);
		if (buf == NULL) {
			diag_set_oom(want, "trace reader buffer");
			*rc = TRACE_READ_ERROR;
			return NULL;
		}
		r->buf = buf;
		r->buf_cap = want;
	}
	r->buf_off = off;
	r->buf_len = 0;
	while (r->buf_len < want) {
		ssize_t got = pread(r->fd, r->buf + r->buf_len,
				    want - r->buf_len,
				    (off_t)(off + r->buf_len));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			sys_error("cannot read", r->path);
			*rc = TRACE_READ_ERROR;
			return NULL;
		}
		if (got == 0)
			break;
		r->buf_len += (size_t)got;
	}
	if (r->buf_len < n) {
		*rc = TRACE_READ_AGAIN;
		return NULL;
	}
	return r->buf;
}

/* True when every byte of [off, end) is zero: an unwritten tail. */
static bool
reader_tail_is_zero(struct trace_reader *r, uint64_t off, uint64_t end)
{
	char chunk[4096];
	while (off < end) {
		size_t n = end - off < sizeof(chunk) ? (size_t)(end - off) :
			   sizeof(chunk);
		ssize_t got = pread(r->fd, chunk, n, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got == 0;
		for (ssize_t i = 0; i < got; i++) {
			if (chunk[i] != 0)
				return false;
		}
		off += (uint64_t)got;
	}
	return true;
}

/*
 * Format version 1: [len][crc] frames, no resynchronisation (a bad record
 * mid-file stops the reader). Same contract as reader_record().
 */
static int
reader_record_v1(struct trace_reader *r, uint64_t end, const char **payload,
		 uint32_t *len)
{
	uint64_t off = r->off;
	int rc = TRACE_READ_AGAIN;
	r->tail = end > off ? end - off : 0;
	if (end < off || end - off < TRACE_RECORD_FRAME_V1)
		return TRACE_READ_AGAIN;
	const char *p = reader_window(r, off, TRACE_RECORD_FRAME_V1, end, &rc);
	if (p == NULL)
		return rc == TRACE_READ_ERROR ? reader_fail(r) : rc;
	uint32_t n = trace_record_load_u32(p);
	uint32_t crc = trace_record_load_u32(p + 4);
	if (n == 0 || n > TRACE_RECORD_MAX) {
		if (reader_tail_is_zero(r, off, end))
			return TRACE_READ_AGAIN;
		return reader_corrupt(r, off, "bad length");
	}
	uint64_t rec_end = off + TRACE_RECORD_FRAME_V1 + n;
	if (rec_end > end)
		return TRACE_READ_AGAIN;
	p = reader_window(r, off, TRACE_RECORD_FRAME_V1 + (size_t)n, end, &rc);
	if (p == NULL)
		return rc == TRACE_READ_ERROR ? reader_fail(r) : rc;
	if (trace_record_crc(n, p + TRACE_RECORD_FRAME_V1) != crc) {
		/* Ends exactly at the end: maybe still being written. */
		if (rec_end == end)
			return TRACE_READ_AGAIN;
		return reader_corrupt(r, off, "checksum mismatch");
	}
	*payload = p + TRACE_RECORD_FRAME_V1;
	*len = n;
	r->record_writer = 0;
	r->tail = 0;
	return TRACE_READ_EVENT;
}

/*
 * Whether the 20 bytes at `p` are a record header written at file offset
 * `off`: the marker, a length in range and hcrc over both and the offset.
 */
static bool
frame_is_valid(const char *p, uint64_t off, uint32_t *len)
{
	if (memcmp(p, trace_record_marker, sizeof(trace_record_marker)) != 0)
		return false;
	uint32_t n = trace_record_load_u32(p + 4);
	if (n == 0 || n > TRACE_RECORD_MAX)
		return false;
	if (trace_record_load_u32(p + 16) != trace_record_head_crc(p, off))
		return false;
	*len = n;
	return true;
}

/* reader_scan() results. */
enum { SCAN_NONE, SCAN_FOUND, SCAN_PENDING };

/*
 * The first whole, valid record (header and payload checksums pass)
 * starting in [from, end), in *at: SCAN_FOUND. SCAN_PENDING when a valid
 * header comes first whose payload is not all there yet (a writer is
 * appending it: wait rather than skip past it), SCAN_NONE when there is
 * neither, -1 on an I/O error or OOM (diag set). A valid header whose
 * payload fails its checksum is passed over. Cost: O(end - from), a
 * memchr for the marker's first byte.
 */
static int
reader_scan(struct trace_reader *r, uint64_t from, uint64_t end, uint64_t *at)
{
	uint64_t pos = from;
	while (pos < end && end - pos >= TRACE_RECORD_FRAME) {
		int rc = TRACE_READ_AGAIN;
		uint64_t left = end - pos;
		size_t n = left < TRACE_READ_CHUNK ? (size_t)left :
			   TRACE_READ_CHUNK;
		const char *p = reader_window(r, pos, n, end, &rc);
		if (p == NULL)
			return rc == TRACE_READ_ERROR ? -1 : SCAN_NONE;
		/* Candidates: every marker whose whole header is in view. */
		size_t last = n - TRACE_RECORD_FRAME;
		const char *c = p;
		uint64_t next = pos + last + 1;
		while ((c = memchr(c, trace_record_marker[0],
				   (size_t)(p + last + 1 - c))) != NULL) {
			uint64_t q = pos + (uint64_t)(c - p);
			uint32_t len;
			if (!frame_is_valid(c, q, &len)) {
				c++;
				continue;
			}
			if (q + TRACE_RECORD_FRAME + len > end) {
				*at = q;
				return SCAN_PENDING;
			}
			uint32_t crc = trace_record_load_u32(c + 12);
			const char *rec = reader_window(r, q, TRACE_RECORD_FRAME +
							(size_t)len, end, &rc);
			if (rec == NULL)
				return rc == TRACE_READ_ERROR ? -1 : SCAN_PENDING;
			if (trace_record_crc(len, rec + TRACE_RECORD_FRAME) ==
			    crc) {
				*at = q;
				return SCAN_FOUND;
			}
			/* The window moved: go on from the byte after q. */
			next = q + 1;
			break;
		}
		pos = next;
	}
	return SCAN_NONE;
}

/*
 * Read the record at r->off, the file ending at `end`. On TRACE_READ_EVENT
 * (here: "got a record") *payload / *len hold it, r->record_writer its
 * writer id, and r->off is its start: moved past records torn by a killed
 * writer (counted in r->skips), never past anything else.
 *
 * A torn record: its writer's write() was cut short (SIGKILL), and
 * another writer appended after the cut. So the next valid record starts
 * inside the span the torn header claims (or the header itself was cut:
 * fewer than 20 bytes that begin like a marker). A bad region that is not
 * that — a damaged header or payload followed by a record where the
 * damaged one claimed to end — is corruption, reported as before.
 */
static int
reader_record(struct trace_reader *r, uint64_t end, const char **payload,
	      uint32_t *len)
{
	if (r->version == 1)
		return reader_record_v1(r, end, payload, len);
	for (;;) {
		uint64_t off = r->off;
		int rc = TRACE_READ_AGAIN;
		r->tail = end > off ? end - off : 0;
		if (end < off || end - off < TRACE_RECORD_FRAME)
			return TRACE_READ_AGAIN;
		const char *p = reader_window(r, off, TRACE_RECORD_FRAME, end,
					      &rc);
		if (p == NULL)
			return rc == TRACE_READ_ERROR ? reader_fail(r) : rc;
		uint32_t n = 0;
		bool is_head = frame_is_valid(p, off, &n);
		uint32_t writer = trace_record_load_u32(p + 8);
		uint64_t rec_end = off + TRACE_RECORD_FRAME + n;
		const char *why = "bad header";
		if (is_head && rec_end <= end) {
			uint32_t crc = trace_record_load_u32(p + 12);
			p = reader_window(r, off, TRACE_RECORD_FRAME + (size_t)n,
					  end, &rc);
			if (p == NULL)
				return rc == TRACE_READ_ERROR ?
				       reader_fail(r) : rc;
			if (trace_record_crc(n, p + TRACE_RECORD_FRAME) == crc) {
				*payload = p + TRACE_RECORD_FRAME;
				*len = n;
				r->record_writer = writer;
				r->tail = 0;
				return TRACE_READ_EVENT;
			}
			/*
			 * Ending exactly at the end it may still be being
			 * written: then the scan finds nothing and we wait.
			 */
			why = "checksum mismatch";
		}
		uint64_t at = 0;
		int found = reader_scan(r, off + 1, end, &at);
		if (found < 0)
			return reader_fail(r);
		if (found != SCAN_FOUND)
			return TRACE_READ_AGAIN;
		bool is_torn;
		if (is_head) {
			is_torn = at < rec_end;
		} else {
			size_t m = at - off < sizeof(trace_record_marker) ?
				   (size_t)(at - off) :
				   sizeof(trace_record_marker);
			p = reader_window(r, off, m, end, &rc);
			if (p == NULL)
				return rc == TRACE_READ_ERROR ?
				       reader_fail(r) : rc;
			is_torn = at - off < TRACE_RECORD_FRAME &&
				  memcmp(p, trace_record_marker, m) == 0;
		}
		if (!is_torn)
			return reader_corrupt(r, off, why);
		if (is_head) {
			struct reader_writer *w = reader_writer_find(r, writer);
			if (w == NULL)
				return reader_fail(r);
			w->is_torn = true;
		}
		r->skips.n_torn++;
		r->skips.torn_bytes += at - off;
		r->skips.last_off = off;
		r->off = at;
	}
}

/*
 * The end the reader may read up to. The file may only grow: one that
 * shrank was cut or rewritten in place, and one whose path now names
 * another inode was replaced (a new run renames its fresh file over the
 * old one). Both are reported, sticky, and the cached window is dropped so
 * that no byte of the old file is served as the new one's (tail -F).
 */
static int
reader_end(struct trace_reader *r, uint64_t *end)
{
	struct stat by_fd, by_path;
	if (fstat(r->fd, &by_fd) != 0) {
		sys_error("cannot stat", r->path);
		return reader_fail(r);
	}
	uint64_t size = (uint64_t)by_fd.st_size;
	if (size < r->size) {
		if (size < r->off)
			diag_set(DIAG_ER_UNKNOWN, "TraceError",
				 "trace file %s: truncated to %" PRIu64
				 " bytes, below the read offset %" PRIu64,
				 r->path, size, r->off);
		else
			diag_set(DIAG_ER_UNKNOWN, "TraceError",
				 "trace file %s: truncated from %" PRIu64
				 " to %" PRIu64 " bytes (rewritten in place)",
				 r->path, r->size, size);
		return reader_break(r);
	}
	r->size = size;
	/* A path that no longer exists is not a replacement: keep reading. */
	if (stat(r->path, &by_path) == 0 &&
	    (by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev)) {
		diag_set(DIAG_ER_UNKNOWN, "TraceError",
			 "trace file %s: replaced by another file", r->path);
		return reader_break(r);
	}
	*end = r->is_paused && r->limit < size ? r->limit : size;
	return 0;
}

static int
reader_header(struct trace_reader *r, uint64_t end)
{
	int rc = TRACE_READ_AGAIN;
	size_t have = end < TRACE_FILE_PREFIX ? (size_t)end : TRACE_FILE_PREFIX;
	if (have == 0)
		return TRACE_READ_AGAIN;
	const char *p = reader_window(r, 0, have, end, &rc);
	if (p == NULL)
		return rc == TRACE_READ_ERROR ? reader_fail(r) : rc;
	size_t magic = have < 8 ? have : 8;
	if (memcmp(p, trace_file_magic, magic) != 0) {
		diag_set(DIAG_ER_UNKNOWN, "TraceError",
			 "%s is not a kharon trace file (bad magic)", r->path);
		return reader_break(r);
	}
	if (have < TRACE_FILE_PREFIX)
		return TRACE_READ_AGAIN;
	uint32_t version = trace_record_load_u32(p + 8);
	if (version < 1 || version > TRACE_FILE_VERSION) {
		diag_set(DIAG_ER_UNKNOWN, "TraceError",
			 "trace file %s: format version %u, expected 1 to %d",
			 r->path, version, TRACE_FILE_VERSION);
		return reader_break(r);
	}
	r->version = version;
	r->off = TRACE_FILE_PREFIX;
	const char *payload;
	uint32_t len;
	struct trace_reader_skips skips = r->skips;
	rc = reader_record(r, end, &payload, &len);
	if (rc != TRACE_READ_EVENT) {
		/* No record read yet: the offset says so. */
		if (!r->is_broken) {
			r->off = 0;
			r->skips = skips;
		}
		return rc;
	}
	enum trace_record_type type;
	const char *rest;
	if (r->off != TRACE_FILE_PREFIX ||
	    trace_record_type(payload, payload + len, &type, &rest) != 0 ||
	    type != TRACE_RECORD_META)
		return reader_corrupt(r, TRACE_FILE_PREFIX, "no header record");
	r->meta = trace_meta_decode(rest, payload + len);
	if (r->meta == NULL && diag_last()->code == DIAG_ER_MEMORY_ISSUE)
		return reader_fail(r);
	if (r->meta == NULL)
		return reader_corrupt(r, r->off, diag_msg());
	r->off += reader_frame(r) + len;
	r->n_records++;
	return TRACE_READ_EVENT;
}

int
trace_reader_next(struct trace_reader *r, struct trace_event *out)
{
	if (r->is_broken) {
		*diag_last() = r->error;
		return TRACE_READ_ERROR;
	}
	if (r->next_event < r->batch.n_events) {
		*out = r->batch.events[r->next_event++];
		out->writer = r->batch_writer;
		return TRACE_READ_EVENT;
	}
	uint64_t end = 0;
	if (reader_end(r, &end) != 0)
		return TRACE_READ_ERROR;
	if (r->is_end) {
		if (end > r->off) {
			diag_set(DIAG_ER_UNKNOWN, "TraceError",
				 "trace file %s: data after the END record at "
				 "offset %" PRIu64, r->path, r->off);
			return reader_break(r);
		}
		return TRACE_READ_END;
	}
	if (r->meta == NULL) {
		int rc = reader_header(r, end);
		if (rc != TRACE_READ_EVENT)
			return rc;
	}
	for (;;) {
		const char *payload;
		uint32_t len;
		int rc = reader_record(r, end, &payload, &len);
		if (rc != TRACE_READ_EVENT)
			return rc;
		enum trace_record_type type;
		const char *rest;
		if (trace_record_type(payload, payload + len, &type,
				      &rest) != 0)
			return reader_corrupt(r, r->off, "unknown type");
		/* Format 1 knows one writer; format 2 names it in the frame. */
		struct reader_writer *w = NULL;
		if (r->version != 1) {
			w = reader_writer_find(r, r->record_writer);
			if (w == NULL)
				return reader_fail(r);
			if (w->is_torn) {
				/* It wrote after its torn record: not a death. */
				w->is_torn = false;
				r->skips.n_torn_alive++;
			}
		}
		int writer = w != NULL ? (int)(w - r->writers) + 1 : 1;
		if (type == TRACE_RECORD_END) {
			if (rest != payload + len)
				return reader_corrupt(r, r->off, "bad END");
			r->off += reader_frame(r) + len;
			r->n_records++;
			r->is_end = true;
			return trace_reader_next(r, out);
		}
		if (type == TRACE_RECORD_WRITER && w != NULL) {
			if (trace_record_writer_decode(rest, payload + len,
						       &w->pid,
						       &w->start) != 0)
				return reader_corrupt(r, r->off, diag_msg());
			r->off += reader_frame(r) + len;
			r->n_records++;
			continue;
		}
		bool is_packed = type == TRACE_RECORD_PACKED && r->version >= 3;
		if (type != TRACE_RECORD_EVENTS && !is_packed)
			return reader_corrupt(r, r->off, type == TRACE_RECORD_META ?
					      "header mid-file" :
					      type == TRACE_RECORD_PACKED ?
					      "PACKED before version 3" :
					      "WRITER in a version 1 file");
		if ((is_packed ?
		     trace_record_batch_decode_packed(&r->batch, rest,
						      payload + len) :
		     trace_record_batch_decode(&r->batch, rest,
					       payload + len)) != 0) {
			if (diag_last()->code == DIAG_ER_MEMORY_ISSUE)
				return reader_fail(r);
			return reader_corrupt(r, r->off, diag_msg());
		}
		r->off += reader_frame(r) + len;
		r->n_records++;
		r->next_event = 0;
		r->batch_writer = writer;
		if (r->batch.n_events > 0) {
			*out = r->batch.events[r->next_event++];
			out->writer = writer;
			return TRACE_READ_EVENT;
		}
	}
}

/* ------------------------------------------------------------- writer */

/*
 * One cord's buffer of events (trace_writer_cord_sink): filled by one thread
 * with no lock, handed to the writer's batch under the mutex.
 */
struct trace_cord_batch {
	struct trace_cord_batch *next;
	/** Frame + EVENTS tag, then this cord's events. */
	struct trace_record_buf buf;
	int n;
	/** Times of the first and the last event in the buffer. */
	uint64_t first_t, last_t;
	/** Taken by a thread (the one whose cache points here). */
	bool is_taken;
};

static atomic_uint_fast64_t trace_writer_gen;

enum {
	/** A cord batch goes to the writer once it holds this many bytes... */
	TRACE_CORD_BATCH_SIZE = 16 * 1024,
	/** ...or its first event is this old (ns of the emitting cord). */
	TRACE_BATCH_AGE = 50 * 1000 * 1000,
};

struct trace_writer {
	/** Tells a stale thread-local cache from this writer. */
	uint64_t gen;
	/** This writer's id in the frame of every record it writes. */
	uint32_t id;
	/** Every cord batch ever made; reused once released. */
	struct trace_cord_batch *cord_batches;
	/** Bytes of frame + tag at the start of a begun EVENTS record. */
	size_t events_start;
	/** Time of the first event in the writer's batch. */
	uint64_t first_t;
	int fd;
	/** FILE.lock: exclusive around every append, open and close. */
	int lock_fd;
	/** FILE.writers: shared for the writer's whole life. */
	int writers_fd;
	char *path;
	atomic_flag mutex;
	/** The EVENTS (or PACKED) record being filled. */
	struct trace_record_buf batch;
	/** Events go into PACKED records (trace_writer_set_packed). */
	bool is_packed;
	struct trace_record_packer packer;
	int n_batch;
	size_t flush_size;
	void (*split_f)(void *arg);
	void *split_arg;
	/** The first error a sink call met (a sink cannot return it). */
	bool has_error;
	struct diag error;
};

static void
writer_mutex_lock(struct trace_writer *w)
{
	while (atomic_flag_test_and_set_explicit(&w->mutex,
						 memory_order_acquire))
		sched_yield();
}

static void
writer_mutex_unlock(struct trace_writer *w)
{
	atomic_flag_clear_explicit(&w->mutex, memory_order_release);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t done = write(fd, p, n);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -1;
		p += done;
		n -= (size_t)done;
	}
	return 0;
}

static int
writer_lock(struct trace_writer *w, int op)
{
	while (flock(w->lock_fd, op) != 0) {
		if (errno != EINTR) {
			sys_error("cannot lock", w->path);
			return -1;
		}
	}
	return 0;
}

/*
 * Append b->data[0..used) under the file lock; on failure cut the file
 * back to where it was. The split hook applies here.
 */
static int
writer_append_locked(struct trace_writer *w, struct trace_record_buf *b)
{
	int rc = 0;
	/* O_APPEND and the lock: the record lands exactly here. */
	off_t start = lseek(w->fd, 0, SEEK_END);
	if (start >= 0)
		trace_record_seal(b->data, w->id, (uint64_t)start);
	size_t first = b->used;
	if (w->split_f != NULL)
		first = b->used / 2;
	if (start < 0 || write_all(w->fd, b->data, first) != 0) {
		rc = -1;
	} else if (first < b->used) {
		w->split_f(w->split_arg);
		if (write_all(w->fd, b->data + first, b->used - first) != 0)
			rc = -1;
	}
	w->split_f = NULL;
	if (rc != 0) {
		sys_error("cannot write", w->path);
		if (start >= 0 && ftruncate(w->fd, start) != 0) {
			/* Keep the write error: it is the cause. */
		}
	}
	return rc;
}

static int
writer_append(struct trace_writer *w, struct trace_record_buf *b)
{
	if (writer_lock(w, LOCK_EX) != 0)
		return -1;
	int rc = writer_append_locked(w, b);
	writer_lock(w, LOCK_UN);
	return rc;
}

static int
writer_flush_locked(struct trace_writer *w)
{
	if (w->n_batch == 0)
		return 0;
	int rc = trace_record_finish(&w->batch);
	if (rc == 0)
		rc = writer_append(w, &w->batch);
	w->n_batch = 0;
	/* Cannot fail: the buffer already holds the frame and the tag. */
	trace_record_begin(&w->batch, w->is_packed ? TRACE_RECORD_PACKED :
			   TRACE_RECORD_EVENTS);
	/* Every PACKED record names its shapes afresh. */
	trace_record_packer_reset(&w->packer);
	return rc;
}

/*
 * The WRITER record that says who this writer is (pid, start time): the
 * first record of each writer, so readers can tell writers apart.
 */
static int
writer_who(struct trace_record_buf *b)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t start = (uint64_t)ts.tv_sec * 1000000000ULL +
			 (uint64_t)ts.tv_nsec;
	if (trace_record_begin(b, TRACE_RECORD_WRITER) != 0 ||
	    trace_record_add_writer(b, (uint32_t)getpid(), start) != 0)
		return -1;
	return trace_record_finish(b);
}

/*
 * Write the file's header (magic, version, META record, this writer's
 * WRITER record) to `fd`, an empty
 * file, in one write() (a reader never sees magic alone for long).
 * On failure the file is cut back to empty.
 */
static int
writer_write_header(struct trace_writer *w, int fd,
		    const struct trace_meta *meta)
{
	static const char *const no_cords[1] = {NULL};
	const struct trace_meta defaults = {
		.scenario = "", .seed = 0, .mode = "real",
		.cords = no_cords, .n_cords = 0,
		.created_by = "kharon",
	};
	struct trace_record_buf b, who;
	trace_record_buf_create(&b);
	trace_record_buf_create(&who);
	int rc = -1;
	if (trace_record_begin(&b, TRACE_RECORD_META) != 0 ||
	    trace_record_add_meta(&b, meta != NULL ? meta : &defaults) != 0 ||
	    trace_record_finish(&b) != 0 || writer_who(&who) != 0)
		goto out;
	size_t size = TRACE_FILE_PREFIX + b.used + who.used;
	char *all = mem_alloc(size);
	if (all == NULL) {
		diag_set_oom(size, "trace header");
		goto out;
	}
	memcpy(all, trace_file_magic, 8);
	trace_record_store_u32(all + 8, TRACE_FILE_VERSION);
	memcpy(all + TRACE_FILE_PREFIX, b.data, b.used);
	trace_record_seal(all + TRACE_FILE_PREFIX, w->id, TRACE_FILE_PREFIX);
	memcpy(all + TRACE_FILE_PREFIX + b.used, who.data, who.used);
	trace_record_seal(all + TRACE_FILE_PREFIX + b.used, w->id,
			  TRACE_FILE_PREFIX + b.used);
	rc = write_all(fd, all, size);
	if (rc != 0) {
		sys_error("cannot write", w->path);
		if (ftruncate(fd, 0) != 0) {
			/* Keep the write error. */
		}
	}
	mem_free(all);
out:
	trace_record_buf_destroy(&who);
	trace_record_buf_destroy(&b);
	return rc;
}

/*
 * Start the file afresh without touching the old one: the new header goes
 * to a temporary file in the same directory, renamed over `path` (a new
 * inode: a reader still following the old file sees it replaced, never
 * rewritten under its feet). The writer keeps the new descriptor.
 * Under FILE.lock.
 */
static int
writer_replace(struct trace_writer *w, const struct trace_meta *meta,
	       mode_t mode)
{
	char *tmp = path_dup(w->path, ".new-XXXXXX");
	if (tmp == NULL)
		return -1;
	int fd = mkostemp(tmp, O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		sys_error("cannot create a temporary file for", w->path);
		goto err_free;
	}
	if (fchmod(fd, mode & 07777) != 0) {
		sys_error("cannot chmod", tmp);
		goto err_unlink;
	}
	if (writer_write_header(w, fd, meta) != 0)
		goto err_unlink;
	if (rename(tmp, w->path) != 0) {
		sys_error("cannot rename a fresh trace over", w->path);
		goto err_unlink;
	}
	mem_free(tmp);
	close(w->fd);
	w->fd = fd;
	return 0;
err_unlink:
	unlink(tmp);
	close(fd);
err_free:
	mem_free(tmp);
	return -1;
}

/*
 * Whether another writer is alive: it holds FILE.writers shared. When none
 * is, this writer now holds it exclusive (downgraded by the caller).
 */
static int
writer_others_alive(struct trace_writer *w, bool *is_alive)
{
	while (flock(w->writers_fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			*is_alive = true;
			return 0;
		}
		if (errno != EINTR) {
			sys_error("cannot lock the writers of", w->path);
			return -1;
		}
	}
	*is_alive = false;
	return 0;
}

/*
 * Make `w->fd` a file to append to: a missing or empty one gets a header;
 * a trace no writer is alive for — ended, or left without END by a crash —
 * is started afresh; one that other writers are appending to is checked
 * and joined. Under FILE.lock, before taking FILE.writers shared.
 */
static int
writer_init_file(struct trace_writer *w, const struct trace_meta *meta)
{
	struct stat st;
	if (fstat(w->fd, &st) != 0) {
		sys_error("cannot stat", w->path);
		return -1;
	}
	if (st.st_size == 0)
		return writer_write_header(w, w->fd, meta);
	struct trace_reader *r = trace_reader_new(w->path);
	if (r == NULL)
		return -1;
	/* Never replace what is not a trace: check magic and version. */
	uint64_t have = (uint64_t)st.st_size;
	int rc = reader_header(r, have < TRACE_FILE_PREFIX ?
			       have : TRACE_FILE_PREFIX);
	bool is_alive = false;
	if (rc == TRACE_READ_ERROR || writer_others_alive(w, &is_alive) != 0)
		goto out;
	if (!is_alive) {
		rc = writer_replace(w, meta, st.st_mode) == 0 ?
		     TRACE_READ_EVENT : TRACE_READ_ERROR;
		goto out;
	}
	/* Writers are alive: the file is theirs, its header must be whole. */
	rc = reader_header(r, have);
	if (rc == TRACE_READ_AGAIN)
		diag_set(DIAG_ER_UNKNOWN, "TraceError",
			 "trace file %s: torn header", w->path);
	if (rc == TRACE_READ_EVENT && r->version != TRACE_FILE_VERSION) {
		diag_set(DIAG_ER_UNKNOWN, "TraceError",
			 "trace file %s: format version %u is being written by "
			 "an older kharon; this one writes version %d",
			 w->path, r->version, TRACE_FILE_VERSION);
		rc = TRACE_READ_ERROR;
	}
	if (rc == TRACE_READ_EVENT) {
		/* Joining: say who is writing from now on. */
		struct trace_record_buf who;
		trace_record_buf_create(&who);
		if (writer_who(&who) != 0 ||
		    writer_append_locked(w, &who) != 0)
			rc = TRACE_READ_ERROR;
		trace_record_buf_destroy(&who);
	}
out:
	trace_reader_delete(r);
	return rc == TRACE_READ_EVENT ? 0 : -1;
}

/*
 * A writer id: random (getrandom), so two processes — or a process and
 * the one that had its pid before — never look like one writer. Without
 * entropy, the pid, the clock and `gen` mixed by crc32.
 */
static uint32_t
writer_new_id(uint64_t gen)
{
	uint32_t id;
	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) == (ssize_t)sizeof(id))
		return id;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t mix[3] = {(uint64_t)getpid(), (uint64_t)ts.tv_nsec ^
			   ((uint64_t)ts.tv_sec << 30), gen};
	return trace_record_crc(sizeof(mix), (const char *)mix);
}

static int
open_lock_file(const char *path, const char *suffix)
{
	char *lock_path = path_dup(path, suffix);
	if (lock_path == NULL)
		return -1;
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		sys_error("cannot open", lock_path);
	mem_free(lock_path);
	return fd;
}

struct trace_writer *
trace_writer_new(const char *path, const struct trace_meta *meta)
{
	struct trace_writer *w = mem_zalloc(sizeof(*w));
	if (w == NULL) {
		diag_set_oom(sizeof(*w), "trace writer");
		return NULL;
	}
	w->flush_size = TRACE_WRITER_FLUSH_SIZE;
	w->gen = atomic_fetch_add(&trace_writer_gen, 1) + 1;
	w->id = writer_new_id(w->gen);
	trace_record_buf_create(&w->batch);
	trace_record_packer_create(&w->packer);
	atomic_flag_clear(&w->mutex);
	w->path = path_dup(path, "");
	if (w->path == NULL)
		goto err_free;
	if (trace_record_begin(&w->batch, TRACE_RECORD_EVENTS) != 0)
		goto err_free_path;
	w->events_start = w->batch.used;
	w->lock_fd = open_lock_file(path, ".lock");
	if (w->lock_fd < 0)
		goto err_free_path;
	w->writers_fd = open_lock_file(path, ".writers");
	if (w->writers_fd < 0)
		goto err_close_lock;
	/*
	 * Open, decide and join under FILE.lock: no other writer opens or
	 * closes meanwhile, so "no writer alive" stays true until this one
	 * holds FILE.writers shared.
	 */
	if (writer_lock(w, LOCK_EX) != 0)
		goto err_close_writers;
	w->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		sys_error("cannot open", path);
		goto err_unlock;
	}
	if (writer_init_file(w, meta) != 0)
		goto err_close_fd;
	/* Shared (a downgrade if the check above took it exclusive). */
	while (flock(w->writers_fd, LOCK_SH) != 0) {
		if (errno != EINTR) {
			sys_error("cannot lock the writers of", path);
			goto err_close_fd;
		}
	}
	writer_lock(w, LOCK_UN);
	return w;
err_close_fd:
	close(w->fd);
err_unlock:
	writer_lock(w, LOCK_UN);
err_close_writers:
	close(w->writers_fd);
err_close_lock:
	close(w->lock_fd);
err_free_path:
	mem_free(w->path);
err_free:
	trace_record_buf_destroy(&w->batch);
	trace_record_packer_destroy(&w->packer);
	mem_free(w);
	return NULL;
}

static void
writer_keep_error(struct trace_writer *w);

void
trace_writer_set_packed(struct trace_writer *w)
{
	writer_mutex_lock(w);
	/* Events already batched go out in their own EVENTS record. */
	if (!w->is_packed && writer_flush_locked(w) != 0)
		writer_keep_error(w);
	if (!w->is_packed) {
		w->is_packed = true;
		trace_record_begin(&w->batch, TRACE_RECORD_PACKED);
		trace_record_packer_reset(&w->packer);
	}
	writer_mutex_unlock(w);
}

void
trace_writer_lock(struct trace_writer *w)
{
	writer_mutex_lock(w);
}

void
trace_writer_unlock(struct trace_writer *w)
{
	writer_mutex_unlock(w);
}

/* After an event went into the batch (rc 0): count it, flush when full. */
static int
writer_added_locked(struct trace_writer *w, int rc)
{
	if (rc == 0) {
		w->n_batch++;
		if (w->batch.used >= w->flush_size)
			rc = writer_flush_locked(w);
	}
	return rc;
}

int
trace_writer_add_values_locked(struct trace_writer *w, uint64_t seq,
			       uint64_t t, const char *cord, const char *ev,
			       uint32_t n, const char *const *keys,
			       const unsigned char *kinds, const char *values,
			       size_t len)
{
	return writer_added_locked(w, trace_record_add_packed_values(
		&w->batch, &w->packer, seq, t, cord, ev, n, keys, kinds,
		values, len));
}

int
trace_writer_add_locked(struct trace_writer *w, const struct trace_event *e,
			bool is_static)
{
	return writer_added_locked(w, w->is_packed ?
		trace_record_add_packed(&w->batch, &w->packer, e, is_static) :
		trace_record_add_event(&w->batch, e));
}

int
trace_writer_add(struct trace_writer *w, const struct trace_event *e)
{
	writer_mutex_lock(w);
	int rc = w->is_packed ?
		 trace_record_add_packed(&w->batch, &w->packer, e, false) :
		 trace_record_add_event(&w->batch, e);
	if (rc == 0) {
		w->n_batch++;
		if (w->batch.used >= w->flush_size)
			rc = writer_flush_locked(w);
	}
	writer_mutex_unlock(w);
	return rc;
}

int
trace_writer_flush(struct trace_writer *w)
{
	writer_mutex_lock(w);
	int rc = writer_flush_locked(w);
	writer_mutex_unlock(w);
	return rc;
}

void
trace_writer_sink(void *arg, const struct trace_event *e)
{
	struct trace_writer *w = arg;
	if (trace_writer_add(w, e) == 0)
		return;
	writer_mutex_lock(w);
	if (!w->has_error) {
		w->has_error = true;
		w->error = *diag_last();
	}
	writer_mutex_unlock(w);
}

/* ---------------------------------------------- per-cord batches */

/** The calling thread's cord batch and the writer it belongs to. */
static _Thread_local struct {
	uint64_t gen;
	struct trace_cord_batch *batch;
} trace_cord_cache;

static void
writer_keep_error(struct trace_writer *w)
{
	if (!w->has_error) {
		w->has_error = true;
		w->error = *diag_last();
	}
}

/*
 * Move a cord batch's events into the writer's batch (and to the file when
 * that is full or old enough). Under the mutex.
 */
static void
writer_merge_locked(struct trace_writer *w, struct trace_cord_batch *b)
{
	if (b->n == 0)
		return;
	size_t len = b->buf.used - w->events_start;
	struct trace_record_buf *to = &w->batch;
	if (to->used + len > to->cap) {
		size_t cap = to->cap * 2;
		while (cap < to->used + len)
			cap *= 2;
		char *data = mem_realloc(to->data, cap);
		if (data == NULL) {
			diag_set_oom(cap, "trace batch");
			writer_keep_error(w);
			goto out;
		}
		to->data = data;
		to->cap = cap;
	}
	if (w->n_batch == 0)
		w->first_t = b->first_t;
	memcpy(to->data + to->used, b->buf.data + w->events_start, len);
	to->used += len;
	w->n_batch += b->n;
	uint64_t last_t = b->last_t;
	if (to->used >= w->flush_size ||
	    (last_t > w->first_t && last_t - w->first_t >= TRACE_BATCH_AGE)) {
		if (writer_flush_locked(w) != 0)
			writer_keep_error(w);
	}
out:
	b->buf.used = w->events_start;
	b->n = 0;
}

/* The calling thread's batch for `w`, taking one under the mutex if needed. */
static struct trace_cord_batch *
writer_cord_batch(struct trace_writer *w)
{
	if (trace_cord_cache.batch != NULL && trace_cord_cache.gen == w->gen)
		return trace_cord_cache.batch;
	writer_mutex_lock(w);
	struct trace_cord_batch *b = w->cord_batches;
	while (b != NULL && b->is_taken)
		b = b->next;
	if (b == NULL) {
		b = mem_zalloc(sizeof(*b));
		if (b == NULL) {
			diag_set_oom(sizeof(*b), "trace cord batch");
			goto err;
		}
		trace_record_buf_create(&b->buf);
		if (trace_record_begin(&b->buf, TRACE_RECORD_EVENTS) != 0) {
			trace_record_buf_destroy(&b->buf);
			mem_free(b);
			b = NULL;
			goto err;
		}
		b->next = w->cord_batches;
		w->cord_batches = b;
	}
	b->is_taken = true;
	writer_mutex_unlock(w);
	trace_cord_cache.gen = w->gen;
	trace_cord_cache.batch = b;
	return b;
err:
	writer_keep_error(w);
	writer_mutex_unlock(w);
	return NULL;
}

void
trace_writer_cord_sink(void *arg, const struct trace_event *e)
{
	struct trace_writer *w = arg;
	struct trace_cord_batch *b = writer_cord_batch(w);
	if (b == NULL)
		return;
	if (trace_record_add_event(&b->buf, e) != 0) {
		writer_mutex_lock(w);
		writer_keep_error(w);
		writer_mutex_unlock(w);
		return;
	}
	if (b->n++ == 0)
		b->first_t = e->t;
	b->last_t = e->t;
	if (b->buf.used >= TRACE_CORD_BATCH_SIZE ||
	    (e->t > b->first_t && e->t - b->first_t >= TRACE_BATCH_AGE)) {
		writer_mutex_lock(w);
		writer_merge_locked(w, b);
		writer_mutex_unlock(w);
	}
}

void
trace_writer_cord_leave(void *arg)
{
	struct trace_writer *w = arg;
	struct trace_cord_batch *b = trace_cord_cache.batch;
	if (b == NULL || trace_cord_cache.gen != w->gen)
		return;
	writer_mutex_lock(w);
	writer_merge_locked(w, b);
	b->is_taken = false;
	writer_mutex_unlock(w);
	trace_cord_cache.batch = NULL;
}

void
trace_writer_cord_idle(void *arg)
{
	struct trace_writer *w = arg;
	trace_writer_cord_leave(w);
	writer_mutex_lock(w);
	if (w->n_batch > 0 && writer_flush_locked(w) != 0)
		writer_keep_error(w);
	writer_mutex_unlock(w);
}

void
trace_writer_install(struct trace_writer *w)
{
	trace_set_batch_sink(trace_writer_cord_sink, trace_writer_cord_leave,
			     w);
	trace_set_idle_hook(trace_writer_cord_idle);
}

void
trace_writer_set_flush_size(struct trace_writer *w, size_t size)
{
	writer_mutex_lock(w);
	w->flush_size = size;
	writer_mutex_unlock(w);
}

void
trace_writer_split_next(struct trace_writer *w, void (*between)(void *arg),
			void *arg)
{
	writer_mutex_lock(w);
	w->split_f = between;
	w->split_arg = arg;
	writer_mutex_unlock(w);
}

/*
 * Leave the file: append END when asked to and this is the last writer
 * alive (FILE.writers can be taken exclusive), then drop FILE.writers —
 * all under FILE.lock, so two writers closing at once cannot both see the
 * other alive and leave the file without END: the second one to get here
 * finds the first gone.
 */
static int
writer_leave(struct trace_writer *w, bool end)
{
	int rc = 0;
	if (end && (rc = writer_lock(w, LOCK_EX)) == 0) {
		bool is_alive = true;
		rc = writer_others_alive(w, &is_alive);
		if (rc == 0 && !is_alive) {
			struct trace_record_buf b;
			trace_record_buf_create(&b);
			rc = trace_record_begin(&b, TRACE_RECORD_END);
			if (rc == 0)
				rc = trace_record_finish(&b);
			if (rc == 0)
				rc = writer_append_locked(w, &b);
			trace_record_buf_destroy(&b);
		}
		/* Closing releases the shared (or exclusive) lock. */
		close(w->writers_fd);
		writer_lock(w, LOCK_UN);
	} else {
		close(w->writers_fd);
	}
	return rc;
}

int
trace_writer_close(struct trace_writer *w, bool end)
{
	writer_mutex_lock(w);
	/* No cord runs now: whatever cords left in their batches goes too. */
	for (struct trace_cord_batch *b = w->cord_batches; b != NULL;
	     b = b->next)
		writer_merge_locked(w, b);
	int rc = writer_flush_locked(w);
	int leave_rc = writer_leave(w, end && rc == 0);
	if (rc == 0)
		rc = leave_rc;
	if (rc == 0 && w->has_error) {
		*diag_last() = w->error;
		rc = -1;
	}
	writer_mutex_unlock(w);
	close(w->fd);
	close(w->lock_fd);
	trace_record_buf_destroy(&w->batch);
	trace_record_packer_destroy(&w->packer);
	while (w->cord_batches != NULL) {
		struct trace_cord_batch *b = w->cord_batches;
		w->cord_batches = b->next;
		trace_record_buf_destroy(&b->buf);
		mem_free(b);
	}
	if (trace_cord_cache.gen == w->gen)
		trace_cord_cache.batch = NULL;
	mem_free(w->path);
	mem_free(w);
	return rc;
}
