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
#include <sys/resource.h>
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
	tmp_remove(path);
	return path;
}

static void
tmp_remove(const char *path)
{
	char lock[160];
	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(path);
	unlink(lock);
	snprintf(lock, sizeof(lock), "%s.writers", path);
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
	/* 30 batches + header (META, WRITER) + END. */
	cr_assert_eq(st.n_records, 33);
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

/* Write `n` events to a fresh trace at `path`, one record each, with END. */
static void
write_events(const char *path, const struct trace_event *e, int n)
{
	tmp_remove(path);
	struct trace_writer *w = trace_writer_new(path, NULL);
	cr_assert_not_null(w, "%s", diag_msg());
	trace_writer_set_flush_size(w, 1);
	for (int i = 0; i < n; i++)
		cr_assert_eq(trace_writer_add(w, &e[i]), 0, "%s", diag_msg());
	cr_assert_eq(trace_writer_close(w, true), 0, "%s", diag_msg());
}

static long
max_rss_kib(void)
{
	struct rusage ru;
	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/*
 * Message ids come from the file: a huge one (or many) must cost memory
 * for the messages seen, not an array as long as the largest id (before:
 * msg=60000000 asked for 5 GB, msg near INT32_MAX for 200 GB).
 */
Test(trace_export, huge_message_ids_cost_memory_per_message)
{
	const char *path = tmp_path("hugemsg");
	enum { N_IDS = 2000 };
	struct trace_event *ev = calloc(2 * N_IDS, sizeof(*ev));
	struct trace_field (*f)[3] = calloc(2 * N_IDS, sizeof(*f));
	for (int i = 0; i < N_IDS; i++) {
		int64_t id = i == 0 ? 60000000 : INT32_MAX - 1 - (int64_t)i * 1000003;
		f[2 * i][0] = (struct trace_field)TI("msg", id);
		f[2 * i][1] = (struct trace_field)TS("to", "tx");
		f[2 * i + 1][0] = (struct trace_field)TI("msg", id);
		f[2 * i + 1][1] = (struct trace_field)TI("last", 1);
		ev[2 * i] = (struct trace_event){
			.seq = 2 * (uint64_t)i + 1, .t = (uint64_t)i * 10,
			.cord = "net0", .ev = "cpipe.push",
			.fields = f[2 * i], .n_fields = 2,
		};
		ev[2 * i + 1] = (struct trace_event){
			.seq = 2 * (uint64_t)i + 2, .t = (uint64_t)i * 10 + 5,
			.cord = "tx", .ev = "cmsg.hop",
			.fields = f[2 * i + 1], .n_fields = 2,
		};
	}
	/* The last push is never delivered. */
	write_events(path, ev, 2 * N_IDS - 1);
	long rss = max_rss_kib();
	int64_t live = mem_live();
	struct trace_export_stats st;
	char *buf = export_to_string(path, TRACE_FORMAT_CHROME, &st);
	cr_assert_eq(mem_live(), live, "the exporter freed what it took");
	cr_assert_lt(max_rss_kib() - rss, 64 * 1024,
		     "peak memory grew by %ld KiB", max_rss_kib() - rss);
	cr_assert_eq(st.n_events, 2 * N_IDS - 1);
	cJSON *doc = cJSON_Parse(buf);
	cr_assert_not_null(doc, "the chrome export is JSON");
	const cJSON *events = cJSON_GetObjectItem(doc, "traceEvents");
	int n_begin = 0, n_end = 0, n_undelivered = 0;
	uint64_t last_id = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, events) {
		const char *ph = cJSON_GetObjectItem(it, "ph")->valuestring;
		const cJSON *id = cJSON_GetObjectItem(it, "id");
		n_begin += strcmp(ph, "b") == 0;
		n_end += strcmp(ph, "e") == 0;
		const cJSON *name = cJSON_GetObjectItem(it, "name");
		if (strcmp(ph, "X") == 0 &&
		    strcmp(name->valuestring, "cmsg.undelivered") == 0)
			n_undelivered++;
		if (strcmp(ph, "e") == 0 && id != NULL)
			last_id = strtoull(id->valuestring, NULL, 16);
	}
	cr_assert_eq(n_begin, N_IDS);
	cr_assert_eq(n_end, N_IDS, "every async slice is closed");
	cr_assert_eq(n_undelivered, 1);
	cr_assert_eq(last_id, (uint64_t)INT32_MAX - 1 - (N_IDS - 1) * 1000003ULL,
		     "the one left open closes at the end");
	cJSON_Delete(doc);
	free(buf);
	free(ev);
	free(f);
	tmp_remove(path);
}

/* Many distinct cord names: each found by hash, each announced once. */
Test(trace_export, many_cords_each_announced_once)
{
	const char *path = tmp_path("cords");
	enum { N = 3000 };
	struct trace_event *ev = calloc(2 * N, sizeof(*ev));
	char (*names)[80] = calloc(N, sizeof(*names));
	for (int i = 0; i < N; i++) {
		/* Longer than any fixed name buffer: must still match. */
		snprintf(names[i], sizeof(names[i]), "cord-%070d", i);
		ev[2 * i] = (struct trace_event){
			.seq = 2 * (uint64_t)i, .cord = names[i], .ev = "a.b",
		};
		ev[2 * i + 1] = (struct trace_event){
			.seq = 2 * (uint64_t)i + 1, .cord = names[i],
			.ev = "a.c",
		};
	}
	write_events(path, ev, 2 * N);
	struct trace_export_stats st;
	char *buf = export_to_string(path, TRACE_FORMAT_CHROME, &st);
	cJSON *doc = cJSON_Parse(buf);
	cr_assert_not_null(doc);
	int n_threads = 0, n_slices = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "traceEvents")) {
		const char *name = cJSON_GetObjectItem(it, "name")->valuestring;
		n_threads += strcmp(name, "thread_name") == 0;
		if (strcmp(name, "a.c") == 0) {
			int tid = cJSON_GetObjectItem(it, "tid")->valueint;
			int seq = cJSON_GetObjectItem(cJSON_GetObjectItem(it,
				"args"), "seq")->valueint;
			cr_assert_eq(tid, seq / 2 + 1, "same tid as its a.b");
			n_slices++;
		}
	}
	cr_assert_eq(n_threads, N);
	cr_assert_eq(n_slices, N);
	cJSON_Delete(doc);
	free(buf);
	free(ev);
	free(names);
	tmp_remove(path);
}

/* Whether [p, p + n) is valid UTF-8 (written apart from the exporter's). */
static bool
is_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t k = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ?
			   2 : (c >> 3) == 30 ? 3 : 9;
		if (k == 9 || i + k >= n + (k == 0))
			return false;
		uint32_t cp = k == 0 ? c : c & (0x3f >> k);
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		static const uint32_t min[] = {0, 0x80, 0x800, 0x10000};
		if (cp < min[k] || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

/*
 * Strings in a trace are whatever the writer was given: invalid UTF-8
 * becomes U+FFFD, one per bad byte, so every export is valid JSON (before:
 * the bytes went through and the output was not JSON).
 */
Test(trace_export, invalid_utf8_gives_valid_json)
{
	const char *path = tmp_path("utf8");
	/* Stray byte, cut sequence, surrogate, past U+10FFFF, overlong. */
	static const char bad[] = "a\xff\xc3(\xed\xa0\x80" "b"
				  "\xf4\x90\x80\x80\xc0\xaf\xc3\xa9";
	static const char want[] = "a\xef\xbf\xbd\xef\xbf\xbd("
		"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b"
		"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		"\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9";
	const struct trace_field f[] = { TS("s", bad), TS("\xfe", "x") };
	const struct trace_event e[] = {{
		.seq = 1, .t = 2, .cord = "net\x80", .ev = "x.\xff",
		.fields = f, .n_fields = 2,
	}};
	write_events(path, e, 1);
	struct trace_export_stats st;
	char *buf = export_to_string(path, TRACE_FORMAT_JSONL, &st);
	cr_assert(is_utf8((const unsigned char *)buf, strlen(buf)), "%s", buf);
	cJSON *doc = cJSON_Parse(buf);
	cr_assert_not_null(doc, "%s", buf);
	cr_assert_str_eq(cJSON_GetObjectItem(doc, "s")->valuestring, want);
	cr_assert_str_eq(cJSON_GetObjectItem(doc, "cord")->valuestring,
			 "net\xef\xbf\xbd");
	cr_assert_str_eq(cJSON_GetObjectItem(doc, "\xef\xbf\xbd")->valuestring,
			 "x");
	cJSON_Delete(doc);
	free(buf);
	buf = export_to_string(path, TRACE_FORMAT_CHROME, &st);
	cr_assert(is_utf8((const unsigned char *)buf, strlen(buf)), "%s", buf);
	doc = cJSON_Parse(buf);
	cr_assert_not_null(doc, "%s", buf);
	cJSON_Delete(doc);
	free(buf);
	tmp_remove(path);
}

/*
 * `kharon trace check` on a file whose header is not whole yet: no record
 * (before: 1), then every record exactly once as the file grows.
 */
Test(trace_export, check_counts_no_record_of_a_torn_header)
{
	const char *path = tmp_path("count");
	const struct trace_event e[] = {
		{.seq = 1, .cord = "tx", .ev = "a.b"},
		{.seq = 2, .cord = "tx", .ev = "a.b"},
	};
	write_events(path, e, 2);
	FILE *in = fopen(path, "rb");
	char all[4096];
	size_t size = fread(all, 1, sizeof(all), in);
	fclose(in);
	struct trace_export_stats st;
	for (size_t cut = 1; cut <= size; cut++) {
		FILE *out = fopen(path, "wb");
		cr_assert_eq(fwrite(all, 1, cut, out), cut);
		fclose(out);
		cr_assert_eq(trace_export_file(path, NULL, TRACE_FORMAT_JSONL,
					       false, &st), 0, "%s", diag_msg());
		if (cut < TRACE_FILE_PREFIX + TRACE_RECORD_FRAME + 8)
			cr_assert_eq(st.n_records, 0, "cut at %zu", cut);
		cr_assert_leq(st.n_records, 5);
		cr_assert_eq(st.has_end, cut == size);
	}
	cr_assert_eq(st.n_records, 5, "META, WRITER, two EVENTS, END");
	cr_assert_eq(st.n_events, 2);
	tmp_remove(path);
}
