/*
 * test_port.c — ports: what each dump method writes and returns.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "base/mem.h"
#include "box/port.h"
#include "buf/obuf.h"
#include "proto/mp.h"

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

Test(port, dump_16_makes_every_value_a_tuple)
{
	int64_t live = mem_live();
	struct port port;
	port_c_create(&port);
	char v[16];
	char *e = mp_encode_uint(v, 1);
	port_c_add_mp(&port, v, e);
	e = mp_encode_array(v, 1);
	e = mp_encode_uint(e, 2);
	port_c_add_mp(&port, v, e);
	struct obuf ob;
	obuf_create(&ob, 16);
	cr_assert_eq(port_dump_msgpack_16(&port, &ob), 2, "two tuples");
	char flat[16];
	size_t n = obuf_flatten(&ob, flat);
	/* [1] (wrapped) and [2] (already an array). */
	const char expect[] = { (char)0x91, 1, (char)0x91, 2 };
	cr_assert_eq(n, sizeof(expect));
	cr_assert_eq(memcmp(flat, expect, n), 0);
	obuf_destroy(&ob);
	port_destroy(&port);
	cr_assert_eq(mem_live(), live);
}

/** format_plain writes dump_plain's text, cut like snprintf. */
static void
check_format_plain(struct port *port)
{
	uint32_t size;
	const char *text = port_dump_plain(port, &size);
	char buf[512];
	int len = port_format_plain(port, buf, sizeof(buf));
	cr_assert_eq(len, (int)size);
	if ((size_t)len < sizeof(buf))
		cr_assert_str_eq(buf, text);
	char small[8];
	cr_assert_eq(port_format_plain(port, small, sizeof(small)), (int)size);
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
