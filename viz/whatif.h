/*
 * whatif.h — what-if interventions made in the viewer: the scenario shown
 * (kharon-view --scenario), the interventions the student adds while
 * watching, and the file `W` writes so a teacher can replay the forked run
 * with `kharon run` and `kharon-view`.
 *
 *   select a client, R (stop/resume reading) or D (disconnect now), or
 *   a right-click menu: a client's (the same), a server cord's (hold it
 *   busy, set net_msg_max / readahead), a boat's (delay its message)
 *     -> viz_whatif_add(at the shown event's time + 1 us; a delay: at the
 *        µs of the boat's cpipe.push, so the fork is at its batch's flush)
 *     -> the scenario re-run on the simulator (viz_source_run_scenario):
 *        deterministic, so identical up to that moment, forked after it
 *   W -> viz_whatif_save: the original file with "interventions" set
 *
 * The interventions themselves are scenario data (scenario.h), applied by
 * scenario_run, so `kharon run` plays a saved file the same way.
 */
#ifndef KHARON_VIZ_WHATIF_H
#define KHARON_VIZ_WHATIF_H

#include <stdint.h>

#include "scenario/scenario.h"

struct viz_whatif {
	/** The scenario with every intervention so far (owned). */
	struct scenario s;
	/** The file it came from. */
	char path[4096];
	/** Events shown when the last intervention was made (the fork). */
	uint32_t fork_n;
	/** Interventions added in the viewer. */
	uint32_t n_added;
	/** Files written by W so far (to name the next one). */
	uint32_t n_saved;
};

/** Load `path`. Returns 0 or -1 (diag: the loader's one-line error). */
int
viz_whatif_load(struct viz_whatif *w, const char *path);

void
viz_whatif_destroy(struct viz_whatif *w);

/**
 * Add intervention `iv` (its client an index into w->s.clients), kept in
 * time order after those at the same moment. Returns 0 or -1 (OOM, diag).
 */
int
viz_whatif_add(struct viz_whatif *w, const struct scenario_intervention *iv);

/**
 * Write the original file with its "interventions" replaced by w's and
 * its name suffixed "-what-if" to `out`. Returns 0 or -1 (diag).
 */
int
viz_whatif_save(const struct viz_whatif *w, const char *out);

#endif /* KHARON_VIZ_WHATIF_H */
