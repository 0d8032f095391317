/*
 * fuzz_scenario — the scenario loader (src/scenario/scenario.h) on
 * arbitrary text: scenario_load_buf(), then scenario_destroy().
 *
 *   bytes ──scenario_load_buf──► 0: a valid, fully defaulted scenario
 *                            └─► -1: one error message with its path
 *         ──scenario_destroy──► every block back (mem_live() as before)
 *
 * JSON parsing itself is libcjson's (a system library, not instrumented:
 * docs/reliability.md §2); what gets coverage here is the project's own
 * half — the text checks before the parser (size, UTF-8, NUL) and the
 * validator that walks the tree and converts values to MsgPack. Beyond the
 * sanitizers the target checks that a failure sets a diag, that both
 * outcomes give back every block they allocated (counted by mem.h, so a
 * leak is caught on the input that causes it, not at exit), and that the
 * MsgPack the loader produced for call arguments is valid.
 *
 * Lesson: lessons/en/00-scenarios.md.
 */
#include "fuzz.h"

#include "base/diag.h"
#include "base/mem.h"
#include "proto/mp.h"
#include "scenario/scenario.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);
	int64_t live = mem_live();
	struct scenario s;
	memset(&s, 0, sizeof(s));
	diag_clear();
	int rc = scenario_load_buf("fuzz.json", text, size, &s);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1);
		FUZZ_CHECK(diag_msg()[0] != '\0');
	} else {
		for (uint32_t c = 0; c < s.n_clients; c++) {
			const struct scenario_client *cl = &s.clients[c];
			for (uint32_t i = 0; i < cl->n_steps; i++) {
				const struct scenario_step *st = &cl->steps[i];
				for (uint32_t k = 0; k < st->n_requests; k++) {
					const struct scenario_request *r =
						&st->requests[k];
					if (r->type != SCENARIO_REQUEST_CALL)
						continue;
					const char *p = r->args;
					FUZZ_CHECK(mp_check(&p, r->args +
							    r->args_size) == 0);
					FUZZ_CHECK(p == r->args + r->args_size);
				}
			}
		}
	}
	scenario_destroy(&s);
	FUZZ_CHECK(mem_live() == live);
	free(text);
	return 0;
}
