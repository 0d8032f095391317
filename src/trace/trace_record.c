/*
 * trace_record.c — framing, crc32 and the hand-written MsgPack of one trace
 * record. See trace_record.h for the layout.
 */
#include "trace/trace_record.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>
#include <zlib.h>

#include "base/diag.h"
#include "base/mem.h"

/* ------------------------------------------------------------ helpers */

uint32_t
trace_record_load_u32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
	       (uint32_t)u[3] << 24;
}

void
trace_record_store_u32(char *p, uint32_t v)
{
	unsigned char *u = (unsigned char *)p;
	u[0] = (unsigned char)v;
	u[1] = (unsigned char)(v >> 8);
	u[2] = (unsigned char)(v >> 16);
	u[3] = (unsigned char)(v >> 24);
}

uint32_t
trace_record_crc(uint32_t len, const char *payload)
{
	char lenb[4];
	trace_record_store_u32(lenb, len);
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, (const Bytef *)lenb, 4);
	/* zlib takes uInt lengths; TRACE_RECORD_MAX fits. */
	crc = crc32(crc, (const Bytef *)payload, (uInt)len);
	return (uint32_t)crc;
}

const char trace_record_marker[4] = {(char)0xc1, 'K', 'H', 'R'};

uint32_t
trace_record_head_crc(const char *frame, uint64_t offset)
{
	unsigned char off_le[8];
	for (int i = 0; i < 8; i++)
		off_le[i] = (unsigned char)(offset >> (8 * i));
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, (const Bytef *)frame, 16);
	crc = crc32(crc, off_le, 8);
	return (uint32_t)crc;
}

void
trace_record_seal(char *frame, uint32_t writer, uint64_t offset)
{
	trace_record_store_u32(frame + 8, writer);
	trace_record_store_u32(frame + 16,
			       trace_record_head_crc(frame, offset));
}

static void
corrupt(const char *what)
{
	diag_set(DIAG_ER_UNKNOWN, "TraceError", "bad trace record payload: %s",
		 what);
}

/* ------------------------------------------------------ MsgPack encode */

static char *
mp_put_be(char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--)
		*p++ = (char)(unsigned char)(v >> (8 * i));
	return p;
}

static char *
mp_put_uint(char *p, uint64_t v)
{
	if (v <= 0x7f) {
		*p++ = (char)v;
		return p;
	}
	if (v <= UINT8_MAX) {
		*p++ = (char)0xcc;
		return mp_put_be(p, v, 1);
	}
	if (v <= UINT16_MAX) {
		*p++ = (char)0xcd;
		return mp_put_be(p, v, 2);
	}
	if (v <= UINT32_MAX) {
		*p++ = (char)0xce;
		return mp_put_be(p, v, 4);
	}
	*p++ = (char)0xcf;
	return mp_put_be(p, v, 8);
}

static char *
mp_put_int(char *p, int64_t v)
{
	if (v >= 0)
		return mp_put_uint(p, (uint64_t)v);
	if (v >= -32) {
		*p++ = (char)(unsigned char)(0xe0 | (v + 32));
		return p;
	}
	if (v >= INT8_MIN) {
		*p++ = (char)0xd0;
		return mp_put_be(p, (uint64_t)v, 1);
	}
	if (v >= INT16_MIN) {
		*p++ = (char)0xd1;
		return mp_put_be(p, (uint64_t)v, 2);
	}
	if (v >= INT32_MIN) {
		*p++ = (char)0xd2;
		return mp_put_be(p, (uint64_t)v, 4);
	}
	*p++ = (char)0xd3;
	return mp_put_be(p, (uint64_t)v, 8);
}

static char *
mp_put_str(char *p, const char *s, size_t len)
{
	if (len <= 31) {
		*p++ = (char)(unsigned char)(0xa0 | len);
	} else if (len <= UINT8_MAX) {
		*p++ = (char)0xd9;
		p = mp_put_be(p, len, 1);
	} else if (len <= UINT16_MAX) {
		*p++ = (char)0xda;
		p = mp_put_be(p, len, 2);
	} else {
		*p++ = (char)0xdb;
		p = mp_put_be(p, len, 4);
	}
	memcpy(p, s, len);
	return p + len;
}

/* Arrays and maps: the fix form, else the 32-bit form (counts are small). */
static char *
mp_put_container(char *p, uint32_t n, unsigned fix, unsigned wide)
{
	if (n <= 15) {
		*p++ = (char)(unsigned char)(fix | n);
		return p;
	}
	*p++ = (char)(unsigned char)wide;
	return mp_put_be(p, n, 4);
}

/* Worst case: marker + 4 length bytes + the bytes. */
static size_t
mp_sizeof_str(const char *s)
{
	return 5 + (s != NULL ? strlen(s) : 0);
}

/* ------------------------------------------------------ MsgPack decode */

static bool
mp_get_be(const char **p, const char *end, int n, uint64_t *v)
{
	if (end - *p < n)
		return false;
	uint64_t r = 0;
	for (int i = 0; i < n; i++)
		r = r << 8 | (unsigned char)(*p)[i];
	*p += n;
	*v = r;
	return true;
}

static bool
mp_get_uint(const char **p, const char *end, uint64_t *v)
{
	if (*p >= end)
		return false;
	unsigned char c = (unsigned char)**p;
	if (c <= 0x7f) {
		(*p)++;
		*v = c;
		return true;
	}
	if (c < 0xcc || c > 0xcf)
		return false;
	(*p)++;
	return mp_get_be(p, end, 1 << (c - 0xcc), v);
}

static bool
mp_get_int(const char **p, const char *end, int64_t *v)
{
	if (*p >= end)
		return false;
	unsigned char c = (unsigned char)**p;
	if (c >= 0xe0) {
		(*p)++;
		*v = (int64_t)c - 256;
		return true;
	}
	if (c >= 0xd0 && c <= 0xd3) {
		int n = 1 << (c - 0xd0);
		uint64_t u;
		(*p)++;
		if (!mp_get_be(p, end, n, &u))
			return false;
		/* Sign-extend an n-byte two's complement value. */
		if (n < 8 && (u >> (8 * n - 1)) != 0)
			u |= ~(uint64_t)0 << (8 * n);
		memcpy(v, &u, sizeof(*v));
		return true;
	}
	uint64_t u;
	if (!mp_get_uint(p, end, &u) || u > INT64_MAX)
		return false;
	*v = (int64_t)u;
	return true;
}

static bool
mp_is_str(const char *p, const char *end)
{
	if (p >= end)
		return false;
	unsigned char c = (unsigned char)*p;
	return (c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb);
}

/* A string without embedded NUL (events are C strings). */
static bool
mp_get_str(const char **p, const char *end, const char **s, uint32_t *len)
{
	if (!mp_is_str(*p, end))
		return false;
	unsigned char c = (unsigned char)**p;
	uint64_t n;
	(*p)++;
	if (c <= 0xbf)
		n = c & 0x1f;
	else if (!mp_get_be(p, end, 1 << (c - 0xd9), &n))
		return false;
	if ((uint64_t)(end - *p) < n || memchr(*p, '\0', n) != NULL)
		return false;
	*s = *p;
	*len = (uint32_t)n;
	*p += n;
	return true;
}

static bool
mp_get_container(const char **p, const char *end, unsigned fix,
		 unsigned wide16, uint32_t *n)
{
	if (*p >= end)
		return false;
	unsigned char c = (unsigned char)**p;
	uint64_t v;
	(*p)++;
	if ((c & 0xf0) == fix) {
		*n = c & 0x0f;
		return true;
	}
	if (c == wide16) {
		if (!mp_get_be(p, end, 2, &v))
			return false;
	} else if (c == wide16 + 1) {
		if (!mp_get_be(p, end, 4, &v))
			return false;
	} else {
		return false;
	}
	*n = (uint32_t)v;
	return true;
}

/* ------------------------------------------------------------ records */

void
trace_record_buf_create(struct trace_record_buf *b)
{
	b->data = NULL;
	b->used = 0;
	b->cap = 0;
}

void
trace_record_buf_destroy(struct trace_record_buf *b)
{
	mem_free(b->data);
	trace_record_buf_create(b);
}

/* trace_record_buf_reserve's slow half: grow the buffer. */
static char *
trace_record_buf_reserve_slow(struct trace_record_buf *b, size_t n)
{
	size_t cap = b->cap != 0 ? b->cap : 256;
	while (cap - b->used < n)
		cap *= 2;
	char *data = mem_realloc(b->data, cap);
	if (data == NULL) {
		diag_set_oom(cap, "trace record");
		return NULL;
	}
	b->data = data;
	b->cap = cap;
	return b->data + b->used;
}

/* Make room for `n` more bytes; returns where they go or NULL (diag set). */
static inline char *
trace_record_buf_reserve(struct trace_record_buf *b, size_t n)
{
	if (b->cap - b->used >= n)
		return b->data + b->used;
	return trace_record_buf_reserve_slow(b, n);
}

int
trace_record_begin(struct trace_record_buf *b, enum trace_record_type type)
{
	b->used = 0;
	char *p = trace_record_buf_reserve(b, TRACE_RECORD_FRAME + 1);
	if (p == NULL)
		return -1;
	memset(p, 0, TRACE_RECORD_FRAME);
	p = mp_put_uint(p + TRACE_RECORD_FRAME, (uint64_t)type);
	b->used = (size_t)(p - b->data);
	return 0;
}

/*
 * Append C string `s` as a MsgPack str without measuring it first: event
 * names and keys are short literals, so the bytes are copied one by one
 * after a fixstr marker until the NUL; only a string longer than 31 bytes
 * is measured and written the general way (the bytes come out the same as
 * mp_put_str's). Returns false on OOM (diag set); `b->used` then is
 * unchanged.
 */
static bool
buf_put_cstr(struct trace_record_buf *b, const char *s)
{
	char *p = trace_record_buf_reserve(b, 32);
	if (p == NULL)
		return false;
	size_t n = 0;
	while (n < 31 && s[n] != '\0') {
		p[1 + n] = s[n];
		n++;
	}
	if (s[n] == '\0') {
		p[0] = (char)(unsigned char)(0xa0 | n);
		b->used += 1 + n;
		return true;
	}
	size_t len = n + strlen(s + n);
	p = trace_record_buf_reserve(b, 5 + len);
	if (p == NULL)
		return false;
	b->used += (size_t)(mp_put_str(p, s, len) - p);
	return true;
}

int
trace_record_add_event(struct trace_record_buf *b, const struct trace_event *e)
{
	for (int i = 0; i < e->n_fields; i++) {
		if (e->fields[i].key == NULL) {
			diag_set(DIAG_ER_UNKNOWN, "TraceError",
				 "event %s: field %d has no key",
				 e->ev != NULL ? e->ev : "?", i);
			return -1;
		}
	}
	/* The array header and the two stamps: at most 5 + 9 + 9 bytes. */
	size_t used = b->used;
	char *p = trace_record_buf_reserve(b, 5 + 9 + 9);
	if (p == NULL)
		return -1;
	p = mp_put_container(p, 4 + 2 * (uint32_t)e->n_fields, 0x90, 0xdd);
	p = mp_put_uint(p, e->seq);
	p = mp_put_uint(p, e->t);
	b->used = (size_t)(p - b->data);
	if (!buf_put_cstr(b, e->cord != NULL ? e->cord : "") ||
	    !buf_put_cstr(b, e->ev != NULL ? e->ev : ""))
		goto err;
	for (int i = 0; i < e->n_fields; i++) {
		const struct trace_field *f = &e->fields[i];
		if (!buf_put_cstr(b, f->key))
			goto err;
		if (f->s != NULL) {
			if (!buf_put_cstr(b, f->s))
				goto err;
			continue;
		}
		p = trace_record_buf_reserve(b, 9);
		if (p == NULL)
			goto err;
		b->used = (size_t)(mp_put_int(p, f->i) - b->data);
	}
	return 0;
err:
	/* Leave `b` as it was: the event is all or nothing. */
	b->used = used;
	return -1;
}

static char *
mp_put_cstr(char *p, const char *s)
{
	if (s == NULL)
		s = "";
	return mp_put_str(p, s, strlen(s));
}

int
trace_record_add_meta(struct trace_record_buf *b, const struct trace_meta *m)
{
	size_t size = 5 + 5 * mp_sizeof_str("created_by") +
		      mp_sizeof_str(m->scenario) + 9 + mp_sizeof_str(m->mode) +
		      5 + mp_sizeof_str(m->created_by);
	for (int i = 0; i < m->n_cords; i++)
		size += mp_sizeof_str(m->cords[i]);
	char *start = trace_record_buf_reserve(b, size);
	if (start == NULL)
		return -1;
	char *p = mp_put_container(start, 5, 0x80, 0xdf);
	p = mp_put_cstr(p, "scenario");
	p = mp_put_cstr(p, m->scenario);
	p = mp_put_cstr(p, "seed");
	p = mp_put_uint(p, m->seed);
	p = mp_put_cstr(p, "mode");
	p = mp_put_cstr(p, m->mode);
	p = mp_put_cstr(p, "cords");
	p = mp_put_container(p, (uint32_t)m->n_cords, 0x90, 0xdd);
	for (int i = 0; i < m->n_cords; i++)
		p = mp_put_cstr(p, m->cords[i]);
	p = mp_put_cstr(p, "created_by");
	p = mp_put_cstr(p, m->created_by);
	b->used += (size_t)(p - start);
	return 0;
}

int
trace_record_add_writer(struct trace_record_buf *b, uint32_t pid,
			uint64_t start)
{
	char *start_p = trace_record_buf_reserve(b, 9 + 9);
	if (start_p == NULL)
		return -1;
	char *p = mp_put_uint(start_p, pid);
	p = mp_put_uint(p, start);
	b->used += (size_t)(p - start_p);
	return 0;
}

int
trace_record_writer_decode(const char *p, const char *end, uint32_t *pid,
			   uint64_t *start)
{
	uint64_t v;
	if (!mp_get_uint(&p, end, &v) || v > UINT32_MAX ||
	    !mp_get_uint(&p, end, start) || p != end) {
		corrupt("bad WRITER record");
		return -1;
	}
	*pid = (uint32_t)v;
	return 0;
}

int
trace_record_finish(struct trace_record_buf *b)
{
	size_t len = b->used - TRACE_RECORD_FRAME;
	if (len > TRACE_RECORD_MAX) {
		diag_set(DIAG_ER_UNKNOWN, "TraceError",
			 "trace record of %zu bytes exceeds the limit of %d",
			 len, TRACE_RECORD_MAX);
		return -1;
	}
	const char *payload = b->data + TRACE_RECORD_FRAME;
	memcpy(b->data, trace_record_marker, 4);
	trace_record_store_u32(b->data + 4, (uint32_t)len);
	trace_record_store_u32(b->data + 8, 0);
	trace_record_store_u32(b->data + 12,
			       trace_record_crc((uint32_t)len, payload));
	trace_record_store_u32(b->data + 16, 0);
	return 0;
}

int
trace_record_type(const char *payload, const char *end,
		  enum trace_record_type *type, const char **rest)
{
	uint64_t tag;
	const char *p = payload;
	if (!mp_get_uint(&p, end, &tag) || tag < TRACE_RECORD_META ||
	    tag > TRACE_RECORD_PACKED) {
		corrupt("unknown record type");
		return -1;
	}
	*type = (enum trace_record_type)tag;
	*rest = p;
	return 0;
}

/* ------------------------------------------------------------- decode */

void
trace_record_batch_create(struct trace_record_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void
trace_record_batch_destroy(struct trace_record_batch *b)
{
	mem_free(b->events);
	mem_free(b->fields);
	mem_free(b->strs);
	mem_free(b->shape_n);
	mem_free(b->shape_at);
	mem_free(b->kinds);
	mem_free(b->names);
	trace_record_batch_create(b);
}

/* Copy a string into the batch's string area; returns the C string. */
static const char *
batch_str(char **strs, const char *s, uint32_t len)
{
	char *out = *strs;
	memcpy(out, s, len);
	out[len] = '\0';
	*strs += len + 1;
	return out;
}

/*
 * Walk the event stream. With `fill` false only validate and count; with
 * `fill` true the batch has room and gets filled.
 */
static bool
batch_walk(struct trace_record_batch *b, const char *p, const char *end,
	   bool fill, int *n_events, size_t *n_fields, size_t *n_strs)
{
	char *strs = b->strs;
	*n_events = 0;
	*n_fields = 0;
	*n_strs = 0;
	while (p < end) {
		uint32_t n;
		if (!mp_get_container(&p, end, 0x90, 0xdc, &n) || n < 4 ||
		    n % 2 != 0 || *n_events == INT32_MAX)
			return false;
		int n_f = (int)((n - 4) / 2);
		uint64_t seq, t;
		const char *cord, *ev;
		uint32_t cord_len, ev_len;
		if (!mp_get_uint(&p, end, &seq) || !mp_get_uint(&p, end, &t) ||
		    !mp_get_str(&p, end, &cord, &cord_len) ||
		    !mp_get_str(&p, end, &ev, &ev_len))
			return false;
		*n_strs += (size_t)cord_len + ev_len + 2;
		struct trace_event *e = fill ? &b->events[*n_events] : NULL;
		if (fill) {
			e->seq = seq;
			e->t = t;
			e->cord = batch_str(&strs, cord, cord_len);
			e->ev = batch_str(&strs, ev, ev_len);
			/* No field in the whole batch: no array to point into. */
			e->fields = b->fields != NULL ? &b->fields[*n_fields] :
					NULL;
			e->n_fields = n_f;
		}
		for (int i = 0; i < n_f; i++) {
			const char *key, *s;
			uint32_t key_len, s_len;
			if (!mp_get_str(&p, end, &key, &key_len))
				return false;
			*n_strs += key_len + 1;
			struct trace_field *f = fill ?
				&b->fields[*n_fields + (size_t)i] : NULL;
			if (fill) {
				f->key = batch_str(&strs, key, key_len);
				f->i = 0;
				f->s = NULL;
			}
			if (mp_is_str(p, end)) {
				if (!mp_get_str(&p, end, &s, &s_len))
					return false;
				*n_strs += s_len + 1;
				if (fill)
					f->s = batch_str(&strs, s, s_len);
			} else {
				int64_t v;
				if (!mp_get_int(&p, end, &v))
					return false;
				if (fill)
					f->i = v;
			}
		}
		*n_fields += (size_t)n_f;
		(*n_events)++;
	}
	return true;
}

/* Grow `*arr` to hold `n` items of `size`; false on OOM (diag set). */
static bool
grow(void **arr, size_t *cap, size_t n, size_t size, const char *what)
{
	if (*cap >= n)
		return true;
	size_t want = *cap != 0 ? *cap : 16;
	while (want < n)
		want *= 2;
	void *p = mem_realloc(*arr, want * size);
	if (p == NULL) {
		diag_set_oom(want * size, what);
		return false;
	}
	*arr = p;
	*cap = want;
	return true;
}

/* Room in `batch` for a record's events, fields and string bytes. */
static int
batch_reserve(struct trace_record_batch *batch, int n_events,
	      size_t n_fields, size_t n_strs)
{
	size_t cap_events = (size_t)batch->cap_events;
	if (!grow((void **)&batch->events, &cap_events, (size_t)n_events,
		  sizeof(struct trace_event), "trace events"))
		return -1;
	batch->cap_events = (int)cap_events;
	if (!grow((void **)&batch->fields, &batch->cap_fields, n_fields,
		  sizeof(struct trace_field), "trace fields") ||
	    !grow((void **)&batch->strs, &batch->cap_strs, n_strs, 1,
		  "trace strings"))
		return -1;
	return 0;
}

int
trace_record_batch_decode(struct trace_record_batch *batch, const char *p,
			  const char *end)
{
	int n_events;
	size_t n_fields, n_strs;
	batch->n_events = 0;
	if (!batch_walk(batch, p, end, false, &n_events, &n_fields, &n_strs)) {
		corrupt("malformed event");
		return -1;
	}
	if (batch_reserve(batch, n_events, n_fields, n_strs) != 0)
		return -1;
	bool ok = batch_walk(batch, p, end, true, &n_events, &n_fields,
			     &n_strs);
	(void)ok;
	assert(ok);
	batch->n_events = n_events;
	return 0;
}

struct trace_meta *
trace_meta_decode(const char *p, const char *end)
{
	uint32_t n;
	const char *scenario = "", *mode = "", *created_by = "";
	uint32_t scenario_len = 0, mode_len = 0, created_by_len = 0;
	uint64_t seed = 0;
	const char *cords_at = NULL;
	uint32_t n_cords = 0;
	size_t cords_bytes = 0;
	if (!mp_get_container(&p, end, 0x80, 0xde, &n))
		goto bad;
	for (uint32_t i = 0; i < n; i++) {
		const char *key;
		uint32_t key_len;
		if (!mp_get_str(&p, end, &key, &key_len))
			goto bad;
#define KEY_IS(k) (key_len == sizeof(k) - 1 && memcmp(key, k, key_len) == 0)
		if (KEY_IS("scenario")) {
			if (!mp_get_str(&p, end, &scenario, &scenario_len))
				goto bad;
		} else if (KEY_IS("seed")) {
			if (!mp_get_uint(&p, end, &seed))
				goto bad;
		} else if (KEY_IS("mode")) {
			if (!mp_get_str(&p, end, &mode, &mode_len))
				goto bad;
		} else if (KEY_IS("created_by")) {
			if (!mp_get_str(&p, end, &created_by, &created_by_len))
				goto bad;
		} else if (KEY_IS("cords")) {
			if (!mp_get_container(&p, end, 0x90, 0xdc, &n_cords) ||
			    n_cords > (uint32_t)(end - p))
				goto bad;
			cords_at = p;
			for (uint32_t c = 0; c < n_cords; c++) {
				const char *s;
				uint32_t len;
				if (!mp_get_str(&p, end, &s, &len))
					goto bad;
				cords_bytes += len + 1;
			}
		} else {
			goto bad;
		}
#undef KEY_IS
	}
	if (p != end)
		goto bad;
	size_t size = sizeof(struct trace_meta) +
		      n_cords * sizeof(const char *) + scenario_len + mode_len +
		      created_by_len + 3 + cords_bytes;
	struct trace_meta *m = mem_alloc(size);
	if (m == NULL) {
		diag_set_oom(size, "trace meta");
		return NULL;
	}
	const char **cords = (const char **)(m + 1);
	char *strs = (char *)(cords + n_cords);
	m->scenario = batch_str(&strs, scenario, scenario_len);
	m->seed = seed;
	m->mode = batch_str(&strs, mode, mode_len);
	m->created_by = batch_str(&strs, created_by, created_by_len);
	p = cords_at;
	for (uint32_t c = 0; c < n_cords; c++) {
		const char *s;
		uint32_t len;
		mp_get_str(&p, end, &s, &len);
		cords[c] = batch_str(&strs, s, len);
	}
	m->cords = cords;
	m->n_cords = (int)n_cords;
	return m;
bad:
	corrupt("malformed header map");
	return NULL;
}

struct trace_event *
trace_event_dup(const struct trace_event *e)
{
	const char *cord = e->cord != NULL ? e->cord : "";
	const char *ev = e->ev != NULL ? e->ev : "";
	size_t size = sizeof(*e) + (size_t)e->n_fields * sizeof(e->fields[0]) +
		      strlen(cord) + strlen(ev) + 2;
	for (int i = 0; i < e->n_fields; i++) {
		size += strlen(e->fields[i].key) + 1;
		if (e->fields[i].s != NULL)
			size += strlen(e->fields[i].s) + 1;
	}
	struct trace_event *d = mem_alloc(size);
	if (d == NULL) {
		diag_set_oom(size, "trace event copy");
		return NULL;
	}
	struct trace_field *fields = (struct trace_field *)(d + 1);
	char *strs = (char *)(fields + e->n_fields);
	*d = *e;
	d->cord = batch_str(&strs, cord, (uint32_t)strlen(cord));
	d->ev = batch_str(&strs, ev, (uint32_t)strlen(ev));
	for (int i = 0; i < e->n_fields; i++) {
		const struct trace_field *f = &e->fields[i];
		fields[i].key = batch_str(&strs, f->key,
					  (uint32_t)strlen(f->key));
		fields[i].i = f->i;
		fields[i].s = f->s == NULL ? NULL :
			batch_str(&strs, f->s, (uint32_t)strlen(f->s));
	}
	d->fields = fields;
	return d;
}

/* ------------------------------------------------------ packed events */

/** A shape in the packer's hash table. */
struct trace_packer_slot {
	uint32_t gen;
	uint32_t shape;
	const char *ev;
	uint32_t n;
	/** Index of its keys and kinds in the packer's arrays. */
	uint32_t at;
	/** Offset of its copied name, then keys, in the packer's strs. */
	size_t copy_at;
};

enum {
	PACKED_SHAPE = 0,
	PACKED_CORD = 1,
	PACKED_EVENT = 2,
	PACKED_INT = 0,
	PACKED_STR = 1,
	/** Most bytes a LEB128 varint of 64 bits takes. */
	VARINT_MAX = 10,
};

static char *
put_varint(char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (char)(unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (char)(unsigned char)v;
	return p;
}

/* Zigzag: small magnitudes, either sign, become small unsigned values. */
static uint64_t
zigzag(uint64_t v)
{
	return (v << 1) ^ (0 - (v >> 63));
}

static uint64_t
unzigzag(uint64_t u)
{
	return (u >> 1) ^ (0 - (u & 1));
}

static char *
put_str(char *p, const char *s, size_t len)
{
	p = put_varint(p, len);
	memcpy(p, s, len);
	return p + len;
}

void
trace_record_packer_create(struct trace_record_packer *p)
{
	memset(p, 0, sizeof(*p));
	p->gen = 1;
}

void
trace_record_packer_destroy(struct trace_record_packer *p)
{
	mem_free(p->slots);
	mem_free(p->strs);
	mem_free(p->keys);
	mem_free(p->kinds);
	memset(p, 0, sizeof(*p));
}

void
trace_record_packer_reset(struct trace_record_packer *p)
{
	if (++p->gen == 0) {
		/* Once in 2^32 resets: really empty the slots. */
		if (p->slots != NULL)
			memset(p->slots, 0, p->n_slots * sizeof(p->slots[0]));
		p->gen = 1;
	}
	p->n_shapes = 0;
	p->strs_used = 0;
	p->keys_used = 0;
	p->has_cord = false;
	p->prev_seq = 0;
	p->prev_t = 0;
}

/*
 * A shape's slot is found by its name's address and field count alone:
 * cheap, and events of one name with other keys (a site that adds a
 * field) only probe one slot further.
 */
static uint64_t
packer_hash(const char *ev, uint32_t n)
{
	uint64_t h = ((uint64_t)(uintptr_t)ev ^ n) * 0x9e3779b97f4a7c15u;
	return h ^ (h >> 29);
}

/*
 * An event to pack, as trace_record_add_packed() gets it (fields) or as
 * the pump's ring holds it (keys and kinds apart, the values already
 * encoded). The accessors below hide which.
 */
struct packed_in {
	uint64_t seq, t;
	const char *cord, *ev;
	uint32_t n;
	const struct trace_field *fields;
	const char *const *keys;
	const unsigned char *kinds;
	/** The values are already encoded: `values`, `values_len`. */
	bool is_values;
	const char *values;
	size_t values_len;
};

static inline const char *
in_key(const struct packed_in *in, uint32_t i)
{
	return !in->is_values ? in->fields[i].key : in->keys[i];
}

static inline bool
in_is_str(const struct packed_in *in, uint32_t i)
{
	return !in->is_values ? in->fields[i].s != NULL : in->kinds[i] != 0;
}

static bool
packer_slot_is(const struct trace_record_packer *p,
	       const struct trace_packer_slot *s, const struct packed_in *in,
	       bool is_static)
{
	uint32_t n = in->n;
	if (s->ev != in->ev || s->n != n)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		if (p->keys[s->at + i] != in_key(in, i) ||
		    p->kinds[s->at + i] != in_is_str(in, i))
			return false;
	}
	if (is_static)
		return true;
	/* The same pointers may hold other strings now: compare them. */
	const char *c = p->strs + s->copy_at;
	if (strcmp(c, in->ev) != 0)
		return false;
	c += strlen(c) + 1;
	for (uint32_t i = 0; i < n; i++) {
		if (strcmp(c, in_key(in, i)) != 0)
			return false;
		c += strlen(c) + 1;
	}
	return true;
}

/* Make the table hold one more shape at under 3/4 load. -1 on OOM. */
static int
packer_grow(struct trace_record_packer *p)
{
	if ((p->n_shapes + 1) * 4 <= p->n_slots * 3)
		return 0;
	uint32_t n_slots = p->n_slots != 0 ? p->n_slots * 2 : 64;
	struct trace_packer_slot *slots = mem_zalloc(n_slots * sizeof(*slots));
	if (slots == NULL) {
		diag_set_oom(n_slots * sizeof(*slots), "trace packer");
		return -1;
	}
	for (uint32_t i = 0; i < p->n_slots; i++) {
		const struct trace_packer_slot *s = &p->slots[i];
		if (s->gen != p->gen)
			continue;
		uint64_t h = packer_hash(s->ev, s->n);
		uint32_t j = (uint32_t)h & (n_slots - 1);
		while (slots[j].gen == p->gen)
			j = (j + 1) & (n_slots - 1);
		slots[j] = *s;
	}
	mem_free(p->slots);
	p->slots = slots;
	p->n_slots = n_slots;
	return 0;
}

/* Room for `n` more keys and `bytes` more copied bytes. -1 on OOM. */
static int
packer_reserve(struct trace_record_packer *p, uint32_t n, size_t bytes)
{
	if (p->keys_used + n > p->keys_cap) {
		size_t cap = p->keys_cap != 0 ? p->keys_cap * 2 : 256;
		while (cap < p->keys_used + n)
			cap *= 2;
		const char **keys = mem_realloc(p->keys, cap * sizeof(*keys));
		if (keys == NULL) {
			diag_set_oom(cap * sizeof(*keys), "trace packer keys");
			return -1;
		}
		p->keys = keys;
		unsigned char *kinds = mem_realloc(p->kinds, cap);
		if (kinds == NULL) {
			diag_set_oom(cap, "trace packer kinds");
			return -1;
		}
		p->kinds = kinds;
		p->keys_cap = cap;
	}
	if (p->strs_used + bytes > p->strs_cap) {
		size_t cap = p->strs_cap != 0 ? p->strs_cap * 2 : 4096;
		while (cap < p->strs_used + bytes)
			cap *= 2;
		char *strs = mem_realloc(p->strs, cap);
		if (strs == NULL) {
			diag_set_oom(cap, "trace packer names");
			return -1;
		}
		p->strs = strs;
		p->strs_cap = cap;
	}
	return 0;
}

static int
packed_add(struct trace_record_buf *b, struct trace_record_packer *p,
	   const struct packed_in *in, bool is_static)
{
	uint32_t n = in->n;
	const char *ev = in->ev;
	const char *cord = in->cord;
	size_t size = 3 * VARINT_MAX;
	if (in->is_values)
		size += in->values_len;
	for (uint32_t i = 0; i < n; i++) {
		if (in_key(in, i) == NULL) {
			diag_set(DIAG_ER_UNKNOWN, "TraceError",
				 "event %s: field %d has no key", ev, (int)i);
			return -1;
		}
		if (!in->is_values)
			size += VARINT_MAX + (in->fields[i].s != NULL ?
					      strlen(in->fields[i].s) : 0);
	}
	/* Find the shape; a new one is defined before the event. */
	struct trace_packer_slot *slot = NULL;
	uint32_t j = 0;
	if (p->n_slots != 0) {
		j = (uint32_t)packer_hash(ev, n) & (p->n_slots - 1);
		while (p->slots[j].gen == p->gen) {
			if (packer_slot_is(p, &p->slots[j], in, is_static)) {
				slot = &p->slots[j];
				break;
			}
			j = (j + 1) & (p->n_slots - 1);
		}
	}
	size_t def_bytes = 0;
	if (slot == NULL) {
		def_bytes = strlen(ev) + 1;
		for (uint32_t i = 0; i < n; i++)
			def_bytes += strlen(in_key(in, i)) + 1;
		if (packer_grow(p) != 0 ||
		    packer_reserve(p, n, def_bytes) != 0)
			return -1;
		size += 2 * VARINT_MAX + def_bytes + n * (VARINT_MAX + 1);
	}
	bool new_cord = !p->has_cord ||
			(is_static ? p->cord_ptr != cord :
			 strcmp(p->cord, cord) != 0);
	if (new_cord)
		size += 2 * VARINT_MAX + strlen(cord);
	char *start = trace_record_buf_reserve(b, size);
	if (start == NULL)
		return -1;
	/* Nothing can fail from here on. */
	char *o = start;
	if (slot == NULL) {
		j = (uint32_t)packer_hash(ev, n) & (p->n_slots - 1);
		while (p->slots[j].gen == p->gen)
			j = (j + 1) & (p->n_slots - 1);
		slot = &p->slots[j];
		slot->gen = p->gen;
		slot->shape = p->n_shapes++;
		slot->ev = ev;
		slot->n = n;
		slot->at = (uint32_t)p->keys_used;
		slot->copy_at = p->strs_used;
		size_t len = strlen(ev);
		memcpy(p->strs + p->strs_used, ev, len + 1);
		p->strs_used += len + 1;
		o = put_varint(o, PACKED_SHAPE);
		o = put_str(o, ev, len);
		o = put_varint(o, n);
		for (uint32_t i = 0; i < n; i++) {
			const char *key = in_key(in, i);
			bool is_str = in_is_str(in, i);
			len = strlen(key);
			memcpy(p->strs + p->strs_used, key, len + 1);
			p->strs_used += len + 1;
			p->keys[p->keys_used] = key;
			p->kinds[p->keys_used++] = is_str;
			o = put_str(o, key, len);
			*o++ = (char)(is_str ? PACKED_STR : PACKED_INT);
		}
	}
	if (new_cord) {
		size_t len = strlen(cord);
		o = put_varint(o, PACKED_CORD);
		o = put_str(o, cord, len);
		/* A name too long for the copy is named again next time. */
		p->has_cord = len < sizeof(p->cord);
		if (p->has_cord)
			memcpy(p->cord, cord, len + 1);
		p->cord_ptr = cord;
	}
	o = put_varint(o, PACKED_EVENT + (uint64_t)slot->shape);
	o = put_varint(o, zigzag(in->seq - p->prev_seq));
	o = put_varint(o, zigzag(in->t - p->prev_t));
	p->prev_seq = in->seq;
	p->prev_t = in->t;
	if (!in->is_values) {
		for (uint32_t i = 0; i < n; i++) {
			const struct trace_field *f = &in->fields[i];
			if (f->s != NULL)
				o = put_str(o, f->s, strlen(f->s));
			else
				o = put_varint(o, zigzag((uint64_t)f->i));
		}
	} else if (in->values_len > 0) {
		memcpy(o, in->values, in->values_len);
		o += in->values_len;
	}
	b->used += (size_t)(o - start);
	return 0;
}

int
trace_record_add_packed(struct trace_record_buf *b,
			struct trace_record_packer *p,
			const struct trace_event *e, bool is_static)
{
	const struct packed_in in = {
		.seq = e->seq, .t = e->t,
		.cord = e->cord != NULL ? e->cord : "",
		.ev = e->ev != NULL ? e->ev : "",
		.n = (uint32_t)e->n_fields, .fields = e->fields,
	};
	return packed_add(b, p, &in, is_static);
}

int
trace_record_add_packed_values(struct trace_record_buf *b,
			       struct trace_record_packer *p, uint64_t seq,
			       uint64_t t, const char *cord, const char *ev,
			       uint32_t n, const char *const *keys,
			       const unsigned char *kinds, const char *values,
			       size_t len)
{
	const struct packed_in in = {
		.seq = seq, .t = t, .cord = cord, .ev = ev, .n = n,
		.keys = keys, .kinds = kinds, .is_values = true,
		.values = values, .values_len = len,
	};
	return packed_add(b, p, &in, true);
}

static bool
get_varint(const char **p, const char *end, uint64_t *v)
{
	uint64_t r = 0;
	for (int i = 0; i < VARINT_MAX; i++) {
		if (*p >= end)
			return false;
		unsigned char c = (unsigned char)*(*p)++;
		if (i == VARINT_MAX - 1 && c > 1)
			return false;
		r |= (uint64_t)(c & 0x7f) << (7 * i);
		if ((c & 0x80) == 0) {
			*v = r;
			return true;
		}
	}
	return false;
}

/* A packed str: no NUL inside (events are C strings). */
static bool
get_str(const char **p, const char *end, const char **s, uint32_t *len)
{
	uint64_t n;
	if (!get_varint(p, end, &n) || n > (uint64_t)(end - *p) ||
	    memchr(*p, '\0', n) != NULL)
		return false;
	*s = *p;
	*len = (uint32_t)n;
	*p += n;
	return true;
}

/*
 * Grow the shape arrays of `b` for `n_shapes` shapes and `n_kinds`
 * keys. false on OOM (diag set).
 */
static bool
packed_grow(struct trace_record_batch *b, size_t n_shapes, size_t n_kinds)
{
	if (n_shapes > b->cap_shapes) {
		size_t cap = b->cap_shapes != 0 ? b->cap_shapes * 2 : 64;
		while (cap < n_shapes)
			cap *= 2;
		uint32_t *sn = mem_realloc(b->shape_n, cap * sizeof(*sn));
		if (sn == NULL)
			goto oom;
		b->shape_n = sn;
		uint32_t *sa = mem_realloc(b->shape_at, cap * sizeof(*sa));
		if (sa == NULL)
			goto oom;
		b->shape_at = sa;
		b->cap_shapes = cap;
	}
	/* names: a name per shape plus its keys. */
	size_t want = n_kinds + n_shapes;
	if (want > b->cap_kinds) {
		size_t cap = b->cap_kinds != 0 ? b->cap_kinds * 2 : 256;
		while (cap < want)
			cap *= 2;
		unsigned char *k = mem_realloc(b->kinds, cap);
		if (k == NULL)
			goto oom;
		b->kinds = k;
		const char **nm = mem_realloc(b->names, cap * sizeof(*nm));
		if (nm == NULL)
			goto oom;
		b->names = nm;
		b->cap_kinds = cap;
	}
	return true;
oom:
	diag_set_oom(n_shapes + n_kinds, "trace packed shapes");
	return false;
}

/*
 * Walk a packed item stream: with `fill` false validate, count and record
 * the shapes; with `fill` true (the arrays sized by the first walk) fill
 * the batch. Returns 1 ok, 0 malformed, -1 OOM (diag set).
 */
static int
packed_walk(struct trace_record_batch *b, const char *p, const char *end,
	    bool fill, int *n_events, size_t *n_fields, size_t *n_strs)
{
	char *strs = b->strs;
	size_t n_shapes = 0, n_kinds = 0;
	uint64_t seq = 0, t = 0;
	const char *cord = NULL;
	*n_events = 0;
	*n_fields = 0;
	*n_strs = 0;
	while (p < end) {
		uint64_t code;
		if (!get_varint(&p, end, &code))
			return 0;
		if (code == PACKED_SHAPE) {
			const char *s;
			uint32_t len;
			uint64_t n;
			if (!get_str(&p, end, &s, &len) ||
			    !get_varint(&p, end, &n) ||
			    n > (uint64_t)(end - p) / 2)
				return 0;
			if (!fill && !packed_grow(b, n_shapes + 1,
						  n_kinds + (size_t)n))
				return -1;
			size_t at = n_kinds + n_shapes;
			*n_strs += (size_t)len + 1;
			if (fill)
				b->names[at] = batch_str(&strs, s, len);
			b->shape_n[n_shapes] = (uint32_t)n;
			b->shape_at[n_shapes] = (uint32_t)n_kinds;
			for (uint64_t i = 0; i < n; i++) {
				if (!get_str(&p, end, &s, &len) || p >= end)
					return 0;
				unsigned char kind = (unsigned char)*p++;
				if (kind > PACKED_STR)
					return 0;
				*n_strs += (size_t)len + 1;
				if (fill)
					b->names[at + 1 + i] =
						batch_str(&strs, s, len);
				b->kinds[n_kinds + i] = kind;
			}
			n_kinds += (size_t)n;
			n_shapes++;
			continue;
		}
		if (code == PACKED_CORD) {
			const char *s;
			uint32_t len;
			if (!get_str(&p, end, &s, &len))
				return 0;
			*n_strs += (size_t)len + 1;
			cord = fill ? batch_str(&strs, s, len) : s;
			continue;
		}
		uint64_t shape = code - PACKED_EVENT;
		uint64_t dseq, dt;
		if (shape >= n_shapes || cord == NULL ||
		    *n_events == INT32_MAX || !get_varint(&p, end, &dseq) ||
		    !get_varint(&p, end, &dt))
			return 0;
		seq += unzigzag(dseq);
		t += unzigzag(dt);
		uint32_t n = b->shape_n[shape];
		size_t at = b->shape_at[shape];
		struct trace_event *e = fill ? &b->events[*n_events] : NULL;
		if (fill) {
			e->seq = seq;
			e->t = t;
			e->cord = cord;
			e->ev = b->names[at + shape];
			e->fields = b->fields != NULL ? &b->fields[*n_fields] :
					NULL;
			e->n_fields = (int)n;
			e->writer = 0;
		}
		for (uint32_t i = 0; i < n; i++) {
			struct trace_field *f = fill ?
				&b->fields[*n_fields + i] : NULL;
			if (fill) {
				f->key = b->names[at + shape + 1 + i];
				f->i = 0;
				f->s = NULL;
			}
			if (b->kinds[at + i] == PACKED_STR) {
				const char *s;
				uint32_t len;
				if (!get_str(&p, end, &s, &len))
					return 0;
				*n_strs += (size_t)len + 1;
				if (fill)
					f->s = batch_str(&strs, s, len);
			} else {
				uint64_t u;
				if (!get_varint(&p, end, &u))
					return 0;
				if (fill) {
					uint64_t v = unzigzag(u);
					memcpy(&f->i, &v, sizeof(f->i));
				}
			}
		}
		*n_fields += n;
		(*n_events)++;
	}
	return 1;
}

int
trace_record_batch_decode_packed(struct trace_record_batch *batch,
				 const char *p, const char *end)
{
	int n_events;
	size_t n_fields, n_strs;
	batch->n_events = 0;
	int rc = packed_walk(batch, p, end, false, &n_events, &n_fields,
			     &n_strs);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		corrupt("malformed packed event");
		return -1;
	}
	if (batch_reserve(batch, n_events, n_fields, n_strs) != 0)
		return -1;
	rc = packed_walk(batch, p, end, true, &n_events, &n_fields, &n_strs);
	(void)rc;
	assert(rc == 1);
	batch->n_events = n_events;
	return 0;
}
