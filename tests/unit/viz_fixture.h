/*
 * viz_fixture.h — the viewer's tests get their events the way the viewer
 * does: a shipped scenario run on the simulator in-process into a
 * temporary trace (the trace tests/golden/NAME.jsonl holds), read back by
 * the trace reader into a history (viz/source.h).
 */
#ifndef KHARON_TESTS_VIZ_FIXTURE_H
#define KHARON_TESTS_VIZ_FIXTURE_H

#include "viz/history.h"

/** The shipped scenarios' names ("06-kharon", ...), sorted; returns how many. */
int
viz_fixture_scenarios(char names[][64], int max);

/** Run scenarios/NAME.json and fill `h` (created here). Asserts on error. */
void
viz_fixture_load(const char *name, struct viz_history *h);

/**
 * Event `i` of `h`, decoded into one of 8 buffers used in turn (so a few
 * may be held at once).
 */
const struct trace_event *
viz_fixture_event(const struct viz_history *h, uint32_t i);

/** Index of the `nth` (0-based) event named `ev`, or -1. */
int64_t
viz_fixture_find(const struct viz_history *h, const char *ev, int nth);

#endif /* KHARON_TESTS_VIZ_FIXTURE_H */
