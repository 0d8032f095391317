/*
 * test_viz_tour.c — a tour in the viewer (viz/tour.h, ui.c): every shipped
 * tour's stops land on events of their name; playing stops at each stop
 * and pauses, however fast; space goes on to the next, Backspace back to
 * the previous; T turns the tour off (playing runs through) and on.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "viz/history.h"
#include "viz/layout.h"
#include "viz/tour.h"
#include "viz/ui.h"
#include "viz_fixture.h"

Test(viz_tour, shipped_stops_land_on_their_events)
{
	static const char *const names[] = {
		"02-cbus-batching", "03-request-life", "04-ibuf-double",
		"05-obuf-reserve",
		"06-kharon", "07-batching-kharon",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct viz_history h;
		viz_fixture_load(names[i], &h);
		char path[128];
		snprintf(path, sizeof(path), "scenarios/%s.json", names[i]);
		struct viz_tour t;
		cr_assert_eq(viz_tour_load(&t, path, &h), 0, "%s", diag_msg());
		cr_assert_geq(t.n_stops, 5, "%s", names[i]);
		for (uint32_t k = 0; k < t.n_stops; k++) {
			cr_assert_str_eq(viz_history_name(&h, t.at[k] - 1),
					 t.s.tour[k].event);
			if (k > 0)
				cr_assert_gt(t.at[k], t.at[k - 1]);
		}
		viz_tour_destroy(&t);
		viz_history_destroy(&h);
	}
}

static void
key(struct viz_ui *ui, const struct viz_history *h, int k)
{
	static struct viz_layout l;
	struct viz_input in = { VIZ_IN_KEY, (uint8_t)k, false, false, 0, 0, false };
	viz_ui_input(ui, h, &l, &in);
}

Test(viz_tour, playing_stops_at_each_stop)
{
	struct viz_history h;
	viz_fixture_load("06-kharon", &h);
	struct viz_tour t;
	cr_assert_eq(viz_tour_load(&t, "scenarios/06-kharon.json", &h), 0,
		     "%s", diag_msg());
	struct viz_ui ui;
	viz_ui_init(&ui, 1280, 720, 0);
	ui.tour = &t;
	ui.is_tour = true;
	ui.speed_ev = VIZ_SPEED_EV_MAX;
	for (uint32_t k = 0; k < t.n_stops; k++) {
		key(&ui, &h, VIZ_KEY_SPACE);
		cr_assert(!ui.is_paused);
		for (int i = 0; i < 100 && !ui.is_paused; i++)
			viz_ui_tick(&ui, &h, 1.0);
		cr_assert(ui.is_paused);
		cr_assert_eq(viz_ui_n(&ui), t.at[k]);
		cr_assert_eq(viz_ui_tour_stop(&ui), (int)k);
		cr_assert_eq(ui.focus_conn, t.focus[k]);
		if (k == 3) {
			key(&ui, &h, VIZ_KEY_BACK);
			cr_assert_eq(viz_ui_tour_stop(&ui), 2);
			key(&ui, &h, VIZ_KEY_ENTER);
			for (int i = 0; i < 100 && !ui.is_paused; i++)
				viz_ui_tick(&ui, &h, 1.0);
			cr_assert_eq(viz_ui_tour_stop(&ui), 3);
		}
	}
	/* T: off, so playing runs to the end; the panel is gone. */
	key(&ui, &h, VIZ_KEY_HOME);
	key(&ui, &h, VIZ_KEY_T);
	cr_assert(!ui.is_tour);
	key(&ui, &h, VIZ_KEY_SPACE);
	for (int i = 0; i < 100 && !ui.is_paused; i++)
		viz_ui_tick(&ui, &h, 1.0);
	cr_assert_eq(viz_ui_n(&ui), h.n_events);
	cr_assert_eq(viz_ui_tour_stop(&ui), -1);
	key(&ui, &h, VIZ_KEY_T);
	cr_assert(ui.is_tour);
	viz_tour_destroy(&t);
	viz_history_destroy(&h);
}
