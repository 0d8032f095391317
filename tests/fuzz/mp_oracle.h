/*
 * mp_oracle.h — our MsgPack codec (src/proto/mp.h) held to an independent
 * one, msgpack-c (libmsgpack-dev): the same bytes go to our mp_check_why()
 * + decoders and to msgpack-c's msgpack_unpack_next(), and both must give
 * the same verdict — complete, truncated or invalid — and, when complete,
 * the same length and the same values. Shared by tests/unit/test_mp_oracle.c
 * and the libFuzzer target tests/fuzz/fuzz_mp_oracle.c (header-only, so
 * each links it its own way).
 *
 *   bytes ──mp_check_why──► OK / TRUNCATED / INVALID ──┐ same verdict,
 *         ──msgpack_unpack_next──► SUCCESS / CONTINUE / ┘ same length,
 *                                  PARSE_ERROR            same values
 *
 * Where the two legitimately differ (and the rule used here):
 *  - nesting: msgpack-c's C unpacker keeps 32 open containers
 *    (MSGPACK_EMBED_STACK_SIZE) and answers NOMEM_ERROR when a 33rd
 *    one starts, even an empty one; ours accepts 128 non-empty ones
 *    (MP_CHECK_DEPTH_MAX: an empty container opens nothing). When
 *    msgpack-c says NOMEM, ours must not call it a complete value nested
 *    32 deep or less; when ours finds a value deeper than 32, msgpack-c
 *    must say NOMEM.
 *  - memory: msgpack-c allocates room for every element a container
 *    announces before reading them (df ffffffff: 4 Gi pairs, 192 GiB), so
 *    inputs with an array/map header announcing more elements than the
 *    input has bytes anywhere in them are not given to it
 *    (mp_oracle_is_fed()); ours calls such a prefix TRUNCATED, never
 *    complete (msgpuck 1.0.3 calls `df ffffffff` complete).
 *  - ext32 announcing 2^32 - 1 bytes (c9 ffffffff): msgpack-c adds the
 *    type byte to the size in 32 bits, gets 0 and calls it invalid
 *    (fuzz_mp_oracle's regression-ext32-max); by the spec it is valid,
 *    and ours calls the prefix truncated. Such inputs are not fed either.
 *  - signed encodings of non-negative numbers (d0 05): msgpack-c returns
 *    a POSITIVE_INTEGER, ours types it MP_INT; compared by value.
 *  - ext: ours has no decoder (mp_next skips it); compared by type byte,
 *    payload position and size.
 *  - a float32 signalling NaN: msgpack-c's object holds floats as doubles,
 *    so msgpack_pack_object() writes it back quiet (7f83.. -> 7fc3..);
 *    values are compared widened, the same way on both sides.
 *  - empty str/bin: msgpack-c's pointer is not into the buffer; only the
 *    length is compared (non-empty ones must point at the same byte).
 */
#ifndef KHARON_TESTS_FUZZ_MP_ORACLE_H
#define KHARON_TESTS_FUZZ_MP_ORACLE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/mp.h"

/**
 * The depth msgpack-c's C unpacker allows: MSGPACK_EMBED_STACK_SIZE of
 * msgpack/unpack_define.h (not a public header; test_mp_oracle's
 * nesting_limits checks the figure against the library).
 */
enum { MP_ORACLE_DEPTH = 32 };

enum mp_verdict {
	MP_VERDICT_COMPLETE,
	MP_VERDICT_TRUNCATED,
	MP_VERDICT_INVALID,
	/** msgpack-c only: out of memory (nesting past its stack). */
	MP_VERDICT_NOMEM,
};

static inline const char *
mp_verdict_name(enum mp_verdict v)
{
	static const char *const names[] = {
		"complete", "truncated", "invalid", "nomem",
	};
	return names[v];
}

static inline enum mp_verdict
mp_oracle_ours(const char *p, const char *end, size_t *len)
{
	const char *q = p;
	int rc = mp_check_why(&q, end);
	*len = rc == MP_CHECK_OK ? (size_t)(q - p) : 0;
	return rc == MP_CHECK_OK ? MP_VERDICT_COMPLETE :
	       rc == MP_CHECK_TRUNCATED ? MP_VERDICT_TRUNCATED :
	       MP_VERDICT_INVALID;
}

static inline enum mp_verdict
mp_oracle_theirs(const char *p, size_t n, size_t *len, msgpack_unpacked *u)
{
	size_t off = 0;
	msgpack_unpack_return rc = msgpack_unpack_next(u, p, n, &off);
	*len = off;
	switch (rc) {
	case MSGPACK_UNPACK_SUCCESS:
	case MSGPACK_UNPACK_EXTRA_BYTES:
		return MP_VERDICT_COMPLETE;
	case MSGPACK_UNPACK_CONTINUE:
		return MP_VERDICT_TRUNCATED;
	case MSGPACK_UNPACK_PARSE_ERROR:
		return MP_VERDICT_INVALID;
	default:
		return MP_VERDICT_NOMEM;
	}
}

/*
 * Whether msgpack-c may be given these bytes: no array/map header at any
 * offset (a byte-level scan, no parsing) announces more elements than the
 * input has bytes — which keeps its up-front allocations within
 * (32 + n) * n * 48 bytes — and no ext32 header announces 2^32 - 1 bytes
 * (msgpack-c's wrap, above).
 */
static inline bool
mp_oracle_is_fed(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	for (size_t i = 0; i < n; i++) {
		/* ext32 of 2^32 - 1 bytes: msgpack-c's size + 1 wraps. */
		if (u[i] == 0xc9 && i + 4 < n && u[i + 1] == 0xff &&
		    u[i + 2] == 0xff && u[i + 3] == 0xff && u[i + 4] == 0xff)
			return false;
		uint64_t count;
		if ((u[i] == 0xdc || u[i] == 0xde) && i + 2 < n)
			count = (uint64_t)u[i + 1] << 8 | u[i + 2];
		else if ((u[i] == 0xdd || u[i] == 0xdf) && i + 4 < n)
			count = (uint64_t)u[i + 1] << 24 |
				(uint64_t)u[i + 2] << 16 |
				(uint64_t)u[i + 3] << 8 | u[i + 4];
		else
			continue;
		if (count > n)
			return false;
	}
	/* A header cut by the end announces an unknown count: allow. */
	return true;
}

/*
 * Deepest nesting of containers in one checked value, counted as
 * msgpack-c counts them: an empty array inside 32 others is the 33rd.
 */
static inline int
mp_oracle_depth(const char **p)
{
	int deepest = 0;
	uint32_t n = 0;
	switch (mp_typeof(**p)) {
	case MP_ARRAY:
		n = mp_decode_array(p);
		for (uint32_t i = 0; i < n; i++) {
			int d = mp_oracle_depth(p);
			if (d > deepest)
				deepest = d;
		}
		return deepest + 1;
	case MP_MAP:
		n = mp_decode_map(p);
		for (uint32_t i = 0; i < 2 * n; i++) {
			int d = mp_oracle_depth(p);
			if (d > deepest)
				deepest = d;
		}
		return deepest + 1;
	default:
		mp_next(p);
		return 0;
	}
}

/* Doubles compared bit for bit: a NaN equals the same NaN. */
static inline bool
mp_oracle_same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/*
 * Our decoders on the checked value at *p against msgpack-c's object `o`
 * decoded from the same buffer (`base` is the buffer's start in both):
 * same type (up to the sign rule above), same value, strings and bins at
 * the same offset. On a difference writes why into `why` and returns
 * false. Advances *p past the value.
 */
static inline bool
mp_oracle_same(const char **p, const msgpack_object *o, char *why,
	       size_t why_size)
{
	const char *at = *p;
	enum mp_type t = mp_typeof(**p);
	uint32_t len, n;
	const char *s;
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		if (t != MP_NIL)
			break;
		mp_decode_nil(p);
		return true;
	case MSGPACK_OBJECT_BOOLEAN:
		if (t != MP_BOOL || mp_decode_bool(p) != o->via.boolean)
			break;
		return true;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (t == MP_UINT && mp_decode_uint(p) == o->via.u64)
			return true;
		/* d0..d3 holding a value >= 0: msgpack-c calls it positive. */
		if (t == MP_INT && o->via.u64 <= INT64_MAX &&
		    mp_decode_int(p) == (int64_t)o->via.u64)
			return true;
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		if (t != MP_INT || mp_decode_int(p) != o->via.i64)
			break;
		return true;
	case MSGPACK_OBJECT_FLOAT32:
		if (t != MP_FLOAT ||
		    !mp_oracle_same_double((double)mp_decode_float(p),
					   o->via.f64))
			break;
		return true;
	case MSGPACK_OBJECT_FLOAT64:
		if (t != MP_DOUBLE ||
		    !mp_oracle_same_double(mp_decode_double(p), o->via.f64))
			break;
		return true;
	case MSGPACK_OBJECT_STR:
		if (t != MP_STR)
			break;
		s = mp_decode_str(p, &len);
		if (len != o->via.str.size ||
		    (len > 0 && s != o->via.str.ptr))
			break;
		return true;
	case MSGPACK_OBJECT_BIN:
		if (t != MP_BIN)
			break;
		s = mp_decode_bin(p, &len);
		if (len != o->via.bin.size ||
		    (len > 0 && s != o->via.bin.ptr))
			break;
		return true;
	case MSGPACK_OBJECT_EXT:
		if (t != MP_EXT)
			break;
		mp_next(p);
		/* The type byte just before the payload, the payload last. */
		if (o->via.ext.ptr + o->via.ext.size != *p ||
		    (int8_t)o->via.ext.ptr[-1] != o->via.ext.type)
			break;
		return true;
	case MSGPACK_OBJECT_ARRAY:
		if (t != MP_ARRAY)
			break;
		n = mp_decode_array(p);
		if (n != o->via.array.size)
			break;
		for (uint32_t i = 0; i < n; i++) {
			if (!mp_oracle_same(p, &o->via.array.ptr[i], why,
					    why_size))
				return false;
		}
		return true;
	case MSGPACK_OBJECT_MAP:
		if (t != MP_MAP)
			break;
		n = mp_decode_map(p);
		if (n != o->via.map.size)
			break;
		for (uint32_t i = 0; i < n; i++) {
			if (!mp_oracle_same(p, &o->via.map.ptr[i].key, why,
					    why_size) ||
			    !mp_oracle_same(p, &o->via.map.ptr[i].val, why,
					    why_size))
				return false;
		}
		return true;
	}
	snprintf(why, why_size, "a value of ours (type %s, first byte 0x%02x) "
		 "differs from msgpack-c's (object type %d)", mp_type_name(t),
		 (unsigned char)*at, (int)o->type);
	return false;
}

/*
 * The whole comparison on [p, p + n): NULL when ours and msgpack-c agree
 * (or the input is not fed to msgpack-c, see above), else a sentence
 * saying how they differ, in `why`.
 */
static inline const char *
mp_oracle_compare(const char *p, size_t n, char *why, size_t why_size)
{
	size_t our_len, their_len;
	enum mp_verdict ours = mp_oracle_ours(p, p + n, &our_len);
	if (!mp_oracle_is_fed(p, n))
		return NULL;
	msgpack_unpacked u;
	msgpack_unpacked_init(&u);
	enum mp_verdict theirs = mp_oracle_theirs(p, n, &their_len, &u);
	const char *res = NULL;
	if (theirs == MP_VERDICT_NOMEM) {
		const char *q = p;
		if (ours == MP_VERDICT_COMPLETE &&
		    mp_oracle_depth(&q) <= MP_ORACLE_DEPTH) {
			snprintf(why, why_size, "msgpack-c ran out of memory on "
				 "a value ours calls complete and shallow");
			res = why;
		}
	} else if (ours == MP_VERDICT_COMPLETE && theirs == MP_VERDICT_COMPLETE) {
		const char *q = p;
		if (our_len != their_len) {
			snprintf(why, why_size, "complete: ours %zu bytes, "
				 "msgpack-c %zu", our_len, their_len);
			res = why;
		} else if (!mp_oracle_same(&q, &u.data, why, why_size)) {
			res = why;
		} else if ((size_t)(q - p) != our_len) {
			snprintf(why, why_size, "decoders ended at %zu, check "
				 "at %zu", (size_t)(q - p), our_len);
			res = why;
		}
	} else if (ours == MP_VERDICT_COMPLETE) {
		const char *q = p;
		/* Only nesting past msgpack-c's stack may part them here. */
		if (mp_oracle_depth(&q) <= MP_ORACLE_DEPTH) {
			snprintf(why, why_size, "ours: complete (%zu bytes), "
				 "msgpack-c: %s", our_len,
				 mp_verdict_name(theirs));
			res = why;
		}
	} else if (ours != theirs) {
		snprintf(why, why_size, "ours: %s, msgpack-c: %s",
			 mp_verdict_name(ours), mp_verdict_name(theirs));
		res = why;
	}
	msgpack_unpacked_destroy(&u);
	return res;
}

#endif /* KHARON_TESTS_FUZZ_MP_ORACLE_H */
