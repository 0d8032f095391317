/*
 * mp.h — a minimal MsgPack reader and writer of our own (msgpuck's shape).
 *
 * Every byte on the iproto wire is MsgPack: the length prefix, the header
 * map, the body map (DESIGN.md §7, docs/protocol.md §1). The
 * protocol layer needs four things from MsgPack and this file gives exactly
 * those:
 *
 *   untrusted bytes ──mp_check──► "one complete value in [p, end)"  (safe)
 *                    ──mp_decode_..., mp_next──► values          (unchecked!)
 *   values ──mp_encode_* (compact)──► bodies
 *          ──mp_encode_*_fixed──► patchable headers (ce/cf/dd, fixed width)
 *
 * The decoders trust their input: call them only on bytes mp_check()
 * accepted (Tarantool's rule; breaking it is how gh-7818 and gh-10360
 * crashed). mp_check() is the only function here that reads untrusted data
 * and it never reads past `end`. Lesson: lessons/en/03-request-life.md.
 *
 * All functions are pure: any thread, no allocation, O(1) unless noted.
 */
#ifndef KHARON_PROTO_MP_H
#define KHARON_PROTO_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mp_type {
	MP_NIL,
	MP_UINT,	/* positive fixint, uint8/16/32/64 */
	MP_INT,		/* negative fixint, int8/16/32/64 */
	MP_STR,
	MP_BIN,
	MP_ARRAY,
	MP_MAP,
	MP_BOOL,
	MP_FLOAT,
	MP_DOUBLE,
	MP_EXT,
	MP_INVALID,	/* 0xc1, "never used" in the spec */
};

/** Deepest nesting mp_check() accepts (arrays/maps inside each other). */
enum { MP_CHECK_DEPTH_MAX = 128 };

extern const unsigned char mp_type_table[256];

/** Type of the value whose first byte is `c`. */
static inline enum mp_type
mp_typeof(char c)
{
	return (enum mp_type)mp_type_table[(unsigned char)c];
}

/** Name of a type for messages: "uint", "map", ... */
const char *
mp_type_name(enum mp_type type);

/**
 * Validate exactly one complete MsgPack value starting at *p.
 * Returns 0 and advances *p past the value, or -1 (truncated — a container
 * announcing more elements than bytes remain included — 0xc1, nesting
 * deeper than MP_CHECK_DEPTH_MAX) leaving *p unspecified. Never reads at or past `end`; does
 * not set diag (callers know what they were reading). Cost O(bytes).
 */
int
mp_check(const char **p, const char *end);

/** mp_check_why() results. */
enum {
	MP_CHECK_OK = 0,
	/** The bytes end first: a longer buffer may hold the value. */
	MP_CHECK_TRUNCATED = -1,
	/** 0xc1, or nesting past MP_CHECK_DEPTH_MAX: no more bytes help. */
	MP_CHECK_INVALID = -2,
};

/**
 * mp_check() that says why it refused: MP_CHECK_OK (and *p advanced),
 * MP_CHECK_TRUNCATED or MP_CHECK_INVALID, the verdicts of msgpack-c's
 * unpacker (checked by tests/unit/test_mp_oracle.c and fuzz_mp_oracle).
 * A container announcing more elements than bytes remain is TRUNCATED,
 * unless an invalid byte comes first (msgpuck 1.0.3's mp_check, whose
 * counter overflows, calls `df ffffffff` complete). The same walk as
 * mp_check(), the same cost.
 */
int
mp_check_why(const char **p, const char *end);

/**
 * Length of a uint whose first byte is `c` (1, 2, 3, 5 or 9), or 0 when `c`
 * does not start an unsigned integer. Used to frame a length prefix before
 * all of it has arrived.
 */
size_t
mp_uint_len(char c);

/** Skip one value (trusted input). Cost O(size of value). */
void
mp_next(const char **p);

/* ---- decoders: trusted input only (after mp_check), advance *p ---- */

/** Any width: positive fixint, cc, cd, ce, cf. */
uint64_t
mp_decode_uint(const char **p);

/** Negative fixint, d0..d3 (and MP_UINT values that fit in int64). */
int64_t
mp_decode_int(const char **p);

/** fixstr, d9, da, db: returns the bytes (not NUL-terminated). */
const char *
mp_decode_str(const char **p, uint32_t *len);

/** c4, c5, c6. */
const char *
mp_decode_bin(const char **p, uint32_t *len);

/** fixarray, dc, dd: the element count. */
uint32_t
mp_decode_array(const char **p);

/** fixmap, de, df: the pair count. */
uint32_t
mp_decode_map(const char **p);

bool
mp_decode_bool(const char **p);

void
mp_decode_nil(const char **p);

float
mp_decode_float(const char **p);

/** ca or cb (a float is widened). */
double
mp_decode_double(const char **p);

/* ---- compact encoders: write at `data`, return the end ---- */

size_t mp_sizeof_uint(uint64_t v);
size_t mp_sizeof_int(int64_t v);
size_t mp_sizeof_str(uint32_t len);
size_t mp_sizeof_bin(uint32_t len);
size_t mp_sizeof_array(uint32_t n);
size_t mp_sizeof_map(uint32_t n);

char *mp_encode_uint(char *data, uint64_t v);
/** Negative values as int, non-negative ones as uint (msgpuck's rule). */
char *mp_encode_int(char *data, int64_t v);
char *mp_encode_str(char *data, const char *str, uint32_t len);
/** Only the header of a string of `len` bytes; the caller writes them. */
char *mp_encode_strl(char *data, uint32_t len);
char *mp_encode_bin(char *data, const char *bin, uint32_t len);
char *mp_encode_array(char *data, uint32_t n);
char *mp_encode_map(char *data, uint32_t n);
char *mp_encode_bool(char *data, bool v);
char *mp_encode_nil(char *data);
char *mp_encode_float(char *data, float v);
char *mp_encode_double(char *data, double v);

/* ---- fixed-width encoders: the bytes a header patch overwrites ---- */

/** `ce` + u32 big-endian: 5 bytes whatever the value. */
char *mp_encode_u32_fixed(char *data, uint32_t v);
/** `cf` + u64 big-endian: 9 bytes. */
char *mp_encode_u64_fixed(char *data, uint64_t v);
/** `dd` + u32 big-endian: array32 header, 5 bytes. */
char *mp_encode_array32(char *data, uint32_t n);

/* ---- comparison ---- */

/**
 * Whether the values at *a and *b (trusted, one each) are equal as values,
 * whatever their encodings: 5 as fixint equals 5 as `ce`; a non-negative
 * int equals the uint of the same value; float and double compare by
 * value; maps are equal when they hold the same pairs in any order.
 * Advances both pointers past
 * their value only when the result is true. Cost O(size).
 */
bool
mp_equal(const char **a, const char **b);

/* ---- text ---- */

/**
 * Print the values in [data, end) as JSON-ish text: `[1, "two", {"a": 3}]`
 * (several values are separated by ", "; strings escaped; bin as
 * `bin:<hex>`; ext as `ext(<type>):<hex>`). Invalid or truncated input prints
 * `<invalid msgpack>` at the point where it stops being valid.
 * Like snprintf: writes at most `size` bytes including the NUL and returns
 * the length the full text would have. Cost O(bytes).
 */
int
mp_format(char *buf, size_t size, const char *data, const char *end);

/**
 * mp_format's first `size` - 1 bytes, for a trace's value text: the same
 * bytes, but once the buffer is full a string is no longer walked, so a
 * long value costs about what its first bytes cost. Returns the length of
 * the whole text when it fits (< size), else some length >= size.
 */
int
mp_format_head(char *buf, size_t size, const char *data, const char *end);

#endif /* KHARON_PROTO_MP_H */
