/*
 * viz_fixture.c — shipped scenarios -> viewer histories (viz_fixture.h).
 */
#include "viz_fixture.h"

#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "trace/trace.h"
#include "viz/source.h"

int
viz_fixture_scenarios(char names[][64], int max)
{
	glob_t g;
	if (glob("scenarios/[0-9]*.json", 0, NULL, &g) != 0)
		return 0;
	int n = 0;
	for (size_t i = 0; i < g.gl_pathc && n < max; i++) {
		const char *base = g.gl_pathv[i] + strlen("scenarios/");
		snprintf(names[n], 64, "%.*s", (int)(strlen(base) - 5), base);
		n++;
	}
	globfree(&g);
	return n;
}

void
viz_fixture_load(const char *name, struct viz_history *h)
{
	char path[256];
	snprintf(path, sizeof(path), "scenarios/%s.json", name);
	cr_assert_eq(viz_history_create(h), 0);
	struct viz_source src;
	cr_assert_eq(viz_source_open_scenario(&src, path, false, 0), 0,
		     "%s: %s", path, diag_msg());
	int64_t n = viz_source_poll(&src, h, 0);
	cr_assert_gt(n, 0, "%s: %s", path, diag_msg());
	cr_assert(src.is_ended, "%s: no END record", path);
	viz_source_close(&src);
}

int64_t
viz_fixture_find(const struct viz_history *h, const char *ev, int nth)
{
	for (uint32_t i = 0; i < h->n_events; i++)
		if (strcmp(viz_fixture_event(h, (uint32_t)(i))->ev, ev) == 0 && nth-- == 0)
			return (int64_t)i;
	return -1;
}

const struct trace_event *
viz_fixture_event(const struct viz_history *h, uint32_t i)
{
	static struct viz_event bufs[8];
	static int next;
	struct viz_event *b = &bufs[next++ % 8];
	return viz_history_event(h, i, b);
}
