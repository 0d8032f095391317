/*
 * test_trace_record.c — the EVENTS encoder: exact MsgPack bytes for every
 * string size class (fixstr, str8, str16, str32), a round trip through
 * the decoder, and all-or-nothing on allocation failure.
 *
 * The encoder copies short strings without measuring them first; these
 * tests pin the bytes it must produce so that the file format cannot drift.
 */
#include <criterion/criterion.h>

#include <stdbool.h>
#include <string.h>

#include "base/mem.h"
#include "trace/trace_record.h"

static void
teardown(void)
{
	mem_fail_reset();
	cr_expect_eq(mem_live(), 0, "leaked %zu blocks", (size_t)mem_live());
}

TestSuite(trace_record, .fini = teardown);

/* A string of `n` letters, owned by the caller (mem_free). */
static char *
letters(size_t n)
{
	char *s = mem_alloc(n + 1);
	cr_assert_not_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + i % 26);
	s[n] = '\0';
	return s;
}

/* The str header MsgPack wants for `n` bytes; returns its length. */
static size_t
str_header(unsigned char *h, size_t n)
{
	if (n <= 31) {
		h[0] = (unsigned char)(0xa0 | n);
		return 1;
	}
	if (n <= 0xff) {
		h[0] = 0xd9;
		h[1] = (unsigned char)n;
		return 2;
	}
	if (n <= 0xffff) {
		h[0] = 0xda;
		h[1] = (unsigned char)(n >> 8);
		h[2] = (unsigned char)n;
		return 3;
	}
	h[0] = 0xdb;
	h[1] = (unsigned char)(n >> 24);
	h[2] = (unsigned char)(n >> 16);
	h[3] = (unsigned char)(n >> 8);
	h[4] = (unsigned char)n;
	return 5;
}

Test(trace_record, string_size_classes)
{
	static const size_t sizes[] = {0, 1, 30, 31, 32, 255, 256, 65535,
				       65536};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		char *s = letters(n);
		struct trace_field f = TS(s, s);
		struct trace_event e = {
			.seq = 7, .t = 1000, .cord = s, .ev = "x",
			.fields = &f, .n_fields = 1,
		};
		struct trace_record_buf b;
		trace_record_buf_create(&b);
		cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_EVENTS), 0);
		size_t at = b.used;
		cr_assert_eq(trace_record_add_event(&b, &e), 0);
		/* [seq, t, cord, ev, key, value]: fixarray 6, 7, uint16 1000. */
		const unsigned char *p = (const unsigned char *)b.data + at;
		cr_assert_eq(p[0], 0x96);
		cr_assert_eq(p[1], 7);
		cr_assert_eq(p[2], 0xcd);
		cr_assert_eq(p[3], 0x03);
		cr_assert_eq(p[4], 0xe8);
		p += 5;
		unsigned char h[5];
		size_t hl = str_header(h, n);
		/* cord */
		cr_assert_eq(memcmp(p, h, hl), 0, "header of %zu bytes", n);
		cr_assert_eq(memcmp(p + hl, s, n), 0);
		p += hl + n;
		/* ev "x" */
		cr_assert_eq(p[0], 0xa1);
		cr_assert_eq(p[1], 'x');
		p += 2;
		/* key and value */
		for (int twice = 0; twice < 2; twice++) {
			cr_assert_eq(memcmp(p, h, hl), 0);
			cr_assert_eq(memcmp(p + hl, s, n), 0);
			p += hl + n;
		}
		cr_assert_eq((size_t)((const char *)p - b.data), b.used,
			     "no byte more than the event for %zu", n);
		/* And the decoder gives it back. */
		cr_assert_eq(trace_record_finish(&b), 0);
		struct trace_record_batch batch;
		trace_record_batch_create(&batch);
		enum trace_record_type type;
		const char *rest;
		cr_assert_eq(trace_record_type(b.data + TRACE_RECORD_FRAME,
					       b.data + b.used, &type, &rest),
			     0);
		cr_assert_eq(type, TRACE_RECORD_EVENTS);
		cr_assert_eq(trace_record_batch_decode(&batch, rest,
						       b.data + b.used), 0);
		cr_assert_eq(batch.n_events, 1);
		const struct trace_event *d = &batch.events[0];
		cr_assert_str_eq(d->cord, s);
		cr_assert_str_eq(d->ev, "x");
		cr_assert_eq(d->n_fields, 1);
		cr_assert_str_eq(d->fields[0].key, s);
		cr_assert_str_eq(d->fields[0].s, s);
		trace_record_batch_destroy(&batch);
		trace_record_buf_destroy(&b);
		mem_free(s);
	}
}

Test(trace_record, integers_and_null_names)
{
	struct trace_field f[] = {
		TI("a", -1), TI("b", -33), TI("c", 128), TI("d", INT64_MIN),
	};
	struct trace_event e = {
		.seq = 1, .t = 0, .cord = NULL, .ev = NULL,
		.fields = f, .n_fields = 4,
	};
	struct trace_record_buf b;
	trace_record_buf_create(&b);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_EVENTS), 0);
	size_t at = b.used;
	cr_assert_eq(trace_record_add_event(&b, &e), 0);
	static const unsigned char want[] = {
		0x9c, 1, 0, 0xa0, 0xa0,
		0xa1, 'a', 0xff,
		0xa1, 'b', 0xd0, 0xdf,
		0xa1, 'c', 0xcc, 0x80,
		0xa1, 'd', 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0,
	};
	cr_assert_eq(b.used - at, sizeof(want));
	cr_assert_eq(memcmp(b.data + at, want, sizeof(want)), 0);
	trace_record_buf_destroy(&b);
}

Test(trace_record, add_event_is_all_or_nothing)
{
	char *big = letters(1000);
	struct trace_field f[] = { TI("n", 1), TS("v", big) };
	struct trace_event e = {
		.seq = 1, .t = 2, .cord = "tx", .ev = "push",
		.fields = f, .n_fields = 2,
	};
	bool failed = false, done = false;
	for (int n = 1; !done; n++) {
		struct trace_record_buf b;
		trace_record_buf_create(&b);
		/* The first allocation is the record's own buffer. */
		cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_EVENTS), 0);
		size_t used = b.used;
		mem_fail_after(n, true);
		int rc = trace_record_add_event(&b, &e);
		mem_fail_reset();
		if (rc != 0) {
			failed = true;
			cr_assert_eq(b.used, used, "n=%d: the record is unchanged",
				     n);
		} else {
			done = true;
		}
		trace_record_buf_destroy(&b);
	}
	cr_assert(failed, "a 1000-byte value must need a bigger buffer");
	struct trace_field nokey[] = { { NULL, 1, NULL } };
	e.fields = nokey;
	e.n_fields = 1;
	struct trace_record_buf b;
	trace_record_buf_create(&b);
	cr_assert_eq(trace_record_begin(&b, TRACE_RECORD_EVENTS), 0);
	size_t used = b.used;
	cr_assert_eq(trace_record_add_event(&b, &e), -1);
	cr_assert_eq(b.used, used);
	trace_record_buf_destroy(&b);
	mem_free(big);
}
