/*
 * test_proto_xrow.c — framing, request decode, reply encode.
 *
 * Reply bytes are compared with bytes captured from Tarantool 2.6
 * (docs/protocol.md §8); bad input follows docs/reliability.md §1; the
 * chunking-invariance test (docs/reliability.md §2) parses one stream
 * whole, byte by byte and in 1 000 random splits through a simulated
 * input buffer.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "proto/errcode.h"
#include "proto/iproto_constants.h"
#include "proto/mp.h"
#include "proto/xrow.h"

enum { MAX_PACKET = 1 << 20 };

#define B(s) (s), (sizeof(s) - 1)

/* Frame and decode one whole packet given with its prefix. */
static int
decode_packet(struct iproto_request *req, const char *p, size_t n)
{
	size_t len;
	enum iproto_frame_status st = iproto_frame(p, p + n, MAX_PACKET, &len);
	cr_assert_eq(st, IPROTO_FRAME_OK, "frame status %d", st);
	cr_assert_eq(len, n, "framed %zu of %zu", len, n);
	size_t prefix = mp_uint_len(*p);
	diag_clear();
	return xrow_decode_request(req, p + prefix, p + len);
}

/* Prefix `payload` with its compact length, then frame and decode. */
static int
decode_payload(struct iproto_request *req, const char *payload, size_t n)
{
	static char buf[4096];
	char *p = mp_encode_uint(buf, n);
	memcpy(p, payload, n);
	return decode_packet(req, buf, (size_t)(p - buf) + n);
}

/* ---- framing ---- */

Test(proto_xrow, frame_every_prefix_width)
{
	/* PING sync 7 with the length written in every uint width. */
	const char *payload = "\x82\x01\x07\x00\x40";
	const char *prefixes[] = {"\x05", "\xcc\x05", "\xcd\x00\x05",
				  "\xce\x00\x00\x00\x05",
				  "\xcf\0\0\0\0\0\0\0\x05"};
	size_t widths[] = {1, 2, 3, 5, 9};
	for (int i = 0; i < 5; i++) {
		char buf[16];
		memcpy(buf, prefixes[i], widths[i]);
		memcpy(buf + widths[i], payload, 5);
		size_t total = widths[i] + 5, len;
		for (size_t cut = 0; cut < total; cut++) {
			cr_assert_eq(iproto_frame(buf, buf + cut, MAX_PACKET,
						  &len),
				     IPROTO_FRAME_NEED_MORE);
			/* Needs more than it has, never more than it takes. */
			cr_assert_gt(len, cut);
			cr_assert_leq(len, total);
			if (cut >= widths[i])
				cr_assert_eq(len, total);
		}
		cr_assert_eq(iproto_frame(buf, buf + total, MAX_PACKET, &len),
			     IPROTO_FRAME_OK);
		cr_assert_eq(len, total);
		struct iproto_request req;
		cr_assert_eq(decode_packet(&req, buf, total), 0, "%s",
			     diag_msg());
		cr_assert_eq(req.type, IPROTO_PING);
		cr_assert_eq(req.sync, 7);
	}
}

Test(proto_xrow, header_values_every_width)
{
	/* type, sync and schema version as fixint, cc, cd, ce, cf. */
	struct { const char *b; size_t n; uint64_t type, sync; uint32_t sv; }
	cases[] = {
		{B("\x83\x00\x40\x01\x05\x05\xcc\xc8"), 64, 5, 200},
		{B("\x83\x00\xcc\x40\x01\xcd\x12\x34\x05\xce\0\0\0\x50"),
		 64, 0x1234, 0x50},
		{B("\x83\x00\xce\0\0\0\x40\x01\xcf\0\0\0\x01\0\0\0\x02"
		   "\x05\x00"), 64, 0x100000002ULL, 0},
		{B("\x83\x00\xcf\0\0\0\0\0\0\0\x40"
		   "\x01\xcf\xff\xff\xff\xff\xff\xff\xff\xff\x05\x7f"),
		 64, UINT64_MAX, 127},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct iproto_request req;
		cr_assert_eq(decode_payload(&req, cases[i].b, cases[i].n), 0,
			     "case %zu: %s", i, diag_msg());
		cr_assert_eq(req.type, cases[i].type);
		cr_assert_eq(req.sync, cases[i].sync, "case %zu", i);
		cr_assert_eq(req.schema_version, cases[i].sv);
		cr_assert(req.has_sync);
		cr_assert(req.has_schema_version);
		cr_assert_null(req.body);
	}
}

static void
expect_frame_error(const char *p, size_t n, enum iproto_frame_status want,
		   const char *msg)
{
	size_t len = 99;
	diag_clear();
	cr_assert_eq(iproto_frame(p, p + n, MAX_PACKET, &len), want);
	cr_assert_eq(len, 0);
	cr_assert_eq(diag_last()->code, ER_INVALID_MSGPACK);
	cr_assert_str_eq(diag_msg(), msg);
}

Test(proto_xrow, frame_bad_prefixes)
{
	expect_frame_error(B("\xc1\x00"), IPROTO_FRAME_BAD,
			   "Invalid MsgPack - packet length");
	expect_frame_error(B("\xa3" "abc"), IPROTO_FRAME_BAD,
			   "Invalid MsgPack - packet length");
	expect_frame_error(B("\xff"), IPROTO_FRAME_BAD,
			   "Invalid MsgPack - packet length");
	/* gh-3464: 1.84e19 as the length. */
	expect_frame_error(B("\xcf\xff\x59\xee\x83\x3b\x30\x00\x00"),
			   IPROTO_FRAME_TOO_BIG,
			   "Invalid MsgPack - too big packet size in the "
			   "header: 18400000000000000000");
	/* 2 GiB with a 1 MiB cap: rejected from the 5 prefix bytes alone. */
	expect_frame_error(B("\xce\x7f\xff\xff\xff"), IPROTO_FRAME_TOO_BIG,
			   "Invalid MsgPack - too big packet size in the "
			   "header: 2147483647");
	size_t len;
	const char exact[] = "\xce\x00\x10\x00\x00";
	cr_assert_eq(iproto_frame(exact, exact + 5, MAX_PACKET, &len),
		     IPROTO_FRAME_NEED_MORE);
	cr_assert_eq(len, 5 + (size_t)MAX_PACKET);
	cr_assert_eq(iproto_frame(exact, exact + 5, MAX_PACKET - 1, &len),
		     IPROTO_FRAME_TOO_BIG);
}

/* ---- bad requests (docs/reliability.md §1) ---- */

static void
expect_decode_error(const char *p, size_t n, int code, uint64_t sync,
		    const char *msg)
{
	struct iproto_request req;
	cr_assert_eq(decode_payload(&req, p, n), -1, "accepted (want %s)",
		     msg);
	cr_assert_eq(diag_last()->code, code, "code %d msg %s",
		     diag_last()->code, diag_msg());
	cr_assert_str_eq(diag_msg(), msg);
	cr_assert_eq(req.sync, sync);
}

#define HDR "Invalid MsgPack - packet header"

Test(proto_xrow, bad_headers_reply_sync_zero)
{
	/* length 0: an empty packet */
	expect_decode_error(B(""), ER_INVALID_MSGPACK, 0, HDR);
	/* header as array */
	expect_decode_error(B("\x92\x00\x40"), ER_INVALID_MSGPACK, 0, HDR);
	/* header {"hello": "world"} (gh-272) */
	expect_decode_error(B("\x81\xa5hello\xa5world"),
			    ER_INVALID_MSGPACK, 0, HDR);
	/* sync negative: sync decoded? no — bad type, sync 0 */
	expect_decode_error(B("\x82\x00\x40\x01\xff"), ER_INVALID_MSGPACK,
			    0, HDR);
	/* sync 9 then a string type: the sync is not trusted */
	expect_decode_error(B("\x82\x01\x09\x00\xa1x"), ER_INVALID_MSGPACK,
			    0, HDR);
	/* truncated fixext8 0xd7 inside the header (gh-10360) */
	expect_decode_error(B("\x82\x00\x40\x01\xd7\x01"),
			    ER_INVALID_MSGPACK, 0, HDR);
	/* 0xc1 inside the header (gh-7818) */
	expect_decode_error(B("\x82\x00\x40\x01\xc1"),
			    ER_INVALID_MSGPACK, 0, HDR);
	/* no REQUEST_TYPE */
	expect_decode_error(B("\x81\x01\x05"), ER_INVALID_MSGPACK, 0, HDR);
	/* schema version too wide for u32 */
	expect_decode_error(B("\x83\x00\x40\x01\x05\x05\xcf\0\0\0\x01\0\0\0\0"),
			    ER_INVALID_MSGPACK, 0, HDR);
}

Test(proto_xrow, bad_bodies_keep_sync)
{
	/* body as array */
	expect_decode_error(B("\x82\x01\x05\x00\x0a\x91\x01"),
			    ER_INVALID_MSGPACK, 5,
			    "Invalid MsgPack - packet body");
	/* junk after body */
	expect_decode_error(B("\x82\x01\x05\x00\x40\x80\x01\x02"),
			    ER_INVALID_MSGPACK, 5,
			    "Invalid MsgPack - junk after packet body");
	/* 0x8a as function name (gh-6781): a map header eats the rest */
	expect_decode_error(B("\x82\x01\x05\x00\x0a\x81\x22\x8a"),
			    ER_INVALID_MSGPACK, 5,
			    "Invalid MsgPack - packet body");
	/* a complete map as function name: type-checked */
	expect_decode_error(B("\x82\x01\x05\x00\x0a\x81\x22\x80"),
			    ER_INVALID_MSGPACK, 5,
			    "Invalid MsgPack - packet body (function name "
			    "is not a string)");
	/* space id as a string */
	expect_decode_error(B("\x82\x01\x06\x00\x01\x83\x10\xa1x\x12\x01"
			      "\x20\x90"), ER_INVALID_MSGPACK, 6,
			    "Invalid MsgPack - packet body (space id is not a "
			    "32-bit unsigned integer)");
	/* 0xc1 in the body */
	expect_decode_error(B("\x82\x01\x05\x00\x0a\x81\x21\xc1"),
			    ER_INVALID_MSGPACK, 5,
			    "Invalid MsgPack - packet body");
}

Test(proto_xrow, unknown_and_reply_types_as_requests)
{
	expect_decode_error(B("\x82\x01\x05\x00\xcd\x7f\xff"),
			    ER_UNKNOWN_REQUEST_TYPE, 5,
			    "Unknown request type 32767");
	expect_decode_error(B("\x82\x01\x06\x00\x00"),
			    ER_UNKNOWN_REQUEST_TYPE, 6,
			    "Unknown request type 0");
	expect_decode_error(B("\x82\x01\x07\x00\xcc\x80"),
			    ER_UNKNOWN_REQUEST_TYPE, 7,
			    "Unknown request type 128");
	expect_decode_error(B("\x82\x01\x08\x00\xcd\x80\x20"),
			    ER_UNKNOWN_REQUEST_TYPE, 8,
			    "Unknown request type 32800");
	/* IPROTO_ID (73), sent first by net.box >= 2.10 */
	expect_decode_error(B("\x82\x01\x01\x00\x49"),
			    ER_UNKNOWN_REQUEST_TYPE, 1,
			    "Unknown request type 73");
	/* The whole 64 bits: 2^32 + 64 is not PING (64), nor 2^32 + 7 AUTH. */
	expect_decode_error(B("\x82\x01\x09\x00\xcf\0\0\0\x01\0\0\0\x40"),
			    ER_UNKNOWN_REQUEST_TYPE, 9,
			    "Unknown request type 4294967360");
	expect_decode_error(B("\x82\x01\x0a\x00\xcf\0\0\0\x01\0\0\0\x07"),
			    ER_UNKNOWN_REQUEST_TYPE, 10,
			    "Unknown request type 4294967303");
	expect_decode_error(B("\x82\x01\x0b\x00\xcf\xff\xff\xff\xff"
			      "\xff\xff\xff\xff"),
			    ER_UNKNOWN_REQUEST_TYPE, 11,
			    "Unknown request type 18446744073709551615");
}

/*
 * Every other uint the server reads from the wire, at 2^32 + a small
 * value: header and body keys match only by all 64 bits (skipped as
 * unknown), u32 body fields and SCHEMA_VERSION are refused, not cut.
 */
Test(proto_xrow, wide_uints_are_not_truncated)
{
	struct iproto_request req;
	/* Header key 2^32 + 1 (not SYNC): skipped, sync stays 0. */
	cr_assert_eq(decode_payload(&req, B("\x82\x00\x40\xcf\0\0\0\x01"
					    "\0\0\0\x01\x05")), 0, "%s",
		     diag_msg());
	cr_assert_not(req.has_sync);
	/* SCHEMA_VERSION 2^32 + 1: a bad header, not version 1. */
	cr_assert_eq(decode_payload(&req, B("\x82\x00\x40\x05\xcf\0\0\0\x01"
					    "\0\0\0\x01")), -1);
	/* Body key 2^32 + 0x10 (not SPACE_ID): skipped; SPACE_ID missing. */
	cr_assert_eq(decode_payload(&req, B("\x82\x00\x01\x01\x03"
					    "\x83\xcf\0\0\0\x01\0\0\0\x10\x05"
					    "\x12\x01\x20\x90")), -1);
	cr_assert_str_eq(diag_msg(),
			 "Missing mandatory field 'space id' in request");
	/* SPACE_ID 2^32 + 5: refused, not space 5. */
	cr_assert_eq(decode_payload(&req, B("\x82\x00\x01\x01\x03"
					    "\x83\x10\xcf\0\0\0\x01\0\0\0\x05"
					    "\x12\x01\x20\x90")), -1);
	cr_assert(strstr(diag_msg(), "space id is not a 32-bit unsigned") !=
		  NULL, "%s", diag_msg());
}

/* An error reply's 0x31 of another type is kept raw for the client. */
Test(proto_xrow, response_error_field_of_any_type)
{
	struct iproto_response resp;
	const char pkt[] = "\x83\x00\xce\x00\x00\x80\x20\x01\x07\x05\x00"
			   "\x81\x31\x2a";
	cr_assert_eq(xrow_decode_response(&resp, pkt, pkt + sizeof(pkt) - 1),
		     0);
	cr_assert_null(resp.error_msg);
	cr_assert_not_null(resp.error_field);
	cr_assert_eq(resp.error_field_end - resp.error_field, 1);
	cr_assert_eq(*resp.error_field, 0x2a);
	const char str[] = "\x83\x00\xce\x00\x00\x80\x20\x01\x07\x05\x00"
			   "\x81\x31\xa2hi";
	cr_assert_eq(xrow_decode_response(&resp, str, str + sizeof(str) - 1),
		     0);
	cr_assert_eq(resp.error_msg_len, 2);
	cr_assert_eq(resp.error_field_end - resp.error_field, 3);
}

#define MISSING(f) "Missing mandatory field '" f "' in request"

Test(proto_xrow, missing_mandatory_fields)
{
	/* SELECT: space id, limit, key — the lowest missing is named. */
	expect_decode_error(B("\x82\x01\x02\x00\x01"),
			    ER_MISSING_REQUEST_FIELD, 2, MISSING("space id"));
	expect_decode_error(B("\x82\x01\x02\x00\x01\x82\x10\x01\x20\x90"),
			    ER_MISSING_REQUEST_FIELD, 2, MISSING("limit"));
	expect_decode_error(B("\x82\x01\x02\x00\x01\x82\x10\x01\x12\x01"),
			    ER_MISSING_REQUEST_FIELD, 2, MISSING("key"));
	/* CALL and CALL_16: function name */
	expect_decode_error(B("\x82\x01\x03\x00\x0a\x81\x21\x91\x01"),
			    ER_MISSING_REQUEST_FIELD, 3,
			    MISSING("function name"));
	expect_decode_error(B("\x82\x01\x03\x00\x06\x80"),
			    ER_MISSING_REQUEST_FIELD, 3,
			    MISSING("function name"));
	/* EVAL: expression */
	expect_decode_error(B("\x82\x01\x04\x00\x08"),
			    ER_MISSING_REQUEST_FIELD, 4, MISSING("expression"));
	/* AUTH: user name, tuple */
	expect_decode_error(B("\x82\x01\x05\x00\x07\x81\x21\x91\x01"),
			    ER_MISSING_REQUEST_FIELD, 5, MISSING("user name"));
	expect_decode_error(B("\x82\x01\x05\x00\x07\x81\x23\xa1u"),
			    ER_MISSING_REQUEST_FIELD, 5, MISSING("tuple"));
	/* DML */
	expect_decode_error(B("\x82\x01\x05\x00\x02\x81\x10\x01"),
			    ER_MISSING_REQUEST_FIELD, 5, MISSING("tuple"));
	expect_decode_error(B("\x82\x01\x05\x00\x03\x81\x21\x90"),
			    ER_MISSING_REQUEST_FIELD, 5, MISSING("space id"));
	expect_decode_error(B("\x82\x01\x05\x00\x04\x82\x10\x01\x21\x90"),
			    ER_MISSING_REQUEST_FIELD, 5, MISSING("key"));
	expect_decode_error(B("\x82\x01\x05\x00\x05\x81\x10\x01"),
			    ER_MISSING_REQUEST_FIELD, 5, MISSING("key"));
	expect_decode_error(B("\x82\x01\x05\x00\x09\x82\x10\x01\x21\x90"),
			    ER_MISSING_REQUEST_FIELD, 5, MISSING("operations"));
}

Test(proto_xrow, sync_max_and_unknown_keys)
{
	/* sync 2^64-1, unknown header key 0x33 and a non-uint body key. */
	const char pkt[] = "\x83\x01\xcf\xff\xff\xff\xff\xff\xff\xff\xff"
			   "\x00\x0a\x33\xa1z\x83\x22\xa1" "f\xa1k\x01\x21\x90";
	/* 0x83 map: 0x22 "f", "k" 1, 0x21 [] */
	struct iproto_request req;
	cr_assert_eq(decode_payload(&req, pkt, sizeof(pkt) - 1), 0, "%s",
		     diag_msg());
	cr_assert_eq(req.sync, UINT64_MAX);
	cr_assert_eq(req.type, IPROTO_CALL);
	cr_assert_eq(req.function_name_len, 1);
	cr_assert_eq(req.function_name[0], 'f');
	cr_assert_eq(req.tuple_end - req.tuple, 1);
}

Test(proto_xrow, decode_fields_point_into_packet)
{
	char buf[128];
	const char key[] = "\x91\x05";
	size_t n = xrow_encode_select(buf, sizeof(buf), 3, XROW_ENC_COMPACT,
				      281, 2, ITER_ALL, 4, 100, key, key + 2);
	struct iproto_request req;
	cr_assert_eq(decode_packet(&req, buf, n), 0, "%s", diag_msg());
	cr_assert_eq(req.type, IPROTO_SELECT);
	cr_assert_eq(req.space_id, 281);
	cr_assert_eq(req.index_id, 2);
	cr_assert_eq(req.iterator, ITER_ALL);
	cr_assert_eq(req.offset, 4);
	cr_assert_eq(req.limit, 100);
	cr_assert(req.key >= buf && req.key_end <= buf + n);
	cr_assert_eq(memcmp(req.key, key, 2), 0);
	cr_assert_eq(req.body_end, buf + n);

	/* CALL without TUPLE: empty args. */
	const char call[] = "\x09\x82\x01\x05\x00\x0a\x81\x22\xa1g";
	cr_assert_eq(decode_packet(&req, call, sizeof(call) - 1), 0);
	cr_assert_eq(req.tuple_end - req.tuple, 1);
	cr_assert_eq((unsigned char)req.tuple[0], 0x90);
	/* SELECT defaults. */
	const char sel[] = "\x0c\x82\x01\x05\x00\x01\x83\x10\x01\x12\x01\x20\x90";
	cr_assert_eq(decode_packet(&req, sel, sizeof(sel) - 1), 0);
	cr_assert_eq(req.index_id, 0);
	cr_assert_eq(req.offset, 0);
	cr_assert_eq(req.iterator, 0);
}

Test(proto_xrow, tarantool_lll_regression)
{
	/* struct.pack("<LLL", 1, 4294967290, 1) (bug #899343): a stream of
	 * tiny packets with bad headers, then a negative fixint prefix. */
	const char s[] = "\x01\x00\x00\x00\xfa\xff\xff\xff\x01\x00\x00\x00";
	const char *p = s, *end = s + 12;
	int n_errors = 0;
	size_t len;
	enum iproto_frame_status st;
	while ((st = iproto_frame(p, end, MAX_PACKET, &len)) ==
	       IPROTO_FRAME_OK) {
		struct iproto_request req;
		cr_assert_eq(xrow_decode_request(&req, p + 1, p + len), -1);
		cr_assert_eq(req.sync, 0);
		n_errors++;
		p += len;
	}
	cr_assert_eq(n_errors, 3);	/* [01 00] [00] [00] */
	cr_assert_eq(st, IPROTO_FRAME_BAD);
	cr_assert_eq(p, s + 4);
}

/* ---- replies: captured bytes (docs/protocol.md §8) ---- */

Test(proto_xrow, reply_ping_capture)
{
	const char want[] = "\xce\x00\x00\x00\x18\x83\x00\xce\x00\x00\x00\x00"
		"\x01\xcf\0\0\0\0\0\0\0\x04\x05\xce\x00\x00\x00\x50\x80";
	char out[IPROTO_OK_REPLY_LEN];
	iproto_reply_ok_encode(out, 4, 0x50);
	cr_assert_eq(sizeof(want) - 1, IPROTO_OK_REPLY_LEN);
	cr_assert_eq(memcmp(out, want, IPROTO_OK_REPLY_LEN), 0);
}

Test(proto_xrow, reply_push_and_final_capture)
{
	const char push[] = "\xce\x00\x00\x00\x25\x83\x00\xce\x00\x00\x00\x80"
		"\x01\xcf\0\0\0\0\0\0\0\x05\x05\xce\x00\x00\x00\x50"
		"\x81\x30\xdd\x00\x00\x00\x01\x92\x01\xa4push";
	const char done[] = "\xce\x00\x00\x00\x24\x83\x00\xce\x00\x00\x00\x00"
		"\x01\xcf\0\0\0\0\0\0\0\x05\x05\xce\x00\x00\x00\x50"
		"\x81\x30\xdd\x00\x00\x00\x02\xa4" "done\x2a";
	char out[64];
	/* As the server does: reserve 35, dump the body, patch. */
	const char body1[] = "\x92\x01\xa4push";
	memcpy(out + IPROTO_SELECT_HEADER_LEN, body1, 7);
	iproto_header_encode(out, IPROTO_CHUNK, 5, 0x50,
			     IPROTO_BODY_PREFIX_LEN + 7);
	iproto_body_prefix_encode(out + IPROTO_HEADER_LEN, 1);
	cr_assert_eq(memcmp(out, push, sizeof(push) - 1), 0);
	const char body2[] = "\xa4" "done\x2a";
	memcpy(out + IPROTO_SELECT_HEADER_LEN, body2, 6);
	iproto_header_encode(out, IPROTO_OK, 5, 0x50,
			     IPROTO_BODY_PREFIX_LEN + 6);
	iproto_body_prefix_encode(out + IPROTO_HEADER_LEN, 2);
	cr_assert_eq(memcmp(out, done, sizeof(done) - 1), 0);

	/* The client decodes it back. */
	struct iproto_response resp;
	size_t len;
	cr_assert_eq(iproto_frame(done, done + sizeof(done) - 1, MAX_PACKET,
				  &len), IPROTO_FRAME_OK);
	cr_assert_eq(xrow_decode_response(&resp, done + 5, done + len), 0);
	cr_assert_eq(resp.code, IPROTO_OK);
	cr_assert_eq(resp.sync, 5);
	cr_assert_eq(resp.schema_version, 0x50);
	char text[64];
	mp_format(text, sizeof(text), resp.data, resp.data_end);
	cr_assert_str_eq(text, "[\"done\", 42]");
}

Test(proto_xrow, reply_error_capture)
{
	struct diag d = {0};
	d.code = 32;
	d.type = "LuajitError";
	d.file = "./src/lua/utils.c";
	d.line = 1005;
	snprintf(d.msg, sizeof(d.msg), "server.lua:19: boom");
	size_t size = iproto_reply_error_size(&d);
	char *out = malloc(size);
	char *end = iproto_reply_error_encode(out, &d, 9, 0x50);
	cr_assert_eq((size_t)(end - out), size);
	cr_assert_eq(memcmp(out, "\xce", 1), 0);
	cr_assert_eq(memcmp(out + 5, "\x83\x00\xce\x00\x00\x80\x20", 7), 0);
	size_t len;
	cr_assert_eq(iproto_frame(out, end, MAX_PACKET, &len),
		     IPROTO_FRAME_OK);
	cr_assert_eq(len, size);
	struct iproto_response resp;
	cr_assert_eq(xrow_decode_response(&resp, out + 5, end), 0);
	cr_assert_eq(resp.code, IPROTO_TYPE_ERROR | 32);
	cr_assert_eq(resp.sync, 9);
	cr_assert_eq(resp.error_msg_len, strlen("server.lua:19: boom"));
	cr_assert_eq(memcmp(resp.error_msg, "server.lua:19: boom", 19), 0);
	char text[256];
	mp_format(text, sizeof(text), resp.body, resp.body_end);
	cr_assert_str_eq(text, "{49: \"server.lua:19: boom\", 82: {0: [{0: "
			 "\"LuajitError\", 1: \"./src/lua/utils.c\", 2: 1005, "
			 "3: \"server.lua:19: boom\", 4: 0, 5: 32}]}}");
	free(out);
}

/* ---- client requests: captured net.box bytes ---- */

Test(proto_xrow, client_requests_capture)
{
	char out[128];
	size_t n = xrow_encode_ping(out, sizeof(out), 4, XROW_ENC_NETBOX);
	cr_assert_eq(n, 10);
	cr_assert_eq(memcmp(out, "\xce\x00\x00\x00\x05\x82\x01\x04\x00\x40",
			    n), 0);
	const char args[] = "\x91\x03";
	n = xrow_encode_call(out, sizeof(out), 5, XROW_ENC_NETBOX,
			     "do_pushes", 9, args, args + 2);
	const char call[] = "\xce\x00\x00\x00\x14\x82\x01\x05\x00\x0a"
			    "\x82\x22\xa9" "do_pushes\x21\x91\x03";
	cr_assert_eq(n, sizeof(call) - 1);
	cr_assert_eq(memcmp(out, call, n), 0);
	/* CALL_16: the same bytes but the type, 0x06 (net.box call_16). */
	n = xrow_encode_call_16(out, sizeof(out), 5, XROW_ENC_NETBOX,
				"do_pushes", 9, args, args + 2);
	cr_assert_eq(n, sizeof(call) - 1);
	cr_assert_eq(out[9], 0x06);
	cr_assert_eq(memcmp(out, call, 9), 0);
	cr_assert_eq(memcmp(out + 10, call + 10, n - 10), 0);
	const char key[] = "\x90";
	n = xrow_encode_select(out, sizeof(out), 1, XROW_ENC_NETBOX, 281, 0,
			       ITER_ALL, 0, UINT32_MAX, key, key + 1);
	const char sel[] = "\xce\x00\x00\x00\x18\x82\x01\x01\x00\x01"
		"\x86\x10\xcd\x01\x19\x11\x00\x14\x02\x13\x00\x12"
		"\xce\xff\xff\xff\xff\x20\x90";
	cr_assert_eq(n, sizeof(sel) - 1);
	cr_assert_eq(memcmp(out, sel, n), 0);
	/* Too small a buffer: the needed size, nothing claimed written. */
	cr_assert_eq(xrow_encode_select(out, 10, 1, XROW_ENC_NETBOX, 281, 0,
					ITER_ALL, 0, UINT32_MAX, key, key + 1),
		     sizeof(sel) - 1);
	cr_assert_eq(xrow_encode_ping(NULL, 0, 4, XROW_ENC_COMPACT), 6);
	/* AUTH and EVAL decode back to what was encoded. */
	struct iproto_request req;
	n = xrow_encode_auth(out, sizeof(out), 1, XROW_ENC_FIXED, "tester", 6,
			     "01234567890123456789", 20);
	cr_assert_eq(decode_packet(&req, out, n), 0, "%s", diag_msg());
	cr_assert_eq(req.type, IPROTO_AUTH);
	cr_assert_eq(req.user_name_len, 6);
	char text[128];
	mp_format(text, sizeof(text), req.tuple, req.tuple_end);
	cr_assert_str_eq(text, "[\"chap-sha1\", \"01234567890123456789\"]");
	const char eargs[] = "\x91\x29";
	n = xrow_encode_eval(out, sizeof(out), 2, XROW_ENC_COMPACT,
			     "return 1 + ...", 14, eargs, eargs + 2);
	cr_assert_eq(decode_packet(&req, out, n), 0, "%s", diag_msg());
	cr_assert_eq(req.type, IPROTO_EVAL);
	cr_assert_eq(req.expr_len, 14);
	cr_assert_eq(memcmp(req.tuple, eargs, 2), 0);
}

/* ---- chunking invariance (docs/reliability.md §2) ---- */

struct parsed {
	uint64_t type, sync;
	size_t body_off, body_len;	/* into `bodies` */
	int rc;
};

struct parse_result {
	struct parsed items[128];
	int n;
	char bodies[16384];
	size_t bodies_len;
};

/* Feed `stream` to a simulated input buffer in the given pieces and
 * parse every packet as soon as it is complete. */
static void
parse_pieces(struct parse_result *r, const char *stream, size_t total,
	     const size_t *cuts, int n_cuts)
{
	memset(r, 0, sizeof(*r));
	char *ibuf = malloc(total);
	size_t rpos = 0, wpos = 0;
	for (int c = 0; c <= n_cuts; c++) {
		size_t upto = c < n_cuts ? cuts[c] : total;
		/* "read()" appends the next piece. */
		memcpy(ibuf + wpos, stream + wpos, upto - wpos);
		wpos = upto;
		for (;;) {
			size_t len;
			enum iproto_frame_status st = iproto_frame(
				ibuf + rpos, ibuf + wpos, MAX_PACKET, &len);
			if (st == IPROTO_FRAME_NEED_MORE) {
				cr_assert_gt(len, wpos - rpos);
				break;
			}
			cr_assert_eq(st, IPROTO_FRAME_OK);
			size_t prefix = mp_uint_len(ibuf[rpos]);
			struct iproto_request req;
			struct parsed *it = &r->items[r->n++];
			it->rc = xrow_decode_request(&req, ibuf + rpos + prefix,
						     ibuf + rpos + len);
			it->type = req.type;
			it->sync = req.sync;
			if (req.body != NULL) {
				it->body_off = r->bodies_len;
				it->body_len = (size_t)(req.body_end - req.body);
				memcpy(r->bodies + r->bodies_len, req.body,
				       it->body_len);
				r->bodies_len += it->body_len;
			}
			rpos += len;
		}
	}
	cr_assert_eq(rpos, total, "unparsed tail");
	free(ibuf);
}

static size_t
build_stream(char *s, size_t cap)
{
	size_t n = 0;
	const enum xrow_encoding encs[] = {XROW_ENC_COMPACT, XROW_ENC_NETBOX,
					   XROW_ENC_FIXED};
	const char args[] = "\x93\x01\xa3two\x81\xa1" "a\x03";
	const char key[] = "\x91\xcd\x01\x19";
	for (int i = 0; i < 50; i++) {
		enum xrow_encoding e = encs[i % 3];
		uint64_t sync = (uint64_t)i * 977 + (i % 7 == 0 ? 1ULL << 40 : 0);
		switch (i % 6) {
		case 0:
			n += xrow_encode_ping(s + n, cap - n, sync, e);
			break;
		case 1:
			n += xrow_encode_call(s + n, cap - n, sync, e,
					      "do_pushes", 9, args,
					      args + sizeof(args) - 1);
			break;
		case 2:
			n += xrow_encode_select(s + n, cap - n, sync, e,
						281 + (uint32_t)i, 0, ITER_ALL,
						0, UINT32_MAX, key, key + 4);
			break;
		case 3:
			n += xrow_encode_eval(s + n, cap - n, sync, e,
					      "return ...", 10, args,
					      args + sizeof(args) - 1);
			break;
		case 4:
			n += xrow_encode_auth(s + n, cap - n, sync, e, "guest",
					      5, "scramble-scramble-12", 20);
			break;
		default: {
			/* A request with a decode error (missing key) in a
			 * 9-byte length prefix: framing must not care. */
			const char bad[] = "\xcf\0\0\0\0\0\0\0\x05"
					   "\x82\x01\x2a\x00\x08";
			memcpy(s + n, bad, sizeof(bad) - 1);
			n += sizeof(bad) - 1;
			break;
		}
		}
		cr_assert_leq(n, cap);
	}
	return n;
}

static void
assert_same(const struct parse_result *a, const struct parse_result *b)
{
	cr_assert_eq(a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		cr_assert_eq(a->items[i].type, b->items[i].type);
		cr_assert_eq(a->items[i].sync, b->items[i].sync);
		cr_assert_eq(a->items[i].rc, b->items[i].rc);
		cr_assert_eq(a->items[i].body_len, b->items[i].body_len);
	}
	cr_assert_eq(a->bodies_len, b->bodies_len);
	cr_assert_eq(memcmp(a->bodies, b->bodies, a->bodies_len), 0);
}

static int
cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	return a < b ? -1 : a > b;
}

Test(proto_xrow, chunking_invariance)
{
	static char stream[8192];
	size_t total = build_stream(stream, sizeof(stream));
	static struct parse_result whole, other;
	parse_pieces(&whole, stream, total, NULL, 0);
	cr_assert_eq(whole.n, 50);
	int n_ok = 0, n_err = 0;
	for (int i = 0; i < whole.n; i++) {
		if (whole.items[i].rc == 0)
			n_ok++;
		else
			n_err++;
	}
	cr_assert_eq(n_err, 8);		/* i % 6 == 5 for i < 50 */
	cr_assert_eq(n_ok, 42);
	cr_assert_eq(whole.items[1].type, IPROTO_CALL);
	cr_assert_eq(whole.items[7].sync, 7 * 977 + (1ULL << 40));

	/* Byte by byte. */
	size_t *cuts = malloc(total * sizeof(*cuts));
	for (size_t i = 0; i < total; i++)
		cuts[i] = i + 1;
	parse_pieces(&other, stream, total, cuts, (int)total - 1);
	assert_same(&whole, &other);

	/* 1 000 random splits into 1..40 pieces. */
	srand(42);
	for (int round = 0; round < 1000; round++) {
		int k = 1 + rand() % 40;
		for (int i = 0; i < k; i++)
			cuts[i] = (size_t)rand() % (total + 1);
		qsort(cuts, (size_t)k, sizeof(*cuts), cmp_size);
		parse_pieces(&other, stream, total, cuts, k);
		assert_same(&whole, &other);
	}
	free(cuts);
}

Test(proto_xrow, names)
{
	cr_assert_str_eq(iproto_type_name(IPROTO_PING), "PING");
	cr_assert_str_eq(iproto_type_name(IPROTO_CHUNK), "CHUNK");
	cr_assert_str_eq(iproto_type_name(0x8014), "ERROR");
	cr_assert_str_eq(iproto_type_name(0x7fff), "UNKNOWN");
	cr_assert_str_eq(iproto_key_name(IPROTO_LIMIT), "limit");
	cr_assert_str_eq(iproto_key_name(0x4f), "unknown");
	cr_assert_str_eq(errcode_name(20), "ER_INVALID_MSGPACK");
	cr_assert_str_eq(errcode_name(109), "ER_WRONG_SCHEMA_VERSION");
	cr_assert_str_eq(errcode_name(9999), "ER_UNKNOWN");
	cr_assert_eq(ER_SESSION_CLOSED, 86);
	cr_assert_eq(ER_NO_SUCH_PROC, 33);
	diag_set_client(ER_NO_SUCH_SPACE, "_vcollation");
	cr_assert_str_eq(diag_msg(), "Space '_vcollation' does not exist");
	cr_assert_str_eq(diag_last()->type, "ClientError");
	cr_assert_eq(diag_last()->code, 36);
}
