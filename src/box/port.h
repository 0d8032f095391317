/*
 * port.h — Tarantool's data container: values on their way into a reply.
 *
 * A port is an abstract object with a table of dump methods, small enough
 * to live on the stack. TX never asks "what kind of values are these":
 * a call reply and a push both say port_dump_msgpack(port, obuf) and the
 * port appends itself to the output buffer; the console (and kharon's
 * captions) say port_dump_plain. The concrete ports:
 *
 *   port_msgpack  a view of raw MsgPack the port does not own — a request's
 *                 arguments still sitting in the input buffer, or the value
 *                 of a push. dump_msgpack copies the values and returns how
 *                 many there are.
 *   port_c        Tarantool 2.6's port_c (src/box/port.c): the results of a
 *                 C function (box_return_mp), owned. dump_msgpack
 *                 (port_c_dump_msgpack) writes them as ONE array and
 *                 returns 1 — why a CALL answers {DATA: [[r1, ..., rN]]};
 *                 dump_msgpack_16 (port_c_dump_msgpack_16, the 1.6 format
 *                 of CALL_16 and SELECT) writes the entries as they are and
 *                 returns N — in Tarantool they are tuples, so no wrapping.
 *   port_table    what kharon's procedures return: a port_c that answers
 *                 CALL_16 as Tarantool's Lua port does for a function
 *                 returning ONE table {r1, ..., rN} (port_lua_dump_16 →
 *                 luamp_encode_call_16), which is what the comparison peer
 *                 tests/interop/procs.lua returns; see port_dump_table_16.
 *                 CALL is the same as port_c's. docs/procedures.md says why.
 *
 * Lesson: lessons/en/08-ports.md.
 */
#ifndef KHARON_BOX_PORT_H
#define KHARON_BOX_PORT_H

#include <stddef.h>
#include <stdint.h>

struct obuf;
struct port;

struct port_vtab {
	/**
	 * Append the values to `out`. Returns the number of DATA entries
	 * written, or -1 + diag (the caller rolls `out` back).
	 */
	int (*dump_msgpack)(struct port *port, struct obuf *out);
	/**
	 * The 1.6 format (CALL_16): the reply's DATA is a list of tuples.
	 * Returns the number of entries written, or -1 + diag. What counts
	 * as a tuple is the port's own rule (see each port above).
	 */
	int (*dump_msgpack_16)(struct port *port, struct obuf *out);
	/**
	 * The values as one line of readable text ("[1, \"two\"]"), valid
	 * until the port is destroyed; NULL + diag on OOM.
	 */
	const char *(*dump_plain)(struct port *port, uint32_t *size);
	/**
	 * The head of dump_plain's text, written into [buf, buf + size)
	 * (NUL-terminated when size > 0); returns the length of the whole
	 * text when it fits (< size), else some length >= size: the text is
	 * cut, and what does not fit is not formatted (mp_format_head).
	 * Allocates nothing. May be NULL: the port has no such method
	 * (port_format_plain then returns -1).
	 */
	int (*format_plain)(struct port *port, char *buf, size_t size);
	/** The values as one MsgPack array, valid until destroy; NULL + diag. */
	const char *(*get_msgpack)(struct port *port, uint32_t *size);
	void (*destroy)(struct port *port);
};

/** Room enough for every concrete port (static asserts check it). */
struct port {
	const struct port_vtab *vtab;
	char pad[56];
};

static inline int
port_dump_msgpack(struct port *port, struct obuf *out)
{
	return port->vtab->dump_msgpack(port, out);
}

static inline int
port_dump_msgpack_16(struct port *port, struct obuf *out)
{
	return port->vtab->dump_msgpack_16(port, out);
}

static inline const char *
port_dump_plain(struct port *port, uint32_t *size)
{
	return port->vtab->dump_plain(port, size);
}

/**
 * The head of dump_plain's text in the caller's buffer, without
 * allocating: the whole text's length when it fits (< size), a length
 * >= size when it is cut, or -1 when the port cannot do it (then use
 * port_dump_plain). Cost O(bytes of the values up to the cut).
 */
static inline int
port_format_plain(struct port *port, char *buf, size_t size)
{
	if (port->vtab->format_plain == NULL)
		return -1;
	return port->vtab->format_plain(port, buf, size);
}

static inline const char *
port_get_msgpack(struct port *port, uint32_t *size)
{
	return port->vtab->get_msgpack(port, size);
}

static inline void
port_destroy(struct port *port)
{
	port->vtab->destroy(port);
}

/**
 * A port over `count` MsgPack values in [data, data + size), not owned:
 * the bytes must outlive the port.
 */
void
port_msgpack_create(struct port *port, const char *data, uint32_t size,
		    uint32_t count);

/**
 * A port_msgpack over the elements of the MsgPack array [array, end) —
 * a request's arguments, in place; get_msgpack returns the array itself.
 */
void
port_msgpack_create_from_array(struct port *port, const char *array,
			       const char *end);

/** An empty port_c. */
void
port_c_create(struct port *port);

/**
 * An empty port_table: a port_c (port_c_add_mp and port_c_size work on
 * it) whose dump_msgpack_16 is port_dump_table_16.
 */
void
port_table_create(struct port *port);

/** Append one MsgPack value (copied). 0, or -1 + diag on OOM. */
int
port_c_add_mp(struct port *port, const char *data, const char *end);

/**
 * The `count` values at [data, ...) dumped in the 1.6 format as a Lua
 * function returning them as one table {v1, ..., vN} would be
 * (luamp_encode_call_16, src/box/lua/call.c, the one-table branch):
 *
 *   no values               one empty tuple []                returns 1
 *   v1 is not an array      one tuple [v1, ..., vN]           returns 1
 *   v1 is an array          each vi a tuple: an array as it
 *                           is, anything else wrapped [vi]    returns N
 *
 * So echo(1, 2) answers {DATA: [[1, 2]]} and echo([1], 2) answers
 * {DATA: [[1], [2]]}. -1 + diag on OOM.
 */
int
port_dump_table_16(const char *data, uint32_t count, struct obuf *out);

/** Number of values in a port_c. */
uint32_t
port_c_size(const struct port *port);

#endif /* KHARON_BOX_PORT_H */
