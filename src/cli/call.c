/*
 * call.c — `kharon call [--timeout S] HOST:PORT FUNCTION [ARGS]`: call one
 * procedure on kharon serve or a real Tarantool through the blocking client
 * (client/client_sync.h), print every push as it arrives, then the result.
 *
 *   kharon call 127.0.0.1:3301 push '[3, "x"]'
 *   [1, "x"]          ← a push, printed the moment it arrives
 *   [2, "x"]
 *   [3, "x"]
 *   [3]               ← the result: the reply's DATA array
 *
 * ARGS is a JSON array (default `[]`) converted to MsgPack: integers
 * (whole numbers within ±2^63; cJSON keeps numbers as doubles, so integers
 * beyond 2^53 lose precision), floats as doubles, strings, booleans, null,
 * arrays, objects as maps. --timeout bounds both the wait for the greeting
 * and the wait for the call's final reply (default 10 s; it counts from
 * the last push, so a long stream of pushes is not cut). Exit: 0 ok; 1 error reply (message on stderr),
 * connection failure or timeout; 2 bad usage, bad address, bad timeout or
 * bad JSON. Lesson:
 * lessons/en/03-request-life.md.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "cli/cli_addr.h"
#include "client/client_sync.h"
#include "proto/mp.h"

static const char call_usage[] =
	"usage: kharon call [--timeout SECONDS] HOST:PORT FUNCTION "
	"[ARGS-as-JSON-array]\n"
	"  e.g. kharon call 127.0.0.1:3301 push '[3, \"x\"]'\n";

enum {
	CALL_JSON_DEPTH_MAX = 64,
	/** --timeout above this (a year) is surely a typo. */
	CALL_TIMEOUT_MAX_S = 366 * 24 * 3600,
};

/** A growing MsgPack buffer. */
struct call_mp {
	char *buf;
	size_t len, cap;
	bool is_oom;
};

/** Room for `n` more bytes at buf + len, or NULL (is_oom set). */
static char *
call_mp_reserve(struct call_mp *b, size_t n)
{
	if (b->is_oom)
		return NULL;
	if (b->len + n > b->cap) {
		size_t cap = b->cap != 0 ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		char *buf = mem_realloc(b->buf, cap);
		if (buf == NULL) {
			b->is_oom = true;
			return NULL;
		}
		b->buf = buf;
		b->cap = cap;
	}
	return b->buf + b->len;
}

/* Each writer: reserve the worst case, encode, advance. */
#define CALL_MP_PUT(b, max, expr) do { \
	char *p_ = call_mp_reserve((b), (max)); \
	if (p_ != NULL) \
		(b)->len = (size_t)((expr) - (b)->buf); \
} while (0)

/** JSON value → MsgPack. -1 with a message in `err` on a bad value. */
static int
call_json_to_mp(const cJSON *j, struct call_mp *b, int depth, char *err,
		size_t err_size)
{
	if (depth > CALL_JSON_DEPTH_MAX) {
		snprintf(err, err_size, "nested deeper than %d",
			 CALL_JSON_DEPTH_MAX);
		return -1;
	}
	if (cJSON_IsNull(j)) {
		CALL_MP_PUT(b, 1, mp_encode_nil(p_));
	} else if (cJSON_IsBool(j)) {
		CALL_MP_PUT(b, 1, mp_encode_bool(p_, cJSON_IsTrue(j)));
	} else if (cJSON_IsNumber(j)) {
		double v = j->valuedouble;
		if (v == floor(v) && v >= -9223372036854775808.0 &&
		    v < 18446744073709551616.0) {
			if (v >= 0)
				CALL_MP_PUT(b, 9, mp_encode_uint(p_,
								 (uint64_t)v));
			else
				CALL_MP_PUT(b, 9, mp_encode_int(p_,
								(int64_t)v));
		} else {
			CALL_MP_PUT(b, 9, mp_encode_double(p_, v));
		}
	} else if (cJSON_IsString(j)) {
		uint32_t len = (uint32_t)strlen(j->valuestring);
		CALL_MP_PUT(b, mp_sizeof_str(len),
			    mp_encode_str(p_, j->valuestring, len));
	} else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
		uint32_t n = (uint32_t)cJSON_GetArraySize(j);
		if (cJSON_IsArray(j))
			CALL_MP_PUT(b, 5, mp_encode_array(p_, n));
		else
			CALL_MP_PUT(b, 5, mp_encode_map(p_, n));
		for (const cJSON *item = j->child; item != NULL;
		     item = item->next) {
			if (cJSON_IsObject(j)) {
				uint32_t len = (uint32_t)strlen(item->string);
				CALL_MP_PUT(b, mp_sizeof_str(len),
					    mp_encode_str(p_, item->string,
							  len));
			}
			if (call_json_to_mp(item, b, depth + 1, err,
					    err_size) != 0)
				return -1;
		}
	} else {
		snprintf(err, err_size, "unsupported JSON value");
		return -1;
	}
	if (b->is_oom) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	return 0;
}

/** Print MsgPack [data, end) as one line of text. */
static void
call_print(FILE *out, const char *data, const char *end)
{
	char stack[512];
	int len = mp_format(stack, sizeof(stack), data, end);
	if (len < 0)
		return;
	if ((size_t)len < sizeof(stack)) {
		fprintf(out, "%s\n", stack);
	} else {
		char *buf = mem_alloc((size_t)len + 1);
		if (buf == NULL) {
			fprintf(out, "<%d bytes of text: out of memory>\n",
				len);
		} else {
			mp_format(buf, (size_t)len + 1, data, end);
			fprintf(out, "%s\n", buf);
			mem_free(buf);
		}
	}
	fflush(out);
}

static void
call_on_push(void *ctx, const char *data, const char *data_end)
{
	(void)ctx;
	call_print(stdout, data, data_end);
}

/** Parse ARGS into `b`. 0, or -1 after printing why. */
static int
call_parse_args(const char *text, struct call_mp *b)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
	if (j == NULL) {
		fprintf(stderr, "kharon call: bad JSON arguments at offset "
			"%zu: %.20s\n",
			end != NULL ? (size_t)(end - text) : (size_t)0,
			end != NULL ? end : "");
		return -1;
	}
	int rc = -1;
	char err[128];
	if (!cJSON_IsArray(j)) {
		fprintf(stderr, "kharon call: ARGS must be a JSON array, e.g. "
			"'[1, \"x\"]'\n");
	} else if (call_json_to_mp(j, b, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "kharon call: bad JSON arguments: %s\n", err);
	} else {
		rc = 0;
	}
	cJSON_Delete(j);
	return rc;
}

/**
 * SECONDS → nanoseconds: a finite number in (0, CALL_TIMEOUT_MAX_S].
 * Checked before converting, so no out-of-range float → int conversion.
 */
static int
call_parse_timeout(const char *text, uint64_t *ns)
{
	char *end;
	errno = 0;
	double s = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || errno == ERANGE ||
	    !(s > 0 && s <= CALL_TIMEOUT_MAX_S))
		return -1;
	*ns = (uint64_t)(s * 1e9);
	if (*ns == 0)
		*ns = 1;
	return 0;
}

int
cli_call(int argc, char **argv)
{
	struct client_sync_opts opts;
	client_sync_opts_default(&opts);
	const char *pos[3];
	int n_pos = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--timeout") == 0) {
			uint64_t ns;
			if (i + 1 >= argc ||
			    call_parse_timeout(argv[++i], &ns) != 0) {
				fprintf(stderr, "kharon call: --timeout wants "
					"seconds, > 0 and <= %d\n",
					CALL_TIMEOUT_MAX_S);
				return CLI_USAGE;
			}
			opts.connect_timeout_ns = ns;
			opts.call_timeout_ns = ns;
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(call_usage, stdout);
			return CLI_OK;
		} else if (argv[i][0] == '-' && argv[i][1] == '-') {
			fprintf(stderr, "kharon call: unknown option %s\n%s",
				argv[i], call_usage);
			return CLI_USAGE;
		} else if (n_pos == 3) {
			fputs(call_usage, stderr);
			return CLI_USAGE;
		} else {
			pos[n_pos++] = argv[i];
		}
	}
	if (n_pos < 2 || *pos[1] == '\0') {
		fputs(call_usage, stderr);
		return CLI_USAGE;
	}
	const char *addr = pos[0];
	const char *function = pos[1];
	char err[160];
	if (cli_addr_check(addr, false, err, sizeof(err)) != 0) {
		fprintf(stderr, "kharon call: %s\n", err);
		return CLI_USAGE;
	}
	cJSON_Hooks hooks = { .malloc_fn = mem_alloc, .free_fn = mem_free };
	cJSON_InitHooks(&hooks);
	struct call_mp args = { 0 };
	if (call_parse_args(n_pos == 3 ? pos[2] : "[]", &args) != 0) {
		mem_free(args.buf);
		return CLI_USAGE;
	}
	int rc = CLI_FAILED;
	struct client_sync *c = client_sync_connect(addr, &opts);
	if (c == NULL) {
		fprintf(stderr, "kharon call: cannot connect to %s: %s\n",
			addr, diag_msg());
		goto out;
	}
	struct client_result result;
	if (client_call(c, function, args.buf, args.buf + args.len,
			call_on_push, NULL, &result) == 0) {
		if (result.data != NULL)
			call_print(stdout, result.data,
				   result.data + result.data_len);
		else
			printf("[]\n");
		rc = CLI_OK;
	} else {
		fprintf(stderr, "kharon call: %s\n", diag_msg());
	}
	client_result_destroy(&result);
	client_close(c);
out:
	mem_free(args.buf);
	return rc;
}
