/*
 * trace_export.c — trace events as JSON Lines, text or Chrome Trace Event
 * Format. See trace_export.h for what each format holds.
 */
#include "trace/trace_export.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/diag.h"
#include "base/intmap.h"
#include "base/mem.h"
#include "trace/trace_file.h"

enum { EXPORT_NAME_MAX = 64 };

/** A cord seen in the trace: its chrome tid is its index + 1. */
struct export_cord {
	/** The whole name (owned): a cut one would never match again. */
	char *name;
};

/** A cbus message by id (chrome). */
struct export_msg {
	/** The message id; for writer N > 1 of a shared file, N << 32 | id. */
	uint64_t id;
	/** The flow of its last cpipe.push, not yet delivered (0: none). */
	uint64_t flow;
	/** Where that push went (a cord name), to close it if undelivered. */
	char to[EXPORT_NAME_MAX + 16];
	bool is_open;
	int tid;
};

struct trace_export {
	FILE *out;
	enum trace_format format;
	uint64_t n_written;
	uint64_t last_t;
	struct export_cord *cords;
	int n_cords, cap_cords;
	/** Cord name hash (+ probe) -> index in `cords`. */
	struct intmap cord_index;
	/** Messages in order of first sight; as many as the file names. */
	struct export_msg *msgs;
	uint32_t n_msgs, cap_msgs;
	/** Message id -> index in `msgs`. */
	struct intmap msg_index;
	uint64_t next_flow;
};

int
trace_format_parse(const char *name, enum trace_format *format)
{
	if (strcmp(name, "jsonl") == 0)
		*format = TRACE_FORMAT_JSONL;
	else if (strcmp(name, "text") == 0)
		*format = TRACE_FORMAT_TEXT;
	else if (strcmp(name, "chrome") == 0)
		*format = TRACE_FORMAT_CHROME;
	else
		return -1;
	return 0;
}

struct trace_export *
trace_export_new(FILE *out, enum trace_format format)
{
	struct trace_export *x = mem_zalloc(sizeof(*x));
	if (x == NULL) {
		diag_set_oom(sizeof(*x), "trace export");
		return NULL;
	}
	x->out = out;
	x->format = format;
	if (format == TRACE_FORMAT_CHROME)
		fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", out);
	return x;
}

void
trace_export_delete(struct trace_export *x)
{
	for (int i = 0; i < x->n_cords; i++)
		mem_free(x->cords[i].name);
	mem_free(x->cords);
	intmap_destroy(&x->cord_index);
	mem_free(x->msgs);
	intmap_destroy(&x->msg_index);
	mem_free(x);
}

/*
 * The length of the valid UTF-8 sequence at `p` (1..4), or 0 when the bytes
 * there are not one (a stray continuation byte, a truncated sequence, an
 * overlong form, a surrogate, past U+10FFFF). `p` is NUL-terminated.
 */
static int
utf8_valid_len(const unsigned char *p)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	int n;
	uint32_t min, cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, min = 0x80, cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, min = 0x800, cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, min = 0x10000, cp = c & 0x07;
	} else {
		return 0;
	}
	for (int i = 1; i < n; i++) {
		/* A NUL (the end) fails this test too. */
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A JSON string. Bytes that are not valid UTF-8 (a trace file holds
 * whatever its writer was given) become U+FFFD, one per bad byte, so the
 * output is always valid JSON.
 */
static void
json_string(FILE *out, const char *s)
{
	fputc('"', out);
	const unsigned char *p = (const unsigned char *)s;
	while (*p != 0) {
		int n = utf8_valid_len(p);
		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
		} else if (n > 1) {
			fwrite(p, 1, (size_t)n, out);
			p += n;
		} else if (*p == '"' || *p == '\\') {
			fprintf(out, "\\%c", *p++);
		} else if (*p < 0x20) {
			fprintf(out, "\\u%04x", *p++);
		} else {
			fputc(*p++, out);
		}
	}
	fputc('"', out);
}

static const struct trace_field *
event_field(const struct trace_event *e, const char *key)
{
	for (int i = 0; i < e->n_fields; i++) {
		if (strcmp(e->fields[i].key, key) == 0)
			return &e->fields[i];
	}
	return NULL;
}

/* "k":v,"k":"s"... for every field, with a leading comma if `comma`. */
static void
json_fields(FILE *out, const struct trace_event *e, bool comma)
{
	for (int i = 0; i < e->n_fields; i++) {
		if (comma || i > 0)
			fputc(',', out);
		json_string(out, e->fields[i].key);
		fputc(':', out);
		if (e->fields[i].s != NULL)
			json_string(out, e->fields[i].s);
		else
			fprintf(out, "%" PRId64, e->fields[i].i);
	}
}

/*
 * A cord's name in the text and chrome exports: as emitted for the first
 * writer of a file, "tx@2" for the second writer's cord "tx" (two server
 * processes sharing one trace both have a "tx"). Into `buf` when renamed.
 */
static const char *
export_cord_name(const char *cord, int writer, char *buf, size_t size)
{
	if (writer <= 1)
		return cord;
	snprintf(buf, size, "%s@%d", cord, writer);
	return buf;
}

static void
export_jsonl(struct trace_export *x, const struct trace_event *e)
{
	fprintf(x->out, "{\"seq\":%" PRIu64 ",\"t\":%" PRIu64, e->seq, e->t);
	if (e->writer > 1)
		fprintf(x->out, ",\"writer\":%d", e->writer);
	fputs(",\"cord\":", x->out);
	json_string(x->out, e->cord);
	fputs(",\"ev\":", x->out);
	json_string(x->out, e->ev);
	json_fields(x->out, e, true);
	fputs("}\n", x->out);
}

static void
export_text(struct trace_export *x, const struct trace_event *e)
{
	char cord_buf[EXPORT_NAME_MAX + 16];
	fprintf(x->out, "%8" PRIu64 " %6" PRIu64 ".%09" PRIu64 " %-8s %-16s",
		e->seq, e->t / 1000000000, e->t % 1000000000,
		export_cord_name(e->cord, e->writer, cord_buf,
				 sizeof(cord_buf)), e->ev);
	for (int i = 0; i < e->n_fields; i++) {
		const struct trace_field *f = &e->fields[i];
		if (f->s == NULL)
			fprintf(x->out, " %s=%" PRId64, f->key, f->i);
		else if (f->s[0] == '\0' || strpbrk(f->s, " \t\n\"=") != NULL)
			fprintf(x->out, " %s=\"%s\"", f->key, f->s);
		else
			fprintf(x->out, " %s=%s", f->key, f->s);
	}
	fputc('\n', x->out);
}

/* ------------------------------------------------------------- chrome */

/* Start a chrome event object (with the separating comma). */
static void
chrome_begin(struct trace_export *x)
{
	if (x->n_written++ > 0)
		fputc(',', x->out);
	fputc('\n', x->out);
}

static void
chrome_ts(FILE *out, uint64_t t)
{
	fprintf(out, "\"ts\":%" PRIu64 ".%03" PRIu64, t / 1000, t % 1000);
}

/*
 * The chrome tid of a cord, announcing it on first sight; -1 on OOM.
 * Found by the hash of its name: key h, then h + 1, ... on a collision.
 */
static int
chrome_tid(struct trace_export *x, const char *cord)
{
	uint64_t key = intmap_hash_str(cord);
	struct intmap_slot *slot;
	while ((slot = intmap_find(&x->cord_index, key, false)) != NULL) {
		if (strcmp(x->cords[slot->value].name, cord) == 0)
			return (int)slot->value + 1;
		key++;
	}
	if (x->n_cords == x->cap_cords) {
		int cap = x->cap_cords == 0 ? 8 : x->cap_cords * 2;
		void *p = mem_realloc(x->cords, (size_t)cap * sizeof(*x->cords));
		if (p == NULL) {
			diag_set_oom((size_t)cap * sizeof(*x->cords),
				     "trace export cords");
			return -1;
		}
		x->cords = p;
		x->cap_cords = cap;
	}
	size_t len = strlen(cord);
	char *name = mem_alloc(len + 1);
	if (name == NULL) {
		diag_set_oom(len + 1, "trace export cord name");
		return -1;
	}
	memcpy(name, cord, len + 1);
	slot = intmap_find(&x->cord_index, key, true);
	if (slot == NULL) {
		mem_free(name);
		return -1;
	}
	slot->value = x->n_cords;
	x->cords[x->n_cords++].name = name;
	int tid = x->n_cords;
	chrome_begin(x);
	fprintf(x->out, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,"
		"\"tid\":%d,\"args\":{\"name\":", tid);
	json_string(x->out, cord);
	fputs("}}", x->out);
	chrome_begin(x);
	fprintf(x->out, "{\"ph\":\"M\",\"name\":\"thread_sort_index\","
		"\"pid\":1,\"tid\":%d,\"args\":{\"sort_index\":%d}}", tid, tid);
	return tid;
}

/*
 * The state of message `id`, made on first sight; NULL on OOM. Memory
 * grows with the number of distinct ids, never with their values (a
 * damaged file may say msg=60000000). The pointer is valid until the next
 * call.
 */
static struct export_msg *
chrome_msg(struct trace_export *x, uint64_t id)
{
	struct intmap_slot *slot = intmap_find(&x->msg_index, id, false);
	if (slot != NULL)
		return &x->msgs[slot->value];
	if (x->n_msgs == x->cap_msgs) {
		uint32_t cap = x->cap_msgs == 0 ? 64 : x->cap_msgs * 2;
		void *p = mem_realloc(x->msgs, (size_t)cap * sizeof(*x->msgs));
		if (p == NULL) {
			diag_set_oom((size_t)cap * sizeof(*x->msgs),
				     "trace export messages");
			return NULL;
		}
		x->msgs = p;
		x->cap_msgs = cap;
	}
	slot = intmap_find(&x->msg_index, id, true);
	if (slot == NULL)
		return NULL;
	slot->value = x->n_msgs;
	struct export_msg *m = &x->msgs[x->n_msgs++];
	memset(m, 0, sizeof(*m));
	m->id = id;
	return m;
}

/* A zero-length slice; flow: 0 none, else bind it as out (1) or in (0). */
static void
chrome_slice(struct trace_export *x, int tid, uint64_t t, const char *name,
	     const struct trace_event *e, uint64_t flow, bool is_out)
{
	chrome_begin(x);
	fputs("{\"ph\":\"X\",\"dur\":0,\"pid\":1,", x->out);
	fprintf(x->out, "\"tid\":%d,", tid);
	chrome_ts(x->out, t);
	fputs(",\"name\":", x->out);
	json_string(x->out, name);
	const char *dot = strchr(name, '.');
	char cat[EXPORT_NAME_MAX];
	size_t n = dot != NULL ? (size_t)(dot - name) : strlen(name);
	if (n >= sizeof(cat))
		n = sizeof(cat) - 1;
	memcpy(cat, name, n);
	cat[n] = '\0';
	fputs(",\"cat\":", x->out);
	json_string(x->out, cat);
	if (flow != 0)
		fprintf(x->out, ",\"bind_id\":\"0x%" PRIx64 "\",\"%s\":true",
			flow, is_out ? "flow_out" : "flow_in");
	fputs(",\"args\":{", x->out);
	if (e != NULL) {
		fprintf(x->out, "\"seq\":%" PRIu64, e->seq);
		json_fields(x->out, e, true);
	}
	fputs("}}", x->out);
}

static void
chrome_async(struct trace_export *x, int tid, uint64_t t, uint64_t id,
	     bool is_begin)
{
	chrome_begin(x);
	fprintf(x->out, "{\"ph\":\"%s\",\"cat\":\"cbus\",\"name\":\"cmsg\","
		"\"id\":\"0x%" PRIx64 "\",\"pid\":1,\"tid\":%d,",
		is_begin ? "b" : "e", id, tid);
	chrome_ts(x->out, t);
	fputs("}", x->out);
}

static void
chrome_counter(struct trace_export *x, uint64_t t, const char *what,
	       int64_t conn, int64_t buf, const char *key, int64_t value,
	       int writer)
{
	char who[16] = "";
	if (writer > 1)
		snprintf(who, sizeof(who), "@%d", writer);
	chrome_begin(x);
	fprintf(x->out, "{\"ph\":\"C\",\"pid\":1,\"name\":\"%s conn %" PRId64
		"%s buf %" PRId64 "\",", what, conn, who, buf);
	chrome_ts(x->out, t);
	fprintf(x->out, ",\"args\":{\"%s\":%" PRId64 "}}", key, value);
}

/* Close a pending flow of `m` with a slice on the cord it was sent to. */
static int
chrome_undelivered(struct trace_export *x, struct export_msg *m, uint64_t t)
{
	int tid = chrome_tid(x, m->to);
	if (tid < 0)
		return -1;
	chrome_slice(x, tid, t, "cmsg.undelivered", NULL, m->flow, false);
	m->flow = 0;
	return 0;
}

static int
export_chrome(struct trace_export *x, const struct trace_event *e)
{
	char cord_buf[EXPORT_NAME_MAX + 16];
	const char *cord = export_cord_name(e->cord, e->writer, cord_buf,
					    sizeof(cord_buf));
	int tid = chrome_tid(x, cord);
	if (tid < 0)
		return -1;
	uint64_t msg_hi = e->writer > 1 ? (uint64_t)e->writer << 32 : 0;
	const struct trace_field *msg_f = event_field(e, "msg");
	struct export_msg *m = NULL;
	if (msg_f != NULL && msg_f->s == NULL && msg_f->i > 0 &&
	    msg_f->i < INT32_MAX &&
	    (strcmp(e->ev, "cpipe.push") == 0 ||
	     strcmp(e->ev, "cmsg.hop") == 0)) {
		m = chrome_msg(x, msg_hi | (uint64_t)msg_f->i);
		if (m == NULL)
			return -1;
	}
	uint64_t flow = 0;
	bool is_out = false;
	if (m != NULL && strcmp(e->ev, "cpipe.push") == 0) {
		if (m->flow != 0 && chrome_undelivered(x, m, e->t) != 0)
			return -1;
		if (!m->is_open) {
			chrome_async(x, tid, e->t, m->id, true);
			m->is_open = true;
			m->tid = tid;
		}
		const struct trace_field *to = event_field(e, "to");
		char to_buf[EXPORT_NAME_MAX];
		snprintf(m->to, sizeof(m->to), "%s",
			 to != NULL && to->s != NULL ?
			 export_cord_name(to->s, e->writer, to_buf,
					  sizeof(to_buf)) : cord);
		flow = m->flow = ++x->next_flow;
		is_out = true;
	} else if (m != NULL && m->flow != 0) {
		flow = m->flow;
		m->flow = 0;
	}
	chrome_slice(x, tid, e->t, e->ev, e, flow, is_out);
	if (m != NULL && strcmp(e->ev, "cmsg.hop") == 0 && m->is_open) {
		const struct trace_field *last = event_field(e, "last");
		if (last != NULL && last->s == NULL && last->i != 0) {
			chrome_async(x, m->tid, e->t, m->id, false);
			m->is_open = false;
		}
	}
	const struct trace_field *conn = event_field(e, "conn");
	const struct trace_field *buf = event_field(e, "buf");
	if (conn == NULL || buf == NULL)
		return 0;
	if (strncmp(e->ev, "ibuf.", 5) == 0) {
		const struct trace_field *rpos = event_field(e, "rpos");
		const struct trace_field *wpos = event_field(e, "wpos");
		if (rpos != NULL && wpos != NULL)
			chrome_counter(x, e->t, "ibuf", conn->i, buf->i,
				       "unparsed", wpos->i - rpos->i,
				       e->writer);
	} else if (strcmp(e->ev, "obuf.reset") == 0) {
		chrome_counter(x, e->t, "obuf", conn->i, buf->i, "end", 0,
			       e->writer);
	} else {
		const struct trace_field *end = event_field(e, "end");
		if (end != NULL && end->s == NULL)
			chrome_counter(x, e->t, "obuf", conn->i, buf->i,
				       "end", end->i, e->writer);
	}
	return 0;
}

static int
export_check_io(struct trace_export *x)
{
	if (ferror(x->out)) {
		diag_set(DIAG_ER_SYSTEM, "SystemError",
			 "cannot write the export: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
trace_export_meta(struct trace_export *x, const struct trace_meta *m)
{
	if (x->format != TRACE_FORMAT_CHROME)
		return 0;
	for (int i = 0; i < m->n_cords; i++) {
		if (chrome_tid(x, m->cords[i]) < 0)
			return -1;
	}
	return export_check_io(x);
}

int
trace_export_event(struct trace_export *x, const struct trace_event *e)
{
	if (e->t > x->last_t)
		x->last_t = e->t;
	switch (x->format) {
	case TRACE_FORMAT_JSONL:
		export_jsonl(x, e);
		break;
	case TRACE_FORMAT_TEXT:
		export_text(x, e);
		break;
	case TRACE_FORMAT_CHROME:
		if (export_chrome(x, e) != 0)
			return -1;
		break;
	}
	return export_check_io(x);
}

static int
export_msg_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct export_msg *)a)->id;
	uint64_t y = ((const struct export_msg *)b)->id;
	return x < y ? -1 : x > y;
}

int
trace_export_finish(struct trace_export *x)
{
	if (x->format == TRACE_FORMAT_CHROME) {
		/* Closed in id order, as they always were. */
		if (x->n_msgs > 1)
			qsort(x->msgs, x->n_msgs, sizeof(*x->msgs),
			      export_msg_cmp);
		intmap_destroy(&x->msg_index);
		for (uint32_t i = 0; i < x->n_msgs; i++) {
			struct export_msg *m = &x->msgs[i];
			if (m->flow != 0 && chrome_undelivered(x, m, x->last_t))
				return -1;
			if (m->is_open) {
				chrome_async(x, m->tid, x->last_t, m->id,
					     false);
				m->is_open = false;
			}
		}
		x->n_msgs = 0;
		fputs("\n]}\n", x->out);
	}
	fflush(x->out);
	return export_check_io(x);
}

int
trace_export_file(const char *path, FILE *out, enum trace_format format,
		  bool follow, struct trace_export_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	struct trace_reader *r = trace_reader_new(path);
	if (r == NULL)
		return -1;
	struct trace_export *x = NULL;
	if (out != NULL && (x = trace_export_new(out, format)) == NULL) {
		trace_reader_delete(r);
		return -1;
	}
	int rc = 0;
	bool has_meta = false;
	for (;;) {
		struct trace_event e;
		int got = trace_reader_next(r, &e);
		stats->n_records = trace_reader_n_records(r);
		if (x != NULL && !has_meta && trace_reader_meta(r) != NULL) {
			has_meta = true;
			if (trace_export_meta(x, trace_reader_meta(r)) != 0) {
				rc = -1;
				break;
			}
		}
		if (got == TRACE_READ_EVENT) {
			stats->n_events++;
			if (x != NULL && trace_export_event(x, &e) != 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (got == TRACE_READ_END) {
			stats->has_end = true;
			break;
		}
		if (got == TRACE_READ_ERROR) {
			rc = -1;
			break;
		}
		if (!follow)
			break;
		if (x != NULL)
			fflush(out);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	stats->skips = *trace_reader_skips(r);
	stats->tail = stats->has_end ? 0 : trace_reader_tail(r);
	stats->tail_off = trace_reader_offset(r);
	stats->n_writers = trace_reader_n_writers(r);
	if (x != NULL) {
		if (trace_export_finish(x) != 0 && rc == 0)
			rc = -1;
		trace_export_delete(x);
	}
	trace_reader_delete(r);
	return rc;
}
