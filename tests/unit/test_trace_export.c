/*
 * test_trace_export.c — a simulated server run traced to a file through the
 * per-cord sink, then read back: the chrome export is valid Trace Event
 * JSON with thread names and closed flows, the jsonl export is the same
 * bytes for the same seed, every event and field the run emitted is in
 * docs/trace.md, and --follow reads a file another process is writing.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/mem.h"
#include "iproto/iproto.h"
#include "proto/mp.h"
#include "rt/rt.h"
#include "sim_client.h"
#include "trace/trace_export.h"
#include "trace/trace_file.h"

static void
tmp_remove(const char *path);

static char *
tmp_path(const char *tag)
{
	static char path[128];
	snprintf(path, sizeof(path), "/tmp/kharon-test-%s-%d.trace", tag,
		 (int)getpid());
	unlink(path);
	char lock[160];
	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(lock);
	return path;
}

static void
tmp_remove(const char *path)
{
	char lock[160];
	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(path);
	unlink(lock);
}

/*
 * The server on the simulator, three clients: one calls push, echo, ping,
 * fail and an unknown procedure; one hangs up in the middle of push_every;
 * one sends garbage. Traced into `path` with the per-cord sink.
 */
static void
traced_run(const char *path, uint64_t seed)
{
	tmp_remove(path);
	int64_t live = mem_live();
	struct rt_sim_opts sim = { .seed = seed };
	struct rt *rt = rt_sim_new(&sim);
	cr_assert_not_null(rt);
	static const char *const cords[] = {"tx", "net0", "net1", "client0",
					    "client1", "client2"};
	const struct trace_meta meta = {
		.scenario = "test_trace_export", .seed = seed, .mode = "sim",
		.cords = cords, .n_cords = 6, .created_by = "unit test",
	};
	struct trace_writer *w = trace_writer_new(path, &meta);
	cr_assert_not_null(w, "%s", diag_msg());
	trace_writer_install(w);

	struct iproto_opts opts;
	iproto_opts_default(&opts);
	opts.iproto_threads = 2;
	strcpy(opts.listen, "127.0.0.1:0");
	struct iproto_server *server = iproto_server_new(rt, &opts);
	cr_assert_not_null(server);
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", iproto_server_port(server));
	cr_assert_eq(iproto_server_start(server), 0);

	struct sim_client c[3];
	sim_client_create(&c[0], rt, "client0", addr);
	sim_client_create(&c[1], rt, "client1", addr);
	sim_client_create(&c[2], rt, "client2", addr);
	char args[64];
	char *p = mp_encode_array(args, 2);
	p = mp_encode_uint(p, 50);
	p = mp_encode_str(p, "x", 1);
	sim_client_call(&c[0], 1, "push", args, p);
	p = mp_encode_array(args, 1);
	p = mp_encode_str(p, "hello", 5);
	sim_client_call(&c[0], 2, "echo", args, p);
	sim_client_ping(&c[0], 3);
	p = mp_encode_array(args, 0);
	sim_client_call(&c[0], 4, "fail", args, p);
	sim_client_call(&c[0], 5, "nope", args, p);
	p = mp_encode_array(args, 3);
	p = mp_encode_uint(p, 20);
	p = mp_encode_uint(p, 1);
	p = mp_encode_str(p, "y", 1);
	sim_client_call(&c[1], 1, "push_every", args, p);
	c[1].close_after_ns = 5 * 1000 * 1000;
	static const char garbage[] = "\xc1\xc1\xc1\xc1 not msgpack";
	sim_client_send(&c[2], garbage, sizeof(garbage) - 1);
	for (int i = 0; i < 3; i++)
		sim_client_start(&c[i]);
	rt_run(rt);
	for (int i = 0; i < 3; i++)
		sim_client_close(&c[i]);
	iproto_server_shutdown(server, 1000000000);
	rt_run(rt);
	iproto_server_delete(server);
	for (int i = 0; i < 3; i++)
		sim_client_destroy(&c[i]);
	rt_delete(rt);
	trace_set_sink(NULL, NULL);
	cr_assert_eq(trace_writer_close(w, true), 0, "%s", diag_msg());
	cr_assert_eq(mem_live(), live, "leaked %lld blocks",
		     (long long)(mem_live() - live));
}

/* Export `path` as `format` into a malloc'ed string. */
static char *
export_to_string(const char *path, enum trace_format format,
		 struct trace_export_stats *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	cr_assert_not_null(out);
	int rc = trace_export_file(path, out, format, false, st);
	fclose(out);
	cr_assert_eq(rc, 0, "%s", diag_msg());
	cr_assert(st->has_end);
	return buf;
}

Test(trace_export, jsonl_same_seed_same_bytes)
{
	char path[128];
	snprintf(path, sizeof(path), "%s", tmp_path("jsonl"));
	struct trace_export_stats st1, st2;
	traced_run(path, 42);
	char *a = export_to_string(path, TRACE_FORMAT_JSONL, &st1);
	traced_run(path, 42);
	char *b = export_to_string(path, TRACE_FORMAT_JSONL, &st2);
	cr_assert_gt(st1.n_events, 300, "only %llu events",
		     (unsigned long long)st1.n_events);
	cr_assert_eq(st1.n_events, st2.n_events);
	cr_assert_str_eq(a, b);
	/* Canonical order, and seq order in the file on the simulator. */
	cr_assert(strncmp(a, "{\"seq\":1,\"t\":", 13) == 0, "%.60s", a);
	uint64_t prev = 0;
	int lines = 0;
	for (char *line = a; *line != '\0'; line = strchr(line, '\n') + 1) {
		unsigned long long seq;
		cr_assert_eq(sscanf(line, "{\"seq\":%llu,\"t\":", &seq), 1);
		cr_assert_eq(seq, prev + 1, "seq %llu after %llu", seq,
			     (unsigned long long)prev);
		cr_assert_not_null(strstr(line, ",\"cord\":\""));
		cr_assert(strstr(line, ",\"cord\":\"") < strstr(line, ",\"ev\":\""));
		prev = seq;
		lines++;
	}
	cr_assert_eq((uint64_t)lines, st1.n_events);
	free(a);
	free(b);
	tmp_remove(path);
}

static bool
has_thread_name(cJSON *events, const char *name)
{
	cJSON *e;
	cJSON_ArrayForEach(e, events) {
		cJSON *ph = cJSON_GetObjectItemCaseSensitive(e, "ph");
		cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "name");
		cJSON *args = cJSON_GetObjectItemCaseSensitive(e, "args");
		if (!cJSON_IsString(ph) || strcmp(ph->valuestring, "M") != 0 ||
		    !cJSON_IsString(n) ||
		    strcmp(n->valuestring, "thread_name") != 0)
			continue;
		cJSON *tn = cJSON_GetObjectItemCaseSensitive(args, "name");
		if (cJSON_IsString(tn) && strcmp(tn->valuestring, name) == 0)
			return true;
	}
	return false;
}

Test(trace_export, chrome_valid_with_threads_and_flows)
{
	char path[128];
	snprintf(path, sizeof(path), "%s", tmp_path("chrome"));
	traced_run(path, 7);
	struct trace_export_stats st;
	char *json = export_to_string(path, TRACE_FORMAT_CHROME, &st);
	cJSON *root = cJSON_Parse(json);
	cr_assert_not_null(root, "invalid JSON near: %.80s",
			   cJSON_GetErrorPtr());
	cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "traceEvents");
	cr_assert(cJSON_IsArray(events));
	const char *names[] = {"tx", "net0", "net1", "client0", "client1"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_assert(has_thread_name(events, names[i]), "no thread %s",
			  names[i]);
	/* Every flow_out bind_id has exactly one flow_in, and vice versa. */
	int n = cJSON_GetArraySize(events);
	int n_out = 0, n_in = 0, n_begin = 0, n_end = 0, n_counters = 0;
	for (int i = 0; i < n; i++) {
		cJSON *e = cJSON_GetArrayItem(events, i);
		cJSON *ph = cJSON_GetObjectItemCaseSensitive(e, "ph");
		cr_assert(cJSON_IsString(ph));
		cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e,
			"pid")));
		if (strcmp(ph->valuestring, "M") != 0)
			cr_assert(cJSON_IsNumber(
				cJSON_GetObjectItemCaseSensitive(e, "ts")));
		n_begin += strcmp(ph->valuestring, "b") == 0;
		n_end += strcmp(ph->valuestring, "e") == 0;
		n_counters += strcmp(ph->valuestring, "C") == 0;
		cJSON *bind = cJSON_GetObjectItemCaseSensitive(e, "bind_id");
		if (bind == NULL)
			continue;
		cr_assert(cJSON_IsString(bind));
		bool is_out = cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(e, "flow_out"));
		cr_assert(is_out || cJSON_IsTrue(
			cJSON_GetObjectItemCaseSensitive(e, "flow_in")));
		if (!is_out) {
			n_in++;
			continue;
		}
		n_out++;
		int ends = 0;
		for (int j = 0; j < n; j++) {
			cJSON *f = cJSON_GetArrayItem(events, j);
			cJSON *b = cJSON_GetObjectItemCaseSensitive(f,
								    "bind_id");
			if (b != NULL && cJSON_IsString(b) &&
			    strcmp(b->valuestring, bind->valuestring) == 0 &&
			    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
				    f, "flow_in")))
				ends++;
		}
		cr_assert_eq(ends, 1, "flow %s has %d ends", bind->valuestring,
			     ends);
	}
	cr_assert_gt(n_out, 10, "only %d flows", n_out);
	cr_assert_eq(n_out, n_in);
	cr_assert_gt(n_begin, 0);
	cr_assert_eq(n_begin, n_end);
	cr_assert_gt(n_counters, 0);
	cJSON_Delete(root);
	free(json);
	tmp_remove(path);
}

/* ------------------------------------------------ docs/trace.md coverage */

/* The "### `name`" section of docs/trace.md, or NULL. */
static const char *
doc_section(const char *doc, const char *ev, const char **end)
{
	char head[128];
	snprintf(head, sizeof(head), "\n### `%s`\n", ev);
	const char *s = strstr(doc, head);
	if (s == NULL)
		return NULL;
	s += strlen(head);
	*end = strstr(s, "\n### ");
	if (*end == NULL)
		*end = s + strlen(s);
	return s;
}

static char *
read_doc(void)
{
	FILE *f = fopen("docs/trace.md", "r");
	cr_assert_not_null(f, "docs/trace.md not found (run from the repo)");
	static char doc[256 * 1024];
	size_t n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	return doc;
}

Test(trace_export, every_emitted_event_and_field_is_documented)
{
	char path[128];
	snprintf(path, sizeof(path), "%s", tmp_path("docs"));
	traced_run(path, 3);
	const char *doc = read_doc();
	struct trace_reader *r = trace_reader_new(path);
	cr_assert_not_null(r);
	struct trace_event e;
	int rc, n_names = 0;
	char seen[128][32];
	while ((rc = trace_reader_next(r, &e)) == TRACE_READ_EVENT) {
		const char *end;
		const char *sec = doc_section(doc, e.ev, &end);
		cr_assert_not_null(sec, "event %s is not in docs/trace.md",
				   e.ev);
		for (int i = 0; i < e.n_fields; i++) {
			char row[64];
			snprintf(row, sizeof(row), "| `%s` |", e.fields[i].key);
			const char *hit = strstr(sec, row);
			cr_assert(hit != NULL && hit < end,
				  "field %s of %s is not in docs/trace.md",
				  e.fields[i].key, e.ev);
		}
		bool is_new = true;
		for (int i = 0; i < n_names; i++)
			is_new = is_new && strcmp(seen[i], e.ev) != 0;
		if (is_new && n_names < 128)
			snprintf(seen[n_names++], sizeof(seen[0]), "%s", e.ev);
	}
	cr_assert_eq(rc, TRACE_READ_END);
	trace_reader_delete(r);
	/* The run must be rich enough for the check to mean something. */
	cr_assert_geq(n_names, 30, "only %d distinct events", n_names);
	tmp_remove(path);
}

/* ---------------------------------------------------------------- follow */

Test(trace_export, follow_reads_a_growing_file_until_end)
{
	char path[128];
	snprintf(path, sizeof(path), "%s", tmp_path("follow"));
	enum { N = 300 };
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		struct trace_writer *w = trace_writer_new(path, NULL);
		if (w == NULL)
			_exit(3);
		for (int i = 0; i < N; i++) {
			const struct trace_field f[] = { TI("i", i) };
			const struct trace_event e = {
				.seq = (uint64_t)i + 1, .t = (uint64_t)i,
				.cord = "writer", .ev = "test.tick",
				.fields = f, .n_fields = 1,
			};
			if (trace_writer_add(w, &e) != 0)
				_exit(4);
			if (i % 10 == 9) {
				if (trace_writer_flush(w) != 0)
					_exit(5);
				struct timespec ts = { 0, 2 * 1000 * 1000 };
				nanosleep(&ts, NULL);
			}
		}
		_exit(trace_writer_close(w, true) == 0 ? 0 : 6);
	}
	/* Wait for the file to exist, then follow it while it grows. */
	for (int i = 0; i < 2000 && access(path, F_OK) != 0; i++) {
		struct timespec ts = { 0, 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct trace_export_stats st;
	int rc = trace_export_file(path, out, TRACE_FORMAT_JSONL, true, &st);
	fclose(out);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(rc, 0, "%s", diag_msg());
	cr_assert(st.has_end);
	cr_assert_eq(st.n_events, N);
	/* 30 batches + header + END. */
	cr_assert_eq(st.n_records, 32);
	char last[64];
	snprintf(last, sizeof(last), "\"i\":%d}\n", N - 1);
	cr_assert_not_null(strstr(buf, last));
	free(buf);
	tmp_remove(path);
}

Test(trace_export, formats)
{
	enum trace_format f;
	cr_assert_eq(trace_format_parse("jsonl", &f), 0);
	cr_assert_eq(f, TRACE_FORMAT_JSONL);
	cr_assert_eq(trace_format_parse("chrome", &f), 0);
	cr_assert_eq(f, TRACE_FORMAT_CHROME);
	cr_assert_eq(trace_format_parse("text", &f), 0);
	cr_assert_eq(f, TRACE_FORMAT_TEXT);
	cr_assert_eq(trace_format_parse("json", &f), -1);
}

Test(trace_export, text_and_jsonl_of_one_event)
{
	const struct trace_field fields[] = {
		TI("msg", 3), TS("to", "tx"), TS("why", "a b"),
		TS("q", "\"\n"),
	};
	const struct trace_event e = {
		.seq = 7, .t = 1500000123, .cord = "net0", .ev = "cpipe.push",
		.fields = fields, .n_fields = 4,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct trace_export *x = trace_export_new(out, TRACE_FORMAT_JSONL);
	cr_assert_eq(trace_export_event(x, &e), 0);
	cr_assert_eq(trace_export_finish(x), 0);
	trace_export_delete(x);
	x = trace_export_new(out, TRACE_FORMAT_TEXT);
	cr_assert_eq(trace_export_event(x, &e), 0);
	cr_assert_eq(trace_export_finish(x), 0);
	trace_export_delete(x);
	fclose(out);
	cr_assert_str_eq(buf,
		"{\"seq\":7,\"t\":1500000123,\"cord\":\"net0\","
		"\"ev\":\"cpipe.push\",\"msg\":3,\"to\":\"tx\",\"why\":\"a b\","
		"\"q\":\"\\\"\\u000a\"}\n"
		"       7      1.500000123 net0     cpipe.push       msg=3 to=tx"
		" why=\"a b\" q=\"\"\n\"\n");
	free(buf);
}
