/*
 * fuzz_request — xrow_decode_request() on one packet (header map + body
 * map, the bytes after the length prefix), directly: no framing in the way,
 * so the fuzzer spends its time inside the header and body decoders.
 *
 *   input = [header map][body map]   ──xrow_decode_request──► 0 / -1
 *
 * The decoder reads untrusted bytes (Tarantool's xrow_decode_* fuzzers
 * found gh-1992, gh-7818, gh-9098 in the same place). Beyond "no crash, no
 * out-of-bounds read" the target checks the contract of src/proto/xrow.h:
 * on success every pointer the request carries lies inside the packet
 * (CALL/EVAL without args may point at a shared empty array `90`), every
 * MsgPack field it hands out is one complete valid value ending exactly at
 * its *_end, and names and expressions lie inside the packet; on failure
 * the return value is -1 and a diag is set.
 *
 * Lesson: lessons/en/03-request-life.md.
 */
#include "fuzz.h"

#include <stdbool.h>

#include "base/diag.h"
#include "proto/mp.h"
#include "proto/xrow.h"

static bool
request_inside(const char *p, const char *end, const char *a, const char *b)
{
	return a >= p && b >= a && b <= end;
}

/** A field is NULL (absent) or one valid MsgPack value inside the packet. */
static void
request_check_value(const char *p, const char *end, const char *v,
		    const char *v_end)
{
	if (v == NULL) {
		FUZZ_CHECK(v_end == NULL);
		return;
	}
	FUZZ_CHECK(request_inside(p, end, v, v_end));
	const char *q = v;
	FUZZ_CHECK(mp_check(&q, v_end) == 0 && q == v_end);
}

static void
request_check_str(const char *p, const char *end, const char *s, uint32_t len)
{
	if (s == NULL)
		return;
	FUZZ_CHECK(request_inside(p, end, s, s + len));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = fuzz_dup(data, size);
	const char *end = p + size;
	struct iproto_request req;
	diag_clear();
	int rc = xrow_decode_request(&req, p, end);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(diag_last()->code != 0);
		free(p);
		return 0;
	}
	FUZZ_CHECK(req.header == p);
	FUZZ_CHECK(request_inside(p, end, req.header, req.header_end));
	if (req.body != NULL) {
		FUZZ_CHECK(req.body == req.header_end && req.body_end == end);
		request_check_value(p, end, req.body, req.body_end);
	} else {
		FUZZ_CHECK(req.header_end == end);
	}
	request_check_value(p, end, req.key, req.key_end);
	request_check_value(p, end, req.ops, req.ops_end);
	if (req.tuple != NULL && !request_inside(p, end, req.tuple,
						  req.tuple_end)) {
		/* The shared empty args array of an argument-less call. */
		FUZZ_CHECK(req.tuple_end == req.tuple + 1 &&
			   (uint8_t)*req.tuple == 0x90);
	} else {
		request_check_value(p, end, req.tuple, req.tuple_end);
	}
	request_check_str(p, end, req.function_name, req.function_name_len);
	request_check_str(p, end, req.expr, req.expr_len);
	request_check_str(p, end, req.user_name, req.user_name_len);
	free(p);
	return 0;
}
