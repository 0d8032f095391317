/*
 * test_scenario_load.c — the scenario loader: every bad file in
 * tests/bad/scenarios/ gives exactly its .expected line; the example
 * scenario loads with every field right; defaults; allocation failures at
 * every point end in an error and leak nothing; the loader's key tables and
 * scenarios/scenario.schema.json name the same keys at every level; every
 * shipped scenario loads. Run from the repository root (tests/run.sh does).
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"
#include "proto/mp.h"
#include "scenario/scenario.h"

#define BAD_DIR "tests/bad/scenarios"
#define EXAMPLE "scenarios/00-example.json"
#define SCHEMA "scenarios/scenario.schema.json"

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Sorted names of DIR's files ending in .json, into `names`. */
static int
list_json(const char *dir, char names[][256], int max)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s (run from the repo root)", dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		cr_assert_lt(n, max);
		snprintf(names[n++], 256, "%.250s", e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, 256, cmp_name);
	return n;
}

static char *
read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

Test(scenario_load, bad_files_give_their_exact_message)
{
	static char names[200][256];
	int n = list_json(BAD_DIR, names, 200);
	cr_assert_geq(n, 25, "only %d bad scenarios", n);
	int64_t live = mem_live();
	for (int i = 0; i < n; i++) {
		char path[512], exp_path[512];
		snprintf(path, sizeof(path), BAD_DIR "/%.200s", names[i]);
		snprintf(exp_path, sizeof(exp_path), BAD_DIR "/%.*s.expected",
			 (int)strlen(names[i]) - 5, names[i]);
		char *expected = read_text(exp_path);
		char *nl = strchr(expected, '\n');
		cr_assert_not_null(nl, "%s: no line", exp_path);
		*nl = '\0';
		cr_assert_eq(nl[1], '\0', "%s: more than one line", exp_path);
		char want[1024];
		snprintf(want, sizeof(want), BAD_DIR "/%s", expected);
		struct scenario s;
		diag_clear();
		cr_assert_eq(scenario_load(path, &s), -1, "%s loaded", path);
		cr_expect_str_eq(diag_msg(), want, "%s", names[i]);
		cr_assert_eq(mem_live(), live, "%s leaked", names[i]);
	}
}

/* The MsgPack bytes `mp` equal the value printed as `text`. */
static void
assert_mp(const char *mp, size_t size, const char *text)
{
	cr_assert_not_null(mp);
	const char *p = mp;
	cr_assert_eq(mp_check(&p, mp + size), 0);
	cr_assert_eq(p, mp + size, "one value exactly");
	char buf[512];
	mp_format(buf, sizeof(buf), mp, mp + size);
	cr_assert_str_eq(buf, text);
}

Test(scenario_load, example_every_field)
{
	struct scenario s;
	cr_assert_eq(scenario_load(EXAMPLE, &s), 0, "%s", diag_msg());
	cr_assert_str_eq(s.name, "00-example");
	cr_assert_str_eq(s.title.en, "Example: every field of a scenario");
	cr_assert_str_eq(s.title.ru, "Пример: каждое поле сценария");
	cr_assert(strncmp(s.summary.en, "Documents the format", 20) == 0);
	cr_assert(strncmp(s.summary.ru, "Документирует", 13) == 0);
	cr_assert_eq(s.mode, SCENARIO_MODE_SIM);
	cr_assert_eq(s.seed, 42);
	cr_assert_eq(s.server.iproto_threads, 2);
	cr_assert_eq(s.server.readahead, 16320);
	cr_assert_eq(s.server.obuf_chunk, 4096);
	cr_assert_eq(s.server.push_mode, PUSH_MODE_KHARON);
	cr_assert_eq(s.server.net_msg_max, 768);
	cr_assert_eq(s.server.obuf_limit, 1048576);
	cr_assert_eq(s.server.max_packet, 16777216);
	cr_assert_eq(s.network.latency_ns, 100000);
	cr_assert_eq(s.network.bandwidth, 125000000);
	cr_assert_eq(s.network.sndbuf, 65536);
	cr_assert_eq(s.network.rcvbuf, 65536);
	cr_assert_eq(s.network.segment, 1460);
	cr_assert_eq(s.n_clients, 2);
	cr_assert_eq(s.n_steps, 12);

	struct scenario_client *a = &s.clients[0];
	cr_assert_str_eq(a->name, "alice");
	cr_assert_eq(a->connect_at_ns, 0);
	cr_assert_not(a->has_own_net);
	cr_assert_eq(a->net.latency_ns, 100000);
	cr_assert_eq(a->net.segment, 1460);
	cr_assert_eq(a->n_steps, 10);
	struct scenario_step *st = a->steps;
	cr_assert_eq(st[0].action, SCENARIO_ACTION_PING);
	cr_assert_eq(st[0].when, SCENARIO_WHEN_AFTER_REPLY);
	cr_assert_eq(st[0].n_requests, 1);
	cr_assert_eq(st[0].requests[0].type, SCENARIO_REQUEST_PING);
	cr_assert(st[0].requests[0].expect.has_pushes);
	cr_assert_eq(st[0].requests[0].expect.n_pushes, 0);
	cr_assert_not(st[0].has_closed);

	struct scenario_request *r = &st[1].requests[0];
	cr_assert_eq(st[1].action, SCENARIO_ACTION_CALL);
	cr_assert_eq(r->type, SCENARIO_REQUEST_CALL);
	cr_assert_str_eq(r->function, "echo");
	cr_assert_eq(r->function_len, 4);
	cr_assert_eq(r->n_args, 8);
	assert_mp(r->args, r->args_size,
		  "[1, -2, 2.5, \"three\", true, null, [4, 5], {\"six\": 6}]");
	/* Integers as compact ints, the fraction as a double (cb). */
	cr_assert_eq((unsigned char)r->args[0], 0x98);
	cr_assert_eq((unsigned char)r->args[1], 0x01);
	cr_assert_eq((unsigned char)r->args[2], 0xfe);
	cr_assert_eq((unsigned char)r->args[3], 0xcb);
	cr_assert(r->expect.has_result);
	assert_mp(r->expect.result, r->expect.result_size,
		  "[[1, -2, 2.5, \"three\", true, null, [4, 5], {\"six\": 6}]]");
	cr_assert_eq(r->expect.error_match, SCENARIO_ERROR_NONE);
	cr_assert_null(r->expect.error);

	r = &st[2].requests[0];
	cr_assert_str_eq(r->function, "push");
	cr_assert(r->expect.has_pushes);
	cr_assert_eq(r->expect.n_pushes, 3);
	assert_mp(r->expect.push_values, r->expect.push_values_size,
		  "[[1, \"hi\"], [2, \"hi\"], [3, \"hi\"]]");
	assert_mp(r->expect.result, r->expect.result_size, "[[3]]");

	r = &st[3].requests[0];
	cr_assert_eq(r->expect.error_match, SCENARIO_ERROR_EXACT);
	cr_assert_str_eq(r->expect.error, "boom");
	cr_assert_not(r->expect.has_result);
	cr_assert_not(r->expect.has_pushes);

	cr_assert_eq(st[4].action, SCENARIO_ACTION_PIPELINE);
	cr_assert_eq(st[4].n_requests, 4);
	cr_assert_eq(st[4].requests[0].type, SCENARIO_REQUEST_CALL);
	cr_assert_not(st[4].requests[0].is_call_16, "CALL by default");
	assert_mp(st[4].requests[0].expect.result,
		  st[4].requests[0].expect.result_size, "[[\"a\"]]");
	cr_assert_eq(st[4].requests[1].type, SCENARIO_REQUEST_PING);
	cr_assert_not(st[4].requests[1].expect.has_result);
	r = &st[4].requests[2];
	cr_assert_eq(r->type, SCENARIO_REQUEST_RAW);
	cr_assert_eq(r->raw_size, 7);
	cr_assert_eq(memcmp(r->raw, "\x06\x82\x00\xcc\x7f\x01\x64", 7), 0);
	cr_assert_eq(r->expect.error_match, SCENARIO_ERROR_CONTAINS);
	cr_assert_str_eq(r->expect.error, "Unknown request type");
	r = &st[4].requests[3];
	cr_assert_eq(r->type, SCENARIO_REQUEST_CALL);
	cr_assert(r->is_call_16);
	assert_mp(r->args, r->args_size, "[[1], 2]");
	assert_mp(r->expect.result, r->expect.result_size, "[[1], [2]]");

	cr_assert_eq(st[5].action, SCENARIO_ACTION_RAW);
	cr_assert_eq(st[5].when, SCENARIO_WHEN_AFTER_SENT);
	cr_assert_eq(st[5].requests[0].raw_size, 7);
	cr_assert_eq(memcmp(st[5].requests[0].raw, "\x06\x82\x00\x40\x01\xcc\x65",
			    7), 0);
	cr_assert_eq(st[6].action, SCENARIO_ACTION_PAUSE_READING);
	cr_assert_eq(st[6].when, SCENARIO_WHEN_AT);
	cr_assert_eq(st[6].at_ns, 5000000);
	cr_assert_eq(st[6].n_requests, 0);
	cr_assert_null(st[6].requests);
	cr_assert_eq(st[7].when, SCENARIO_WHEN_AFTER_SENT);
	assert_mp(st[7].requests[0].args, st[7].requests[0].args_size,
		  "[10, 1, \"tick\"]");
	cr_assert_eq(st[7].requests[0].expect.n_pushes, 10);
	cr_assert_null(st[7].requests[0].expect.push_values);
	cr_assert_eq(st[8].action, SCENARIO_ACTION_RESUME_READING);
	cr_assert_eq(st[8].at_ns, 20000000);
	cr_assert_eq(st[9].action, SCENARIO_ACTION_DISCONNECT);
	cr_assert_not(st[9].is_reset);
	cr_assert(st[9].has_closed);
	cr_assert_not(st[9].closed);

	struct scenario_client *b = &s.clients[1];
	cr_assert_str_eq(b->name, "client1");
	cr_assert_eq(b->connect_at_ns, 2000000);
	cr_assert(b->has_own_net);
	cr_assert_eq(b->net.latency_ns, 2000000);
	cr_assert_eq(b->net.bandwidth, 1000000);
	cr_assert_eq(b->net.sndbuf, 65536, "inherited");
	cr_assert_eq(b->net.segment, 1460, "inherited");
	cr_assert_eq(b->n_steps, 2);
	assert_mp(b->steps[0].requests[0].expect.result,
		  b->steps[0].requests[0].expect.result_size, "[[true]]");
	cr_assert(b->steps[1].is_reset);

	cr_assert_eq(s.n_events, 2);
	cr_assert_str_eq(s.events[0].name, "kharon.depart");
	cr_assert_eq(s.events[0].min, 1);
	cr_assert_eq(s.events[0].max, UINT32_MAX);
	cr_assert_str_eq(s.events[1].name, "conn.accept");
	cr_assert_eq(s.events[1].min, 2);
	cr_assert_eq(s.events[1].max, 2);
	cr_assert(s.check_invariants);
	scenario_destroy(&s);
	cr_assert_null(s.clients);
}

static int
load_str(const char *text, struct scenario *s)
{
	return scenario_load_buf("t.json", text, strlen(text), s);
}

Test(scenario_load, defaults)
{
	struct scenario s;
	const char *text = "{\"name\": \"m\", \"title\": {\"ru\": \"р\", "
			   "\"en\": \"e\"}, \"clients\": [{\"steps\": [{\"call\":"
			   " {\"function\": \"f\"}}, {\"disconnect\": {}}]}]}";
	cr_assert_eq(load_str(text, &s), 0, "%s", diag_msg());
	struct iproto_opts def;
	iproto_opts_default(&def);
	cr_assert_eq(memcmp(&s.server, &def, sizeof(def)), 0);
	cr_assert_eq(s.mode, SCENARIO_MODE_SIM);
	cr_assert_eq(s.seed, 1);
	cr_assert(s.check_invariants);
	cr_assert_str_eq(s.summary.ru, "");
	cr_assert_str_eq(s.summary.en, "");
	cr_assert_eq(s.network.latency_ns, 50000);
	cr_assert_eq(s.network.bandwidth, 0);
	cr_assert_eq(s.network.sndbuf, 65536);
	cr_assert_eq(s.network.rcvbuf, 65536);
	cr_assert_eq(s.network.segment, 65536);
	cr_assert_eq(s.n_events, 0);
	struct scenario_client *c = &s.clients[0];
	cr_assert_str_eq(c->name, "client0");
	cr_assert_eq(memcmp(&c->net, &s.network, sizeof(c->net)), 0);
	cr_assert_eq(c->steps[0].when, SCENARIO_WHEN_AFTER_REPLY);
	cr_assert_eq(c->steps[0].requests[0].n_args, 0);
	assert_mp(c->steps[0].requests[0].args,
		  c->steps[0].requests[0].args_size, "[]");
	cr_assert_eq(c->steps[1].action, SCENARIO_ACTION_DISCONNECT);
	cr_assert_not(c->steps[1].is_reset);
	scenario_destroy(&s);
}

Test(scenario_load, first_error_in_document_order)
{
	struct scenario s;
	/* The bad seed comes before the unknown key and the missing title. */
	cr_assert_eq(load_str("{\"name\": \"m\", \"seed\": -1, \"zz\": 1}", &s),
		     -1);
	cr_assert_str_eq(diag_msg(), "t.json: seed: expected integer in "
			 "[0, 9007199254740991], got -1");
	cr_assert_eq(load_str("{\"zz\": 1, \"seed\": -1}", &s), -1);
	cr_assert_str_eq(diag_msg(), "t.json: unknown key \"zz\"");
	/* A text error before a syntax error, and the other way round. */
	cr_assert_eq(load_str("{\"a\": \"\xff\", ]", &s), -1);
	cr_assert_str_eq(diag_msg(), "t.json: line 1, column 8: invalid UTF-8 "
			 "in a string");
	cr_assert_eq(load_str("{\"a\": ]\n\"\xff\"}", &s), -1);
	cr_assert_str_eq(diag_msg(), "t.json: line 1, column 7: JSON syntax "
			 "error");
}

Test(scenario_load, duplicate_keys_in_a_big_map)
{
	/* More than 32 keys takes the sorting path; the repeated key whose
	 * second occurrence comes first is reported. */
	char text[4096];
	int n = snprintf(text, sizeof(text), "{\"name\": \"m\", \"title\": "
			 "{\"ru\": \"р\", \"en\": \"e\"}, \"clients\": [{\"steps\":"
			 " [{\"call\": {\"function\": \"f\", \"args\": [{");
	for (int i = 0; i < 40; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "\"k%d\": %d, ",
			      i, i);
	n += snprintf(text + n, sizeof(text) - (size_t)n,
		      "\"k30\": 0, \"k3\": 0}]}}]}]}");
	struct scenario s;
	int64_t live = mem_live();
	cr_assert_eq(load_str(text, &s), -1);
	cr_assert_str_eq(diag_msg(), "t.json: clients[0].steps[0].call.args[0]:"
			 " duplicate key \"k30\"");
	cr_assert_eq(mem_live(), live);
}

static void
alloc_failure_loop(int sticky)
{
	int64_t live = mem_live();
	struct scenario s;
	int n_failed = 0;
	for (int64_t n = 1;; n++) {
		cr_assert_lt(n, 100000, "the loader never succeeded");
		diag_clear();
		mem_fail_after(n, sticky);
		int rc = scenario_load(EXAMPLE, &s);
		int64_t failed = mem_fail_count();
		mem_fail_reset();
		if (rc == 0) {
			/* A swallowed failure would succeed here. */
			cr_assert_eq(failed, 0, "n = %lld: an allocation "
				     "failed, yet the load succeeded",
				     (long long)n);
			cr_assert_eq(s.n_steps, 12);
			scenario_destroy(&s);
			break;
		}
		cr_assert_gt(failed, 0, "n = %lld: error without a failed "
			     "allocation: %s", (long long)n, diag_msg());
		cr_assert_neq(diag_msg()[0], '\0');
		cr_assert_eq(diag_last()->code, DIAG_ER_MEMORY_ISSUE,
			     "n = %lld: %s", (long long)n, diag_msg());
		cr_assert_eq(mem_live(), live, "n = %lld leaked",
			     (long long)n);
		n_failed++;
	}
	cr_assert_gt(n_failed, 50, "only %d allocations", n_failed);
	cr_assert_eq(mem_live(), live);
}

Test(scenario_load, allocation_failure_at_every_point)
{
	alloc_failure_loop(0);
}

Test(scenario_load, allocation_failure_sticky)
{
	alloc_failure_loop(1);
}

/* ---- schema and loader agree ---- */

struct schema_obj {
	char path[160];
	char keys[32][40];
	int n_keys;
};

struct schema_walk {
	const cJSON *root;
	struct schema_obj objs[64];
	int n_objs;
};

static const cJSON *
schema_resolve(struct schema_walk *w, const cJSON *node)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(node, "$ref");
	if (!cJSON_IsString(ref))
		return node;
	const char *prefix = "#/$defs/";
	cr_assert(strncmp(ref->valuestring, prefix, strlen(prefix)) == 0,
		  "unsupported $ref %s", ref->valuestring);
	const cJSON *defs = cJSON_GetObjectItemCaseSensitive(w->root, "$defs");
	const cJSON *def = cJSON_GetObjectItemCaseSensitive(
		defs, ref->valuestring + strlen(prefix));
	cr_assert_not_null(def, "dangling $ref %s", ref->valuestring);
	return def;
}

static void
schema_walk_node(struct schema_walk *w, const cJSON *node, const char *path,
		 int depth)
{
	cr_assert_lt(depth, 20);
	node = schema_resolve(w, node);
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(node,
							      "properties");
	if (props != NULL) {
		const cJSON *ap = cJSON_GetObjectItemCaseSensitive(
			node, "additionalProperties");
		cr_assert(cJSON_IsFalse(ap), "%s: additionalProperties is not"
			  " false", path);
		cr_assert_lt(w->n_objs, 64);
		struct schema_obj *o = &w->objs[w->n_objs++];
		snprintf(o->path, sizeof(o->path), "%s", path);
		const cJSON *p;
		cJSON_ArrayForEach(p, props) {
			cr_assert_lt(o->n_keys, 32);
			snprintf(o->keys[o->n_keys++], 40, "%s", p->string);
			const cJSON *rp = schema_resolve(w, p);
			const cJSON *desc = cJSON_GetObjectItemCaseSensitive(
				p, "description");
			if (desc == NULL)
				desc = cJSON_GetObjectItemCaseSensitive(
					rp, "description");
			cr_assert(cJSON_IsString(desc), "%s.%s: no description",
				  path, p->string);
			char sub[160];
			snprintf(sub, sizeof(sub), "%s%s%s", path,
				 path[0] != '\0' ? "." : "", p->string);
			schema_walk_node(w, p, sub, depth + 1);
		}
	}
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(node, "items");
	if (cJSON_IsObject(items)) {
		char sub[160];
		snprintf(sub, sizeof(sub), "%s[]", path);
		schema_walk_node(w, items, sub, depth + 1);
	}
	const cJSON *ap = cJSON_GetObjectItemCaseSensitive(
		node, "additionalProperties");
	if (cJSON_IsObject(ap)) {
		char sub[160];
		snprintf(sub, sizeof(sub), "%s.*", path);
		schema_walk_node(w, ap, sub, depth + 1);
	}
	const cJSON *one = cJSON_GetObjectItemCaseSensitive(node, "oneOf");
	const cJSON *alt;
	cJSON_ArrayForEach(alt, one)
		schema_walk_node(w, alt, path, depth + 1);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

Test(scenario_load, schema_and_loader_agree)
{
	/* Load once so that cJSON's allocator is mem.h's before we use it. */
	struct scenario s;
	cr_assert_eq(scenario_load(EXAMPLE, &s), 0, "%s", diag_msg());
	scenario_destroy(&s);

	char *text = read_text(SCHEMA);
	cJSON *root = cJSON_Parse(text);
	cr_assert_not_null(root, "schema is not JSON");
	static struct schema_walk w;
	w.root = root;
	schema_walk_node(&w, root, "", 0);

	const struct scenario_keys *tables = scenario_key_tables();
	int n_tables = 0;
	for (const struct scenario_keys *t = tables; t->path != NULL; t++) {
		n_tables++;
		struct schema_obj *o = NULL;
		for (int i = 0; i < w.n_objs; i++) {
			if (strcmp(w.objs[i].path, t->path) == 0)
				o = &w.objs[i];
		}
		cr_assert_not_null(o, "schema has no object at \"%s\"",
				   t->path);
		const char *a[32], *b[32];
		int na = 0, nb = 0;
		for (const char *const *k = t->keys; *k != NULL; k++)
			a[na++] = *k;
		for (int i = 0; i < o->n_keys; i++)
			b[nb++] = o->keys[i];
		qsort(a, (size_t)na, sizeof(a[0]), cmp_str);
		qsort(b, (size_t)nb, sizeof(b[0]), cmp_str);
		cr_assert_eq(na, nb, "\"%s\": loader has %d keys, schema %d",
			     t->path, na, nb);
		for (int i = 0; i < na; i++)
			cr_assert_str_eq(a[i], b[i], "\"%s\"", t->path);
	}
	/* And the schema has no object the loader does not know. */
	for (int i = 0; i < w.n_objs; i++) {
		bool found = false;
		for (const struct scenario_keys *t = tables; t->path != NULL;
		     t++)
			found |= strcmp(t->path, w.objs[i].path) == 0;
		cr_assert(found, "schema object \"%s\" unknown to the loader",
			  w.objs[i].path);
	}
	cr_assert_eq(w.n_objs, n_tables);
	cJSON_Delete(root);
}

Test(scenario_load, shipped_scenarios_load)
{
	static char names[200][256];
	int n = list_json("scenarios", names, 200);
	int loaded = 0;
	bool has_example = false;
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i], "scenario.schema.json") == 0)
			continue;
		char path[512];
		snprintf(path, sizeof(path), "scenarios/%.200s", names[i]);
		struct scenario s;
		int64_t live = mem_live();
		cr_assert_eq(scenario_load(path, &s), 0, "%s", diag_msg());
		/* A shipped scenario is named after its file. */
		cr_assert_eq(strncmp(s.name, names[i], strlen(s.name)), 0,
			     "%s: name \"%s\"", path, s.name);
		cr_assert_str_eq(names[i] + strlen(s.name), ".json");
		cr_assert_gt(s.n_steps, 0);
		scenario_destroy(&s);
		cr_assert_eq(mem_live(), live);
		loaded++;
		has_example |= strcmp(names[i], "00-example.json") == 0;
	}
	cr_assert(has_example);
	cr_assert_geq(loaded, 1);
}

Test(scenario_load, every_prefix_of_the_example_fails_cleanly)
{
	/* Truncated files: each is an error (never a crash, never a read past
	 * the end: ASan watches), and leaks nothing. */
	static char text[1 << 16];
	snprintf(text, sizeof(text), "%s", read_text(EXAMPLE));
	size_t len = strlen(text);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
		len--;
	int64_t live = mem_live();
	for (size_t n = 0; n < len; n++) {
		struct scenario s;
		char *copy = malloc(n > 0 ? n : 1);
		memcpy(copy, text, n);
		cr_assert_eq(scenario_load_buf("p.json", copy, n, &s), -1,
			     "prefix %zu loaded", n);
		free(copy);
		cr_assert_eq(mem_live(), live);
	}
	struct scenario s;
	cr_assert_eq(scenario_load_buf("p.json", text, len, &s), 0, "%s",
		     diag_msg());
	scenario_destroy(&s);
}
