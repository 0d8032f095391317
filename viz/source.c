/*
 * source.c — trace file, followed trace or in-process scenario run -> the
 * viewer's history (see source.h).
 */
#include "viz/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/mem.h"
#include "scenario/scenario.h"
#include "scenario/scenario_run.h"
#include "trace/trace_file.h"
#include "trace/trace_record.h"
#include "viz/history.h"

static void
title_from_path(struct viz_source *src, const char *path)
{
	const char *base = strrchr(path, '/');
	snprintf(src->title, sizeof(src->title), "%s",
		 base != NULL ? base + 1 : path);
}

int
viz_source_open_trace(struct viz_source *src, const char *path, bool follow)
{
	memset(src, 0, sizeof(*src));
	if (strlen(path) >= sizeof(src->path)) {
		diag_set(DIAG_ER_UNKNOWN, "ViewError", "%s: path too long",
			 "trace");
		return -1;
	}
	struct stat st;
	if (!follow && stat(path, &st) != 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "%s: no such file",
			 path);
		return -1;
	}
	snprintf(src->path, sizeof(src->path), "%s", path);
	src->is_follow = follow;
	src->reader = trace_reader_new(path);
	if (src->reader == NULL && !follow)
		return -1;
	title_from_path(src, path);
	return 0;
}

int
viz_source_open_scenario(struct viz_source *src, const char *path,
			 bool has_seed, uint64_t seed)
{
	struct scenario s;
	if (scenario_load(path, &s) != 0)
		return -1;
	int rc = viz_source_run_scenario(src, &s, path, has_seed, seed);
	scenario_destroy(&s);
	return rc;
}

int
viz_source_run_scenario(struct viz_source *src, const struct scenario *s,
			const char *path, bool has_seed, uint64_t seed)
{
	char tmp[] = "/tmp/kharon-view-XXXXXX";
	int fd = mkstemp(tmp);
	if (fd < 0) {
		diag_set(DIAG_ER_SYSTEM, "SystemError",
			 "cannot make a temporary trace in /tmp");
		return -1;
	}
	close(fd);
	struct scenario_run_opts opts;
	memset(&opts, 0, sizeof(opts));
	opts.trace_path = tmp;
	opts.has_seed = has_seed;
	opts.seed = seed;
	opts.has_mode = true;
	opts.mode = SCENARIO_MODE_SIM;
	struct scenario_run_result result;
	int rc = scenario_run(s, &opts, &result);
	char name[256];
	snprintf(name, sizeof(name), "%s", s->name != NULL ? s->name : path);
	char side[sizeof(tmp) + 16];
	snprintf(side, sizeof(side), "%s.lock", tmp);
	unlink(side);
	snprintf(side, sizeof(side), "%s.writers", tmp);
	unlink(side);
	if (rc < 0 || result.is_trace_failed) {
		if (rc >= 0)
			diag_set(DIAG_ER_UNKNOWN, "ViewError",
				 "scenario %s: trace: %s", path,
				 result.trace_error);
		unlink(tmp);
		return -1;
	}
	if (viz_source_open_trace(src, tmp, false) != 0) {
		unlink(tmp);
		return -1;
	}
	src->is_temp = true;
	snprintf(src->title, sizeof(src->title), "%s", name);
	return 0;
}

static void
hold_clear(struct viz_source *src)
{
	for (uint32_t i = 0; i < src->n_hold; i++)
		mem_free(src->hold[i]);
	src->n_hold = 0;
	src->max_t = 0;
}

static bool
before(const struct trace_event *a, const struct trace_event *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/** Keep a copy of `e` among the held events, in (t, seq) order. */
static int
hold_add(struct viz_source *src, const struct trace_event *e)
{
	if (src->n_hold == src->cap_hold) {
		uint32_t cap = src->cap_hold != 0 ? src->cap_hold * 2 : 1024;
		struct trace_event **h = mem_realloc(src->hold,
						     cap * sizeof(*h));
		if (h == NULL) {
			diag_set_oom(cap * sizeof(*h), "viz follow window");
			return -1;
		}
		src->hold = h;
		src->cap_hold = cap;
	}
	struct trace_event *copy = trace_event_dup(e);
	if (copy == NULL)
		return -1;
	uint32_t k = src->n_hold++;
	while (k > 0 && before(copy, src->hold[k - 1])) {
		src->hold[k] = src->hold[k - 1];
		k--;
	}
	src->hold[k] = copy;
	if (e->t > src->max_t)
		src->max_t = e->t;
	return 0;
}

/** Hand on held events older than the window (all with `all`). */
static int64_t
hold_release(struct viz_source *src, struct viz_history *h, bool all)
{
	uint32_t k = 0;
	while (k < src->n_hold &&
	       (all || src->hold[k]->t + VIZ_FOLLOW_WINDOW_NS <= src->max_t)) {
		if (viz_history_append(h, src->hold[k]) != 0)
			break;
		mem_free(src->hold[k]);
		k++;
	}
	if (k == 0)
		return 0;
	memmove(src->hold, src->hold + k,
		(size_t)(src->n_hold - k) * sizeof(*src->hold));
	src->n_hold -= k;
	return k;
}

static bool
is_real(const struct viz_source *src)
{
	const struct trace_meta *m = trace_reader_meta(src->reader);
	return m != NULL && m->mode != NULL && strcmp(m->mode, "real") == 0;
}

/** A followed file that another run replaced: start over from it. */
static bool
is_restart(void)
{
	const char *m = diag_msg();
	return strstr(m, "replaced") != NULL || strstr(m, "truncated") != NULL;
}

int64_t
viz_source_poll(struct viz_source *src, struct viz_history *h, uint32_t max)
{
	if (src->reader == NULL) {
		/* Following a file that does not exist yet. */
		src->reader = trace_reader_new(src->path);
		if (src->reader == NULL)
			return 0;
	}
	int64_t n = 0;
	struct trace_event e;
	for (;;) {
		if (max != 0 && n >= max)
			return n;
		int rc = trace_reader_next(src->reader, &e);
		if (rc == TRACE_READ_EVENT) {
			if (src->is_follow && is_real(src)) {
				if (hold_add(src, &e) != 0)
					return -1;
				n += hold_release(src, h, false);
				src->idle_polls = 0;
				continue;
			}
			if (viz_history_append(h, &e) != 0)
				return -1;
			n++;
			continue;
		}
		if (rc == TRACE_READ_END) {
			src->is_ended = true;
			n += hold_release(src, h, true);
			if (!src->is_follow && viz_history_sort(h) != 0)
				return -1;
			return n;
		}
		if (rc == TRACE_READ_ERROR) {
			if (!src->is_follow || !is_restart())
				return -1;
			trace_reader_delete(src->reader);
			src->reader = trace_reader_new(src->path);
			src->n_restarts++;
			hold_clear(src);
			src->is_ended = false;
			if (viz_history_reset(h) != 0)
				return -1;
			if (src->reader == NULL)
				return 0;
			n = 0;
			continue;
		}
		/* TRACE_READ_AGAIN: nothing complete past the last record. */
		if (src->is_follow) {
			/* The file stays still: show what is held. */
			if (n == 0 && src->n_hold > 0 &&
			    ++src->idle_polls >= VIZ_FOLLOW_IDLE_POLLS)
				n += hold_release(src, h, true);
			return n;
		}
		if (trace_reader_meta(src->reader) == NULL) {
			diag_set(DIAG_ER_UNKNOWN, "TraceError",
				 "%s: not a kharon trace or its header is torn",
				 src->path);
			return -1;
		}
		struct stat st;
		if (stat(src->path, &st) == 0 &&
		    (uint64_t)st.st_size > trace_reader_offset(src->reader)) {
			diag_set(DIAG_ER_UNKNOWN, "TraceError",
				 "%s: torn record at offset %llu (the file ends "
				 "inside it; --follow waits for the rest)",
				 src->path,
				 (unsigned long long)
				 trace_reader_offset(src->reader));
			return -1;
		}
		/* A run still going or killed before END: show what is there. */
		if (viz_history_sort(h) != 0)
			return -1;
		return n;
	}
}

void
viz_source_close(struct viz_source *src)
{
	if (src->reader != NULL)
		trace_reader_delete(src->reader);
	src->reader = NULL;
	hold_clear(src);
	mem_free(src->hold);
	src->hold = NULL;
	src->cap_hold = 0;
	if (src->is_temp)
		unlink(src->path);
}
