/*
 * test_mp.c — the MsgPack reader/writer: every uint width, mp_check's
 * bounds (every prefix of valid values is rejected without reading past
 * end — ASan would catch a read), 0xc1, depth cap, mp_format text.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mp.h"

/* Bytes of one value as a test vector. */
struct vec {
	const char *bytes;
	size_t len;
};

#define V(s) {s, sizeof(s) - 1}

static const struct vec valid_values[] = {
	V("\x00"), V("\x7f"), V("\xcc\xff"), V("\xcd\x01\x00"),
	V("\xce\x00\x01\x00\x00"), V("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"),
	V("\xe0"), V("\xd0\x80"), V("\xd1\x80\x00"), V("\xd2\x80\x00\x00\x00"),
	V("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"),
	V("\xc0"), V("\xc2"), V("\xc3"),
	V("\xca\x3f\x80\x00\x00"), V("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"),
	V("\xa3one"), V("\xd9\x03two"), V("\xda\x00\x02hi"),
	V("\xdb\x00\x00\x00\x01x"), V("\xc4\x02\x01\x02"),
	V("\xc5\x00\x01\x09"), V("\xc6\x00\x00\x00\x00"),
	V("\xd4\x01\x02"), V("\xd7\x01\x00\x00\x00\x00\x00\x00\x00\x00"),
	V("\xc7\x02\x05\xaa\xbb"),
	V("\x93\x01\xa3two\x81\xa1" "a\x03"),
	V("\xdc\x00\x02\x90\x80"), V("\xdd\x00\x00\x00\x01\xc0"),
	V("\xde\x00\x01\x01\x02"), V("\xdf\x00\x00\x00\x01\x91\x01\x92\x01\x02"),
	V("\x82\x00\x40\x01\xcf\x00\x00\x00\x00\x00\x00\x00\x04"),
};

Test(mp, uint_every_width)
{
	struct { const char *b; size_t len; uint64_t v; } cases[] = {
		{"\x05", 1, 5},
		{"\xcc\xc8", 2, 200},
		{"\xcd\x12\x34", 3, 0x1234},
		{"\xce\x12\x34\x56\x78", 5, 0x12345678},
		{"\xcf\x12\x34\x56\x78\x9a\xbc\xde\xf0", 9,
		 0x123456789abcdef0ULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].b;
		cr_assert_eq(mp_typeof(*p), MP_UINT);
		cr_assert_eq(mp_uint_len(*p), cases[i].len);
		cr_assert_eq(mp_decode_uint(&p), cases[i].v, "case %zu", i);
		cr_assert_eq(p, cases[i].b + cases[i].len);
	}
	cr_assert_eq(mp_uint_len('\xa1'), 0);
	cr_assert_eq(mp_uint_len('\xd0'), 0);
}

Test(mp, encode_decode_round_trip)
{
	char buf[64];
	uint64_t uints[] = {0, 127, 128, 255, 256, 65535, 65536,
			    UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
	for (size_t i = 0; i < sizeof(uints) / sizeof(uints[0]); i++) {
		char *e = mp_encode_uint(buf, uints[i]);
		cr_assert_eq((size_t)(e - buf), mp_sizeof_uint(uints[i]));
		const char *p = buf;
		cr_assert_eq(mp_check(&p, e), 0);
		cr_assert_eq(p, e);
		p = buf;
		cr_assert_eq(mp_decode_uint(&p), uints[i]);
	}
	int64_t ints[] = {-1, -32, -33, -128, -129, -32768, -32769,
			  INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN, 5};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		char *e = mp_encode_int(buf, ints[i]);
		cr_assert_eq((size_t)(e - buf), mp_sizeof_int(ints[i]));
		const char *p = buf;
		cr_assert_eq(mp_decode_int(&p), ints[i], "case %zu", i);
		cr_assert_eq(p, e);
	}
	/* Strings across every header width. */
	static char big[70000];
	memset(big, 'x', sizeof(big));
	char *sbuf = malloc(sizeof(big) + 8);
	uint32_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char *e = mp_encode_str(sbuf, big, lens[i]);
		cr_assert_eq((size_t)(e - sbuf), mp_sizeof_str(lens[i]));
		const char *p = sbuf;
		cr_assert_eq(mp_check(&p, e), 0);
		p = sbuf;
		uint32_t len;
		const char *s = mp_decode_str(&p, &len);
		cr_assert_eq(len, lens[i]);
		cr_assert_eq(s + len, e);
		e = mp_encode_bin(sbuf, big, lens[i]);
		cr_assert_eq((size_t)(e - sbuf), mp_sizeof_bin(lens[i]));
		p = sbuf;
		cr_assert_eq(mp_typeof(*p), MP_BIN);
		mp_decode_bin(&p, &len);
		cr_assert_eq(len, lens[i]);
	}
	free(sbuf);
	uint32_t counts[] = {0, 15, 16, 65535, 65536};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		char *e = mp_encode_array(buf, counts[i]);
		cr_assert_eq((size_t)(e - buf), mp_sizeof_array(counts[i]));
		const char *p = buf;
		cr_assert_eq(mp_decode_array(&p), counts[i]);
		e = mp_encode_map(buf, counts[i]);
		p = buf;
		cr_assert_eq(mp_typeof(*p), MP_MAP);
		cr_assert_eq(mp_decode_map(&p), counts[i]);
		cr_assert_eq(p, e);
	}
	char *e = mp_encode_double(buf, 1.5);
	e = mp_encode_float(e, 2.5f);
	e = mp_encode_bool(e, true);
	e = mp_encode_nil(e);
	const char *p = buf;
	cr_assert_eq(mp_decode_double(&p), 1.5);
	cr_assert_eq(mp_decode_float(&p), 2.5f);
	cr_assert(mp_decode_bool(&p));
	cr_assert_eq(mp_typeof(*p), MP_NIL);
	mp_decode_nil(&p);
	cr_assert_eq(p, e);
}

Test(mp, fixed_width_encoders)
{
	char buf[9];
	cr_assert_eq(mp_encode_u32_fixed(buf, 5) - buf, 5);
	cr_assert_eq(memcmp(buf, "\xce\x00\x00\x00\x05", 5), 0);
	cr_assert_eq(mp_encode_u64_fixed(buf, 4) - buf, 9);
	cr_assert_eq(memcmp(buf, "\xcf\0\0\0\0\0\0\0\x04", 9), 0);
	cr_assert_eq(mp_encode_array32(buf, 2) - buf, 5);
	cr_assert_eq(memcmp(buf, "\xdd\x00\x00\x00\x02", 5), 0);
}

Test(mp, check_accepts_valid_and_next_agrees)
{
	for (size_t i = 0; i < sizeof(valid_values) / sizeof(valid_values[0]);
	     i++) {
		const struct vec *v = &valid_values[i];
		const char *p = v->bytes;
		cr_assert_eq(mp_check(&p, v->bytes + v->len), 0, "value %zu", i);
		cr_assert_eq(p, v->bytes + v->len, "value %zu", i);
		p = v->bytes;
		mp_next(&p);
		cr_assert_eq(p, v->bytes + v->len, "mp_next value %zu", i);
	}
}

/* Each prefix is copied into an exactly-sized heap block, so a read past
 * its end is a heap overflow ASan reports. */
Test(mp, check_every_prefix_is_rejected_in_bounds)
{
	for (size_t i = 0; i < sizeof(valid_values) / sizeof(valid_values[0]);
	     i++) {
		const struct vec *v = &valid_values[i];
		for (size_t cut = 0; cut < v->len; cut++) {
			char *copy = malloc(cut > 0 ? cut : 1);
			memcpy(copy, v->bytes, cut);
			const char *p = copy;
			cr_assert_eq(mp_check(&p, copy + cut), -1,
				     "value %zu cut %zu", i, cut);
			free(copy);
		}
	}
}

Test(mp, check_rejects_bad_bytes)
{
	const char c1[] = "\xc1";
	const char *p = c1;
	cr_assert_eq(mp_typeof(c1[0]), MP_INVALID);
	cr_assert_eq(mp_check(&p, c1 + 1), -1);
	/* 0xc1 nested inside an array. */
	const char arr[] = "\x92\x01\xc1";
	p = arr;
	cr_assert_eq(mp_check(&p, arr + 3), -1);
	/* Truncated fixext8 (gh-10360). */
	const char d7[] = "\xd7\x01\x02";
	p = d7;
	cr_assert_eq(mp_check(&p, d7 + 3), -1);
	/* An array32 announcing 4 billion elements in 5 bytes. */
	const char huge[] = "\xdd\xff\xff\xff\xff";
	p = huge;
	cr_assert_eq(mp_check(&p, huge + 5), -1);
	/* A str32 whose length wraps nothing: 4 GiB announced. */
	const char s32[] = "\xdb\xff\xff\xff\xff" "abc";
	p = s32;
	cr_assert_eq(mp_check(&p, s32 + 8), -1);
}

Test(mp, check_depth_cap)
{
	char buf[MP_CHECK_DEPTH_MAX + 2] = {0};
	/* MP_CHECK_DEPTH_MAX nested arrays around one nil: accepted. */
	memset(buf, '\x91', MP_CHECK_DEPTH_MAX);
	buf[MP_CHECK_DEPTH_MAX] = '\xc0';
	const char *p = buf;
	cr_assert_eq(mp_check(&p, buf + MP_CHECK_DEPTH_MAX + 1), 0);
	/* One level more: rejected. */
	memset(buf, '\x91', MP_CHECK_DEPTH_MAX + 1);
	buf[MP_CHECK_DEPTH_MAX + 1] = '\xc0';
	p = buf;
	cr_assert_eq(mp_check(&p, buf + MP_CHECK_DEPTH_MAX + 2), -1);
}

Test(mp, check_stops_after_one_value)
{
	const char two[] = "\x01\x02";
	const char *p = two;
	cr_assert_eq(mp_check(&p, two + 2), 0);
	cr_assert_eq(p, two + 1);
}

Test(mp, format_text)
{
	char buf[128];
	const char v[] = "\x93\x01\xa3two\x81\xa1" "a\x03";
	int n = mp_format(buf, sizeof(buf), v, v + sizeof(v) - 1);
	cr_assert_str_eq(buf, "[1, \"two\", {\"a\": 3}]");
	cr_assert_eq(n, (int)strlen(buf));
	const char w[] = "\xc0\xc3\xff\xcb\x3f\xf8\0\0\0\0\0\0\xc4\x02\xab\xcd"
			 "\xa3q\"\n";
	mp_format(buf, sizeof(buf), w, w + sizeof(w) - 1);
	cr_assert_str_eq(buf, "null, true, -1, 1.5, bin:abcd, \"q\\\"\\n\"");
	/* Truncation: snprintf semantics. */
	char small[5];
	n = mp_format(small, sizeof(small), v, v + sizeof(v) - 1);
	cr_assert_eq(n, 20);
	cr_assert_str_eq(small, "[1, ");
	/* The extremes of both integer kinds. */
	char ints[32];
	char *q = mp_encode_uint(ints, UINT64_MAX);
	q = mp_encode_int(q, INT64_MIN);
	q = mp_encode_uint(q, 0);
	mp_format(buf, sizeof(buf), ints, q);
	cr_assert_str_eq(buf, "18446744073709551615, -9223372036854775808, 0");
	/* Control bytes among plain runs. */
	const char c[] = "\xa6" "ab\x01" "c\x7f" "d";
	mp_format(buf, sizeof(buf), c, c + sizeof(c) - 1);
	cr_assert_str_eq(buf, "\"ab\\u0001c\\u007fd\"");
	/* Invalid data is marked, not read past. */
	const char bad[] = "\x92\x01";
	mp_format(buf, sizeof(buf), bad, bad + 2);
	cr_assert_str_eq(buf, "<invalid msgpack>");
	const char ext[] = "\xd4\x05\x07";
	mp_format(buf, sizeof(buf), ext, ext + 3);
	cr_assert_str_eq(buf, "ext(5):07");
}

Test(mp, equal_ignores_widths_and_map_order)
{
	char a[64], b[64];
	/* [5, {"x": 1, "y": -2}] with compact encodings ... */
	char *pa = mp_encode_array(a, 2);
	pa = mp_encode_uint(pa, 5);
	pa = mp_encode_map(pa, 2);
	pa = mp_encode_str(pa, "x", 1);
	pa = mp_encode_uint(pa, 1);
	pa = mp_encode_str(pa, "y", 1);
	pa = mp_encode_int(pa, -2);
	/* ... equals it with fixed widths and the keys swapped. */
	char *pb = mp_encode_array(b, 2);
	pb = mp_encode_u32_fixed(pb, 5);
	pb = mp_encode_map(pb, 2);
	pb = mp_encode_str(pb, "y", 1);
	pb = mp_encode_int(pb, -2);
	pb = mp_encode_str(pb, "x", 1);
	pb = mp_encode_u64_fixed(pb, 1);
	const char *qa = a, *qb = b;
	cr_assert(mp_equal(&qa, &qb));
	cr_assert_eq(qa, pa, "advanced past a");
	cr_assert_eq(qb, pb, "advanced past b");
	/* 2 and 2.0 are the same number; 2 and "2" are not. */
	char c[16], d[16];
	mp_encode_uint(c, 2);
	mp_encode_double(d, 2.0);
	qa = c, qb = d;
	cr_assert(mp_equal(&qa, &qb));
	mp_encode_str(d, "2", 1);
	qa = c, qb = d;
	cr_assert_not(mp_equal(&qa, &qb));
	/* A missing key. */
	pb = mp_encode_map(b, 2);
	pb = mp_encode_str(pb, "x", 1);
	pb = mp_encode_uint(pb, 1);
	pb = mp_encode_str(pb, "z", 1);
	pb = mp_encode_int(pb, -2);
	qa = a + 2, qb = b;
	cr_assert_not(mp_equal(&qa, &qb));
}

Test(mp, format_prints_the_shortest_number)
{
	char v[16], out[64];
	mp_encode_double(v, -2.5e-05);
	mp_format(out, sizeof(out), v, v + 9);
	cr_assert_str_eq(out, "-2.5e-05");
	mp_encode_double(v, 0.1);
	mp_format(out, sizeof(out), v, v + 9);
	cr_assert_str_eq(out, "0.1");
	mp_encode_float(v, 1.5f);
	mp_format(out, sizeof(out), v, v + 5);
	cr_assert_str_eq(out, "1.5");
}

Test(mp, typeof_every_first_byte)
{
	/* The table against the MsgPack spec's ranges, all 256 bytes. */
	for (int b = 0; b < 256; b++) {
		enum mp_type want;
		if (b <= 0x7f || (b >= 0xcc && b <= 0xcf))
			want = MP_UINT;
		else if (b <= 0x8f || b == 0xde || b == 0xdf)
			want = MP_MAP;
		else if (b <= 0x9f || b == 0xdc || b == 0xdd)
			want = MP_ARRAY;
		else if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb))
			want = MP_STR;
		else if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3))
			want = MP_INT;
		else if (b == 0xc0)
			want = MP_NIL;
		else if (b == 0xc1)
			want = MP_INVALID;
		else if (b == 0xc2 || b == 0xc3)
			want = MP_BOOL;
		else if (b >= 0xc4 && b <= 0xc6)
			want = MP_BIN;
		else if (b == 0xca)
			want = MP_FLOAT;
		else if (b == 0xcb)
			want = MP_DOUBLE;
		else
			want = MP_EXT;
		cr_assert_eq(mp_typeof((char)b), want, "byte %02x", b);
	}
}

/*
 * mp_format_head writes the same bytes as mp_format for every buffer
 * size; it returns the exact length when the text fits and a length of
 * at least the buffer when it does not.
 */
Test(mp, format_head_is_format_cut_short)
{
	char v[400];
	char *p = mp_encode_array(v, 6);
	p = mp_encode_str(p, "a\"b\nc", 6);
	p = mp_encode_uint(p, 12345);
	char s[300];
	memset(s, 'z', sizeof(s));
	s[150] = '\\';
	p = mp_encode_str(p, s, sizeof(s));
	p = mp_encode_map(p, 1);
	p = mp_encode_str(p, "k", 1);
	p = mp_encode_nil(p);
	/* After the cut, bin and containers are skipped, not formatted. */
	p = mp_encode_bin(p, "\x01\xff\x10", 3);
	p = mp_encode_array(p, 2);
	p = mp_encode_uint(p, 1);
	p = mp_encode_bin(p, "\xab", 1);
	char whole[1024];
	int full = mp_format(whole, sizeof(whole), v, p);
	cr_assert_lt(full, (int)sizeof(whole));
	for (size_t size = 1; size <= (size_t)full + 2; size++) {
		char a[1024], b[1024];
		mp_format(a, size, v, p);
		int n = mp_format_head(b, size, v, p);
		cr_assert_str_eq(b, a, "size %zu", size);
		if ((size_t)full < size)
			cr_assert_eq(n, full, "size %zu", size);
		else
			cr_assert(n >= (int)size && n <= full, "size %zu: %d",
				  size, n);
	}
}
