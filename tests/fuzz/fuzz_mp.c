/*
 * fuzz_mp — the MsgPack layer every other decoder stands on (src/proto/mp.h):
 * mp_check() on arbitrary bytes, then, only on what it accepted, the
 * trusting readers: mp_next(), every mp_decode_*(), mp_format() and
 * mp_equal().
 *
 *   input ──mp_format (untrusted: must print <invalid msgpack>, not crash)
 *         ──mp_check──► value A [rest]
 *                        │  mp_next(A) and a decode walk end where check did
 *                        │  mp_format(A) = its own prefix when truncated
 *                        │  mp_equal(A, copy of A) unless A holds a NaN
 *                        └─ rest ──mp_check──► value B:
 *                                 mp_equal(A, B) == mp_equal(B, A)
 *
 * mp_check() is the gate: Tarantool's gh-7818 (0xc1 passed the check) and
 * gh-10360 (truncated ext 0xd7) were both a decoder trusting bytes the
 * check should have refused. Here any disagreement between the gate and the
 * readers behind it shows up as an ASan report or a failed FUZZ_CHECK.
 *
 * Lesson: lessons/en/03-request-life.md.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "proto/mp.h"

/** Read one checked value with the typed decoders (not mp_next). */
static void
mp_walk(const char **p)
{
	uint32_t n, len;
	switch (mp_typeof(**p)) {
	case MP_NIL:
		mp_decode_nil(p);
		break;
	case MP_UINT:
		(void)mp_decode_uint(p);
		break;
	case MP_INT:
		(void)mp_decode_int(p);
		break;
	case MP_STR:
		(void)mp_decode_str(p, &len);
		break;
	case MP_BIN:
		(void)mp_decode_bin(p, &len);
		break;
	case MP_ARRAY:
		n = mp_decode_array(p);
		for (uint32_t i = 0; i < n; i++)
			mp_walk(p);
		break;
	case MP_MAP:
		n = mp_decode_map(p);
		for (uint32_t i = 0; i < n; i++) {
			mp_walk(p);
			mp_walk(p);
		}
		break;
	case MP_BOOL:
		(void)mp_decode_bool(p);
		break;
	case MP_FLOAT:
		(void)mp_decode_float(p);
		break;
	case MP_DOUBLE:
		(void)mp_decode_double(p);
		break;
	case MP_EXT:
	case MP_INVALID:
		/* No ext decoder: skipped. 0xc1 must never get here. */
		FUZZ_CHECK(mp_typeof(**p) == MP_EXT);
		mp_next(p);
		break;
	}
}

/**
 * mp_format [p, end) in full and into a buffer of `small` bytes; the short
 * text must be the full one's prefix. Returns the full text (free()).
 */
static char *
mp_format_checked(const char *p, const char *end, size_t small)
{
	int n = mp_format(NULL, 0, p, end);
	FUZZ_CHECK(n >= 0);
	char *text = malloc((size_t)n + 1);
	FUZZ_CHECK(text != NULL);
	FUZZ_CHECK(mp_format(text, (size_t)n + 1, p, end) == n);
	FUZZ_CHECK(strlen(text) == (size_t)n);
	if (small > 0 && small <= (size_t)n) {
		char *cut = malloc(small);
		FUZZ_CHECK(cut != NULL);
		FUZZ_CHECK(mp_format(cut, small, p, end) == n);
		FUZZ_CHECK(strlen(cut) == small - 1);
		FUZZ_CHECK(memcmp(cut, text, small - 1) == 0);
		free(cut);
	}
	return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size);
	const char *end = buf + size;
	size_t small = size > 0 ? data[size - 1] % 64 : 0;
	free(mp_format_checked(buf, end, small));

	const char *a_end = buf;
	if (size == 0 || mp_check(&a_end, end) != 0) {
		free(buf);
		return 0;
	}
	FUZZ_CHECK(a_end > buf && a_end <= end);
	/* Value A in its own exactly-sized block. */
	size_t a_size = (size_t)(a_end - buf);
	char *a = fuzz_dup(buf, a_size);
	const char *q = a;
	mp_next(&q);
	FUZZ_CHECK(q == a + a_size);
	q = a;
	mp_walk(&q);
	FUZZ_CHECK(q == a + a_size);
	char *text = mp_format_checked(a, a + a_size, small);
	/* Only "<invalid msgpack>" ends with '>' (strings end with '"'). */
	size_t text_len = strlen(text);
	FUZZ_CHECK(text_len > 0 && text[text_len - 1] != '>');

	/* A equals a copy of itself (NaN, the one exception, aside). */
	char *a2 = fuzz_dup(a, a_size);
	if (strstr(text, "nan") == NULL) {
		const char *x = a, *y = a2;
		FUZZ_CHECK(mp_equal(&x, &y));
		FUZZ_CHECK(x == a + a_size && y == a2 + a_size);
	}
	free(text);

	/* Equality is symmetric, and advances only when true. */
	const char *b_end = a_end;
	if (b_end < end && mp_check(&b_end, end) == 0) {
		size_t b_size = (size_t)(b_end - a_end);
		char *b = fuzz_dup(a_end, b_size);
		const char *x = a, *y = b;
		bool ab = mp_equal(&x, &y);
		if (ab)
			FUZZ_CHECK(x == a + a_size && y == b + b_size);
		else
			FUZZ_CHECK(x == a && y == b);
		x = a;
		y = b;
		bool ba = mp_equal(&y, &x);
		FUZZ_CHECK(ab == ba);
		free(b);
	}
	free(a2);
	free(a);
	free(buf);
	return 0;
}
