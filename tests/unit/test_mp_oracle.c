/*
 * test_mp_oracle.c — our MsgPack codec (src/proto/mp.h) against msgpack-c,
 * the independent implementation (tests/fuzz/mp_oracle.h says how they are
 * compared and where they legitimately differ).
 *
 *  - hand-made bytes: every single first byte, the issue's `df ffffffff`,
 *    invalid bytes behind a too-large count, nesting at msgpack-c's and at
 *    our limit, non-canonical encodings (d0 05, cd 0005, d9 03 "abc"...);
 *  - random values written by both encoders from one random stream: the
 *    bytes are identical (both write the shortest form), each side decodes
 *    what the other wrote to the same values, msgpack-c's re-pack of its
 *    object and our re-encode of our decode give those bytes back, every
 *    prefix is "truncated" for both, and single-byte damage gets the same
 *    verdict from both.
 */
#include <criterion/criterion.h>

#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/mp_oracle.h"
#include "proto/mp.h"

#define B(s) (s), (sizeof(s) - 1)

static void
agree(const char *p, size_t n)
{
	char why[256];
	const char *diff = mp_oracle_compare(p, n, why, sizeof(why));
	cr_assert_null(diff, "%s (%zu bytes, first 0x%02x)", diff, n,
		       n > 0 ? (unsigned char)p[0] : 0);
}

static enum mp_verdict
ours(const char *p, size_t n)
{
	size_t len;
	return mp_oracle_ours(p, p + n, &len);
}

static enum mp_verdict
theirs(const char *p, size_t n)
{
	size_t len;
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	enum mp_verdict v = mp_oracle_theirs(p, n, &len, &u);
	msgpack_unpacked_destroy(&u);
	return v;
}

Test(mp_oracle, every_first_byte)
{
	for (int b = 0; b < 256; b++) {
		char c = (char)b;
		agree(&c, 1);
		/* And followed by plenty of zero bytes. */
		char buf[40] = {c};
		agree(buf, sizeof(buf));
	}
	agree("", 0);
}

Test(mp_oracle, the_hand_made_cases)
{
	/* The map of 2^32 - 1 pairs with no data: truncated. */
	cr_assert_eq(ours(B("\xdf\xff\xff\xff\xff")), MP_VERDICT_TRUNCATED);
	cr_assert_not(mp_oracle_is_fed(B("\xdf\xff\xff\xff\xff")));
	/* A small version msgpack-c is given: truncated for both. */
	cr_assert_eq(ours(B("\xdf\x00\x00\x00\x03\x01")), MP_VERDICT_TRUNCATED);
	cr_assert_eq(theirs(B("\xdf\x00\x00\x00\x03\x01")),
		     MP_VERDICT_TRUNCATED);
	/* An invalid byte behind a count too large for the bytes left. */
	cr_assert_eq(ours(B("\x92\xc1")), MP_VERDICT_INVALID);
	cr_assert_eq(theirs(B("\x92\xc1")), MP_VERDICT_INVALID);
	agree(B("\x92\xc1"));
	agree(B("\x92\x01"));
	agree(B("\x93\x01\x02\xc1"));
	/* Truncated ext (Tarantool gh-10360), str, uint, float. */
	agree(B("\xd7\x01\x02"));
	agree(B("\xd9\x05" "ab"));
	agree(B("\xcf\x00\x00"));
	agree(B("\xcb\x00"));
	/* Signed and wide encodings of small numbers, str8 of 3 bytes. */
	agree(B("\xd0\x05"));
	agree(B("\xd3\x00\x00\x00\x00\x00\x00\x00\x05"));
	agree(B("\xcd\x00\x05"));
	agree(B("\xd9\x03" "abc"));
	agree(B("\xdc\x00\x01\x01"));
	agree(B("\xde\x00\x01\xa1k\xc0"));
	agree(B("\xc7\x00\x05"));
	agree(B("\xc8\x00\x02\x07\xaa\xbb"));
	/* A NaN with payload, as float and double. */
	agree(B("\xca\x7f\xc0\x12\x34"));
	agree(B("\xcb\xff\xf8\x00\x00\x00\x00\x00\x01"));
	/* ext32 of 2^32 - 1 bytes: truncated here, msgpack-c's size wraps. */
	cr_assert_eq(ours(B("\xc9\xff\xff\xff\xff\x01\x02")),
		     MP_VERDICT_TRUNCATED);
	cr_assert_eq(theirs(B("\xc9\xff\xff\xff\xff\x01\x02")),
		     MP_VERDICT_INVALID);
	cr_assert_not(mp_oracle_is_fed(B("\xc9\xff\xff\xff\xff\x01")));
	/* One less: both wait for the rest. */
	agree(B("\xc9\xff\xff\xff\xfe\x01\x02"));
	/* Trailing bytes: one value, its length. */
	agree(B("\x01\x02\x03"));
}

/* `depth` nested one-element arrays around 1. */
static size_t
nested(char *buf, int depth)
{
	memset(buf, 0x91, (size_t)depth);
	buf[depth] = 0x01;
	return (size_t)depth + 1;
}

Test(mp_oracle, nesting_limits)
{
	char buf[200];
	/* msgpack-c's stack holds 32 open containers: equal up to there. */
	size_t n = nested(buf, MP_ORACLE_DEPTH);
	cr_assert_eq(theirs(buf, n), MP_VERDICT_COMPLETE);
	agree(buf, n);
	n = nested(buf, MP_ORACLE_DEPTH + 1);
	cr_assert_eq(theirs(buf, n), MP_VERDICT_NOMEM);
	cr_assert_eq(ours(buf, n), MP_VERDICT_COMPLETE);
	agree(buf, n);
	/* Ours stops at 128. */
	n = nested(buf, MP_CHECK_DEPTH_MAX);
	cr_assert_eq(ours(buf, n), MP_VERDICT_COMPLETE);
	n = nested(buf, MP_CHECK_DEPTH_MAX + 1);
	cr_assert_eq(ours(buf, n), MP_VERDICT_INVALID);
	agree(buf, n);
	/*
	 * msgpack-c counts an empty container too (fuzz_mp_oracle's
	 * regression-empty-array-at-depth-33): [] inside 32 arrays is
	 * NOMEM there, and complete, 32 deep, for ours.
	 */
	memset(buf, 0x91, 32);
	buf[32] = (char)0x90;
	cr_assert_eq(theirs(buf, 33), MP_VERDICT_NOMEM);
	cr_assert_eq(ours(buf, 33), MP_VERDICT_COMPLETE);
	agree(buf, 33);
	buf[31] = (char)0x90;
	cr_assert_eq(theirs(buf, 32), MP_VERDICT_COMPLETE);
	agree(buf, 32);
}

/* ------------------------------------------------ random values */

struct gen {
	uint64_t state;
	/* A float32 signalling NaN was written (see the re-pack check). */
	bool has_snan;
	char *ours, *pos;
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

static uint64_t
rnd(struct gen *g)
{
	uint64_t x = g->state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	g->state = x;
	return x;
}

/* A length from the interesting ones: each header width, empty. */
static uint32_t
gen_len(struct gen *g)
{
	static const uint32_t lens[] = {0, 1, 5, 31, 32, 255, 256, 300, 65535,
					65536};
	uint64_t r = rnd(g);
	return (r & 3) != 0 ? (uint32_t)(r >> 8) % 40 : lens[(r >> 8) % 10];
}

/* A uint of a random width (so every encoding comes up). */
static uint64_t
gen_uint(struct gen *g)
{
	int bits = (int)(rnd(g) % 65);
	return bits == 64 ? rnd(g) : rnd(g) & ((1ULL << bits) - 1);
}

/* One value written by both encoders; containers up to `depth`. */
static void
gen_value(struct gen *g, int depth)
{
	uint32_t kind = (uint32_t)(rnd(g) % (depth > 0 ? 12 : 10));
	uint32_t len;
	switch (kind) {
	case 0:
		g->pos = mp_encode_nil(g->pos);
		msgpack_pack_nil(&g->pk);
		break;
	case 1: {
		bool v = rnd(g) & 1;
		g->pos = mp_encode_bool(g->pos, v);
		(v ? msgpack_pack_true : msgpack_pack_false)(&g->pk);
		break;
	}
	case 2: {
		uint64_t v = gen_uint(g);
		g->pos = mp_encode_uint(g->pos, v);
		msgpack_pack_uint64(&g->pk, v);
		break;
	}
	case 3: {
		int64_t v = (int64_t)gen_uint(g);
		if (v > 0)
			v = -v;
		g->pos = mp_encode_int(g->pos, v);
		msgpack_pack_int64(&g->pk, v);
		break;
	}
	case 4: {
		uint32_t bits = (uint32_t)rnd(g);
		if (rnd(g) % 8 == 0)
			bits |= 0x7f800000;	/* an infinity or a NaN */
		if ((bits & 0x7f800000) == 0x7f800000 &&
		    (bits & 0x007fffff) != 0 && (bits & 0x00400000) == 0)
			g->has_snan = true;
		float f;
		memcpy(&f, &bits, sizeof(f));
		g->pos = mp_encode_float(g->pos, f);
		msgpack_pack_float(&g->pk, f);
		break;
	}
	case 5: {
		uint64_t bits = rnd(g);
		double d;
		memcpy(&d, &bits, sizeof(d));
		g->pos = mp_encode_double(g->pos, d);
		msgpack_pack_double(&g->pk, d);
		break;
	}
	case 6:
	case 7: {
		len = gen_len(g);
		char *s = calloc(1, len + 1);
		for (uint32_t i = 0; i < len; i++)
			s[i] = (char)('a' + rnd(g) % 26);
		if (kind == 6) {
			g->pos = mp_encode_str(g->pos, s, len);
			msgpack_pack_str(&g->pk, len);
			msgpack_pack_str_body(&g->pk, s, len);
		} else {
			g->pos = mp_encode_bin(g->pos, s, len);
			msgpack_pack_bin(&g->pk, len);
			msgpack_pack_bin_body(&g->pk, s, len);
		}
		free(s);
		break;
	}
	case 8:
	case 9: {
		/* ext: ours has no encoder; the shortest form by hand. */
		len = gen_len(g) % 300;
		int8_t type = (int8_t)rnd(g);
		unsigned char *p = (unsigned char *)g->pos;
		switch (len) {
		case 1: *p++ = 0xd4; break;
		case 2: *p++ = 0xd5; break;
		case 4: *p++ = 0xd6; break;
		case 8: *p++ = 0xd7; break;
		case 16: *p++ = 0xd8; break;
		default:
			if (len <= 255) {
				*p++ = 0xc7;
				*p++ = (unsigned char)len;
			} else {
				*p++ = 0xc8;
				*p++ = (unsigned char)(len >> 8);
				*p++ = (unsigned char)len;
			}
		}
		*p++ = (unsigned char)type;
		char body[300];
		for (uint32_t i = 0; i < len; i++)
			body[i] = (char)rnd(g);
		memcpy(p, body, len);
		g->pos = (char *)p + len;
		msgpack_pack_ext(&g->pk, len, type);
		msgpack_pack_ext_body(&g->pk, body, len);
		break;
	}
	case 10: {
		uint32_t n = (uint32_t)(rnd(g) % 6);
		if (rnd(g) % 16 == 0)
			n = 16 + (uint32_t)(rnd(g) % 3);
		g->pos = mp_encode_array(g->pos, n);
		msgpack_pack_array(&g->pk, n);
		for (uint32_t i = 0; i < n; i++)
			gen_value(g, depth - 1);
		break;
	}
	default: {
		uint32_t n = (uint32_t)(rnd(g) % 5);
		g->pos = mp_encode_map(g->pos, n);
		msgpack_pack_map(&g->pk, n);
		for (uint32_t i = 0; i < 2 * n; i++)
			gen_value(g, depth - 1);
		break;
	}
	}
}

/* Our decoders read a checked value, our encoders write it again. */
static void
reencode(const char **p, char **out)
{
	uint32_t n, len;
	const char *s, *start = *p;
	switch (mp_typeof(**p)) {
	case MP_NIL:
		mp_decode_nil(p);
		*out = mp_encode_nil(*out);
		break;
	case MP_BOOL:
		*out = mp_encode_bool(*out, mp_decode_bool(p));
		break;
	case MP_UINT:
		*out = mp_encode_uint(*out, mp_decode_uint(p));
		break;
	case MP_INT:
		*out = mp_encode_int(*out, mp_decode_int(p));
		break;
	case MP_FLOAT:
		*out = mp_encode_float(*out, mp_decode_float(p));
		break;
	case MP_DOUBLE:
		*out = mp_encode_double(*out, mp_decode_double(p));
		break;
	case MP_STR:
		s = mp_decode_str(p, &len);
		*out = mp_encode_str(*out, s, len);
		break;
	case MP_BIN:
		s = mp_decode_bin(p, &len);
		*out = mp_encode_bin(*out, s, len);
		break;
	case MP_ARRAY:
		n = mp_decode_array(p);
		*out = mp_encode_array(*out, n);
		for (uint32_t i = 0; i < n; i++)
			reencode(p, out);
		break;
	case MP_MAP:
		n = mp_decode_map(p);
		*out = mp_encode_map(*out, n);
		for (uint32_t i = 0; i < 2 * n; i++)
			reencode(p, out);
		break;
	default:
		/* ext: no decoder, copied as it is. */
		mp_next(p);
		memcpy(*out, start, (size_t)(*p - start));
		*out += *p - start;
		break;
	}
}

enum { GEN_BUF = 8 << 20 };

Test(mp_oracle, random_values_both_ways, .timeout = 120)
{
	struct gen g = {.state = 0x9e3779b97f4a7c15ULL};
	g.ours = malloc(GEN_BUF);
	char *again = malloc(GEN_BUF);
	uint64_t n_values = 0, n_prefixes = 0, n_damaged = 0;
	for (int iter = 0; iter < 4000; iter++) {
		msgpack_sbuffer_init(&g.sb);
		msgpack_packer_init(&g.pk, &g.sb, msgpack_sbuffer_write);
		g.pos = g.ours;
		g.has_snan = false;
		gen_value(&g, 1 + iter % 6);
		size_t n = (size_t)(g.pos - g.ours);
		cr_assert_lt(n, GEN_BUF);
		/* Both write the shortest form: the same bytes. */
		cr_assert_eq(n, g.sb.size, "iteration %d: ours %zu bytes, "
			     "msgpack-c %zu", iter, n, g.sb.size);
		cr_assert_eq(memcmp(g.ours, g.sb.data, n), 0,
			     "iteration %d: the encodings differ", iter);
		/* Each decodes the other's bytes to the same values. */
		agree(g.ours, n);
		agree(g.sb.data, g.sb.size);
		n_values++;
		/*
		 * msgpack-c re-packs its object: the same bytes — except a
		 * float32 signalling NaN, which its object keeps as a double
		 * (via.f64): narrowed back it comes out quiet (7f83.. ->
		 * 7fc3..). A limit of msgpack-c's object model; our decoder
		 * returns the float as it was (checked just below).
		 */
		msgpack_unpacked u;
		msgpack_unpacked_init(&u);
		size_t off = 0;
		cr_assert_eq(msgpack_unpack_next(&u, g.ours, n, &off),
			     MSGPACK_UNPACK_SUCCESS);
		msgpack_sbuffer sb2;
		msgpack_sbuffer_init(&sb2);
		msgpack_packer pk2;
		msgpack_packer_init(&pk2, &sb2, msgpack_sbuffer_write);
		msgpack_pack_object(&pk2, u.data);
		cr_assert_eq(sb2.size, n);
		size_t d = g.has_snan ? n : 0;
		while (d < n && sb2.data[d] == g.ours[d])
			d++;
		cr_assert_eq(d, n, "iteration %d: re-packed differs at %zu: "
			     "%02x %02x %02x %02x %02x vs %02x %02x %02x %02x %02x",
			     iter, d, (unsigned char)g.ours[d],
			     (unsigned char)g.ours[d + 1], (unsigned char)g.ours[d + 2],
			     (unsigned char)g.ours[d + 3], (unsigned char)g.ours[d + 4],
			     (unsigned char)sb2.data[d], (unsigned char)sb2.data[d + 1],
			     (unsigned char)sb2.data[d + 2], (unsigned char)sb2.data[d + 3],
			     (unsigned char)sb2.data[d + 4]);
		msgpack_sbuffer_destroy(&sb2);
		msgpack_unpacked_destroy(&u);
		/* Our decode + encode gives msgpack-c's bytes back. */
		const char *p = g.sb.data;
		char *out = again;
		reencode(&p, &out);
		cr_assert_eq((size_t)(out - again), n);
		cr_assert_eq(memcmp(again, g.sb.data, n), 0);
		/* Every prefix of small values (some of big ones): truncated. */
		size_t step = n < 600 ? 1 : n / 300;
		for (size_t cut = 0; cut < n; cut += step) {
			char *copy = malloc(cut + 1);
			memcpy(copy, g.ours, cut);
			cr_assert_eq(ours(copy, cut), MP_VERDICT_TRUNCATED);
			agree(copy, cut);
			free(copy);
			n_prefixes++;
		}
		/* One damaged byte: the same verdict from both. */
		if (n < 4096) {
			for (int k = 0; k < 8; k++) {
				size_t at = (size_t)(rnd(&g) % n);
				char keep = g.ours[at];
				g.ours[at] = (char)rnd(&g);
				agree(g.ours, n);
				g.ours[at] = keep;
				n_damaged++;
			}
		}
		msgpack_sbuffer_destroy(&g.sb);
	}
	cr_log_info("mp_oracle: %llu values, %llu prefixes, %llu damaged\n",
		    (unsigned long long)n_values,
		    (unsigned long long)n_prefixes,
		    (unsigned long long)n_damaged);
	free(again);
	free(g.ours);
}
