/*
 * test_port.c — ports: what each dump method writes and returns.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/mem.h"
#include "box/port.h"
#include "buf/obuf.h"
#include "proto/mp.h"
#include "iproto/iproto_connection.h"

/** The obuf's bytes, flattened into `out`; returns the size. */
static size_t
obuf_flatten(struct obuf *ob, char *out)
{
	size_t n = 0;
	for (int i = 0; i < obuf_iovcnt(ob); i++) {
		memcpy(out + n, ob->iov[i].iov_base, ob->iov[i].iov_len);
		n += ob->iov[i].iov_len;
	}
	return n;
}

Test(port, msgpack_over_arguments_in_place)
{
	int64_t live = mem_live();
	char args[64];
	char *p = mp_encode_array(args, 3);
	p = mp_encode_uint(p, 1);
	p = mp_encode_str(p, "two", 3);
	p = mp_encode_array(p, 1);
	p = mp_encode_int(p, -3);
	struct port port;
	port_msgpack_create_from_array(&port, args, p);
	uint32_t size;
	const char *array = port_get_msgpack(&port, &size);
	cr_assert_eq(array, args, "no copy: the array is the request's own");
	cr_assert_eq(size, (uint32_t)(p - args));
	const char *text = port_dump_plain(&port, &size);
	cr_assert_str_eq(text, "1, \"two\", [-3]");
	struct obuf ob;
	obuf_create(&ob, 16);
	cr_assert_eq(port_dump_msgpack(&port, &ob), 3, "three entries");
	char flat[64];
	size_t n = obuf_flatten(&ob, flat);
	cr_assert_eq(n, (size_t)(p - args - 1), "the values, without the array");
	cr_assert_eq(memcmp(flat, args + 1, n), 0);
	obuf_destroy(&ob);
	/* 1.6 format: the values as they are too (Tarantool has none). */
	obuf_create(&ob, 16);
	cr_assert_eq(port_dump_msgpack_16(&port, &ob), 3);
	cr_assert_eq(obuf_flatten(&ob, flat), n);
	cr_assert_eq(memcmp(flat, args + 1, n), 0);
	obuf_destroy(&ob);
	port_destroy(&port);
	cr_assert_eq(mem_live(), live);
}

Test(port, c_results_dump_as_one_array)
{
	int64_t live = mem_live();
	struct port port;
	port_c_create(&port);
	char v[16];
	char *e = mp_encode_uint(v, 42);
	cr_assert_eq(port_c_add_mp(&port, v, e), 0);
	e = mp_encode_str(v, "x", 1);
	cr_assert_eq(port_c_add_mp(&port, v, e), 0);
	cr_assert_eq(port_c_size(&port), 2);
	struct obuf ob;
	obuf_create(&ob, 16);
	cr_assert_eq(port_dump_msgpack(&port, &ob), 1,
		     "a C procedure's results are ONE entry: [[42, \"x\"]]");
	char flat[64];
	size_t n = obuf_flatten(&ob, flat);
	const char expect[] = { (char)0x92, 42, (char)0xa1, 'x' };
	cr_assert_eq(n, sizeof(expect));
	cr_assert_eq(memcmp(flat, expect, n), 0);
	uint32_t size;
	const char *text = port_dump_plain(&port, &size);
	cr_assert_str_eq(text, "42, \"x\"");
	const char *mp = port_get_msgpack(&port, &size);
	const char *q = mp;
	cr_assert_eq(mp_check(&q, mp + size), 0);
	q = mp;
	cr_assert_eq(mp_decode_array(&q), 2);
	obuf_destroy(&ob);
	port_destroy(&port);
	cr_assert_eq(mem_live(), live);
}

Test(port, c_add_fails_cleanly_without_memory)
{
	int64_t live = mem_live();
	struct port port;
	port_c_create(&port);
	char v[4];
	char *e = mp_encode_uint(v, 1);
	mem_fail_after(1, 0);
	cr_assert_eq(port_c_add_mp(&port, v, e), -1);
	mem_fail_reset();
	cr_assert_eq(port_c_size(&port), 0);
	cr_assert_eq(port_c_add_mp(&port, v, e), 0);
	port_destroy(&port);
	cr_assert_eq(mem_live(), live);
}

/** Dump `port` in the 1.6 format; compare bytes and the returned count. */
static void
check_dump_16(struct port *port, int count, const char *expect, size_t len)
{
	struct obuf ob;
	obuf_create(&ob, 16);
	cr_assert_eq(port_dump_msgpack_16(port, &ob), count);
	char flat[256];
	size_t n = obuf_flatten(&ob, flat);
	cr_assert_eq(n, len, "%zu bytes, expected %zu", n, len);
	cr_assert_eq(memcmp(flat, expect, n), 0);
	obuf_destroy(&ob);
}

/** A port of the given constructor over the values of `args` (an array). */
static void
fill(struct port *port, void (*create)(struct port *), const char *args)
{
	create(port);
	const char *p = args;
	uint32_t n = mp_decode_array(&p);
	for (uint32_t i = 0; i < n; i++) {
		const char *v = p;
		mp_next(&p);
		cr_assert_eq(port_c_add_mp(port, v, p), 0);
	}
}

#define B(...) ((const char[]){ __VA_ARGS__ })
#define CHECK_16(create, args, count, ...) do {				\
	struct port port_;						\
	fill(&port_, create, args);					\
	check_dump_16(&port_, count, B(__VA_ARGS__),			\
		      sizeof(B(__VA_ARGS__)));				\
	port_destroy(&port_);						\
} while (0)

Test(port, c_dump_16_writes_entries_as_they_are)
{
	int64_t live = mem_live();
	/* Tarantool's port_c_dump_msgpack_16: no wrapping, N entries. */
	CHECK_16(port_c_create, B((char)0x92, 1, (char)0x91, 2), 2,
		 1, (char)0x91, 2);
	CHECK_16(port_c_create, B((char)0x92, (char)0xa1, 'x', (char)0xc0), 2,
		 (char)0xa1, 'x', (char)0xc0);
	struct port port;
	port_c_create(&port);
	struct obuf ob;
	obuf_create(&ob, 16);
	cr_assert_eq(port_dump_msgpack_16(&port, &ob), 0, "no entries");
	cr_assert_eq(obuf_size(&ob), 0);
	obuf_destroy(&ob);
	port_destroy(&port);
	cr_assert_eq(mem_live(), live);
}

Test(port, table_dump_16_follows_luamp_encode_call_16)
{
	int64_t live = mem_live();
	/* `return {}` → one empty tuple. */
	CHECK_16(port_table_create, B((char)0x90), 1, (char)0x90);
	/* `return {1, 2}` → one tuple [1, 2]. */
	CHECK_16(port_table_create, B((char)0x92, 1, 2), 1, (char)0x92, 1, 2);
	/* `return {1, [2]}` → one tuple [1, [2]]: only v1 decides. */
	CHECK_16(port_table_create, B((char)0x92, 1, (char)0x91, 2), 1,
		 (char)0x92, 1, (char)0x91, 2);
	/* `return {nil, 1}` → one tuple [nil, 1]: nil is not an array. */
	CHECK_16(port_table_create, B((char)0x92, (char)0xc0, 1), 1,
		 (char)0x92, (char)0xc0, 1);
	/* `return {{a = 1}}` → one tuple [{a: 1}]: a map is not an array. */
	CHECK_16(port_table_create, B((char)0x91, (char)0x81, (char)0xa1, 'a', 1),
		 1, (char)0x91, (char)0x81, (char)0xa1, 'a', 1);
	/* `return {[1], 2, {}}` → [1], [2], [{}]: a tuple each. */
	CHECK_16(port_table_create,
		 B((char)0x93, (char)0x91, 1, 2, (char)0x80), 3,
		 (char)0x91, 1, (char)0x91, 2, (char)0x91, (char)0x80);
	/* `return {[], []}` → two empty tuples. */
	CHECK_16(port_table_create, B((char)0x92, (char)0x90, (char)0x90), 2,
		 (char)0x90, (char)0x90);
	/* 16 scalars: the one tuple's header is array16, as mp_encode_array. */
	char args[32], expect[32];
	char *p = mp_encode_array(args, 16);
	char *q = mp_encode_array(expect, 16);
	cr_assert_eq(q - expect, 3, "array16 header");
	for (int i = 0; i < 16; i++) {
		p = mp_encode_uint(p, (uint64_t)i);
		q = mp_encode_uint(q, (uint64_t)i);
	}
	struct port port;
	fill(&port, port_table_create, args);
	check_dump_16(&port, 1, expect, (size_t)(q - expect));
	/* CALL is port_c's: one array of the values. */
	struct obuf ob;
	obuf_create(&ob, 16);
	cr_assert_eq(port_dump_msgpack(&port, &ob), 1);
	char flat[64];
	cr_assert_eq(obuf_flatten(&ob, flat), (size_t)(q - expect));
	cr_assert_eq(memcmp(flat, expect, (size_t)(q - expect)), 0);
	obuf_destroy(&ob);
	port_destroy(&port);
	cr_assert_eq(mem_live(), live);
}

Test(port, table_dump_16_fails_cleanly_without_memory)
{
	int64_t live = mem_live();
	struct port port;
	fill(&port, port_table_create, B((char)0x92, (char)0x91, 1, 2));
	struct obuf ob;
	obuf_create(&ob, 16);
	/* The obuf's first chunk cannot be had: -1 with a diag. */
	mem_fail_after(1, 1);
	int rc = port_dump_msgpack_16(&port, &ob);
	mem_fail_reset();
	cr_assert_eq(rc, -1);
	obuf_destroy(&ob);
	port_destroy(&port);
	cr_assert_eq(mem_live(), live);
}

/**
 * format_plain writes dump_plain's text: whole with its length when it
 * fits, else its head and a length >= the buffer (the rest unformatted).
 */
static void
check_format_plain(struct port *port)
{
	uint32_t size;
	const char *text = port_dump_plain(port, &size);
	char buf[512];
	int len = port_format_plain(port, buf, sizeof(buf));
	cr_assert_lt(size, sizeof(buf), "the whole text fits here");
	cr_assert_eq(len, (int)size);
	cr_assert_str_eq(buf, text);
	char small[8];
	len = port_format_plain(port, small, sizeof(small));
	cr_assert_geq(len, (int)sizeof(small), "cut: says so");
	cr_assert_leq(len, (int)size);
	cr_assert_eq(strlen(small), sizeof(small) - 1, "cut, NUL-terminated");
	cr_assert_eq(strncmp(small, text, sizeof(small) - 1), 0);
}

Test(port, format_plain_is_dump_plain_without_allocation)
{
	int64_t live = mem_live();
	char args[400];
	char *p = mp_encode_array(args, 2);
	p = mp_encode_uint(p, 7);
	char s[300];
	memset(s, 'q', sizeof(s));
	p = mp_encode_str(p, s, sizeof(s));
	struct port port;
	port_msgpack_create_from_array(&port, args, p);
	check_format_plain(&port);
	port_destroy(&port);
	port_c_create(&port);
	const char *q = args + 1;
	const char *second = q;
	mp_next(&second);
	port_c_add_mp(&port, q, second);
	port_c_add_mp(&port, second, p);
	check_format_plain(&port);
	port_destroy(&port);
	cr_assert_eq(mem_live(), live);
}

/*
 * A traced value (tx_port_text) is the port's text cut after 120 bytes
 * with "…", at a character's start: a 1 KiB value never reaches a
 * caption or the trace whole.
 */
Test(port, traced_text_is_cut_at_a_character)
{
	int64_t live = mem_live();
	struct port port;
	port_c_create(&port);
	char v[16];
	char *e = mp_encode_uint(v, 7);
	port_c_add_mp(&port, v, e);
	cr_assert_str_eq(tx_port_text(&port), "7", "short: whole");
	/* "Харон" is 10 bytes of 2-byte characters: the cut at 120 falls
	 * inside one for some leading offset — try every offset. */
	for (int lead = 0; lead < 4; lead++) {
		char s[1100];
		int n = 0;
		for (int i = 0; i < lead; i++)
			s[n++] = 'x';
		while (n + 10 < (int)sizeof(s)) {
			memcpy(s + n, "\xd0\xa5\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbd", 10);
			n += 10;
		}
		char mp[1200];
		char *end = mp_encode_str(mp, s, (uint32_t)n);
		struct port big;
		port_c_create(&big);
		cr_assert_eq(port_c_add_mp(&big, mp, end), 0);
		uint32_t size;
		const char *whole = port_dump_plain(&big, &size);
		const char *text = tx_port_text(&big);
		size_t len = strlen(text);
		cr_assert_geq(len, 3);
		cr_assert_leq(len, 120 + 3);
		cr_assert_str_eq(text + len - 3, "\xe2\x80\xa6", "ends with …");
		size_t cut = len - 3;
		cr_assert_eq(strncmp(text, whole, cut), 0, "the text's head");
		cr_assert_neq((unsigned char)whole[cut] & 0xc0, 0x80,
			      "cut at a character's start (lead %d)", lead);
		cr_assert_geq(cut, 118);
		port_destroy(&big);
	}
	port_destroy(&port);
	cr_assert_eq(mem_live(), live);
}
