/*
 * scenario_load.c — from a scenario file to a struct scenario, or to the
 * one line that says what is wrong and where.
 *
 * Two passes over the input, because cJSON is lenient where a teaching tool
 * must not be (docs/reliability.md §5 lists what it accepts):
 *
 *   bytes ─► text checks: size cap, empty, control characters, invalid
 *   │        UTF-8 and \u0000 in strings (cJSON would truncate the string)
 *   │        ─► "line 3, column 9: ..."
 *   ├──────► cJSON parse (length-bounded, we check the tail ourselves)
 *   │        ─► "line 14, column 3: JSON syntax error"
 *   ▼
 *   tree ──► walk in document order, each object against its key table
 *            (unknown, duplicate, case-variant keys; types; ranges; the
 *            one-action rule; cross-field rules at the object's end)
 *            ─► "clients[2].steps[0].call.args: expected array, got string"
 *
 * Of the text errors and the syntax error the earliest in the file wins;
 * content errors come only from a file whose text is clean. cJSON allocates
 * through mem.h (cJSON_InitHooks), so allocation-failure tests cover it.
 * Lesson: lessons/en/00-scenarios.md.
 */
#include "scenario/scenario.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <threads.h>

#include "base/diag.h"
#include "base/mem.h"
#include "proto/errcode.h"
#include "proto/mp.h"

/* The largest integer a JSON number (a double) holds exactly, and its
 * neighbour: 2^53 + 1 reads as 2^53, so 2^53 itself is refused too. */
#define EXACT_MAX 9007199254740991.0

enum { PATH_MAX_LEN = 200, TIME_MS_MAX = 86400000 };

/* ------------------------------------------------------------ key tables */

/*
 * Each object kind: its keys as an enum (for the switch) and as a table
 * (for the lookup, the messages and scenario_key_tables()). Keep the two
 * in the same order.
 */
enum { K_SCHEMA, K_NAME, K_TITLE, K_SUMMARY, K_MODE, K_SEED, K_SERVER,
       K_NETWORK, K_CLIENTS, K_EXPECT, K_SIM_ONLY_WHY, K_TOUR,
       K_INTERVENTIONS };
static const char *const root_keys[] = {
	"$schema", "name", "title", "summary", "mode", "seed", "server",
	"network", "clients", "expect", "sim_only", "tour", "interventions",
	NULL,
};

enum { K_IV_AT_US, K_IV_CLIENT, K_IV_DO, K_IV_RESET, K_IV_CORD,
       K_IV_FOR_US, K_IV_NAME, K_IV_VALUE, K_IV_MSG, K_IV_TO };
static const char *const intervention_keys[] = {
	"at_us", "client", "do", "reset", "cord", "for_us", "name", "value",
	"msg", "to", NULL,
};
/* In the order of enum scenario_option. */
static const char *const option_names[] = {
	"net_msg_max", "readahead", NULL,
};
/* In the order of enum scenario_action's what-if actions. */
static const char *const intervention_names[] = {
	"pause_reading", "resume_reading", "disconnect", "hold_cord",
	"set_option", "delay_message", NULL,
};

enum { K_STOP_EVENT, K_STOP_WHERE, K_STOP_NTH, K_STOP_CAPTION,
       K_STOP_HIGHLIGHT, K_STOP_FOCUS };
static const char *const stop_keys[] = {
	"event", "where", "nth", "caption", "highlight", "focus", NULL,
};

enum { K_RU, K_EN };
static const char *const text_keys[] = {"ru", "en", NULL};

enum { K_IPROTO_THREADS, K_READAHEAD, K_OBUF_CHUNK, K_PUSH_MODE,
       K_NET_MSG_MAX, K_OBUF_LIMIT, K_OBUF_SOFT_LIMIT, K_OBUF_SOFT_MS,
       K_MAX_PACKET };
static const char *const server_keys[] = {
	"iproto_threads", "readahead", "obuf_chunk", "push_mode",
	"net_msg_max", "obuf_limit", "obuf_soft_limit", "obuf_soft_ms",
	"max_packet", NULL,
};

enum { K_LATENCY_US, K_BANDWIDTH, K_SNDBUF, K_RCVBUF, K_SEGMENT };
static const char *const net_keys[] = {
	"latency_us", "bandwidth", "sndbuf", "rcvbuf", "segment", NULL,
};

enum { K_CLIENT_NAME, K_CONNECT_AT_MS, K_NET, K_STEPS };
static const char *const client_keys[] = {
	"name", "connect_at_ms", "net", "steps", NULL,
};

/* Step keys: the actions first, in enum scenario_action order. */
enum { K_CALL, K_PING, K_RAW, K_PIPELINE, K_PAUSE_READING,
       K_RESUME_READING, K_DISCONNECT, K_AT_MS, K_AFTER, K_STEP_EXPECT };
static const char *const step_keys[] = {
	"call", "ping", "raw", "pipeline", "pause_reading", "resume_reading",
	"disconnect", "at_ms", "after", "expect", NULL,
};

/* A pipeline item: a request and its expectations. */
enum { K_ITEM_CALL, K_ITEM_PING, K_ITEM_RAW, K_ITEM_EXPECT };
static const char *const item_keys[] = {"call", "ping", "raw", "expect", NULL};

enum { K_FUNCTION, K_ARGS, K_CALL_16 };
static const char *const call_keys[] = {"function", "args", "call_16", NULL};

static const char *const empty_keys[] = {NULL};

enum { K_RESET };
static const char *const disconnect_keys[] = {"reset", NULL};

enum { K_PUSHES, K_RESULT, K_ERROR, K_CLOSED };
static const char *const expect_keys[] = {
	"pushes", "result", "error", "closed", NULL,
};

enum { K_COUNT, K_VALUES };
static const char *const pushes_keys[] = {"count", "values", NULL};

enum { K_CONTAINS };
static const char *const error_keys[] = {"contains", NULL};

enum { K_EVENTS, K_INVARIANTS };
static const char *const run_expect_keys[] = {"events", "invariants", NULL};

enum { K_MIN, K_MAX, K_SIM_ONLY };
static const char *const event_keys[] = {"min", "max", "sim_only", NULL};

static const struct scenario_keys key_tables[] = {
	{"", root_keys},
	{"title", text_keys},
	{"summary", text_keys},
	{"server", server_keys},
	{"network", net_keys},
	{"clients[]", client_keys},
	{"clients[].net", net_keys},
	{"clients[].steps[]", step_keys},
	{"clients[].steps[].call", call_keys},
	{"clients[].steps[].ping", empty_keys},
	{"clients[].steps[].pipeline[]", item_keys},
	{"clients[].steps[].pipeline[].call", call_keys},
	{"clients[].steps[].pipeline[].ping", empty_keys},
	{"clients[].steps[].pipeline[].expect", expect_keys},
	{"clients[].steps[].pipeline[].expect.pushes", pushes_keys},
	{"clients[].steps[].pipeline[].expect.error", error_keys},
	{"clients[].steps[].pause_reading", empty_keys},
	{"clients[].steps[].resume_reading", empty_keys},
	{"clients[].steps[].disconnect", disconnect_keys},
	{"clients[].steps[].expect", expect_keys},
	{"clients[].steps[].expect.pushes", pushes_keys},
	{"clients[].steps[].expect.error", error_keys},
	{"expect", run_expect_keys},
	{"expect.events.*", event_keys},
	{"tour[]", stop_keys},
	{"tour[].caption", text_keys},
	{"interventions[]", intervention_keys},
	{NULL, NULL},
};

const struct scenario_keys *
scenario_key_tables(void)
{
	return key_tables;
}

static const char *const mode_names[] = {"sim", "real", NULL};
static const char *const push_mode_names[] = {"kharon", "per_push", NULL};
static const char *const after_names[] = {"reply", "sent", NULL};
/* In enum scenario_highlight order. */
static const char *const highlight_names[] = {
	"none", "kharon", "boat", "obuf", "ibuf", "cord", "client", NULL,
};

const char *
scenario_highlight_name(enum scenario_highlight h)
{
	return h <= SCENARIO_HIGHLIGHT_CLIENT ? highlight_names[h] : "?";
}

const char *
scenario_mode_name(enum scenario_mode mode)
{
	return mode == SCENARIO_MODE_REAL ? "real" : "sim";
}

const char *
scenario_action_name(enum scenario_action action)
{
	if ((unsigned)action > SCENARIO_ACTION_DISCONNECT)
		return "?";
	return step_keys[action];
}

/* ------------------------------------------------------------ cJSON hooks */

/* Set when an allocation made for cJSON fails: a NULL from cJSON_Parse is
 * then "out of memory", not a syntax error. */
static _Thread_local bool cjson_oom;

static void *
cjson_alloc(size_t size)
{
	void *p = mem_alloc(size);
	if (p == NULL)
		cjson_oom = true;
	return p;
}

static void
cjson_free(void *p)
{
	mem_free(p);
}

static once_flag cjson_hooks_once = ONCE_FLAG_INIT;

static void
cjson_hooks_install(void)
{
	cJSON_Hooks hooks = {cjson_alloc, cjson_free};
	cJSON_InitHooks(&hooks);
}

/* ------------------------------------------------------------ the loader */

struct loader {
	/* The file name that prefixes every message. */
	const char *origin;
	/* Where the walk is: "clients[2].steps[0].call". */
	char path[PATH_MAX_LEN];
	size_t path_len;
	/* Path length at the root of a free JSON value (args, result). */
	size_t value_root;
	struct scenario *s;
};

/* Set diag to "ORIGIN: PATH: message" (no "PATH: " at the top level). */
static int
loader_error(struct loader *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
loader_error(struct loader *l, const char *fmt, ...)
{
	char msg[DIAG_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_set(ER_ILLEGAL_PARAMS, "ScenarioError", "%s: %s%s%s", l->origin,
		 l->path, l->path_len > 0 ? ": " : "", msg);
	return -1;
}

static int
loader_oom(struct loader *l, size_t size, const char *what)
{
	diag_set(DIAG_ER_MEMORY_ISSUE, "OutOfMemory",
		 "%s: failed to allocate %zu bytes for %s", l->origin, size,
		 what);
	return -1;
}

/*
 * Write `s` into `dst` as a double-quoted string for a message: printable
 * ASCII and UTF-8 as they are, quotes and backslashes escaped, control
 * bytes as \xNN, cut with "..." past `size`.
 */
static void
quote(char *dst, size_t size, const char *s)
{
	size_t n = 0;
	if (size < 8) {
		dst[0] = '\0';
		return;
	}
	dst[n++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		/*
		 * Room for the longest step (a 4-byte \xNN escape) plus
		 * "...", the closing quote and the NUL: 9 bytes.
		 */
		if (n + 9 > size) {
			memcpy(dst + n, "...", 3);
			n += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			dst[n++] = '\\';
			dst[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(dst + n, size - n, "\\x%02x", c);
		} else {
			dst[n++] = (char)c;
		}
	}
	dst[n++] = '"';
	dst[n] = '\0';
}

/* Append raw text to the path, cut at the buffer's end. */
static void
path_append(struct loader *l, const char *text)
{
	size_t room = sizeof(l->path) - 1 - l->path_len;
	size_t len = strlen(text);
	if (len > room)
		len = room;
	memcpy(l->path + l->path_len, text, len);
	l->path_len += len;
	l->path[l->path_len] = '\0';
}

static bool
is_simple_key(const char *key)
{
	if (*key == '\0')
		return false;
	for (; *key != '\0'; key++) {
		char c = *key;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '$'))
			return false;
	}
	return true;
}

/* Enter an object member: ".key", or "key" at the top, or ["odd key"]. */
static size_t
path_push_key(struct loader *l, const char *key)
{
	size_t mark = l->path_len;
	if (is_simple_key(key)) {
		if (l->path_len > 0)
			path_append(l, ".");
		path_append(l, key);
	} else {
		char q[64];
		quote(q, sizeof(q), key);
		path_append(l, "[");
		path_append(l, q);
		path_append(l, "]");
	}
	return mark;
}

static size_t
path_push_index(struct loader *l, int index)
{
	size_t mark = l->path_len;
	char buf[24];
	snprintf(buf, sizeof(buf), "[%d]", index);
	path_append(l, buf);
	return mark;
}

static void
path_pop(struct loader *l, size_t mark)
{
	l->path_len = mark;
	l->path[mark] = '\0';
}

static const char *
json_type_name(const cJSON *node)
{
	if (cJSON_IsString(node))
		return "string";
	if (cJSON_IsNumber(node))
		return "number";
	if (cJSON_IsBool(node))
		return "boolean";
	if (cJSON_IsNull(node))
		return "null";
	if (cJSON_IsArray(node))
		return "array";
	if (cJSON_IsObject(node))
		return "object";
	return "invalid value";
}

static int
expect_object(struct loader *l, const cJSON *node)
{
	if (cJSON_IsObject(node))
		return 0;
	return loader_error(l, "expected object, got %s",
			    json_type_name(node));
}

static int
key_index(const char *const *keys, const char *key)
{
	for (int i = 0; keys[i] != NULL; i++) {
		if (strcmp(keys[i], key) == 0)
			return i;
	}
	return -1;
}

/*
 * Look the member's key up in `keys` (case-sensitively: "Name" is not
 * "name") and refuse it when unknown or already seen. Returns its index.
 */
static int
member_key(struct loader *l, const cJSON *member, const char *const *keys,
	   unsigned *seen)
{
	char q[80];
	int k = key_index(keys, member->string);
	quote(q, sizeof(q), member->string);
	if (k < 0) {
		for (int i = 0; keys[i] != NULL; i++) {
			if (strcasecmp(keys[i], member->string) == 0)
				return loader_error(l, "unknown key %s (did you "
						    "mean \"%s\"?)", q,
						    keys[i]);
		}
		return loader_error(l, "unknown key %s", q);
	}
	if (*seen & (1u << k))
		return loader_error(l, "duplicate key %s", q);
	*seen |= 1u << k;
	return k;
}

/* A member of a free-keyed object and its place, for the sort below. */
struct key_ref {
	const char *key;
	int index;
};

static int
key_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c != 0)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

static int
duplicate_key(struct loader *l, const char *key)
{
	char q[80];
	quote(q, sizeof(q), key);
	return loader_error(l, "duplicate key %s", q);
}

/*
 * Keys of an object whose keys are free (a map in args, expect.events):
 * report the repeated key whose second occurrence comes first. Small
 * objects compare pairwise; big ones (a 1 MiB file holds ~150 000 keys)
 * sort, O(n log n), so no input makes the loader quadratic.
 */
static int
check_free_keys(struct loader *l, const cJSON *obj)
{
	int n = cJSON_GetArraySize(obj);
	if (n <= 32) {
		for (const cJSON *c = obj->child; c != NULL; c = c->next) {
			for (const cJSON *p = obj->child; p != c; p = p->next) {
				if (strcmp(p->string, c->string) == 0)
					return duplicate_key(l, c->string);
			}
		}
		return 0;
	}
	size_t size = (size_t)n * sizeof(struct key_ref);
	struct key_ref *refs = mem_alloc(size);
	if (refs == NULL)
		return loader_oom(l, size, "a key check");
	int i = 0;
	for (const cJSON *c = obj->child; c != NULL; c = c->next, i++)
		refs[i] = (struct key_ref){c->string, i};
	qsort(refs, (size_t)n, sizeof(*refs), key_ref_cmp);
	int first = -1;
	const char *key = NULL;
	for (i = 1; i < n; i++) {
		if (strcmp(refs[i - 1].key, refs[i].key) == 0 &&
		    (first < 0 || refs[i].index < first)) {
			first = refs[i].index;
			key = refs[i].key;
		}
	}
	mem_free(refs);
	return first < 0 ? 0 : duplicate_key(l, key);
}

/* ---- scalars ---- */

static void
format_number(char *buf, size_t size, double v)
{
	if (!isfinite(v))
		snprintf(buf, size, "a number too large to represent");
	else
		snprintf(buf, size, "%.17g", v);
}

/* An integer in [min, max] (both within ±(2^53 - 1)). */
static int
get_int(struct loader *l, const cJSON *node, double min, double max,
	int64_t *out)
{
	if (!cJSON_IsNumber(node))
		return loader_error(l, "expected integer, got %s",
				    json_type_name(node));
	double v = node->valuedouble;
	if (!isfinite(v) || floor(v) != v || v < min || v > max) {
		char got[48];
		format_number(got, sizeof(got), v);
		return loader_error(l, "expected integer in [%.0f, %.0f], "
				    "got %s%s", min, max, got,
				    isfinite(v) && fabs(v) > EXACT_MAX ?
				    " (JSON numbers are inexact beyond "
				    "2^53 - 1)" : "");
	}
	*out = (int64_t)v;
	return 0;
}

static int
get_bool(struct loader *l, const cJSON *node, bool *out)
{
	if (!cJSON_IsBool(node))
		return loader_error(l, "expected boolean, got %s",
				    json_type_name(node));
	*out = cJSON_IsTrue(node);
	return 0;
}

/* A string (valid UTF-8 and NUL-free: the text pass made sure). */
static int
get_str(struct loader *l, const cJSON *node, const char **out)
{
	if (!cJSON_IsString(node))
		return loader_error(l, "expected string, got %s",
				    json_type_name(node));
	*out = node->valuestring;
	return 0;
}

/* A copy of a non-empty string, NUL-terminated, owned by the caller. */
static int
dup_str(struct loader *l, const char *s, char **out)
{
	size_t len = strlen(s);
	char *copy = mem_alloc(len + 1);
	if (copy == NULL)
		return loader_oom(l, len + 1, "a scenario string");
	memcpy(copy, s, len + 1);
	*out = copy;
	return 0;
}

static int
get_nonempty_str(struct loader *l, const cJSON *node, char **out)
{
	const char *s = NULL;
	if (get_str(l, node, &s) != 0)
		return -1;
	if (*s == '\0')
		return loader_error(l, "expected a non-empty string");
	return dup_str(l, s, out);
}

static int
get_enum(struct loader *l, const cJSON *node, const char *const *names,
	 int *out)
{
	const char *s = NULL;
	if (get_str(l, node, &s) != 0)
		return -1;
	int k = key_index(names, s);
	if (k >= 0) {
		*out = k;
		return 0;
	}
	char list[128] = "", q[80];
	size_t n = 0;
	for (int i = 0; names[i] != NULL; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
				      i > 0 ? ", " : "", names[i]);
	quote(q, sizeof(q), s);
	return loader_error(l, "expected one of %s, got %s", list, q);
}

/* ---- JSON values to MsgPack (args, result, push values) ---- */

static bool
is_exact_int(double v)
{
	return floor(v) == v && v >= -EXACT_MAX && v <= EXACT_MAX;
}

/* Validate `node` and add its MsgPack size to *size. */
static int
value_size(struct loader *l, const cJSON *node, int depth, size_t *size)
{
	if (cJSON_IsNull(node) || cJSON_IsBool(node)) {
		*size += 1;
	} else if (cJSON_IsNumber(node)) {
		double v = node->valuedouble;
		if (!isfinite(v))
			return loader_error(l, "number is not finite (too "
					    "large to represent)");
		if (is_exact_int(v)) {
			*size += v < 0 ? mp_sizeof_int((int64_t)v)
				       : mp_sizeof_uint((uint64_t)v);
		} else if (floor(v) == v) {
			char got[48];
			format_number(got, sizeof(got), v);
			return loader_error(l, "integer beyond ±(2^53 - 1) is "
					    "not exact in JSON, got %s", got);
		} else {
			*size += 9;
		}
	} else if (cJSON_IsString(node)) {
		*size += mp_sizeof_str((uint32_t)strlen(node->valuestring));
	} else if (cJSON_IsArray(node) || cJSON_IsObject(node)) {
		if (depth >= SCENARIO_VALUE_DEPTH_MAX) {
			path_pop(l, l->value_root);
			return loader_error(l, "nesting deeper than %d levels",
					    SCENARIO_VALUE_DEPTH_MAX);
		}
		bool is_map = cJSON_IsObject(node);
		if (is_map && check_free_keys(l, node) != 0)
			return -1;
		int n = 0;
		for (const cJSON *c = node->child; c != NULL; c = c->next) {
			size_t mark;
			if (is_map) {
				mark = path_push_key(l, c->string);
				*size += mp_sizeof_str(
					(uint32_t)strlen(c->string));
			} else {
				mark = path_push_index(l, n);
			}
			if (value_size(l, c, depth + 1, size) != 0)
				return -1;
			path_pop(l, mark);
			n++;
		}
		*size += is_map ? mp_sizeof_map((uint32_t)n)
				: mp_sizeof_array((uint32_t)n);
	} else {
		return loader_error(l, "unexpected %s", json_type_name(node));
	}
	return 0;
}

/* Encode a value value_size() accepted. */
static char *
value_encode(char *p, const cJSON *node)
{
	if (cJSON_IsNull(node))
		return mp_encode_nil(p);
	if (cJSON_IsBool(node))
		return mp_encode_bool(p, cJSON_IsTrue(node));
	if (cJSON_IsNumber(node)) {
		double v = node->valuedouble;
		if (!is_exact_int(v))
			return mp_encode_double(p, v);
		return v < 0 ? mp_encode_int(p, (int64_t)v)
			     : mp_encode_uint(p, (uint64_t)v);
	}
	if (cJSON_IsString(node))
		return mp_encode_str(p, node->valuestring,
				     (uint32_t)strlen(node->valuestring));
	uint32_t n = (uint32_t)cJSON_GetArraySize(node);
	if (cJSON_IsObject(node)) {
		p = mp_encode_map(p, n);
		for (const cJSON *c = node->child; c != NULL; c = c->next) {
			p = mp_encode_str(p, c->string,
					  (uint32_t)strlen(c->string));
			p = value_encode(p, c);
		}
		return p;
	}
	p = mp_encode_array(p, n);
	for (const cJSON *c = node->child; c != NULL; c = c->next)
		p = value_encode(p, c);
	return p;
}

/* Any JSON value at the current path → freshly allocated MsgPack. */
static int
get_value(struct loader *l, const cJSON *node, char **out, size_t *out_size)
{
	size_t size = 0;
	l->value_root = l->path_len;
	if (value_size(l, node, 0, &size) != 0)
		return -1;
	char *buf = mem_alloc(size);
	if (buf == NULL)
		return loader_oom(l, size, "a MsgPack value");
	char *end = value_encode(buf, node);
	assert(end == buf + size);
	(void)end;
	*out = buf;
	*out_size = size;
	return 0;
}

/* ---- hex ---- */

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "0a 82 00" → bytes; pairs of hex digits, spaces between pairs. */
static int
get_hex(struct loader *l, const cJSON *node, char **out, size_t *out_size)
{
	const char *s = NULL;
	if (get_str(l, node, &s) != 0)
		return -1;
	size_t n = 0, len = strlen(s);
	for (size_t i = 0; i < len;) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		if (hex_digit(s[i]) < 0 || i + 1 >= len ||
		    hex_digit(s[i + 1]) < 0) {
			size_t bad = hex_digit(s[i]) < 0 ? i : i + 1;
			return loader_error(l, "expected pairs of hex digits "
					    "separated by spaces, bad character"
					    " at offset %zu", bad);
		}
		n++;
		i += 2;
	}
	if (n == 0)
		return loader_error(l, "expected at least one hex byte");
	char *buf = mem_alloc(n);
	if (buf == NULL)
		return loader_oom(l, n, "raw bytes");
	n = 0;
	for (size_t i = 0; i < len;) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		buf[n++] = (char)(hex_digit(s[i]) * 16 + hex_digit(s[i + 1]));
		i += 2;
	}
	*out = buf;
	*out_size = n;
	return 0;
}

/* ---- walking objects and arrays ---- */

/*
 * One member of an object, in document order: `key` is its index in the
 * object's key table and the path already names it. 0, or -1 with diag.
 */
typedef int (*member_f)(struct loader *l, const cJSON *member, int key,
			void *ctx);

/* What an object may and must hold, and (out) what it held. */
struct walk {
	const char *const *keys;
	/* Keys that must be there, a bit per key index. */
	unsigned required;
	/* keys[0 .. n_actions - 1] are action keys: exactly one must be there. */
	int n_actions;
	/* Out: the keys met, a bit each; the action key met, -1 if none. */
	unsigned seen;
	int action;
};

static int
missing_action(struct loader *l, const char *const *keys, int n_actions)
{
	char list[160] = "";
	size_t n = 0;
	for (int i = 0; i < n_actions; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
				      i > 0 ? ", " : "", keys[i]);
	return loader_error(l, "expected exactly one action key: one of %s",
			    list);
}

/*
 * Walk an object against w->keys: refuse a non-object, an unknown or
 * repeated key and a second action (at the object's path), give every
 * member to f (at the member's path), then refuse a missing action or
 * required key. Cost: O(members × keys) plus f.
 */
static int
walk_object(struct loader *l, const cJSON *node, struct walk *w, member_f f,
	    void *ctx)
{
	if (expect_object(l, node) != 0)
		return -1;
	w->seen = 0;
	w->action = -1;
	for (const cJSON *c = node->child; c != NULL; c = c->next) {
		int k = member_key(l, c, w->keys, &w->seen);
		if (k < 0)
			return -1;
		if (k < w->n_actions) {
			if (w->action >= 0)
				return loader_error(l, "more than one action: "
						    "\"%s\" and \"%s\"",
						    w->keys[w->action],
						    w->keys[k]);
			w->action = k;
		}
		size_t mark = path_push_key(l, c->string);
		if (f(l, c, k, ctx) != 0)
			return -1;
		path_pop(l, mark);
	}
	if (w->n_actions > 0 && w->action < 0)
		return missing_action(l, w->keys, w->n_actions);
	for (int k = 0; w->keys[k] != NULL; k++) {
		if ((w->required & (1u << k)) && !(w->seen & (1u << k)))
			return loader_error(l, "missing required key \"%s\"",
					    w->keys[k]);
	}
	return 0;
}

static int
expect_array(struct loader *l, const cJSON *node)
{
	if (cJSON_IsArray(node))
		return 0;
	return loader_error(l, "expected array, got %s", json_type_name(node));
}

/*
 * A non-empty array of at most `max` elements (0: any number) of `size`
 * bytes each: returns them zeroed and sets *n, or NULL (diag set, *n
 * untouched). `what` names the elements in messages.
 */
static void *
array_new(struct loader *l, const cJSON *node, int max, size_t size,
	  const char *what, uint32_t *n)
{
	if (expect_array(l, node) != 0)
		return NULL;
	int len = cJSON_GetArraySize(node);
	if (len == 0) {
		loader_error(l, "expected a non-empty array");
		return NULL;
	}
	if (max > 0 && len > max) {
		loader_error(l, "expected at most %d %s, got %d", max, what, len);
		return NULL;
	}
	void *elements = mem_zalloc((size_t)len * size);
	if (elements == NULL) {
		loader_oom(l, (size_t)len * size, what);
		return NULL;
	}
	*n = (uint32_t)len;
	return elements;
}

/* One array element into `element` (the path names it). 0 or -1. */
typedef int (*element_f)(struct loader *l, const cJSON *node, void *element,
			 int index);

/* Load every element of an array into `elements` (of `size` bytes each). */
static int
array_each(struct loader *l, const cJSON *node, void *elements, size_t size,
	   element_f f)
{
	int i = 0;
	for (const cJSON *c = node->child; c != NULL; c = c->next, i++) {
		size_t mark = path_push_index(l, i);
		if (f(l, c, (char *)elements + (size_t)i * size, i) != 0)
			return -1;
		path_pop(l, mark);
	}
	return 0;
}

/* ---- objects ---- */

static int
text_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct scenario_text *t = ctx;
	return get_nonempty_str(l, c, k == K_RU ? &t->ru : &t->en);
}

static int
load_text(struct loader *l, const cJSON *node, struct scenario_text *t)
{
	struct walk w = {.keys = text_keys,
			 .required = (1u << K_RU) | (1u << K_EN)};
	return walk_object(l, node, &w, text_member, t);
}

static int
server_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct iproto_opts *o = ctx;
	int64_t v = 0;
	int mode = 0, rc = 0;
	switch (k) {
	case K_IPROTO_THREADS:
		rc = get_int(l, c, 1, 16, &v);
		o->iproto_threads = (int)v;
		break;
	case K_READAHEAD:
		rc = get_int(l, c, 128, 1 << 30, &v);
		o->readahead = (size_t)v;
		break;
	case K_OBUF_CHUNK:
		rc = get_int(l, c, 128, 1 << 30, &v);
		o->obuf_chunk = (size_t)v;
		break;
	case K_PUSH_MODE:
		rc = get_enum(l, c, push_mode_names, &mode);
		o->push_mode = mode == 1 ? PUSH_MODE_PER_PUSH : PUSH_MODE_KHARON;
		break;
	case K_NET_MSG_MAX:
		rc = get_int(l, c, 2, 1000000, &v);
		o->net_msg_max = (int)v;
		break;
	case K_OBUF_LIMIT:
		rc = get_int(l, c, 0, 1099511627776.0, &v);
		o->obuf_limit = (size_t)v;
		break;
	case K_OBUF_SOFT_LIMIT:
		rc = get_int(l, c, 0, 1099511627776.0, &v);
		o->obuf_soft_limit = (size_t)v;
		break;
	case K_OBUF_SOFT_MS:
		rc = get_int(l, c, 0, 86400000, &v);
		o->obuf_soft_ns = (uint64_t)v * 1000000;
		break;
	case K_MAX_PACKET:
		rc = get_int(l, c, 16, 4294967295.0, &v);
		o->max_packet = (size_t)v;
		break;
	}
	return rc;
}

static int
load_server(struct loader *l, const cJSON *node, struct iproto_opts *o)
{
	struct walk w = {.keys = server_keys};
	return walk_object(l, node, &w, server_member, o);
}

/* Marks a network field a client did not give (outside every range). */
#define NET_UNSET64 UINT64_MAX
#define NET_UNSET32 UINT32_MAX

static int
net_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct rt_net_opts *net = ctx;
	int64_t v = 0;
	int rc = 0;
	switch (k) {
	case K_LATENCY_US:
		rc = get_int(l, c, 1, 60000000, &v);
		net->latency_ns = (uint64_t)v * 1000;
		break;
	case K_BANDWIDTH:
		rc = get_int(l, c, 0, 1099511627776.0, &v);
		net->bandwidth = (uint64_t)v;
		break;
	case K_SNDBUF:
		rc = get_int(l, c, 1, 1 << 30, &v);
		net->sndbuf = (uint32_t)v;
		break;
	case K_RCVBUF:
		rc = get_int(l, c, 1, 1 << 30, &v);
		net->rcvbuf = (uint32_t)v;
		break;
	case K_SEGMENT:
		rc = get_int(l, c, 1, 1 << 30, &v);
		net->segment = (uint32_t)v;
		break;
	}
	return rc;
}

static int
load_net(struct loader *l, const cJSON *node, struct rt_net_opts *net)
{
	struct walk w = {.keys = net_keys};
	return walk_object(l, node, &w, net_member, net);
}

/* A step's or item's "expect" before we know what it applies to. */
struct expect_parse {
	struct scenario_reply_expect reply;
	/* Which of expect_keys were given. */
	unsigned seen;
	bool closed;
};

/* "pushes" as an object: the count, the values, or both. */
struct pushes_parse {
	struct scenario_reply_expect *e;
	int64_t count;
};

static int
pushes_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct pushes_parse *p = ctx;
	if (k == K_COUNT)
		return get_int(l, c, 0, 1000000000, &p->count);
	if (expect_array(l, c) != 0)
		return -1;
	return get_value(l, c, &p->e->push_values, &p->e->push_values_size);
}

static int
load_pushes(struct loader *l, const cJSON *node,
	    struct scenario_reply_expect *e)
{
	int64_t v;
	e->has_pushes = true;
	if (cJSON_IsNumber(node)) {
		if (get_int(l, node, 0, 1000000000, &v) != 0)
			return -1;
		e->n_pushes = (uint32_t)v;
		return 0;
	}
	if (!cJSON_IsObject(node))
		return loader_error(l, "expected integer or object, got %s",
				    json_type_name(node));
	struct pushes_parse p = {e, -1};
	struct walk w = {.keys = pushes_keys};
	if (walk_object(l, node, &w, pushes_member, &p) != 0)
		return -1;
	if (w.seen == 0)
		return loader_error(l, "expected \"count\" or \"values\"");
	if (e->push_values != NULL) {
		int n = cJSON_GetArraySize(
			cJSON_GetObjectItemCaseSensitive(node, "values"));
		if (p.count >= 0 && p.count != n)
			return loader_error(l, "\"count\" is %lld but \"values\""
					    " has %d", (long long)p.count, n);
		p.count = n;
	}
	e->n_pushes = (uint32_t)p.count;
	return 0;
}

static int
error_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct scenario_reply_expect *e = ctx;
	(void)k;
	return get_nonempty_str(l, c, &e->error);
}

static int
load_error_expect(struct loader *l, const cJSON *node,
		  struct scenario_reply_expect *e)
{
	if (cJSON_IsString(node)) {
		e->error_match = SCENARIO_ERROR_EXACT;
		return get_nonempty_str(l, node, &e->error);
	}
	if (!cJSON_IsObject(node))
		return loader_error(l, "expected string or object, got %s",
				    json_type_name(node));
	struct walk w = {.keys = error_keys, .required = 1u << K_CONTAINS};
	if (walk_object(l, node, &w, error_member, e) != 0)
		return -1;
	e->error_match = SCENARIO_ERROR_CONTAINS;
	return 0;
}

static int
expect_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct expect_parse *x = ctx;
	switch (k) {
	case K_PUSHES:
		return load_pushes(l, c, &x->reply);
	case K_RESULT:
		x->reply.has_result = true;
		return get_value(l, c, &x->reply.result, &x->reply.result_size);
	case K_ERROR:
		return load_error_expect(l, c, &x->reply);
	default:
		return get_bool(l, c, &x->closed);
	}
}

static int
load_expect(struct loader *l, const cJSON *node, struct expect_parse *x)
{
	struct walk w = {.keys = expect_keys};
	if (walk_object(l, node, &w, expect_member, x) != 0)
		return -1;
	x->seen = w.seen;
	if ((x->seen & (1u << K_RESULT)) && (x->seen & (1u << K_ERROR)))
		return loader_error(l, "\"result\" and \"error\" exclude each "
				    "other");
	return 0;
}

static void
reply_expect_destroy(struct scenario_reply_expect *e)
{
	mem_free(e->push_values);
	mem_free(e->result);
	mem_free(e->error);
	memset(e, 0, sizeof(*e));
}

static int
load_empty(struct loader *l, const cJSON *node)
{
	if (expect_object(l, node) != 0)
		return -1;
	unsigned seen = 0;
	if (node->child != NULL)
		return member_key(l, node->child, empty_keys, &seen);
	return 0;
}

static int
call_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct scenario_request *r = ctx;
	if (k == K_FUNCTION) {
		if (get_nonempty_str(l, c, &r->function) != 0)
			return -1;
		size_t len = strlen(r->function);
		if (len > 255)
			return loader_error(l, "expected at most 255 bytes, "
					    "got %zu", len);
		r->function_len = (uint32_t)len;
		return 0;
	}
	if (k == K_CALL_16)
		return get_bool(l, c, &r->is_call_16);
	if (expect_array(l, c) != 0)
		return -1;
	r->n_args = (uint32_t)cJSON_GetArraySize(c);
	return get_value(l, c, &r->args, &r->args_size);
}

static int
load_call(struct loader *l, const cJSON *node, struct scenario_request *r)
{
	struct walk w = {.keys = call_keys, .required = 1u << K_FUNCTION};
	if (walk_object(l, node, &w, call_member, r) != 0)
		return -1;
	if (r->args == NULL) {
		r->args = mem_alloc(1);
		if (r->args == NULL)
			return loader_oom(l, 1, "call arguments");
		mp_encode_array(r->args, 0);
		r->args_size = 1;
	}
	return 0;
}

/* The request of an action key (call, ping, raw), into `r`. */
static int
load_request(struct loader *l, const cJSON *node, int action,
	     struct scenario_request *r)
{
	switch (action) {
	case SCENARIO_ACTION_CALL:
		r->type = SCENARIO_REQUEST_CALL;
		return load_call(l, node, r);
	case SCENARIO_ACTION_PING:
		r->type = SCENARIO_REQUEST_PING;
		return load_empty(l, node);
	default:
		r->type = SCENARIO_REQUEST_RAW;
		return get_hex(l, node, &r->raw, &r->raw_size);
	}
}

/* A pipeline item being loaded. */
struct item_parse {
	struct scenario_request *r;
	struct expect_parse x;
};

static int
item_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct item_parse *p = ctx;
	if (k == K_ITEM_EXPECT)
		return load_expect(l, c, &p->x);
	return load_request(l, c, k, p->r);
}

/* One element of "pipeline": {call|ping|raw, expect?}. */
static int
load_item(struct loader *l, const cJSON *node, void *element, int index)
{
	struct item_parse p;
	memset(&p, 0, sizeof(p));
	p.r = element;
	(void)index;
	struct walk w = {.keys = item_keys, .n_actions = K_ITEM_EXPECT};
	int rc = -1;
	if (walk_object(l, node, &w, item_member, &p) != 0)
		goto out;
	if (p.x.seen & (1u << K_CLOSED)) {
		loader_error(l, "expect.closed applies to the whole pipeline "
			     "step, not to one item");
		goto out;
	}
	p.r->expect = p.x.reply;
	memset(&p.x.reply, 0, sizeof(p.x.reply));
	rc = 0;
out:
	reply_expect_destroy(&p.x.reply);
	return rc;
}

static int
disconnect_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	(void)k;
	return get_bool(l, c, ctx);
}

/* A step being loaded. */
struct step_parse {
	struct scenario_step *st;
	struct expect_parse x;
};

static int
step_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct step_parse *p = ctx;
	struct scenario_step *st = p->st;
	int64_t v;
	int after = 0;
	switch (k) {
	case K_CALL:
	case K_PING:
	case K_RAW:
		st->requests = mem_zalloc(sizeof(*st->requests));
		if (st->requests == NULL)
			return loader_oom(l, sizeof(*st->requests), "a request");
		st->n_requests = 1;
		return load_request(l, c, k, st->requests);
	case K_PIPELINE:
		st->requests = array_new(l, c, 0, sizeof(*st->requests),
					 "pipeline requests", &st->n_requests);
		if (st->requests == NULL)
			return -1;
		return array_each(l, c, st->requests, sizeof(*st->requests),
				  load_item);
	case K_PAUSE_READING:
	case K_RESUME_READING:
		return load_empty(l, c);
	case K_DISCONNECT: {
		struct walk w = {.keys = disconnect_keys};
		return walk_object(l, c, &w, disconnect_member, &st->is_reset);
	}
	case K_AT_MS:
		if (get_int(l, c, 0, TIME_MS_MAX, &v) != 0)
			return -1;
		st->when = SCENARIO_WHEN_AT;
		st->at_ns = (uint64_t)v * 1000000;
		return 0;
	case K_AFTER:
		if (get_enum(l, c, after_names, &after) != 0)
			return -1;
		st->when = after == 1 ? SCENARIO_WHEN_AFTER_SENT
				      : SCENARIO_WHEN_AFTER_REPLY;
		return 0;
	default:
		return load_expect(l, c, &p->x);
	}
}

static int
load_step(struct loader *l, const cJSON *node, void *element, int index)
{
	struct step_parse p;
	memset(&p, 0, sizeof(p));
	p.st = element;
	(void)index;
	struct scenario_step *st = p.st;
	st->when = SCENARIO_WHEN_AFTER_REPLY;
	struct walk w = {.keys = step_keys, .n_actions = K_DISCONNECT + 1};
	int rc = -1;
	if (walk_object(l, node, &w, step_member, &p) != 0)
		goto out;
	int action = w.action;
	st->action = (enum scenario_action)action;
	if ((w.seen & (1u << K_AT_MS)) && (w.seen & (1u << K_AFTER))) {
		loader_error(l, "\"at_ms\" and \"after\" exclude each other");
		goto out;
	}
	unsigned reply_keys = (1u << K_PUSHES) | (1u << K_RESULT) |
			      (1u << K_ERROR);
	if (p.x.seen & reply_keys) {
		if (action == K_PIPELINE) {
			loader_error(l, "expect: \"pushes\", \"result\" and "
				     "\"error\" of a pipeline go on its items");
			goto out;
		}
		if (action > K_PIPELINE) {
			loader_error(l, "expect: \"%s\" sends no request; only "
				     "\"closed\" applies", step_keys[action]);
			goto out;
		}
		st->requests[0].expect = p.x.reply;
		memset(&p.x.reply, 0, sizeof(p.x.reply));
	}
	st->has_closed = (p.x.seen & (1u << K_CLOSED)) != 0;
	st->closed = p.x.closed;
	rc = 0;
out:
	reply_expect_destroy(&p.x.reply);
	return rc;
}

static bool
is_client_name(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 32)
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int
client_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct scenario_client *cl = ctx;
	int64_t v;
	switch (k) {
	case K_CLIENT_NAME:
		if (get_nonempty_str(l, c, &cl->name) != 0)
			return -1;
		if (!is_client_name(cl->name))
			return loader_error(l, "expected 1 to 32 characters of "
					    "[A-Za-z0-9_-]");
		return 0;
	case K_CONNECT_AT_MS:
		if (get_int(l, c, 0, TIME_MS_MAX, &v) != 0)
			return -1;
		cl->connect_at_ns = (uint64_t)v * 1000000;
		return 0;
	case K_NET:
		cl->has_own_net = true;
		return load_net(l, c, &cl->net);
	default:
		cl->steps = array_new(l, c, 0, sizeof(*cl->steps), "steps",
				      &cl->n_steps);
		if (cl->steps == NULL)
			return -1;
		return array_each(l, c, cl->steps, sizeof(*cl->steps),
				  load_step);
	}
}

static int
load_client(struct loader *l, const cJSON *node, void *element, int index)
{
	struct scenario_client *cl = element;
	cl->net.latency_ns = NET_UNSET64;
	cl->net.bandwidth = NET_UNSET64;
	cl->net.sndbuf = NET_UNSET32;
	cl->net.rcvbuf = NET_UNSET32;
	cl->net.segment = NET_UNSET32;
	struct walk w = {.keys = client_keys, .required = 1u << K_STEPS};
	if (walk_object(l, node, &w, client_member, cl) != 0)
		return -1;
	if (cl->name == NULL) {
		char name[32];
		snprintf(name, sizeof(name), "client%d", index);
		if (dup_str(l, name, &cl->name) != 0)
			return -1;
	}
	for (int i = 0; i < index; i++) {
		if (strcmp(l->s->clients[i].name, cl->name) == 0)
			return loader_error(l, "name \"%s\" is already used by "
					    "clients[%d]", cl->name, i);
	}
	l->s->n_steps += cl->n_steps;
	return 0;
}

static bool
is_event_name(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 64 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || (c == '.' && s[1] != '.')))
			return false;
	}
	return true;
}

static int
event_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct scenario_event_expect *ev = ctx;
	if (k == K_SIM_ONLY)
		return get_bool(l, c, &ev->is_sim_only);
	int64_t v;
	if (get_int(l, c, 0, 4294967294.0, &v) != 0)
		return -1;
	if (k == K_MIN)
		ev->min = (uint32_t)v;
	else
		ev->max = (uint32_t)v;
	return 0;
}

static int
load_event(struct loader *l, const cJSON *node,
	   struct scenario_event_expect *ev)
{
	if (!is_event_name(node->string))
		return loader_error(l, "expected a trace event name such as "
				    "\"kharon.depart\" ([a-z0-9_] words "
				    "joined by dots)");
	if (dup_str(l, node->string, &ev->name) != 0)
		return -1;
	ev->max = UINT32_MAX;
	struct walk w = {.keys = event_keys};
	if (walk_object(l, node, &w, event_member, ev) != 0)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(node, "min") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(node, "max") == NULL)
		return loader_error(l, "expected \"min\" and/or \"max\"");
	if (ev->min > ev->max)
		return loader_error(l, "min %u is greater than max %u",
				    ev->min, ev->max);
	return 0;
}

static int
run_expect_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct scenario *s = ctx;
	if (k == K_INVARIANTS)
		return get_bool(l, c, &s->check_invariants);
	if (expect_object(l, c) != 0 || check_free_keys(l, c) != 0)
		return -1;
	int n = cJSON_GetArraySize(c);
	if (n > 0) {
		s->events = mem_zalloc((size_t)n * sizeof(*s->events));
		if (s->events == NULL)
			return loader_oom(l, (size_t)n * sizeof(*s->events),
					  "events");
	}
	for (const cJSON *e = c->child; e != NULL; e = e->next) {
		size_t mark = path_push_key(l, e->string);
		s->n_events++;
		if (load_event(l, e, &s->events[s->n_events - 1]) != 0)
			return -1;
		path_pop(l, mark);
	}
	return 0;
}

static int
load_run_expect(struct loader *l, const cJSON *node)
{
	struct walk w = {.keys = run_expect_keys};
	return walk_object(l, node, &w, run_expect_member, l->s);
}

/* ---- the tour ---- */

static int
load_where(struct loader *l, const cJSON *node, struct scenario_tour_stop *st)
{
	if (expect_object(l, node) != 0 || check_free_keys(l, node) != 0)
		return -1;
	int n = cJSON_GetArraySize(node);
	if (n == 0)
		return 0;
	if (n > 8)
		return loader_error(l, "expected at most 8 fields, got %d", n);
	st->where = mem_zalloc((size_t)n * sizeof(*st->where));
	if (st->where == NULL)
		return loader_oom(l, (size_t)n * sizeof(*st->where), "where");
	for (const cJSON *c = node->child; c != NULL; c = c->next) {
		size_t mark = path_push_key(l, c->string);
		struct scenario_tour_field *f = &st->where[st->n_where++];
		if (c->string[0] == '\0')
			return loader_error(l, "expected a field name");
		if (dup_str(l, c->string, &f->key) != 0)
			return -1;
		if (cJSON_IsString(c)) {
			if (dup_str(l, c->valuestring, &f->s) != 0)
				return -1;
		} else if (!cJSON_IsNumber(c) || !is_exact_int(c->valuedouble)) {
			return loader_error(l, "expected an integer or a "
					    "string, got %s", json_type_name(c));
		} else {
			f->i = (int64_t)c->valuedouble;
		}
		path_pop(l, mark);
	}
	return 0;
}

static int
stop_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct scenario_tour_stop *st = ctx;
	int64_t v = 0;
	int h = 0;
	int rc;
	switch (k) {
	case K_STOP_EVENT:
		return get_nonempty_str(l, c, &st->event);
	case K_STOP_WHERE:
		return load_where(l, c, st);
	case K_STOP_NTH:
		rc = get_int(l, c, 1, 1000000000, &v);
		st->nth = (uint32_t)v;
		return rc;
	case K_STOP_CAPTION:
		return load_text(l, c, &st->caption);
	case K_STOP_HIGHLIGHT:
		rc = get_enum(l, c, highlight_names, &h);
		st->highlight = (enum scenario_highlight)h;
		return rc;
	default:
		rc = get_int(l, c, 1, 1000000000, &v);
		st->focus = (int32_t)v;
		return rc;
	}
}

static int
load_stop(struct loader *l, const cJSON *node, void *element, int index)
{
	(void)index;
	struct walk w = {.keys = stop_keys, .required = (1u << K_STOP_EVENT) |
			 (1u << K_STOP_CAPTION)};
	return walk_object(l, node, &w, stop_member, element);
}

/* ---- interventions ---- */

struct iv_parse {
	struct scenario_intervention *iv;
	/* The client's name, resolved when every client is loaded. */
	const char *client;
	/* The cord's name, checked when the server options are loaded. */
	const char *cord;
	/* delay_message's endpoint, checked the same way. */
	const char *to;
	bool has_msg;
	bool has_for;
	bool has_name;
	bool has_value;
};

static int
iv_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct iv_parse *p = ctx;
	int64_t v = 0;
	int what = 0;
	switch (k) {
	case K_IV_AT_US:
		if (get_int(l, c, 0, (double)TIME_MS_MAX * 1000, &v) != 0)
			return -1;
		p->iv->at_ns = (uint64_t)v * 1000;
		return 0;
	case K_IV_CLIENT:
		return get_str(l, c, &p->client);
	case K_IV_DO:
		if (get_enum(l, c, intervention_names, &what) != 0)
			return -1;
		p->iv->action = what == 0 ? SCENARIO_ACTION_PAUSE_READING :
				what == 1 ? SCENARIO_ACTION_RESUME_READING :
				what == 2 ? SCENARIO_ACTION_DISCONNECT :
				what == 3 ? SCENARIO_ACTION_HOLD_CORD :
				what == 4 ? SCENARIO_ACTION_SET_OPTION :
				SCENARIO_ACTION_DELAY_MESSAGE;
		return 0;
	case K_IV_MSG:
		if (get_int(l, c, 1, 4294967295.0, &v) != 0)
			return -1;
		p->iv->msg = (uint32_t)v;
		p->has_msg = true;
		return 0;
	case K_IV_TO:
		return get_str(l, c, &p->to);
	case K_IV_NAME:
		if (get_enum(l, c, option_names, &what) != 0)
			return -1;
		p->iv->option = what == 0 ? SCENARIO_OPTION_NET_MSG_MAX :
				SCENARIO_OPTION_READAHEAD;
		p->has_name = true;
		return 0;
	case K_IV_VALUE:
		/* The bounds of "server": the same option, the same range. */
		if (get_int(l, c, 0, 1 << 30, &v) != 0)
			return -1;
		p->iv->value = (uint64_t)v;
		p->has_value = true;
		return 0;
	case K_IV_CORD:
		return get_str(l, c, &p->cord);
	case K_IV_FOR_US:
		if (get_int(l, c, 1, (double)TIME_MS_MAX * 1000, &v) != 0)
			return -1;
		p->iv->for_ns = (uint64_t)v * 1000;
		p->has_for = true;
		return 0;
	default:
		return get_bool(l, c, &p->iv->is_reset);
	}
}

/* An intervention; its client is checked by load_interventions_resolve. */
static int
load_intervention(struct loader *l, const cJSON *node, void *element,
		  int index)
{
	(void)index;
	struct iv_parse p = {.iv = element};
	struct walk w = {.keys = intervention_keys, .required =
			 (1u << K_IV_AT_US) | (1u << K_IV_DO)};
	if (walk_object(l, node, &w, iv_member, &p) != 0)
		return -1;
	if (p.iv->is_reset && p.iv->action != SCENARIO_ACTION_DISCONNECT)
		return loader_error(l, "\"reset\" goes with \"do\": "
				    "\"disconnect\"");
	bool is_hold = p.iv->action == SCENARIO_ACTION_HOLD_CORD;
	bool is_set = p.iv->action == SCENARIO_ACTION_SET_OPTION;
	bool is_delay = p.iv->action == SCENARIO_ACTION_DELAY_MESSAGE;
	if (!is_set && (p.has_name || p.has_value))
		return loader_error(l, "\"name\" and \"value\" go with "
				    "\"do\": \"set_option\"");
	if (!is_hold && p.cord != NULL)
		return loader_error(l, "\"cord\" goes with \"do\": "
				    "\"hold_cord\"");
	if (!is_hold && !is_delay && p.has_for)
		return loader_error(l, "\"for_us\" goes with \"do\": "
				    "\"hold_cord\" or \"delay_message\"");
	if (!is_delay && (p.has_msg || p.to != NULL))
		return loader_error(l, "\"msg\" and \"to\" go with "
				    "\"do\": \"delay_message\"");
	if (is_delay) {
		if (p.client != NULL)
			return loader_error(l, "\"do\": \"delay_message\" "
					    "delays a cbus message, not a "
					    "client: no \"client\"");
		if (!p.has_msg || p.to == NULL || !p.has_for)
			return loader_error(l, "\"do\": \"delay_message\" "
					    "needs \"msg\", \"to\" and "
					    "\"for_us\"");
	} else if (is_set) {
		if (p.client != NULL)
			return loader_error(l, "\"do\": \"set_option\" "
					    "changes a server option, not a "
					    "client: no \"client\"");
		if (!p.has_name || !p.has_value)
			return loader_error(l, "\"do\": \"set_option\" needs "
					    "\"name\" and \"value\"");
		uint64_t lo = p.iv->option == SCENARIO_OPTION_READAHEAD ?
			      128 : 2;
		uint64_t hi = p.iv->option == SCENARIO_OPTION_READAHEAD ?
			      1u << 30 : 1000000;
		if (p.iv->value < lo || p.iv->value > hi)
			return loader_error(l, "\"value\" of %s: expected "
					    "integer in [%llu, %llu], got %llu",
					    option_names[p.iv->option],
					    (unsigned long long)lo,
					    (unsigned long long)hi,
					    (unsigned long long)p.iv->value);
	} else if (is_hold) {
		if (p.client != NULL)
			return loader_error(l, "\"do\": \"hold_cord\" holds "
					    "a server cord, not a client: "
					    "no \"client\"");
		if (p.cord == NULL || !p.has_for)
			return loader_error(l, "\"do\": \"hold_cord\" needs "
					    "\"cord\" and \"for_us\"");
	} else {
		if (p.client == NULL)
			return loader_error(l, "missing required key "
					    "\"client\"");
	}
	/* The client's index is not known until "clients" has been read
	 * (it may come later in the file): resolve_interventions sets it. */
	p.iv->client = UINT32_MAX;
	return 0;
}

/*
 * A held cord, or a delayed message's endpoint, is one of the server's:
 * "tx" or "net0" .. "net<N-1>". `key` is the intervention's key naming it;
 * the name goes to `out` (16 bytes).
 */
static int
resolve_cord(struct loader *l, const char *name, const char *key,
	     char *out, uint32_t i)
{
	int n = l->s->server.iproto_threads;
	bool ok = strcmp(name, "tx") == 0;
	for (int k = 0; !ok && k < n; k++) {
		char net[16];
		snprintf(net, sizeof(net), "net%d", k);
		ok = strcmp(name, net) == 0;
	}
	if (ok) {
		snprintf(out, 16, "%s", name);
		return 0;
	}
	size_t mark = path_push_key(l, "interventions");
	path_push_index(l, (int)i);
	path_push_key(l, key);
	char q[80];
	quote(q, sizeof(q), name);
	if (n == 1)
		loader_error(l, "the server has no cord %s (its cords: tx, "
			     "net0)", q);
	else
		loader_error(l, "the server has no cord %s (its cords: tx, "
			     "net0 .. net%d)", q, n - 1);
	path_pop(l, mark);
	return -1;
}

/*
 * Each intervention's "client" names a client of the scenario, each
 * "cord" a cord of the server.
 */
static int
resolve_interventions(struct loader *l, const cJSON *root)
{
	struct scenario *s = l->s;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(root,
							     "interventions");
	uint32_t i = 0;
	for (const cJSON *c = list != NULL ? list->child : NULL; c != NULL;
	     c = c->next, i++) {
		struct scenario_intervention *iv = &s->interventions[i];
		if (iv->action == SCENARIO_ACTION_HOLD_CORD) {
			if (resolve_cord(l, cJSON_GetObjectItemCaseSensitive(
				c, "cord")->valuestring, "cord", iv->cord,
				i) != 0)
				return -1;
			continue;
		}
		if (iv->action == SCENARIO_ACTION_DELAY_MESSAGE) {
			if (resolve_cord(l, cJSON_GetObjectItemCaseSensitive(
				c, "to")->valuestring, "to", iv->to, i) != 0)
				return -1;
			continue;
		}
		if (iv->action == SCENARIO_ACTION_SET_OPTION)
			continue;
		const char *name = cJSON_GetObjectItemCaseSensitive(
			c, "client")->valuestring;
		for (uint32_t k = 0; k < s->n_clients; k++)
			if (strcmp(s->clients[k].name, name) == 0)
				iv->client = k;
		if (iv->client == UINT32_MAX) {
			size_t mark = path_push_key(l, "interventions");
			path_push_index(l, (int)i);
			path_push_key(l, "client");
			char q[80];
			quote(q, sizeof(q), name);
			loader_error(l, "no client is named %s", q);
			path_pop(l, mark);
			return -1;
		}
	}
	return 0;
}

static bool
is_scenario_name(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 64)
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return false;
	}
	return true;
}

static int
root_member(struct loader *l, const cJSON *c, int k, void *ctx)
{
	struct scenario *s = ctx;
	const char *str;
	int64_t v;
	int mode;
	int rc = 0;
	switch (k) {
	case K_SCHEMA:
		return get_str(l, c, &str);
	case K_NAME:
		if (get_nonempty_str(l, c, &s->name) != 0)
			return -1;
		if (!is_scenario_name(s->name))
			return loader_error(l, "expected 1 to 64 characters of "
					    "[a-z0-9-]");
		return 0;
	case K_TITLE:
		return load_text(l, c, &s->title);
	case K_SUMMARY:
		return load_text(l, c, &s->summary);
	case K_MODE:
		rc = get_enum(l, c, mode_names, &mode);
		s->mode = mode == 1 ? SCENARIO_MODE_REAL : SCENARIO_MODE_SIM;
		return rc;
	case K_SIM_ONLY_WHY:
		return get_nonempty_str(l, c, &s->sim_only);
	case K_SEED:
		rc = get_int(l, c, 0, EXACT_MAX, &v);
		s->seed = (uint64_t)v;
		return rc;
	case K_SERVER:
		return load_server(l, c, &s->server);
	case K_NETWORK:
		return load_net(l, c, &s->network);
	case K_INTERVENTIONS:
		s->interventions = array_new(l, c, 1024,
					     sizeof(*s->interventions),
					     "interventions",
					     &s->n_interventions);
		if (s->interventions == NULL)
			return -1;
		return array_each(l, c, s->interventions,
				  sizeof(*s->interventions), load_intervention);
	case K_TOUR:
		s->tour = array_new(l, c, 256, sizeof(*s->tour), "stops",
				    &s->n_tour);
		if (s->tour == NULL)
			return -1;
		return array_each(l, c, s->tour, sizeof(*s->tour), load_stop);
	case K_CLIENTS:
		s->clients = array_new(l, c, 1024, sizeof(*s->clients),
				       "clients", &s->n_clients);
		if (s->clients == NULL)
			return -1;
		return array_each(l, c, s->clients, sizeof(*s->clients),
				  load_client);
	default:
		return load_run_expect(l, c);
	}
}

static int
load_root(struct loader *l, const cJSON *root)
{
	struct scenario *s = l->s;
	if (!cJSON_IsObject(root))
		return loader_error(l, "expected an object at the top level, "
				    "got %s", json_type_name(root));
	struct walk w = {.keys = root_keys, .required = (1u << K_NAME) |
			 (1u << K_TITLE) | (1u << K_CLIENTS)};
	if (walk_object(l, root, &w, root_member, s) != 0 ||
	    resolve_interventions(l, root) != 0)
		return -1;
	if (s->summary.ru == NULL) {
		if (dup_str(l, "", &s->summary.ru) != 0 ||
		    dup_str(l, "", &s->summary.en) != 0)
			return -1;
	}
	/* Client networks: the scenario's under the client's own fields. */
	for (uint32_t i = 0; i < s->n_clients; i++) {
		struct rt_net_opts *n = &s->clients[i].net;
		if (n->latency_ns == NET_UNSET64)
			n->latency_ns = s->network.latency_ns;
		if (n->bandwidth == NET_UNSET64)
			n->bandwidth = s->network.bandwidth;
		if (n->sndbuf == NET_UNSET32)
			n->sndbuf = s->network.sndbuf;
		if (n->rcvbuf == NET_UNSET32)
			n->rcvbuf = s->network.rcvbuf;
		if (n->segment == NET_UNSET32)
			n->segment = s->network.segment;
	}
	return 0;
}

/* ------------------------------------------------------------ the text */

static void
line_column(const char *data, size_t offset, int *line, int *column)
{
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < offset; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == '\n') {
			++*line;
			*column = 1;
		} else if ((c & 0xc0) != 0x80) {
			/* Count characters, not UTF-8 continuation bytes. */
			++*column;
		}
	}
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t
utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * The checks cJSON does not make, over the whole text: control characters
 * (outside strings cJSON takes them for spaces, inside it keeps them raw),
 * invalid UTF-8 in strings and \u0000 (cJSON would cut the string there).
 * Returns the offset of the first problem and its description, or `size`.
 */
static size_t
text_check(const char *data, size_t size, char *what, size_t what_size)
{
	bool in_string = false;
	for (size_t i = 0; i < size; i++) {
		unsigned char c = (unsigned char)data[i];
		if (!in_string) {
			if (c == '"') {
				in_string = true;
			} else if (c < 0x20 && c != '\t' && c != '\n' &&
				   c != '\r') {
				snprintf(what, what_size, "control character "
					 "U+%04X is not allowed in JSON", c);
				return i;
			}
			continue;
		}
		if (c == '"') {
			in_string = false;
		} else if (c == '\\') {
			if (i + 5 < size && memcmp(data + i + 1, "u0000", 5) == 0) {
				snprintf(what, what_size, "\\u0000 is not "
					 "allowed in strings");
				return i;
			}
			i++;
		} else if (c < 0x20) {
			snprintf(what, what_size, "control character U+%04X "
				 "in a string must be escaped", c);
			return i;
		} else if (c >= 0x80) {
			size_t len = utf8_len((const unsigned char *)data + i,
					      size - i);
			if (len == 0) {
				snprintf(what, what_size, "invalid UTF-8 in a "
					 "string");
				return i;
			}
			i += len - 1;
		}
	}
	return size;
}

static bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
scenario_load_buf(const char *origin, const char *data, size_t size,
		  struct scenario *scenario)
{
	struct loader l;
	memset(&l, 0, sizeof(l));
	l.origin = origin;
	l.s = scenario;
	memset(scenario, 0, sizeof(*scenario));

	if (size > SCENARIO_FILE_MAX)
		return loader_error(&l, "file is larger than %d bytes",
				    SCENARIO_FILE_MAX);
	size_t first = 0;
	while (first < size && is_json_space(data[first]))
		first++;
	if (first == size)
		return loader_error(&l, "empty file: expected a JSON object");

	call_once(&cjson_hooks_once, cjson_hooks_install);
	char what[96];
	size_t bad = text_check(data, size, what, sizeof(what));
	const char *end = NULL;
	cjson_oom = false;
	cJSON *root = cJSON_ParseWithLengthOpts(data, size, &end, false);
	if (root == NULL && cjson_oom) {
		diag_set(DIAG_ER_MEMORY_ISSUE, "OutOfMemory",
			 "%s: out of memory while parsing JSON", origin);
		return -1;
	}
	size_t stop = size;
	if (root == NULL) {
		stop = end != NULL ? (size_t)(end - data) : 0;
		if (stop > size)
			stop = size;
		if (bad >= stop) {
			bad = stop;
			snprintf(what, sizeof(what), "JSON syntax error");
		}
	} else {
		size_t tail = (size_t)(end - data);
		while (tail < size && is_json_space(data[tail]))
			tail++;
		if (tail < bad && tail < size) {
			bad = tail;
			snprintf(what, sizeof(what), "unexpected text after "
				 "the JSON value");
		}
	}
	if (bad < size) {
		int line, column;
		line_column(data, bad, &line, &column);
		cJSON_Delete(root);
		return loader_error(&l, "line %d, column %d: %s", line, column,
				    what);
	}

	iproto_opts_default(&scenario->server);
	scenario->seed = 1;
	scenario->check_invariants = true;
	scenario->network.latency_ns = 50000;
	scenario->network.bandwidth = 0;
	scenario->network.sndbuf = 65536;
	scenario->network.rcvbuf = 65536;
	scenario->network.segment = 65536;
	int rc = load_root(&l, root);
	cJSON_Delete(root);
	if (rc != 0)
		scenario_destroy(scenario);
	return rc;
}

int
scenario_load(const char *path, struct scenario *scenario)
{
	struct loader l;
	memset(&l, 0, sizeof(l));
	l.origin = path;
	memset(scenario, 0, sizeof(*scenario));
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return loader_error(&l, "cannot open: %s", strerror(errno));
	/* Read at most one byte more than the cap: enough to refuse. */
	size_t cap = SCENARIO_FILE_MAX + 1;
	char *buf = mem_alloc(cap);
	if (buf == NULL) {
		fclose(f);
		return loader_oom(&l, cap, "the scenario file");
	}
	size_t size = fread(buf, 1, cap, f);
	int read_error = ferror(f) ? errno : 0;
	fclose(f);
	int rc;
	if (read_error != 0)
		rc = loader_error(&l, "cannot read: %s", strerror(read_error));
	else
		rc = scenario_load_buf(path, buf, size, scenario);
	mem_free(buf);
	return rc;
}

static void
request_destroy(struct scenario_request *r)
{
	mem_free(r->function);
	mem_free(r->args);
	mem_free(r->raw);
	reply_expect_destroy(&r->expect);
}

void
scenario_destroy(struct scenario *s)
{
	for (uint32_t i = 0; i < s->n_clients; i++) {
		struct scenario_client *cl = &s->clients[i];
		for (uint32_t j = 0; j < cl->n_steps; j++) {
			struct scenario_step *st = &cl->steps[j];
			for (uint32_t k = 0; k < st->n_requests; k++)
				request_destroy(&st->requests[k]);
			mem_free(st->requests);
		}
		mem_free(cl->steps);
		mem_free(cl->name);
	}
	mem_free(s->clients);
	for (uint32_t i = 0; i < s->n_events; i++)
		mem_free(s->events[i].name);
	mem_free(s->events);
	mem_free(s->name);
	mem_free(s->title.ru);
	mem_free(s->title.en);
	mem_free(s->summary.ru);
	mem_free(s->summary.en);
	mem_free(s->sim_only);
	for (uint32_t i = 0; i < s->n_tour; i++) {
		struct scenario_tour_stop *st = &s->tour[i];
		for (uint32_t j = 0; j < st->n_where; j++) {
			mem_free(st->where[j].key);
			mem_free(st->where[j].s);
		}
		mem_free(st->where);
		mem_free(st->event);
		mem_free(st->caption.ru);
		mem_free(st->caption.en);
	}
	mem_free(s->tour);
	mem_free(s->interventions);
	memset(s, 0, sizeof(*s));
}
