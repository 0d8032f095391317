/*
 * port.c — port_msgpack, port_c and port_table. See port.h.
 */
#include "box/port.h"

#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "buf/obuf.h"
#include "proto/mp.h"

/* --------------------------------------------------------- common text */

/** Format `count` values [data, end) as "v1, v2" into a fresh text. */
static char *
port_text_new(const char *data, const char *end, uint32_t *size)
{
	int len = mp_format(NULL, 0, data, end);
	char *text = mem_alloc((size_t)len + 1);
	if (text == NULL) {
		diag_set_oom((size_t)len + 1, "port text");
		return NULL;
	}
	mp_format(text, (size_t)len + 1, data, end);
	*size = (uint32_t)len;
	return text;
}

int
port_dump_table_16(const char *data, uint32_t count, struct obuf *out)
{
	char header[5];
	if (count == 0) {
		/* `return {}`: one empty tuple. */
		char *end = mp_encode_array(header, 0);
		return obuf_dup(out, header, (size_t)(end - header)) != 0 ?
		       -1 : 1;
	}
	if (mp_typeof(*data) != MP_ARRAY) {
		/* `return {scalar, ...}`: the table is the one tuple. */
		char *end = mp_encode_array(header, count);
		if (obuf_dup(out, header, (size_t)(end - header)) != 0)
			return -1;
		const char *values_end = data;
		for (uint32_t i = 0; i < count; i++)
			mp_next(&values_end);
		if (obuf_dup(out, data, (size_t)(values_end - data)) != 0)
			return -1;
		return 1;
	}
	/* `return {array, ...}`: a tuple per value, non-arrays wrapped. */
	for (uint32_t i = 0; i < count; i++) {
		const char *value = data;
		mp_next(&data);
		if (mp_typeof(*value) != MP_ARRAY) {
			char *end = mp_encode_array(header, 1);
			if (obuf_dup(out, header, (size_t)(end - header)) != 0)
				return -1;
		}
		if (obuf_dup(out, value, (size_t)(data - value)) != 0)
			return -1;
	}
	return (int)count;
}

/* -------------------------------------------------------- port_msgpack */

struct port_msgpack {
	const struct port_vtab *vtab;
	const char *data;
	uint32_t size;
	uint32_t count;
	/** dump_plain's text and get_msgpack's array, made on demand. */
	char *plain;
	char *array;
	/** The array the values came from (not owned), or NULL. */
	const char *array_view;
};

_Static_assert(sizeof(struct port_msgpack) <= sizeof(struct port),
	       "port_msgpack must fit in struct port");

static int
port_msgpack_dump_msgpack(struct port *base, struct obuf *out)
{
	struct port_msgpack *port = (struct port_msgpack *)base;
	if (obuf_dup(out, port->data, port->size) != 0)
		return -1;
	return (int)port->count;
}

static const char *
port_msgpack_dump_plain(struct port *base, uint32_t *size)
{
	struct port_msgpack *port = (struct port_msgpack *)base;
	if (port->plain == NULL)
		port->plain = port_text_new(port->data,
						port->data + port->size, size);
	else
		*size = (uint32_t)strlen(port->plain);
	return port->plain;
}

static int
port_msgpack_format_plain(struct port *base, char *buf, size_t size)
{
	struct port_msgpack *port = (struct port_msgpack *)base;
	return mp_format_head(buf, size, port->data, port->data + port->size);
}

static const char *
port_msgpack_get_msgpack(struct port *base, uint32_t *size)
{
	struct port_msgpack *port = (struct port_msgpack *)base;
	size_t len = mp_sizeof_array(port->count) + port->size;
	if (port->array_view != NULL) {
		*size = (uint32_t)(port->data + port->size - port->array_view);
		return port->array_view;
	}
	if (port->array == NULL) {
		port->array = mem_alloc(len);
		if (port->array == NULL) {
			diag_set_oom(len, "port array");
			return NULL;
		}
		char *p = mp_encode_array(port->array, port->count);
		memcpy(p, port->data, port->size);
	}
	*size = (uint32_t)len;
	return port->array;
}

static void
port_msgpack_destroy(struct port *base)
{
	struct port_msgpack *port = (struct port_msgpack *)base;
	mem_free(port->plain);
	mem_free(port->array);
	port->plain = port->array = NULL;
}

static const struct port_vtab port_msgpack_vtab = {
	.dump_msgpack = port_msgpack_dump_msgpack,
	/* Tarantool leaves it NULL (never dumped as 1.6): as they are. */
	.dump_msgpack_16 = port_msgpack_dump_msgpack,
	.dump_plain = port_msgpack_dump_plain,
	.format_plain = port_msgpack_format_plain,
	.get_msgpack = port_msgpack_get_msgpack,
	.destroy = port_msgpack_destroy,
};

void
port_msgpack_create(struct port *base, const char *data, uint32_t size,
		    uint32_t count)
{
	struct port_msgpack *port = (struct port_msgpack *)base;
	port->vtab = &port_msgpack_vtab;
	port->data = data;
	port->size = size;
	port->count = count;
	port->plain = port->array = NULL;
	port->array_view = NULL;
}

void
port_msgpack_create_from_array(struct port *base, const char *array,
			       const char *end)
{
	const char *p = array;
	uint32_t count = mp_decode_array(&p);
	port_msgpack_create(base, p, (uint32_t)(end - p), count);
	((struct port_msgpack *)base)->array_view = array;
}

/* -------------------------------------------------------------- port_c */

/*
 * Values are kept back to back in one growing block, preceded by room for
 * an array32 header, so get_msgpack can hand out [header, values) without
 * copying.
 */
enum { PORT_C_HEADER = 5 };

struct port_c {
	const struct port_vtab *vtab;
	/** PORT_C_HEADER bytes of room, then the values. */
	char *block;
	uint32_t used;
	uint32_t capacity;
	uint32_t count;
	char *plain;
};

_Static_assert(sizeof(struct port_c) <= sizeof(struct port),
	       "port_c must fit in struct port");

static const char *
port_c_values(const struct port_c *port)
{
	return port->block != NULL ? port->block + PORT_C_HEADER : "";
}

static int
port_c_dump_msgpack(struct port *base, struct obuf *out)
{
	struct port_c *port = (struct port_c *)base;
	char header[PORT_C_HEADER];
	char *end = mp_encode_array(header, port->count);
	if (obuf_dup(out, header, (size_t)(end - header)) != 0)
		return -1;
	if (port->used > 0 && obuf_dup(out, port_c_values(port), port->used) != 0)
		return -1;
	return 1;
}

/** Tarantool's port_c_dump_msgpack_16: the entries as they are. */
static int
port_c_dump_msgpack_16(struct port *base, struct obuf *out)
{
	struct port_c *port = (struct port_c *)base;
	if (port->used > 0 && obuf_dup(out, port_c_values(port), port->used) != 0)
		return -1;
	return (int)port->count;
}

/**
 * luamp_encode_call_16 on the values as one table: port_dump_table_16 —
 * what Tarantool 2.6's port_lua_dump_16 writes for a Lua function that
 * returned one table (docs/tarantool-map.md §2.6).
 */
static int
port_table_dump_msgpack_16(struct port *base, struct obuf *out)
{
	struct port_c *port = (struct port_c *)base;
	return port_dump_table_16(port_c_values(port), port->count, out);
}

static const char *
port_c_dump_plain(struct port *base, uint32_t *size)
{
	struct port_c *port = (struct port_c *)base;
	if (port->plain == NULL) {
		const char *v = port_c_values(port);
		port->plain = port_text_new(v, v + port->used, size);
	} else {
		*size = (uint32_t)strlen(port->plain);
	}
	return port->plain;
}

static int
port_c_format_plain(struct port *base, char *buf, size_t size)
{
	struct port_c *port = (struct port_c *)base;
	const char *v = port_c_values(port);
	return mp_format_head(buf, size, v, v + port->used);
}

static const char *
port_c_get_msgpack(struct port *base, uint32_t *size)
{
	struct port_c *port = (struct port_c *)base;
	if (port->block == NULL) {
		static const char empty_array[] = { (char)0x90 };
		*size = 1;
		return empty_array;
	}
	/* array32 fills the reserved room exactly. */
	mp_encode_array32(port->block, port->count);
	*size = PORT_C_HEADER + port->used;
	return port->block;
}

static void
port_c_destroy(struct port *base)
{
	struct port_c *port = (struct port_c *)base;
	mem_free(port->block);
	mem_free(port->plain);
	port->block = port->plain = NULL;
	port->used = port->capacity = port->count = 0;
}

static const struct port_vtab port_c_vtab = {
	.dump_msgpack = port_c_dump_msgpack,
	.dump_msgpack_16 = port_c_dump_msgpack_16,
	.dump_plain = port_c_dump_plain,
	.format_plain = port_c_format_plain,
	.get_msgpack = port_c_get_msgpack,
	.destroy = port_c_destroy,
};

/* port_table: a port_c but for the CALL_16 format. */
static const struct port_vtab port_table_vtab = {
	.dump_msgpack = port_c_dump_msgpack,
	.dump_msgpack_16 = port_table_dump_msgpack_16,
	.dump_plain = port_c_dump_plain,
	.format_plain = port_c_format_plain,
	.get_msgpack = port_c_get_msgpack,
	.destroy = port_c_destroy,
};

static void
port_c_init(struct port *base, const struct port_vtab *vtab)
{
	struct port_c *port = (struct port_c *)base;
	port->vtab = vtab;
	port->block = port->plain = NULL;
	port->used = port->capacity = port->count = 0;
}

void
port_c_create(struct port *base)
{
	port_c_init(base, &port_c_vtab);
}

void
port_table_create(struct port *base)
{
	port_c_init(base, &port_table_vtab);
}

int
port_c_add_mp(struct port *base, const char *data, const char *end)
{
	struct port_c *port = (struct port_c *)base;
	uint32_t len = (uint32_t)(end - data);
	if (port->used + len > port->capacity) {
		uint32_t capacity = port->capacity != 0 ? port->capacity : 64;
		while (capacity < port->used + len)
			capacity *= 2;
		char *block = mem_realloc(port->block, PORT_C_HEADER + capacity);
		if (block == NULL) {
			diag_set_oom(PORT_C_HEADER + capacity, "port_c");
			return -1;
		}
		port->block = block;
		port->capacity = capacity;
	}
	memcpy(port->block + PORT_C_HEADER + port->used, data, len);
	port->used += len;
	port->count++;
	mem_free(port->plain);
	port->plain = NULL;
	return 0;
}

uint32_t
port_c_size(const struct port *base)
{
	return ((const struct port_c *)base)->count;
}
