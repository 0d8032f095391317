/*
 * xrow.c — iproto framing, request decode, reply encode. See xrow.h.
 *
 * Untrusted bytes are validated with mp_check() before any mp_decode_*
 * touches them (the lesson of Tarantool gh-7818/gh-10360): the header map
 * and the body map are each checked as a whole first, so the field loops
 * below may decode without bounds tests.
 */
#include "proto/xrow.h"

#include <string.h>

#include "base/diag.h"
#include "proto/errcode.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"

/* ---- framing ---- */

enum iproto_frame_status
iproto_frame(const char *p, const char *end, size_t max_packet, size_t *len)
{
	if (p >= end) {
		*len = 1;
		return IPROTO_FRAME_NEED_MORE;
	}
	size_t prefix = mp_uint_len(*p);
	if (prefix == 0) {
		*len = 0;
		diag_set_client(ER_INVALID_MSGPACK, "packet length");
		return IPROTO_FRAME_BAD;
	}
	size_t avail = (size_t)(end - p);
	if (avail < prefix) {
		*len = prefix;
		return IPROTO_FRAME_NEED_MORE;
	}
	const char *c = p;
	uint64_t payload = mp_decode_uint(&c);
	if (payload > (uint64_t)max_packet) {
		*len = 0;
		diag_set(ER_INVALID_MSGPACK, "ClientError",
			 "Invalid MsgPack - too big packet size in the "
			 "header: %llu", (unsigned long long)payload);
		return IPROTO_FRAME_TOO_BIG;
	}
	/* payload <= max_packet, a size_t: prefix + payload cannot wrap
	 * unless max_packet is within 9 of SIZE_MAX; guard anyway. */
	if (payload > SIZE_MAX - prefix) {
		*len = 0;
		diag_set(ER_INVALID_MSGPACK, "ClientError",
			 "Invalid MsgPack - too big packet size in the "
			 "header: %llu", (unsigned long long)payload);
		return IPROTO_FRAME_TOO_BIG;
	}
	*len = prefix + (size_t)payload;
	return avail >= *len ? IPROTO_FRAME_OK : IPROTO_FRAME_NEED_MORE;
}

/* ---- request decode ---- */

/** An empty MsgPack array: CALL/EVAL args when the client sent none. */
static const char empty_array[] = "\x90";

/** Bit of a body key 0x10..0x4f in the "seen"/"required" masks. */
static uint64_t
body_key_bit(uint64_t key)
{
	return key >= 0x10 && key < 0x50 ? 1ULL << (key - 0x10) : 0;
}

#define BIT(k) (1ULL << ((k) - 0x10))

/** Mandatory body keys of `type` (iproto_body_key_map); -1 if unknown. */
static int
request_required_keys(uint64_t type, uint64_t *required)
{
	switch (type) {
	case IPROTO_PING:
		*required = 0;
		return 0;
	case IPROTO_SELECT:
		*required = BIT(IPROTO_SPACE_ID) | BIT(IPROTO_LIMIT) |
			    BIT(IPROTO_KEY);
		return 0;
	case IPROTO_INSERT:
	case IPROTO_REPLACE:
		*required = BIT(IPROTO_SPACE_ID) | BIT(IPROTO_TUPLE);
		return 0;
	case IPROTO_UPDATE:
		*required = BIT(IPROTO_SPACE_ID) | BIT(IPROTO_KEY) |
			    BIT(IPROTO_TUPLE);
		return 0;
	case IPROTO_DELETE:
		*required = BIT(IPROTO_SPACE_ID) | BIT(IPROTO_KEY);
		return 0;
	case IPROTO_UPSERT:
		*required = BIT(IPROTO_SPACE_ID) | BIT(IPROTO_OPS) |
			    BIT(IPROTO_TUPLE);
		return 0;
	case IPROTO_CALL:
	case IPROTO_CALL_16:
		*required = BIT(IPROTO_FUNCTION_NAME);
		return 0;
	case IPROTO_EVAL:
		*required = BIT(IPROTO_EXPR);
		return 0;
	case IPROTO_AUTH:
		*required = BIT(IPROTO_USER_NAME) | BIT(IPROTO_TUPLE);
		return 0;
	default:
		return -1;
	}
}

static int
header_bad(struct iproto_request *req)
{
	/* A request whose header did not decode is answered with sync 0
	 * (Tarantool, gh-272): its sync cannot be trusted. */
	req->sync = 0;
	req->has_sync = false;
	diag_set_client(ER_INVALID_MSGPACK, "packet header");
	return -1;
}

static int
body_bad(const char *what)
{
	diag_set_client(ER_INVALID_MSGPACK, what);
	return -1;
}

/** Decode a uint32 body field; -1 when it is not a uint or too wide. */
static int
decode_u32(const char **p, uint32_t *out)
{
	if (mp_typeof(**p) != MP_UINT)
		return -1;
	uint64_t v = mp_decode_uint(p);
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
decode_body_fields(struct iproto_request *req, uint64_t *seen)
{
	const char *p = req->body;
	uint32_t n = mp_decode_map(&p);
	for (uint32_t i = 0; i < n; i++) {
		if (mp_typeof(*p) != MP_UINT) {
			/* Tarantool skips pairs with non-numeric keys. */
			mp_next(&p);
			mp_next(&p);
			continue;
		}
		uint64_t key = mp_decode_uint(&p);
		const char *value = p;
		enum mp_type t = mp_typeof(*p);
		int rc = 0;
		switch (key) {
		case IPROTO_SPACE_ID:
			rc = decode_u32(&p, &req->space_id);
			break;
		case IPROTO_INDEX_ID:
			rc = decode_u32(&p, &req->index_id);
			break;
		case IPROTO_LIMIT:
			rc = decode_u32(&p, &req->limit);
			break;
		case IPROTO_OFFSET:
			rc = decode_u32(&p, &req->offset);
			break;
		case IPROTO_ITERATOR:
			rc = decode_u32(&p, &req->iterator);
			break;
		case IPROTO_KEY:
		case IPROTO_TUPLE:
		case IPROTO_OPS:
			if (t != MP_ARRAY) {
				rc = -1;
				break;
			}
			mp_next(&p);
			if (key == IPROTO_KEY) {
				req->key = value;
				req->key_end = p;
			} else if (key == IPROTO_TUPLE) {
				req->tuple = value;
				req->tuple_end = p;
			} else {
				req->ops = value;
				req->ops_end = p;
			}
			break;
		case IPROTO_FUNCTION_NAME:
		case IPROTO_USER_NAME:
		case IPROTO_EXPR: {
			if (t != MP_STR) {
				rc = -1;
				break;
			}
			uint32_t len;
			const char *s = mp_decode_str(&p, &len);
			if (key == IPROTO_FUNCTION_NAME) {
				req->function_name = s;
				req->function_name_len = len;
			} else if (key == IPROTO_USER_NAME) {
				req->user_name = s;
				req->user_name_len = len;
			} else {
				req->expr = s;
				req->expr_len = len;
			}
			break;
		}
		default:
			mp_next(&p);
			continue;
		}
		if (rc != 0) {
			diag_set(ER_INVALID_MSGPACK, "ClientError",
				 "Invalid MsgPack - packet body (%s is not %s)",
				 iproto_key_name(key),
				 key == IPROTO_FUNCTION_NAME ||
				 key == IPROTO_USER_NAME ||
				 key == IPROTO_EXPR ? "a string" :
				 key == IPROTO_KEY || key == IPROTO_TUPLE ||
				 key == IPROTO_OPS ? "an array" :
				 "a 32-bit unsigned integer");
			return -1;
		}
		*seen |= body_key_bit(key);
	}
	return 0;
}

int
xrow_decode_request(struct iproto_request *req, const char *p,
		    const char *end)
{
	memset(req, 0, sizeof(*req));
	req->limit = UINT32_MAX;
	req->header = p;
	const char *h = p;
	if (p >= end || mp_typeof(*p) != MP_MAP || mp_check(&h, end) != 0)
		return header_bad(req);
	req->header_end = h;
	bool has_type = false;
	uint32_t n = mp_decode_map(&p);
	for (uint32_t i = 0; i < n; i++) {
		if (mp_typeof(*p) != MP_UINT)
			return header_bad(req);
		uint64_t key = mp_decode_uint(&p);
		switch (key) {
		case IPROTO_REQUEST_TYPE:
			if (mp_typeof(*p) != MP_UINT)
				return header_bad(req);
			req->type = mp_decode_uint(&p);
			has_type = true;
			break;
		case IPROTO_SYNC:
			if (mp_typeof(*p) != MP_UINT)
				return header_bad(req);
			req->sync = mp_decode_uint(&p);
			req->has_sync = true;
			break;
		case IPROTO_SCHEMA_VERSION:
			if (decode_u32(&p, &req->schema_version) != 0)
				return header_bad(req);
			req->has_schema_version = true;
			break;
		default:
			mp_next(&p);	/* unknown keys are skipped */
			break;
		}
	}
	if (!has_type)
		return header_bad(req);
	/* From here on the header is good: errors carry req->sync. */
	if (p < end) {
		const char *b = p;
		if (mp_typeof(*p) != MP_MAP || mp_check(&b, end) != 0)
			return body_bad("packet body");
		if (b != end)
			return body_bad("junk after packet body");
		req->body = p;
		req->body_end = end;
	}
	uint64_t required;
	if (request_required_keys(req->type, &required) != 0) {
		/*
		 * The whole 64-bit value, compared and printed: 2^32 + 64 is
		 * no PING. (Tarantool 2.6 stores the type in a uint32_t and
		 * answers it as a PING; errcode's template says %u.)
		 */
		diag_set(ER_UNKNOWN_REQUEST_TYPE, "ClientError",
			 "Unknown request type %llu",
			 (unsigned long long)req->type);
		return -1;
	}
	uint64_t seen = 0;
	if (req->body != NULL && decode_body_fields(req, &seen) != 0)
		return -1;
	uint64_t missing = required & ~seen;
	if (missing != 0) {
		uint64_t key = 0x10 + (uint64_t)__builtin_ctzll(missing);
		diag_set_client(ER_MISSING_REQUEST_FIELD,
				iproto_key_name(key));
		return -1;
	}
	if (req->tuple == NULL &&
	    (req->type == IPROTO_CALL || req->type == IPROTO_CALL_16 ||
	     req->type == IPROTO_EVAL)) {
		req->tuple = empty_array;
		req->tuple_end = empty_array + 1;
	}
	return 0;
}

/* ---- server replies ---- */

void
iproto_header_encode(char out[IPROTO_HEADER_LEN], uint32_t code,
		     uint64_t sync, uint32_t schema_version,
		     uint32_t body_len)
{
	char *p = mp_encode_u32_fixed(out, IPROTO_HEADER_LEN -
				      IPROTO_LEN_PREFIX_FIXED + body_len);
	*p++ = (char)0x83;
	*p++ = IPROTO_REQUEST_TYPE;
	p = mp_encode_u32_fixed(p, code);
	*p++ = IPROTO_SYNC;
	p = mp_encode_u64_fixed(p, sync);
	*p++ = IPROTO_SCHEMA_VERSION;
	mp_encode_u32_fixed(p, schema_version);
}

void
iproto_body_prefix_encode(char out[IPROTO_BODY_PREFIX_LEN], uint32_t count)
{
	out[0] = (char)0x81;
	out[1] = IPROTO_DATA;
	mp_encode_array32(out + 2, count);
}

void
iproto_reply_ok_encode(char out[IPROTO_OK_REPLY_LEN], uint64_t sync,
		       uint32_t schema_version)
{
	iproto_header_encode(out, IPROTO_OK, sync, schema_version, 1);
	out[IPROTO_HEADER_LEN] = (char)0x80;
}

static const char *
diag_type(const struct diag *d)
{
	return d->type != NULL ? d->type : "ClientError";
}

static const char *
diag_file(const struct diag *d)
{
	return d->file != NULL ? d->file : "";
}

static uint32_t
str_len32(const char *s)
{
	size_t n = strlen(s);
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

size_t
iproto_error_body_size(const struct diag *d)
{
	uint32_t msg = str_len32(d->msg);
	uint64_t line = d->line > 0 ? (uint64_t)d->line : 0;
	uint64_t code = d->code > 0 ? (uint64_t)d->code : 0;
	return 1 + 1 + mp_sizeof_str(msg) +		/* {0x31: msg, */
	       1 + 1 + 1 + 1 + 1 +			/* 0x52: {0: [{ */
	       1 + mp_sizeof_str(str_len32(diag_type(d))) +
	       1 + mp_sizeof_str(str_len32(diag_file(d))) +
	       1 + mp_sizeof_uint(line) +
	       1 + mp_sizeof_str(msg) +
	       1 + 1 +					/* errno 0 */
	       1 + mp_sizeof_uint(code);
}

char *
iproto_error_body_encode(char *out, const struct diag *d)
{
	uint64_t line = d->line > 0 ? (uint64_t)d->line : 0;
	uint64_t code = d->code > 0 ? (uint64_t)d->code : 0;
	const char *type = diag_type(d), *file = diag_file(d);
	char *p = mp_encode_map(out, 2);
	p = mp_encode_uint(p, IPROTO_ERROR_24);
	p = mp_encode_str(p, d->msg, str_len32(d->msg));
	p = mp_encode_uint(p, IPROTO_ERROR);
	p = mp_encode_map(p, 1);
	p = mp_encode_uint(p, IPROTO_ERROR_STACK);
	p = mp_encode_array(p, 1);
	p = mp_encode_map(p, 6);
	p = mp_encode_uint(p, IPROTO_ERROR_TYPE);
	p = mp_encode_str(p, type, str_len32(type));
	p = mp_encode_uint(p, IPROTO_ERROR_FILE);
	p = mp_encode_str(p, file, str_len32(file));
	p = mp_encode_uint(p, IPROTO_ERROR_LINE);
	p = mp_encode_uint(p, line);
	p = mp_encode_uint(p, IPROTO_ERROR_MESSAGE);
	p = mp_encode_str(p, d->msg, str_len32(d->msg));
	p = mp_encode_uint(p, IPROTO_ERROR_ERRNO);
	p = mp_encode_uint(p, 0);
	p = mp_encode_uint(p, IPROTO_ERROR_CODE);
	return mp_encode_uint(p, code);
}

size_t
iproto_reply_error_size(const struct diag *d)
{
	return IPROTO_HEADER_LEN + iproto_error_body_size(d);
}

char *
iproto_reply_error_encode(char *out, const struct diag *d, uint64_t sync,
			  uint32_t schema_version)
{
	char *end = iproto_error_body_encode(out + IPROTO_HEADER_LEN, d);
	uint32_t code = IPROTO_TYPE_ERROR | ((uint32_t)d->code & 0x7fff);
	iproto_header_encode(out, code, sync, schema_version,
			     (uint32_t)(end - out - IPROTO_HEADER_LEN));
	return end;
}

/* ---- client side: request encode ---- */

/** snprintf-style writer: counts everything, stores what fits. */
struct wbuf {
	char *out;
	size_t size;
	size_t len;
};

static void
wbuf_put(struct wbuf *w, const char *s, size_t n)
{
	if (w->out != NULL && w->len + n <= w->size && n > 0)
		memcpy(w->out + w->len, s, n);
	w->len += n;
}

static void
wbuf_uint(struct wbuf *w, uint64_t v)
{
	char tmp[9];
	wbuf_put(w, tmp, (size_t)(mp_encode_uint(tmp, v) - tmp));
}

static void
wbuf_str(struct wbuf *w, const char *s, uint32_t len)
{
	char tmp[5];
	/* The str header alone; the bytes follow through wbuf_put. */
	size_t hdr = mp_sizeof_str(len) - len;
	if (hdr == 1)
		tmp[0] = (char)(0xa0 | len);
	else if (hdr == 2) {
		tmp[0] = (char)0xd9;
		tmp[1] = (char)len;
	} else if (hdr == 3) {
		tmp[0] = (char)0xda;
		tmp[1] = (char)(len >> 8);
		tmp[2] = (char)len;
	} else {
		tmp[0] = (char)0xdb;
		tmp[1] = (char)(len >> 24);
		tmp[2] = (char)(len >> 16);
		tmp[3] = (char)(len >> 8);
		tmp[4] = (char)len;
	}
	wbuf_put(w, tmp, hdr);
	wbuf_put(w, s, len);
}

static void
wbuf_byte(struct wbuf *w, unsigned char b)
{
	char c = (char)b;
	wbuf_put(w, &c, 1);
}

/** What a client request carries; unused fields are zero. */
struct request_desc {
	uint32_t type;
	uint32_t space_id, index_id, iterator, offset, limit;
	const char *str;	/* function name, expr or user name */
	uint32_t str_len;
	const char *array, *array_end;	/* args or key */
	const char *scramble;
	uint32_t scramble_len;
};

static void
put_header(struct wbuf *w, uint64_t sync, uint32_t type,
	   enum xrow_encoding enc)
{
	char tmp[9];
	wbuf_byte(w, 0x82);
	wbuf_byte(w, IPROTO_SYNC);
	if (enc == XROW_ENC_FIXED)
		wbuf_put(w, tmp, (size_t)(mp_encode_u64_fixed(tmp, sync) - tmp));
	else
		wbuf_uint(w, sync);
	wbuf_byte(w, IPROTO_REQUEST_TYPE);
	if (enc == XROW_ENC_FIXED)
		wbuf_put(w, tmp, (size_t)(mp_encode_u32_fixed(tmp, type) - tmp));
	else
		wbuf_uint(w, type);
}

static void
put_body(struct wbuf *w, const struct request_desc *d)
{
	switch (d->type) {
	case IPROTO_CALL:
	case IPROTO_CALL_16:
	case IPROTO_EVAL:
		wbuf_byte(w, 0x82);
		wbuf_byte(w, d->type == IPROTO_EVAL ? IPROTO_EXPR :
			  IPROTO_FUNCTION_NAME);
		wbuf_str(w, d->str, d->str_len);
		wbuf_byte(w, IPROTO_TUPLE);
		wbuf_put(w, d->array, (size_t)(d->array_end - d->array));
		break;
	case IPROTO_SELECT:
		wbuf_byte(w, 0x86);
		wbuf_byte(w, IPROTO_SPACE_ID);
		wbuf_uint(w, d->space_id);
		wbuf_byte(w, IPROTO_INDEX_ID);
		wbuf_uint(w, d->index_id);
		wbuf_byte(w, IPROTO_ITERATOR);
		wbuf_uint(w, d->iterator);
		wbuf_byte(w, IPROTO_OFFSET);
		wbuf_uint(w, d->offset);
		wbuf_byte(w, IPROTO_LIMIT);
		wbuf_uint(w, d->limit);
		wbuf_byte(w, IPROTO_KEY);
		wbuf_put(w, d->array, (size_t)(d->array_end - d->array));
		break;
	case IPROTO_AUTH:
		wbuf_byte(w, 0x82);
		wbuf_byte(w, IPROTO_USER_NAME);
		wbuf_str(w, d->str, d->str_len);
		wbuf_byte(w, IPROTO_TUPLE);
		wbuf_byte(w, 0x92);
		wbuf_str(w, "chap-sha1", 9);
		wbuf_str(w, d->scramble, d->scramble_len);
		break;
	default: /* PING: no body */
		break;
	}
}

static size_t
encode_request(char *out, size_t size, uint64_t sync,
	       enum xrow_encoding enc, const struct request_desc *d)
{
	struct wbuf count = {NULL, 0, 0};
	put_header(&count, sync, d->type, enc);
	put_body(&count, d);
	size_t payload = count.len;
	struct wbuf w = {out, size, 0};
	char tmp[9];
	if (enc == XROW_ENC_COMPACT)
		wbuf_uint(&w, payload);
	else
		wbuf_put(&w, tmp, (size_t)(mp_encode_u32_fixed(
			tmp, (uint32_t)payload) - tmp));
	size_t total = w.len + payload;
	if (total > size)
		return total;	/* do not write a partial packet */
	put_header(&w, sync, d->type, enc);
	put_body(&w, d);
	return w.len;
}

size_t
xrow_encode_ping(char *out, size_t size, uint64_t sync,
		 enum xrow_encoding enc)
{
	struct request_desc d = {.type = IPROTO_PING};
	return encode_request(out, size, sync, enc, &d);
}

size_t
xrow_encode_call(char *out, size_t size, uint64_t sync,
		 enum xrow_encoding enc, const char *name, uint32_t name_len,
		 const char *args, const char *args_end)
{
	struct request_desc d = {.type = IPROTO_CALL, .str = name,
				 .str_len = name_len, .array = args,
				 .array_end = args_end};
	return encode_request(out, size, sync, enc, &d);
}

size_t
xrow_encode_call_16(char *out, size_t size, uint64_t sync,
		    enum xrow_encoding enc, const char *name,
		    uint32_t name_len, const char *args, const char *args_end)
{
	struct request_desc d = {.type = IPROTO_CALL_16, .str = name,
				 .str_len = name_len, .array = args,
				 .array_end = args_end};
	return encode_request(out, size, sync, enc, &d);
}

size_t
xrow_encode_eval(char *out, size_t size, uint64_t sync,
		 enum xrow_encoding enc, const char *expr, uint32_t expr_len,
		 const char *args, const char *args_end)
{
	struct request_desc d = {.type = IPROTO_EVAL, .str = expr,
				 .str_len = expr_len, .array = args,
				 .array_end = args_end};
	return encode_request(out, size, sync, enc, &d);
}

size_t
xrow_encode_select(char *out, size_t size, uint64_t sync,
		   enum xrow_encoding enc, uint32_t space_id,
		   uint32_t index_id, uint32_t iterator, uint32_t offset,
		   uint32_t limit, const char *key, const char *key_end)
{
	struct request_desc d = {.type = IPROTO_SELECT, .space_id = space_id,
				 .index_id = index_id, .iterator = iterator,
				 .offset = offset, .limit = limit,
				 .array = key, .array_end = key_end};
	return encode_request(out, size, sync, enc, &d);
}

size_t
xrow_encode_auth(char *out, size_t size, uint64_t sync,
		 enum xrow_encoding enc, const char *user, uint32_t user_len,
		 const char *scramble, uint32_t scramble_len)
{
	struct request_desc d = {.type = IPROTO_AUTH, .str = user,
				 .str_len = user_len, .scramble = scramble,
				 .scramble_len = scramble_len};
	return encode_request(out, size, sync, enc, &d);
}

/* ---- client side: response decode ---- */

static int
response_bad(const char *what)
{
	diag_set_client(ER_INVALID_MSGPACK, what);
	return -1;
}

int
xrow_decode_response(struct iproto_response *resp, const char *p,
		     const char *end)
{
	memset(resp, 0, sizeof(*resp));
	const char *h = p;
	if (p >= end || mp_typeof(*p) != MP_MAP || mp_check(&h, end) != 0)
		return response_bad("packet header");
	bool has_code = false;
	uint32_t n = mp_decode_map(&p);
	for (uint32_t i = 0; i < n; i++) {
		if (mp_typeof(*p) != MP_UINT)
			return response_bad("packet header");
		uint64_t key = mp_decode_uint(&p);
		if (key == IPROTO_REQUEST_TYPE) {
			if (decode_u32(&p, &resp->code) != 0)
				return response_bad("packet header");
			has_code = true;
		} else if (key == IPROTO_SYNC) {
			if (mp_typeof(*p) != MP_UINT)
				return response_bad("packet header");
			resp->sync = mp_decode_uint(&p);
		} else if (key == IPROTO_SCHEMA_VERSION) {
			if (decode_u32(&p, &resp->schema_version) != 0)
				return response_bad("packet header");
			resp->has_schema_version = true;
		} else {
			mp_next(&p);
		}
	}
	if (!has_code)
		return response_bad("packet header");
	if (p == end)
		return 0;
	const char *b = p;
	if (mp_typeof(*p) != MP_MAP || mp_check(&b, end) != 0)
		return response_bad("packet body");
	if (b != end)
		return response_bad("junk after packet body");
	resp->body = p;
	resp->body_end = end;
	n = mp_decode_map(&p);
	for (uint32_t i = 0; i < n; i++) {
		if (mp_typeof(*p) != MP_UINT) {
			mp_next(&p);
			mp_next(&p);
			continue;
		}
		uint64_t key = mp_decode_uint(&p);
		const char *value = p;
		if (key == IPROTO_ERROR_24 && mp_typeof(*p) == MP_STR) {
			resp->error_msg = mp_decode_str(&p,
							&resp->error_msg_len);
			resp->error_field = value;
			resp->error_field_end = p;
			continue;
		}
		mp_next(&p);
		if (key == IPROTO_ERROR_24) {
			resp->error_field = value;
			resp->error_field_end = p;
		} else if (key == IPROTO_DATA) {
			resp->data = value;
			resp->data_end = p;
		}
	}
	return 0;
}
