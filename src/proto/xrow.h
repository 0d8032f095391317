/*
 * xrow.h — iproto packets ("rows" in Tarantool): framing, request decode,
 * reply encode, and the client's half (request encode, response decode).
 *
 * The server's input path, all in the iproto thread over bytes that stay
 * in its input buffer (DESIGN.md §7):
 *
 *   ibuf: [len][header map][body map][len][header]...[len][hea|  (partial)
 *          └── iproto_frame(): OK len=N │ NEED_MORE n │ BAD │ TOO_BIG
 *   xrow_decode_request(req, after prefix, packet end): req's pointers
 *   (key, tuple, function name...) point INTO the buffer — the buffer must
 *   not move or be reused until the request is answered (invariant 5 of
 *   docs/tarantool-map.md §3).
 *
 * The reply path (TX): a fixed-width 28-byte header (+ the 7-byte body
 * prefix of data replies) is reserved first and patched once the body is
 * complete, which is possible only because every number in it has a fixed
 * width (ce/cf/dd, docs/protocol.md §4):
 *
 *   ce <len:u32> 83 00 ce <code:u32> 01 cf <sync:u64> 05 ce <schema:u32>
 *   81 30 dd <count:u32>
 *
 * Framing errors (BAD, TOO_BIG) mean "reply sync 0 and close"; decode
 * errors mean "reply with req->sync and keep the connection"
 * (docs/protocol.md §5). Lesson: lessons/en/03-request-life.md. Every
 * function here is pure: any thread, no allocation.
 *
 * Tarantool 2.6 has these in src/box/xrow.c (and the client's encoders in
 * src/box/lua/net_box.c); docs/tarantool-map.md names each counterpart.
 */
#ifndef KHARON_PROTO_XROW_H
#define KHARON_PROTO_XROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

enum {
	/** The fixed reply header (length prefix included). */
	IPROTO_HEADER_LEN = 28,
	/** `81 30 dd <u32>`: {DATA: array32(count)}. */
	IPROTO_BODY_PREFIX_LEN = 7,
	IPROTO_SELECT_HEADER_LEN = IPROTO_HEADER_LEN + IPROTO_BODY_PREFIX_LEN,
	/** Header + empty map body (`80`): a complete OK reply. */
	IPROTO_OK_REPLY_LEN = IPROTO_HEADER_LEN + 1,
	/** Bytes of the length prefix not counted in its value. */
	IPROTO_LEN_PREFIX_FIXED = 5,
	/** Default cap on a packet's announced length (DESIGN.md §7). */
	IPROTO_PACKET_MAX_DEFAULT = 16 * 1024 * 1024,
};

enum iproto_frame_status {
	/** A whole packet is in [p, end); *len = prefix + payload bytes. */
	IPROTO_FRAME_OK,
	/** Incomplete; *len = total bytes needed at least from p. */
	IPROTO_FRAME_NEED_MORE,
	/** Prefix is not a MsgPack uint; diag ER_INVALID_MSGPACK. */
	IPROTO_FRAME_BAD,
	/** Announced length > max_packet; diag ER_INVALID_MSGPACK. */
	IPROTO_FRAME_TOO_BIG,
};

/**
 * Is there a complete packet at [p, end)? Accepts any uint width for the
 * length prefix. NEED_MORE's *len is 1..9 while the prefix itself is
 * incomplete, then prefix + payload once it is known (what to reserve).
 * TOO_BIG is decided from the prefix alone, before anything is allocated.
 * On BAD/TOO_BIG *len is 0 and diag is set. Never reads at or past end.
 * The length-prefix checks of Tarantool's iproto_enqueue_batch, as a pure
 * function (its limit is 2 GiB, kharon's max_packet 16 MiB by default).
 */
enum iproto_frame_status
iproto_frame(const char *p, const char *end, size_t max_packet, size_t *len);

/** A decoded request; every pointer points into the packet's bytes. */
struct iproto_request {
	uint64_t type;
	uint64_t sync;
	uint32_t schema_version;
	bool has_sync;
	bool has_schema_version;
	const char *header, *header_end;
	/** NULL when the packet has no body (PING usually). */
	const char *body, *body_end;
	/* Body fields; defaults when absent: index 0, offset 0,
	 * iterator 0 (EQ), limit UINT32_MAX. */
	uint32_t space_id;
	uint32_t index_id;
	uint32_t limit;
	uint32_t offset;
	uint32_t iterator;
	/** SELECT/DELETE/UPDATE key: one MsgPack array, or NULL. */
	const char *key, *key_end;
	/** Tuple, or the args of CALL/EVAL (an empty array `90` when a
	 * CALL/EVAL has none), or AUTH's [mechanism, scramble]. */
	const char *tuple, *tuple_end;
	const char *ops, *ops_end;
	const char *function_name;
	uint32_t function_name_len;
	const char *expr;
	uint32_t expr_len;
	const char *user_name;
	uint32_t user_name_len;
};

/**
 * Decode the packet [p, end) that follows the length prefix (end = prefix
 * start + the framed length). Header: a map, REQUEST_TYPE/SYNC/
 * SCHEMA_VERSION must be uints, non-uint keys are an error, unknown uint
 * keys are skipped; body: at most one map ending exactly at `end`.
 * Accepted types: PING, SELECT, INSERT, REPLACE, UPDATE, DELETE, UPSERT,
 * CALL_16, CALL, EVAL, AUTH; each type's mandatory keys must be present.
 * Returns 0, or -1 with diag set (ER_INVALID_MSGPACK, ER_UNKNOWN_REQUEST_
 * TYPE, ER_MISSING_REQUEST_FIELD). On error req->sync is the request's sync
 * when the header decoded, 0 when the header itself was bad — the sync the
 * error reply must carry. Cost O(packet bytes).
 * Tarantool's iproto_msg_decode with xrow_header_decode and the body
 * decoders xrow_decode_dml, xrow_decode_call, xrow_decode_auth, in one.
 */
int
xrow_decode_request(struct iproto_request *req, const char *p,
		    const char *end);

/* ---- server replies ---- */

/**
 * The 28-byte fixed-width header. `body_len` = bytes after the header;
 * the length field is 23 + body_len. `code` is IPROTO_OK, IPROTO_CHUNK or
 * IPROTO_TYPE_ERROR | errcode.
 */
void
iproto_header_encode(char out[IPROTO_HEADER_LEN], uint32_t code,
		     uint64_t sync, uint32_t schema_version,
		     uint32_t body_len);

/**
 * `81 30 dd <count>`: the start of a {DATA: [...]} body (the 7-byte
 * prefix Tarantool's iproto_reply_select writes, struct iproto_body_bin).
 */
void
iproto_body_prefix_encode(char out[IPROTO_BODY_PREFIX_LEN], uint32_t count);

/**
 * A complete OK reply with an empty-map body (PING, AUTH): 29 bytes, as
 * Tarantool's iproto_reply_ok writes them.
 */
void
iproto_reply_ok_encode(char out[IPROTO_OK_REPLY_LEN], uint64_t sync,
		       uint32_t schema_version);

/**
 * Bytes of the error body {0x31: msg, 0x52: {0x00: [{0x00 type, 0x01 file,
 * 0x02 line, 0x03 msg, 0x04 errno, 0x05 code}]}} for `d`.
 */
size_t
iproto_error_body_size(const struct diag *d);

/**
 * Write that body at `out` (iproto_error_body_size(d) bytes); the end.
 * Tarantool's mpstream_iproto_encode_error, with a stack of one entry.
 */
char *
iproto_error_body_encode(char *out, const struct diag *d);

/** A whole error packet: IPROTO_HEADER_LEN + the body size. */
size_t
iproto_reply_error_size(const struct diag *d);

/**
 * Write a whole error reply (code 0x8000 | d->code) at `out`
 * (iproto_reply_error_size(d) bytes); returns the end. Serves as both
 * Tarantool's iproto_reply_error (into an obuf) and iproto_write_error
 * (straight to the socket, before a close).
 */
char *
iproto_reply_error_encode(char *out, const struct diag *d, uint64_t sync,
			  uint32_t schema_version);

/* ---- client side ---- */

/** How a client writes numbers in the packets it builds. */
enum xrow_encoding {
	/** Smallest forms everywhere, 1-byte length prefix when it fits. */
	XROW_ENC_COMPACT,
	/** What net.box sends: `ce` length prefix, compact header/body. */
	XROW_ENC_NETBOX,
	/** `ce` length, header type as `ce`, sync as `cf`. */
	XROW_ENC_FIXED,
};

/*
 * Request encoders. Each writes the whole packet (prefix included) into
 * [out, out + size) and returns its length; like snprintf, when the
 * length is > size nothing usable was written and the caller retries with
 * a buffer that big (size 0 with out NULL asks for the length). Header is
 * {SYNC, REQUEST_TYPE} in that order, as net.box writes it. MsgPack
 * arguments (`args`, `key`) must be one array each; they are copied.
 * net.box 2.6's counterparts (src/box/lua/net_box.c): netbox_encode_ping,
 * netbox_encode_call, netbox_encode_call_16, netbox_encode_eval,
 * netbox_encode_select, netbox_encode_auth.
 */
size_t
xrow_encode_ping(char *out, size_t size, uint64_t sync,
		 enum xrow_encoding enc);

size_t
xrow_encode_call(char *out, size_t size, uint64_t sync,
		 enum xrow_encoding enc, const char *name, uint32_t name_len,
		 const char *args, const char *args_end);

/** The same body as xrow_encode_call, request type IPROTO_CALL_16. */
size_t
xrow_encode_call_16(char *out, size_t size, uint64_t sync,
		    enum xrow_encoding enc, const char *name,
		    uint32_t name_len, const char *args, const char *args_end);

size_t
xrow_encode_eval(char *out, size_t size, uint64_t sync,
		 enum xrow_encoding enc, const char *expr, uint32_t expr_len,
		 const char *args, const char *args_end);

/** Body {SPACE_ID, INDEX_ID, ITERATOR, OFFSET, LIMIT, KEY} (net.box order). */
size_t
xrow_encode_select(char *out, size_t size, uint64_t sync,
		   enum xrow_encoding enc, uint32_t space_id,
		   uint32_t index_id, uint32_t iterator, uint32_t offset,
		   uint32_t limit, const char *key, const char *key_end);

/** Body {USER_NAME: user, TUPLE: ["chap-sha1", scramble as str]}. */
size_t
xrow_encode_auth(char *out, size_t size, uint64_t sync,
		 enum xrow_encoding enc, const char *user, uint32_t user_len,
		 const char *scramble, uint32_t scramble_len);

/** A decoded server packet; pointers point into the packet. */
struct iproto_response {
	/** IPROTO_OK, IPROTO_CHUNK or IPROTO_TYPE_ERROR | errcode. */
	uint32_t code;
	uint64_t sync;
	uint32_t schema_version;
	bool has_schema_version;
	const char *body, *body_end;	/* NULL when no body */
	/** The IPROTO_DATA value (an array), or NULL. */
	const char *data, *data_end;
	/** IPROTO_ERROR_24 string, or NULL. */
	const char *error_msg;
	uint32_t error_msg_len;
	/** The IPROTO_ERROR_24 value whatever its type, or NULL. */
	const char *error_field, *error_field_end;
};

/**
 * Decode a server packet [p, end) that follows the length prefix. The
 * header must hold REQUEST_TYPE; SYNC and SCHEMA_VERSION are optional
 * (0 when absent). Returns 0, or -1 with diag ER_INVALID_MSGPACK.
 */
int
xrow_decode_response(struct iproto_response *resp, const char *p,
		     const char *end);

#endif /* KHARON_PROTO_XROW_H */
