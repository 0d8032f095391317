/*
 * mp.c — a minimal MsgPack reader and writer. See mp.h.
 *
 * Big-endian loads and stores are spelled out byte by byte: no alignment
 * assumptions, no host-order surprises.
 */
#include "proto/mp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- byte helpers ---- */

static uint16_t
load_u16(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return (uint16_t)((u[0] << 8) | u[1]);
}

static uint32_t
load_u32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	return ((uint32_t)u[0] << 24) | ((uint32_t)u[1] << 16) |
	       ((uint32_t)u[2] << 8) | (uint32_t)u[3];
}

static uint64_t
load_u64(const char *p)
{
	return ((uint64_t)load_u32(p) << 32) | load_u32(p + 4);
}

static char *
store_u8(char *p, uint8_t v)
{
	*p = (char)v;
	return p + 1;
}

static char *
store_u16(char *p, uint16_t v)
{
	p[0] = (char)(v >> 8);
	p[1] = (char)v;
	return p + 2;
}

static char *
store_u32(char *p, uint32_t v)
{
	p[0] = (char)(v >> 24);
	p[1] = (char)(v >> 16);
	p[2] = (char)(v >> 8);
	p[3] = (char)v;
	return p + 4;
}

static char *
store_u64(char *p, uint64_t v)
{
	p = store_u32(p, (uint32_t)(v >> 32));
	return store_u32(p, (uint32_t)v);
}

/* ---- types ---- */

/* The type of every first byte: mp_typeof is one load (mp.h). */
const unsigned char mp_type_table[256] = {
	/* 00 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 08 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 10 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 18 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 20 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 28 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 30 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 38 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 40 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 48 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 50 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 58 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 60 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 68 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 70 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 78 */ MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* 80 */ MP_MAP, MP_MAP, MP_MAP, MP_MAP, MP_MAP, MP_MAP, MP_MAP, MP_MAP,
	/* 88 */ MP_MAP, MP_MAP, MP_MAP, MP_MAP, MP_MAP, MP_MAP, MP_MAP, MP_MAP,
	/* 90 */ MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY,
	/* 98 */ MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY, MP_ARRAY,
	/* a0 */ MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR,
	/* a8 */ MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR,
	/* b0 */ MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR,
	/* b8 */ MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR, MP_STR,
	/* c0 */ MP_NIL, MP_INVALID, MP_BOOL, MP_BOOL, MP_BIN, MP_BIN, MP_BIN, MP_EXT,
	/* c8 */ MP_EXT, MP_EXT, MP_FLOAT, MP_DOUBLE, MP_UINT, MP_UINT, MP_UINT, MP_UINT,
	/* d0 */ MP_INT, MP_INT, MP_INT, MP_INT, MP_EXT, MP_EXT, MP_EXT, MP_EXT,
	/* d8 */ MP_EXT, MP_STR, MP_STR, MP_STR, MP_ARRAY, MP_ARRAY, MP_MAP, MP_MAP,
	/* e0 */ MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT,
	/* e8 */ MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT,
	/* f0 */ MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT,
	/* f8 */ MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT, MP_INT,
};

const char *
mp_type_name(enum mp_type type)
{
	static const char *const names[] = {
		"nil", "uint", "int", "str", "bin", "array", "map", "bool",
		"float", "double", "ext", "invalid",
	};
	if ((unsigned)type >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[type];
}

size_t
mp_uint_len(char c)
{
	unsigned char b = (unsigned char)c;
	if (b <= 0x7f)
		return 1;
	switch (b) {
	case 0xcc: return 2;
	case 0xcd: return 3;
	case 0xce: return 5;
	case 0xcf: return 9;
	default: return 0;
	}
}

/* ---- validation ---- */

/*
 * The one validator behind mp_check() and mp_check_why(): 0, or
 * MP_CHECK_TRUNCATED (the bytes end before the value does: more may
 * come), or MP_CHECK_INVALID (no continuation makes it a value we accept).
 * Inlined into both, so mp_check()'s hot loop is unchanged.
 */
static inline int
mp_check_impl(const char **p, const char *end)
{
	/*
	 * `left` counts the values still to read in the innermost open
	 * container (1 for the top-level value); parent[d] holds the counts
	 * of the containers around it. Keeping the innermost count in a
	 * local rather than in the array keeps it in a register: this loop
	 * runs once per value of every packet a client reads, and a
	 * load/store through memory per value was most of its cost.
	 */
	uint64_t parent[MP_CHECK_DEPTH_MAX];
	int depth = 0;		/* open containers = entries in parent[] */
	uint64_t left = 1;
	const char *cur = *p;
	for (;;) {
		while (left == 0) {
			if (depth == 0) {
				*p = cur;
				return 0;
			}
			left = parent[--depth];
		}
		left--;
		if (cur >= end)
			return MP_CHECK_TRUNCATED;
		unsigned char b = (unsigned char)*cur++;
		size_t avail = (size_t)(end - cur);
		uint64_t skip = 0;	/* payload bytes after the header */
		uint64_t n_values = 0;	/* elements of a container */
		size_t hdr = 0;		/* length/count bytes after b */
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3) {
			continue;
		} else if (b <= 0x8f) {
			n_values = 2 * (uint64_t)(b & 0x0f);
		} else if (b <= 0x9f) {
			n_values = b & 0x0f;
		} else if (b <= 0xbf) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc1:
				return MP_CHECK_INVALID;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: case 0xca: skip = 4; break;
			case 0xcf: case 0xd3: case 0xcb: skip = 8; break;
			case 0xd4: skip = 2; break;
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xc4: case 0xd9: case 0xc7: hdr = 1; break;
			case 0xc5: case 0xda: case 0xc8: hdr = 2; break;
			case 0xc6: case 0xdb: case 0xc9: hdr = 4; break;
			case 0xdc: case 0xde: hdr = 2; break;
			case 0xdd: case 0xdf: hdr = 4; break;
			default: return MP_CHECK_INVALID;
			}
			if (hdr != 0) {
				if (avail < hdr)
					return MP_CHECK_TRUNCATED;
				uint64_t v = hdr == 1 ? (unsigned char)*cur :
					     hdr == 2 ? load_u16(cur) :
					     load_u32(cur);
				cur += hdr;
				avail -= hdr;
				if (b == 0xdc || b == 0xdd)
					n_values = v;
				else if (b == 0xde || b == 0xdf)
					n_values = 2 * v;
				else if (b >= 0xc7 && b <= 0xc9)
					skip = v + 1; /* ext type byte */
				else
					skip = v;
			}
		}
		if (skip > avail)
			return MP_CHECK_TRUNCATED;
		cur += skip;
		if (n_values > 0) {
			/* Nesting past the limit: refused whatever follows. */
			if (depth >= MP_CHECK_DEPTH_MAX)
				return MP_CHECK_INVALID;
			/*
			 * A count larger than the bytes left is not refused
			 * here: each element takes at least one byte, so the
			 * walk runs out of bytes (TRUNCATED) within the
			 * buffer anyway — unless an invalid byte comes first
			 * (`92 c1` is INVALID, as msgpack-c says), which an
			 * early "too many" would have hidden.
			 */
			parent[depth++] = left;
			left = n_values;
		}
	}
}

int
mp_check(const char **p, const char *end)
{
	return mp_check_impl(p, end) == 0 ? 0 : -1;
}

int
mp_check_why(const char **p, const char *end)
{
	return mp_check_impl(p, end);
}

void
mp_next(const char **p)
{
	uint64_t left = 1;
	const char *cur = *p;
	while (left > 0) {
		left--;
		unsigned char b = (unsigned char)*cur++;
		if (b <= 0x7f || b >= 0xe0)
			continue;
		if (b <= 0x8f) {
			left += 2 * (uint64_t)(b & 0x0f);
			continue;
		}
		if (b <= 0x9f) {
			left += b & 0x0f;
			continue;
		}
		if (b <= 0xbf) {
			cur += b & 0x1f;
			continue;
		}
		switch (b) {
		case 0xcc: case 0xd0: cur += 1; break;
		case 0xcd: case 0xd1: cur += 2; break;
		case 0xce: case 0xd2: case 0xca: cur += 4; break;
		case 0xcf: case 0xd3: case 0xcb: cur += 8; break;
		case 0xd4: cur += 2; break;
		case 0xd5: cur += 3; break;
		case 0xd6: cur += 5; break;
		case 0xd7: cur += 9; break;
		case 0xd8: cur += 17; break;
		case 0xc4: case 0xd9: cur += 1 + (unsigned char)*cur; break;
		case 0xc5: case 0xda: cur += 2 + load_u16(cur); break;
		case 0xc6: case 0xdb: cur += 4 + (size_t)load_u32(cur); break;
		case 0xc7: cur += 2 + (unsigned char)*cur; break;
		case 0xc8: cur += 3 + load_u16(cur); break;
		case 0xc9: cur += 5 + (size_t)load_u32(cur); break;
		case 0xdc: left += load_u16(cur); cur += 2; break;
		case 0xdd: left += load_u32(cur); cur += 4; break;
		case 0xde: left += 2 * (uint64_t)load_u16(cur); cur += 2; break;
		case 0xdf: left += 2 * (uint64_t)load_u32(cur); cur += 4; break;
		default: break; /* nil, bool (0xc1 never passes mp_check) */
		}
	}
	*p = cur;
}

/* ---- decoders ---- */

uint64_t
mp_decode_uint(const char **p)
{
	const char *c = *p;
	unsigned char b = (unsigned char)*c;
	switch (b) {
	case 0xcc: *p = c + 2; return (unsigned char)c[1];
	case 0xcd: *p = c + 3; return load_u16(c + 1);
	case 0xce: *p = c + 5; return load_u32(c + 1);
	case 0xcf: *p = c + 9; return load_u64(c + 1);
	default: *p = c + 1; return b; /* positive fixint */
	}
}

int64_t
mp_decode_int(const char **p)
{
	const char *c = *p;
	unsigned char b = (unsigned char)*c;
	switch (b) {
	case 0xd0: *p = c + 2; return (int8_t)c[1];
	case 0xd1: *p = c + 3; return (int16_t)load_u16(c + 1);
	case 0xd2: *p = c + 5; return (int32_t)load_u32(c + 1);
	case 0xd3: *p = c + 9; return (int64_t)load_u64(c + 1);
	default:
		if (b >= 0xe0) {
			*p = c + 1;
			return (int8_t)b;
		}
		return (int64_t)mp_decode_uint(p);
	}
}

static uint32_t
decode_len(const char **p, unsigned char small, unsigned char mask)
{
	const char *c = *p;
	unsigned char b = (unsigned char)*c;
	if (b >= small && b <= (unsigned char)(small | mask)) {
		*p = c + 1;
		return b & mask;
	}
	switch (b) {
	case 0xc4: case 0xd9: *p = c + 2; return (unsigned char)c[1];
	case 0xc5: case 0xda: case 0xdc: case 0xde:
		*p = c + 3; return load_u16(c + 1);
	default: /* c6 db dd df */
		*p = c + 5; return load_u32(c + 1);
	}
}

const char *
mp_decode_str(const char **p, uint32_t *len)
{
	*len = decode_len(p, 0xa0, 0x1f);
	const char *s = *p;
	*p += *len;
	return s;
}

const char *
mp_decode_bin(const char **p, uint32_t *len)
{
	/* Bin has no fix form; decode_len's fix range (0x00 only) never
	 * matches c4..c6. */
	*len = decode_len(p, 0x00, 0x00);
	const char *s = *p;
	*p += *len;
	return s;
}

uint32_t
mp_decode_array(const char **p)
{
	return decode_len(p, 0x90, 0x0f);
}

uint32_t
mp_decode_map(const char **p)
{
	return decode_len(p, 0x80, 0x0f);
}

bool
mp_decode_bool(const char **p)
{
	return (unsigned char)*(*p)++ == 0xc3;
}

void
mp_decode_nil(const char **p)
{
	(*p)++;
}

float
mp_decode_float(const char **p)
{
	uint32_t u = load_u32(*p + 1);
	*p += 5;
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}

double
mp_decode_double(const char **p)
{
	if ((unsigned char)**p == 0xca)
		return mp_decode_float(p);
	uint64_t u = load_u64(*p + 1);
	*p += 9;
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

/* ---- compact encoders ---- */

size_t
mp_sizeof_uint(uint64_t v)
{
	return v <= 0x7f ? 1 : v <= UINT8_MAX ? 2 : v <= UINT16_MAX ? 3 :
	       v <= UINT32_MAX ? 5 : 9;
}

size_t
mp_sizeof_int(int64_t v)
{
	if (v >= 0)
		return mp_sizeof_uint((uint64_t)v);
	return v >= -32 ? 1 : v >= INT8_MIN ? 2 : v >= INT16_MIN ? 3 :
	       v >= INT32_MIN ? 5 : 9;
}

size_t
mp_sizeof_str(uint32_t len)
{
	return len + (len <= 31 ? 1 : len <= UINT8_MAX ? 2 :
		      len <= UINT16_MAX ? 3 : 5);
}

size_t
mp_sizeof_bin(uint32_t len)
{
	return len + (len <= UINT8_MAX ? 2 : len <= UINT16_MAX ? 3 : 5);
}

size_t
mp_sizeof_array(uint32_t n)
{
	return n <= 15 ? 1 : n <= UINT16_MAX ? 3 : 5;
}

size_t
mp_sizeof_map(uint32_t n)
{
	return mp_sizeof_array(n);
}

char *
mp_encode_uint(char *data, uint64_t v)
{
	if (v <= 0x7f)
		return store_u8(data, (uint8_t)v);
	if (v <= UINT8_MAX)
		return store_u8(store_u8(data, 0xcc), (uint8_t)v);
	if (v <= UINT16_MAX)
		return store_u16(store_u8(data, 0xcd), (uint16_t)v);
	if (v <= UINT32_MAX)
		return store_u32(store_u8(data, 0xce), (uint32_t)v);
	return store_u64(store_u8(data, 0xcf), v);
}

char *
mp_encode_int(char *data, int64_t v)
{
	if (v >= 0)
		return mp_encode_uint(data, (uint64_t)v);
	if (v >= -32)
		return store_u8(data, (uint8_t)(int8_t)v);
	if (v >= INT8_MIN)
		return store_u8(store_u8(data, 0xd0), (uint8_t)(int8_t)v);
	if (v >= INT16_MIN)
		return store_u16(store_u8(data, 0xd1), (uint16_t)(int16_t)v);
	if (v >= INT32_MIN)
		return store_u32(store_u8(data, 0xd2), (uint32_t)(int32_t)v);
	return store_u64(store_u8(data, 0xd3), (uint64_t)v);
}

char *
mp_encode_strl(char *data, uint32_t len)
{
	if (len <= 31)
		return store_u8(data, (uint8_t)(0xa0 | len));
	if (len <= UINT8_MAX)
		return store_u8(store_u8(data, 0xd9), (uint8_t)len);
	if (len <= UINT16_MAX)
		return store_u16(store_u8(data, 0xda), (uint16_t)len);
	return store_u32(store_u8(data, 0xdb), len);
}

char *
mp_encode_str(char *data, const char *str, uint32_t len)
{
	data = mp_encode_strl(data, len);
	if (len > 0)
		memcpy(data, str, len);
	return data + len;
}

char *
mp_encode_bin(char *data, const char *bin, uint32_t len)
{
	if (len <= UINT8_MAX)
		data = store_u8(store_u8(data, 0xc4), (uint8_t)len);
	else if (len <= UINT16_MAX)
		data = store_u16(store_u8(data, 0xc5), (uint16_t)len);
	else
		data = store_u32(store_u8(data, 0xc6), len);
	if (len > 0)
		memcpy(data, bin, len);
	return data + len;
}

static char *
encode_container(char *data, uint32_t n, uint8_t fix, uint8_t c16)
{
	if (n <= 15)
		return store_u8(data, (uint8_t)(fix | n));
	if (n <= UINT16_MAX)
		return store_u16(store_u8(data, c16), (uint16_t)n);
	return store_u32(store_u8(data, (uint8_t)(c16 + 1)), n);
}

char *
mp_encode_array(char *data, uint32_t n)
{
	return encode_container(data, n, 0x90, 0xdc);
}

char *
mp_encode_map(char *data, uint32_t n)
{
	return encode_container(data, n, 0x80, 0xde);
}

char *
mp_encode_bool(char *data, bool v)
{
	return store_u8(data, v ? 0xc3 : 0xc2);
}

char *
mp_encode_nil(char *data)
{
	return store_u8(data, 0xc0);
}

char *
mp_encode_float(char *data, float v)
{
	uint32_t u;
	memcpy(&u, &v, sizeof(u));
	return store_u32(store_u8(data, 0xca), u);
}

char *
mp_encode_double(char *data, double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof(u));
	return store_u64(store_u8(data, 0xcb), u);
}

/* ---- fixed-width encoders ---- */

char *
mp_encode_u32_fixed(char *data, uint32_t v)
{
	return store_u32(store_u8(data, 0xce), v);
}

char *
mp_encode_u64_fixed(char *data, uint64_t v)
{
	return store_u64(store_u8(data, 0xcf), v);
}

char *
mp_encode_array32(char *data, uint32_t n)
{
	return store_u32(store_u8(data, 0xdd), n);
}

/* ---- text ---- */

/**
 * snprintf-style accumulator: counts everything, stores what fits. With
 * is_head set (mp_format_head) a string met once the buffer is full is
 * counted by its raw length, not walked: the count is then only known to
 * exceed the buffer.
 */
struct mp_text {
	char *buf;
	size_t size;
	size_t len;
	bool is_head;
};

static void
text_put(struct mp_text *t, const char *s, size_t n)
{
	if (t->len < t->size) {
		size_t room = t->size - 1 - t->len;
		memcpy(t->buf + t->len, s, n < room ? n : room);
	}
	t->len += n;
}

static void __attribute__((format(printf, 2, 3)))
text_printf(struct mp_text *t, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		text_put(t, tmp, (size_t)n < sizeof(tmp) ? (size_t)n :
			 sizeof(tmp) - 1);
}

/*
 * An integer in decimal, without printf: a traced push formats its
 * value on TX for every push (tx_port_text), and vsnprintf was most of
 * that.
 */
static void
text_uint(struct mp_text *t, uint64_t v, bool is_negative)
{
	char digits[21];
	int n = sizeof(digits);
	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (is_negative)
		digits[--n] = '-';
	text_put(t, digits + n, sizeof(digits) - (size_t)n);
}

static void
text_hex(struct mp_text *t, const char *s, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		if (t->is_head && t->len >= t->size) {
			t->len += 2 * (size_t)(len - i);
			return;
		}
		text_printf(t, "%02x", (unsigned char)s[i]);
	}
}

/** Whether `c` is written as it is inside a string's quotes. */
static inline bool
text_is_plain(unsigned char c)
{
	return c >= 0x20 && c != 0x7f && c != '"' && c != '\\';
}

static void
text_string(struct mp_text *t, const char *s, uint32_t len)
{
	if (t->is_head && t->len >= t->size) {
		t->len += (size_t)len + 2;
		return;
	}
	text_put(t, "\"", 1);
	for (uint32_t i = 0; i < len; i++) {
		if (t->is_head && t->len >= t->size) {
			/* Full: the rest and the closing quote, counted raw. */
			t->len += (size_t)(len - i) + 1;
			return;
		}
		unsigned char c = (unsigned char)s[i];
		if (text_is_plain(c)) {
			/* A run of plain bytes goes in one copy (in head mode,
			 * no further than the buffer's end). */
			uint32_t stop = len;
			if (t->is_head && t->size - t->len < (size_t)(len - i))
				stop = i + (uint32_t)(t->size - t->len);
			uint32_t run = i + 1;
			while (run < stop && text_is_plain((unsigned char)s[run]))
				run++;
			text_put(t, s + i, run - i);
			i = run - 1;
		} else if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			text_put(t, esc, 2);
		} else if (c == '\n') {
			text_put(t, "\\n", 2);
		} else {
			text_printf(t, "\\u%04x", c);
		}
	}
	text_put(t, "\"", 1);
}

/** One value of already-checked data. Recursion depth <= check's cap. */
static void
text_value(struct mp_text *t, const char **p)
{
	const char *c = *p;
	uint32_t n;
	const char *s;
	if (t->is_head && t->len >= t->size) {
		/* Full: skip the value, counting at least one byte for it. */
		mp_next(p);
		t->len++;
		return;
	}
	switch (mp_typeof(*c)) {
	case MP_NIL:
		mp_decode_nil(p);
		text_put(t, "null", 4);
		break;
	case MP_UINT:
		text_uint(t, mp_decode_uint(p), false);
		break;
	case MP_INT: {
		int64_t v = mp_decode_int(p);
		text_uint(t, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0);
		break;
	}
	case MP_STR:
		s = mp_decode_str(p, &n);
		text_string(t, s, n);
		break;
	case MP_BIN:
		s = mp_decode_bin(p, &n);
		text_put(t, "bin:", 4);
		text_hex(t, s, n);
		break;
	case MP_ARRAY:
		n = mp_decode_array(p);
		text_put(t, "[", 1);
		for (uint32_t i = 0; i < n; i++) {
			if (i > 0)
				text_put(t, ", ", 2);
			text_value(t, p);
		}
		text_put(t, "]", 1);
		break;
	case MP_MAP:
		n = mp_decode_map(p);
		text_put(t, "{", 1);
		for (uint32_t i = 0; i < n; i++) {
			if (i > 0)
				text_put(t, ", ", 2);
			text_value(t, p);
			text_put(t, ": ", 2);
			text_value(t, p);
		}
		text_put(t, "}", 1);
		break;
	case MP_BOOL:
		if (mp_decode_bool(p))
			text_put(t, "true", 4);
		else
			text_put(t, "false", 5);
		break;
	case MP_FLOAT:
	case MP_DOUBLE: {
		/* The shortest text that reads back as the same number. */
		bool is_float = mp_typeof(*c) == MP_FLOAT;
		double v = is_float ? (double)mp_decode_float(p) :
				      mp_decode_double(p);
		char num[32];
		for (int digits = 1; digits <= 17; digits++) {
			snprintf(num, sizeof(num), "%.*g", digits, v);
			double back = strtod(num, NULL);
			if (is_float ? (float)back == (float)v : back == v)
				break;
		}
		text_printf(t, "%s", num);
		break;
	}
	case MP_EXT:
	case MP_INVALID: {
		/* Checked data: an ext. Show type and payload in hex. */
		const char *start = c;
		mp_next(p);
		unsigned char b = (unsigned char)*c;
		size_t hdr = b >= 0xd4 && b <= 0xd8 ? 1 :
			     b == 0xc7 ? 2 : b == 0xc8 ? 3 : 5;
		const char *type = start + hdr;
		text_printf(t, "ext(%d):", (int)(signed char)*type);
		text_hex(t, type + 1, (uint32_t)(*p - type - 1));
		break;
	}
	}
}

static int
mp_format_text(char *buf, size_t size, const char *data, const char *end,
	       bool is_head)
{
	struct mp_text t = {buf, size, 0, is_head};
	bool first = true;
	while (data < end) {
		if (!first)
			text_put(&t, ", ", 2);
		first = false;
		const char *check = data;
		if (mp_check(&check, end) != 0) {
			text_put(&t, "<invalid msgpack>", 17);
			break;
		}
		text_value(&t, &data);
	}
	if (size > 0)
		buf[t.len < size ? t.len : size - 1] = '\0';
	return (int)t.len;
}

int
mp_format(char *buf, size_t size, const char *data, const char *end)
{
	return mp_format_text(buf, size, data, end, false);
}

int
mp_format_head(char *buf, size_t size, const char *data, const char *end)
{
	return mp_format_text(buf, size, data, end, true);
}

/* ---------------------------------------------------------- comparison */

/** A number as a double and whether it is an integer (int64 range). */
static bool
mp_read_number(const char **p, int64_t *i, uint64_t *u, double *d, int *kind)
{
	switch (mp_typeof(**p)) {
	case MP_UINT:
		*u = mp_decode_uint(p);
		*kind = 0;
		return true;
	case MP_INT:
		*i = mp_decode_int(p);
		*kind = 1;
		return true;
	case MP_FLOAT:
		*d = mp_decode_float(p);
		*kind = 2;
		return true;
	case MP_DOUBLE:
		*d = mp_decode_double(p);
		*kind = 2;
		return true;
	default:
		return false;
	}
}

static bool
mp_equal_numbers(const char **a, const char **b)
{
	int64_t ia = 0, ib = 0;
	uint64_t ua = 0, ub = 0;
	double da = 0, db = 0;
	int ka, kb;
	if (!mp_read_number(a, &ia, &ua, &da, &ka) ||
	    !mp_read_number(b, &ib, &ub, &db, &kb))
		return false;
	if (ka == 2 || kb == 2) {
		double x = ka == 2 ? da : ka == 1 ? (double)ia : (double)ua;
		double y = kb == 2 ? db : kb == 1 ? (double)ib : (double)ub;
		return x == y;
	}
	/* Negative values are only ever MP_INT; equal ints have one sign. */
	if (ka == 1 && ia < 0)
		return kb == 1 && ib == ia;
	if (kb == 1 && ib < 0)
		return false;
	uint64_t x = ka == 1 ? (uint64_t)ia : ua;
	uint64_t y = kb == 1 ? (uint64_t)ib : ub;
	return x == y;
}

static bool
mp_equal_maps(const char **a, const char **b);

bool
mp_equal(const char **a, const char **b)
{
	const char *pa = *a, *pb = *b;
	enum mp_type ta = mp_typeof(*pa), tb = mp_typeof(*pb);
	bool is_num_a = ta == MP_UINT || ta == MP_INT || ta == MP_FLOAT ||
			ta == MP_DOUBLE;
	bool is_num_b = tb == MP_UINT || tb == MP_INT || tb == MP_FLOAT ||
			tb == MP_DOUBLE;
	if (is_num_a || is_num_b) {
		if (!is_num_a || !is_num_b || !mp_equal_numbers(&pa, &pb))
			return false;
		*a = pa;
		*b = pb;
		return true;
	}
	if (ta != tb)
		return false;
	switch (ta) {
	case MP_NIL:
		mp_decode_nil(&pa);
		mp_decode_nil(&pb);
		break;
	case MP_BOOL:
		if (mp_decode_bool(&pa) != mp_decode_bool(&pb))
			return false;
		break;
	case MP_STR:
	case MP_BIN: {
		uint32_t la, lb;
		const char *sa = ta == MP_STR ? mp_decode_str(&pa, &la) :
						 mp_decode_bin(&pa, &la);
		const char *sb = tb == MP_STR ? mp_decode_str(&pb, &lb) :
						 mp_decode_bin(&pb, &lb);
		if (la != lb || memcmp(sa, sb, la) != 0)
			return false;
		break;
	}
	case MP_ARRAY: {
		uint32_t na = mp_decode_array(&pa);
		if (na != mp_decode_array(&pb))
			return false;
		for (uint32_t k = 0; k < na; k++)
			if (!mp_equal(&pa, &pb))
				return false;
		break;
	}
	case MP_MAP:
		if (!mp_equal_maps(&pa, &pb))
			return false;
		break;
	default: {
		/* ext: compare the bytes. */
		const char *ea = pa, *eb = pb;
		mp_next(&ea);
		mp_next(&eb);
		if (ea - pa != eb - pb || memcmp(pa, pb, (size_t)(ea - pa)) != 0)
			return false;
		pa = ea;
		pb = eb;
		break;
	}
	}
	*a = pa;
	*b = pb;
	return true;
}

/** Maps up to this many pairs compare in any order; bigger ones in order. */
enum { MP_EQUAL_MAP_ANY_ORDER_MAX = 64 };

/**
 * Maps are equal when they hold the same pairs in any order (a Lua table
 * comes back from Tarantool with its keys in hash order): every pair of a
 * is matched to a pair of b not matched before, so duplicates count too
 * and the relation stays symmetric. O(n^2) pair comparisons; maps in
 * scenarios are small, and a map of more than 64 pairs compares in order.
 */
static bool
mp_equal_maps(const char **a, const char **b)
{
	const char *pa = *a, *pb = *b;
	uint32_t n = mp_decode_map(&pa);
	if (n != mp_decode_map(&pb))
		return false;
	if (n > MP_EQUAL_MAP_ANY_ORDER_MAX) {
		for (uint32_t k = 0; k < 2 * n; k++)
			if (!mp_equal(&pa, &pb))
				return false;
		*a = pa;
		*b = pb;
		return true;
	}
	bool used[MP_EQUAL_MAP_ANY_ORDER_MAX] = { false };
	const char *b_pairs = pb;
	for (uint32_t i = 0; i < n; i++) {
		const char *key_a = pa;
		mp_next(&pa);
		const char *value_a = pa;
		mp_next(&pa);
		const char *q = b_pairs;
		bool found = false;
		for (uint32_t j = 0; j < n && !found; j++) {
			const char *ka = key_a, *kb = q;
			if (!used[j] && mp_equal(&ka, &kb)) {
				const char *va = value_a, *vb = kb;
				found = used[j] = mp_equal(&va, &vb);
			}
			mp_next(&q);
			mp_next(&q);
		}
		if (!found)
			return false;
	}
	/* Past b's pairs. */
	for (uint32_t j = 0; j < n; j++) {
		mp_next(&pb);
		mp_next(&pb);
	}
	*a = pa;
	*b = pb;
	return true;
}
