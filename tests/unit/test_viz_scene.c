/*
 * test_viz_scene.c — the viewer from layout to pixels, without a window:
 * boats move across the river from their flush to their delivering hop,
 * Kharon sits where his events put him, the flag is drawn exactly while
 * kharon.flag holds, clicks hit what is drawn, the timeline maps x to
 * events and back, the controls step, jump and seek exactly, and a GIF
 * read back with giflib gives the frames that were written.
 */
#include <criterion/criterion.h>
#include <gif_lib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "trace/trace.h"
#include "scenario/invariants.h"
#include "viz/caption.h"
#include "viz/display.h"
#include "viz/gif.h"
#include "viz/history.h"
#include "viz/layout.h"
#include "viz/palette.h"
#include "viz/scene.h"
#include "viz/ui.h"
#include "viz_fixture.h"

static void
lay(const struct viz_history *h, double pos, struct viz_state *s,
    struct viz_layout *l)
{
	viz_history_seek(h, (uint32_t)pos, s);
	struct viz_clock clock = { false, pos };
	viz_layout_compute(l, s, h, &clock, 1280, 720);
}

static const struct viz_boat_place *
place_of(const struct viz_layout *l, uint32_t msg)
{
	for (int i = 0; i < l->n_boats; i++)
		if (l->boats[i].msg == msg)
			return &l->boats[i];
	return NULL;
}

Test(viz_scene, boats_cross_from_flush_to_hop)
{
	struct viz_history h;
	viz_fixture_load("06-kharon", &h);
	static struct viz_state s;
	static struct viz_layout l;
	int checked = 0;
	for (uint32_t i = 0; i < h.n_events; i++) {
		if (strcmp(viz_fixture_event(&h, (uint32_t)(i))->ev, "cpipe.push") != 0)
			continue;
		uint32_t hop = viz_history_link(&h, i);
		cr_assert_neq(hop, VIZ_NO_LINK);
		uint32_t msg = (uint32_t)viz_ev_int(viz_fixture_event(&h, (uint32_t)(i)), "msg", 0);
		double last_p = -1;
		int last_x = -1;
		for (double pos = i + 1; pos <= hop; pos += 0.25) {
			lay(&h, pos, &s, &l);
			const struct viz_boat_place *p = place_of(&l, msg);
			cr_assert_not_null(p, "msg %u at %.2f", msg, pos);
			cr_assert(p->p >= 0 && p->p <= 1);
			cr_assert_geq(p->p, last_p, "msg %u went back", msg);
			cr_assert(p->x >= l.river.x && p->x < l.river.x + l.river.w);
			if (last_x >= 0 && !p->is_kharon)
				cr_assert(p->is_out ? p->x >= last_x :
					  p->x <= last_x);
			last_p = p->p;
			last_x = p->x;
		}
		/* Delivered: gone from the river. */
		lay(&h, hop + 1, &s, &l);
		cr_assert_null(place_of(&l, msg));
		checked++;
	}
	cr_assert_gt(checked, 10);
	viz_history_destroy(&h);
}

/** Is there a flag polygon (the kharon.flag colour) in the frame? */
static bool
has_flag(const struct viz_display *d)
{
	for (int i = 0; i < d->n_cmds; i++)
		if (d->cmds[i].kind == VIZ_CMD_POLY &&
		    d->cmds[i].color == VIZ_C_FLAG)
			return true;
	return false;
}

Test(viz_scene, kharon_and_his_flag_are_drawn_where_the_events_say)
{
	struct viz_history h;
	viz_fixture_load("06-kharon", &h);
	struct viz_captions *cap = viz_captions_builtin(VIZ_LANG_EN);
	static struct viz_state s;
	static struct viz_layout l;
	struct viz_display d;
	viz_display_create(&d);
	struct viz_ui ui;
	viz_ui_init(&ui, 1280, 720, VIZ_LANG_EN);
	int flags = 0;
	for (uint32_t n = 0; n <= h.n_events; n++) {
		viz_ui_seek(&ui, &h, n);
		lay(&h, n, &s, &l);
		viz_scene_build(&d, &l, &s, &h, &ui, cap, "t");
		cr_assert(!d.is_oom);
		const struct viz_conn *c = viz_state_conn(&s, 1);
		if (c == NULL)
			continue;
		cr_assert_eq(l.n_rows, 1);
		cr_assert_eq(has_flag(&d), c->kharon.flag, "event %u", n);
		flags += c->kharon.flag;
		if (c->kharon.place == VIZ_KHARON_HOME)
			cr_assert_eq(l.kharon_x[0], l.rows[0].home_x);
		if (c->kharon.place == VIZ_KHARON_THERE)
			cr_assert_eq(l.kharon_x[0], l.rows[0].there_x);
		/* Clicking Kharon selects him. */
		const struct viz_hit *t = NULL;
		for (int k = 0; k < l.n_hits; k++)
			if (l.hits[k].kind == VIZ_HIT_KHARON)
				t = &l.hits[k];
		cr_assert_not_null(t);
		const struct viz_hit *got = viz_layout_hit(
			&l, t->r.x + t->r.w / 2, t->r.y + t->r.h / 2);
		cr_assert_eq(got->kind, VIZ_HIT_KHARON);
		cr_assert_eq(got->conn, 1);
	}
	cr_assert_gt(flags, 0);
	viz_display_destroy(&d);
	viz_captions_delete(cap);
	viz_history_destroy(&h);
}

Test(viz_scene, controls_step_jump_and_seek_exactly)
{
	struct viz_history h;
	viz_fixture_load("06-kharon", &h);
	struct viz_ui ui;
	viz_ui_init(&ui, 1280, 720, VIZ_LANG_EN);
	/* → and ← move one event; ← from the end walks back to 0. */
	viz_ui_seek(&ui, &h, h.n_events);
	for (uint32_t n = h.n_events; n > 0; n--) {
		viz_ui_step(&ui, &h, -1);
		cr_assert_eq(viz_ui_n(&ui), n - 1);
	}
	viz_ui_step(&ui, &h, -1);
	cr_assert_eq(viz_ui_n(&ui), 0);
	viz_ui_step(&ui, &h, 1);
	cr_assert_eq(viz_ui_n(&ui), 1);
	/* Shift+→: the next event of the same kind as the last shown. */
	int64_t first = viz_fixture_find(&h, "kharon.depart", 0);
	viz_ui_seek(&ui, &h, (uint32_t)first + 1);
	uint32_t prev = viz_ui_n(&ui);
	while (viz_ui_jump(&ui, &h, 1, false)) {
		cr_assert_gt(viz_ui_n(&ui), prev);
		cr_assert_str_eq(viz_fixture_event(&h, (uint32_t)(viz_ui_n(&ui) - 1))->ev, "kharon.depart");
		prev = viz_ui_n(&ui);
	}
	cr_assert(viz_ui_jump(&ui, &h, -1, false));
	cr_assert_lt(viz_ui_n(&ui), prev);
	cr_assert_str_eq(viz_fixture_event(&h, (uint32_t)(viz_ui_n(&ui) - 1))->ev, "kharon.depart");
	/* Playing by event moves rate * dt events; the end pauses. */
	viz_ui_seek(&ui, &h, 0);
	ui.is_paused = false;
	viz_ui_tick(&ui, &h, 1.0);
	cr_assert_eq(viz_ui_n(&ui), (uint32_t)viz_ui_rate(&ui));
	viz_ui_tick(&ui, &h, 1e6);
	cr_assert_eq(viz_ui_n(&ui), h.n_events);
	cr_assert(ui.is_paused);
	/* By time: the clock moves, pos follows the events stamped so far. */
	ui.is_by_time = true;
	viz_ui_seek(&ui, &h, 0);
	ui.is_paused = false;
	uint64_t t0 = ui.t_now;
	viz_ui_tick(&ui, &h, 1000.0);
	cr_assert_gt(ui.t_now, t0);
	uint32_t n = viz_ui_n(&ui);
	cr_assert(n == h.n_events || viz_fixture_event(&h, (uint32_t)(n))->t > ui.t_now);
	cr_assert(n == 0 || viz_fixture_event(&h, (uint32_t)(n - 1))->t <= ui.t_now);
	viz_history_destroy(&h);
}

Test(viz_scene, timeline_clicks_seek_and_drag_pauses)
{
	struct viz_history h;
	viz_fixture_load("06-kharon", &h);
	static struct viz_state s;
	static struct viz_layout l;
	lay(&h, 0, &s, &l);
	for (uint32_t n = 0; n <= h.n_events; n++) {
		int x = viz_layout_timeline_x(&l, n, h.n_events);
		uint32_t back = viz_layout_timeline_event(&l, x, h.n_events);
		cr_assert(back + 3 >= n && back <= n + 3, "%u -> %d -> %u", n, x,
			  back);
	}
	struct viz_ui ui;
	viz_ui_init(&ui, 1280, 720, VIZ_LANG_EN);
	ui.is_paused = false;
	struct viz_input down = { VIZ_IN_DOWN, 0, false, false,
				  l.ticks.x + l.ticks.w / 2, l.ticks.y + 2, false };
	viz_ui_input(&ui, &h, &l, &down);
	cr_assert(ui.is_dragging);
	cr_assert(ui.is_paused, "dragging pauses");
	uint32_t mid = viz_ui_n(&ui);
	cr_assert(mid + 3 >= h.n_events / 2 && mid <= h.n_events / 2 + 3);
	struct viz_input move = down;
	move.kind = VIZ_IN_MOTION;
	move.x = l.ticks.x + l.ticks.w;
	viz_ui_input(&ui, &h, &l, &move);
	cr_assert_eq(viz_ui_n(&ui), h.n_events);
	struct viz_input up = move;
	up.kind = VIZ_IN_UP;
	viz_ui_input(&ui, &h, &l, &up);
	cr_assert(!ui.is_dragging);
	cr_assert(!ui.is_paused, "playing again after the drag");
	viz_history_destroy(&h);
}

Test(viz_scene, a_gif_reads_back_as_the_frames_written)
{
	enum { W = 40, H = 30, N = 4 };
	static uint8_t frames[N][W * H];
	for (int f = 0; f < N; f++)
		for (int i = 0; i < W * H; i++)
			frames[f][i] = (uint8_t)((i / W < 10 + f * 3 ?
						  VIZ_C_RIVER : VIZ_C_BG) +
						 (i % W == f ? 1 : 0));
	memcpy(frames[2], frames[1], sizeof(frames[1])); /* a still frame */
	char path[64];
	snprintf(path, sizeof(path), "/tmp/kharon-test-gif-%d.gif",
		 (int)getpid());
	struct viz_gif *g = viz_gif_open(path, W, H);
	cr_assert_not_null(g);
	for (int f = 0; f < N; f++)
		cr_assert_eq(viz_gif_frame(g, frames[f], 10), 0);
	cr_assert_eq(viz_gif_close(g), 0);
	int err;
	GifFileType *in = DGifOpenFileName(path, &err);
	cr_assert_not_null(in);
	cr_assert_eq(DGifSlurp(in), GIF_OK);
	cr_assert_eq(in->ImageCount, N);
	static uint8_t canvas[W * H];
	for (int f = 0; f < N; f++) {
		const SavedImage *im = &in->SavedImages[f];
		GraphicsControlBlock gcb;
		DGifSavedExtensionToGCB(in, f, &gcb);
		cr_assert_eq(gcb.DelayTime, 10);
		const GifImageDesc *dsc = &im->ImageDesc;
		for (int y = 0; y < dsc->Height; y++)
			for (int x = 0; x < dsc->Width; x++) {
				uint8_t v = im->RasterBits[y * dsc->Width + x];
				if (v == gcb.TransparentColor)
					continue;
				canvas[(dsc->Top + y) * W + dsc->Left + x] = v;
			}
		cr_assert(memcmp(canvas, frames[f], sizeof(canvas)) == 0,
			  "frame %d differs after decoding", f);
	}
	const GifColorType *c = &in->SColorMap->Colors[VIZ_C_FLAG];
	cr_assert_eq(c->Red, viz_palette[VIZ_C_FLAG][0]);
	DGifCloseFile(in, &err);
	unlink(path);
}

/** Is there text containing `needle` in the frame? */
static bool
has_text(const struct viz_display *d, const char *needle)
{
	for (int i = 0; i < d->n_cmds; i++)
		if (d->cmds[i].kind == VIZ_CMD_TEXT &&
		    strstr(viz_cmd_text(d, &d->cmds[i]), needle) != NULL)
			return true;
	return false;
}

Test(viz_scene, a_broken_invariant_is_marked_on_the_scene_and_timeline)
{
	/* Kharon sent twice without coming back: kharon_single breaks. */
	struct trace_field f1[] = { { "conn", 1, NULL }, { "msg", 5, NULL },
				    { "buf", 0, NULL }, { "end", 42, NULL } };
	struct trace_field f2[] = { { "conn", 1, NULL }, { "msg", 6, NULL },
				    { "buf", 0, NULL }, { "end", 84, NULL } };
	struct trace_event e1 = { 1, 10, "tx", "kharon.depart", f1, 4, 0 };
	struct trace_event e2 = { 2, 20, "tx", "kharon.depart", f2, 4, 0 };
	struct viz_history h;
	cr_assert_eq(viz_history_create(&h), 0);
	cr_assert_eq(viz_history_append(&h, &e1), 0);
	cr_assert_eq(viz_history_append(&h, &e2), 0);
	cr_assert_eq(viz_history_mark(&h, 0), -1);
	cr_assert_eq(viz_history_mark(&h, 1), INVARIANT_KHARON_SINGLE);
	struct viz_captions *cap = viz_captions_builtin(VIZ_LANG_EN);
	struct viz_ui ui;
	viz_ui_init(&ui, 1280, 720, VIZ_LANG_EN);
	static struct viz_state s;
	static struct viz_layout l;
	struct viz_display d;
	viz_display_create(&d);
	for (uint32_t n = 1; n <= 2; n++) {
		viz_ui_seek(&ui, &h, n);
		lay(&h, n, &s, &l);
		viz_scene_build(&d, &l, &s, &h, &ui, cap, "t");
		cr_assert_eq(has_text(&d, "kharon_single"), n == 2);
	}
	int red = 0;
	for (int i = 0; i < d.n_cmds; i++)
		red += d.cmds[i].kind == VIZ_CMD_RECT &&
		       d.cmds[i].color == VIZ_C_INVARIANT;
	cr_assert_eq(red, 1, "one red mark on the timeline");
	viz_display_destroy(&d);
	viz_captions_delete(cap);
	viz_history_destroy(&h);
}

/* The centre of the first hit of `kind` in the layout, or false. */
static bool
hit_centre(const struct viz_layout *l, int kind, int *x, int *y)
{
	for (int i = 0; i < l->n_hits; i++)
		if (l->hits[i].kind == kind) {
			*x = l->hits[i].r.x + l->hits[i].r.w / 2;
			*y = l->hits[i].r.y + l->hits[i].r.h / 2;
			return true;
		}
	return false;
}

static void
right_click(struct viz_ui *ui, const struct viz_history *h,
	    const struct viz_layout *l, int x, int y)
{
	struct viz_input in = { VIZ_IN_DOWN, 0, false, false, x, y, true };
	viz_ui_input(ui, h, l, &in);
	in.kind = VIZ_IN_UP;
	viz_ui_input(ui, h, l, &in);
}

/* Choose item `i` of the open menu with a left click on it. */
static void
menu_click(struct viz_ui *ui, const struct viz_history *h,
	   const struct viz_layout *l, int i)
{
	struct viz_input in = { VIZ_IN_DOWN, 0, false, false, ui->menu_x + 10,
				ui->menu_y + i * VIZ_MENU_ITEM_H + 8, false };
	viz_ui_input(ui, h, l, &in);
}

Test(viz_scene, what_if_menus_of_a_boat_kharon_and_a_cord)
{
	struct viz_history h;
	viz_fixture_load("06-kharon", &h);
	static struct viz_state s;
	static struct viz_layout l;
	struct viz_ui ui;
	viz_ui_init(&ui, 1280, 720, VIZ_LANG_EN);
	/* Event 35: msg 4 staged behind Kharon (msg 3) in TX's pipe. */
	lay(&h, 35, &s, &l);
	int x = 0, y = 0;
	cr_assert(hit_centre(&l, VIZ_HIT_BOAT, &x, &y));
	right_click(&ui, &h, &l, x, y);
	cr_assert(ui.is_menu);
	cr_assert_eq(ui.menu_kind, VIZ_HIT_BOAT);
	cr_assert_eq(ui.sel.kind, VIZ_HIT_BOAT);
	cr_assert_eq(ui.sel.id, 4);
	const struct viz_menu_item *items;
	cr_assert_eq(viz_ui_menu_items(VIZ_HIT_BOAT, &items), 4);
	menu_click(&ui, &h, &l, 1);
	cr_assert(!ui.is_menu);
	cr_assert_eq(ui.want_delay_us, 5000);
	/* Kharon on the river is a boat too; at home he has no menu. */
	cr_assert(hit_centre(&l, VIZ_HIT_KHARON, &x, &y));
	right_click(&ui, &h, &l, x, y);
	cr_assert(ui.is_menu);
	cr_assert_eq(ui.menu_kind, VIZ_HIT_BOAT);
	cr_assert_eq(ui.sel.id, 3);
	menu_click(&ui, &h, &l, 3);
	cr_assert(ui.want_save);
	lay(&h, 10, &s, &l);
	cr_assert(hit_centre(&l, VIZ_HIT_KHARON, &x, &y));
	right_click(&ui, &h, &l, x, y);
	cr_assert(!ui.is_menu, "Kharon at home carries no message");
	/* A server cord: hold, then net_msg_max and readahead. */
	cr_assert(hit_centre(&l, VIZ_HIT_CORD, &x, &y));
	right_click(&ui, &h, &l, x, y);
	cr_assert(ui.is_menu);
	cr_assert_eq(ui.menu_kind, VIZ_HIT_CORD);
	menu_click(&ui, &h, &l, 2);
	cr_assert_eq(ui.want_option, VIZ_MENU_NET_MSG_MAX);
	cr_assert_eq(ui.want_option_value, 2);
	right_click(&ui, &h, &l, x, y);
	menu_click(&ui, &h, &l, 5);
	cr_assert_eq(ui.want_option, VIZ_MENU_READAHEAD);
	cr_assert_eq(ui.want_option_value, 16320);
	/* Every label has its caption in both languages. */
	for (int lang = 0; lang < VIZ_LANG_MAX; lang++) {
		struct viz_captions *c = viz_captions_builtin(
			(enum viz_lang)lang);
		cr_assert_not_null(c);
		for (int kind = VIZ_HIT_BOAT; kind <= VIZ_HIT_CLIENT; kind++) {
			int n = viz_ui_menu_items(kind, &items);
			for (int i = 0; i < n; i++)
				cr_assert_str_neq(viz_captions_label(c,
					items[i].label), items[i].label,
					"%s has no label", items[i].label);
		}
		viz_captions_delete(c);
	}
	viz_history_destroy(&h);
}

/*
 * The frame at event `at` of `h` in a w x hgt window, in `cap`'s
 * language: its state and layout into *s and *l, its drawing into *d
 * (created here; the caller destroys it).
 */
static void
frame_at(const struct viz_history *h, uint32_t at, int w, int hgt, int lang,
	 const struct viz_captions *cap, struct viz_state *s,
	 struct viz_layout *l, struct viz_display *d)
{
	struct viz_ui ui;
	viz_ui_init(&ui, w, hgt, lang);
	viz_ui_seek(&ui, h, at);
	viz_history_seek(h, at, s);
	struct viz_clock clock = { false, at };
	viz_layout_compute(l, s, h, &clock, w, hgt);
	viz_display_create(d);
	viz_scene_build(d, l, s, h, &ui, cap, "t");
}

/* The legend label `key` of `cap`: its command, or NULL. */
static const struct viz_cmd *
legend_cmd(const struct viz_display *d, const struct viz_captions *cap,
	   const char *key)
{
	const char *label = viz_captions_label(cap, key);
	for (int i = 0; i < d->n_cmds; i++)
		if (d->cmds[i].kind == VIZ_CMD_TEXT &&
		    strcmp(viz_cmd_text(d, &d->cmds[i]), label) == 0)
			return &d->cmds[i];
	return NULL;
}

static int
chars_of(const char *s)
{
	int n = 0;
	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * The legends under the banks, in both languages, at the lessons' size
 * (960 x 540) and the window's (1280 x 720): each label ends inside its
 * bank (at ~7 px a character, DejaVu Sans' small font) and no two labels
 * of one line overlap — Russian's longer labels once ran into each other
 * and into the river.
 */
Test(viz_scene, legends_stay_on_their_bank_without_overlap)
{
	struct viz_history h;
	viz_fixture_load("05-obuf-reserve", &h);
	static const char *const left[] = { "l_sent", "l_unsent",
					    "l_reserved", "l_rollback" };
	static const char *const right[] = { "l_consumed", "l_inflight",
					     "l_unparsed" };
	static const int sizes[][2] = { { 960, 540 }, { 1280, 720 } };
	for (int lang = 0; lang < 2; lang++) {
		int code = lang == 0 ? VIZ_LANG_EN : VIZ_LANG_RU;
		struct viz_captions *cap = viz_captions_builtin(code);
		for (int k = 0; k < 2; k++) {
			int w = sizes[k][0], hgt = sizes[k][1];
			static struct viz_state s;
			static struct viz_layout l;
			struct viz_display d;
			frame_at(&h, 20, w, hgt, code, cap,
				 &s, &l, &d);
			for (int side = 0; side < 2; side++) {
				const char *const *keys = side ? right : left;
				int n = side ? 3 : 4;
				const struct viz_rect *bank = side ? &l.right :
								     &l.left;
				for (int i = 0; i < n; i++) {
					const struct viz_cmd *a =
						legend_cmd(&d, cap, keys[i]);
					cr_assert_not_null(a, "%s", keys[i]);
					int end = a->x + 7 * chars_of(
						viz_cmd_text(&d, a));
					cr_assert_leq(end, bank->x + bank->w,
						      "%s at %dx%d lang %d "
						      "ends at %d", keys[i],
						      w, hgt, lang, end);
					for (int j = 0; j < i; j++) {
						const struct viz_cmd *b =
							legend_cmd(&d, cap,
								   keys[j]);
						if (b->y != a->y)
							continue;
						int b_end = b->x + 7 *
							chars_of(viz_cmd_text(
								&d, b));
						cr_assert_leq(b_end, a->x - 10,
							      "%s runs into %s",
							      keys[j], keys[i]);
					}
				}
			}
			viz_display_destroy(&d);
		}
		viz_captions_delete(cap);
	}
	viz_history_destroy(&h);
}

/*
 * A parked connection's header on the iproto bank: the red "input
 * stopped: why" and the connection's own words share the line without
 * overlap, in both languages, even at the lessons' 960 px (the peer's
 * address gives way first).
 */
Test(viz_scene, input_stopped_label_never_covers_the_header)
{
	struct viz_history h;
	viz_fixture_load("10-net-msg-max", &h);
	int64_t found = viz_fixture_find(&h, "input.stop", 0);
	cr_assert_geq(found, 0, "the scenario parks a connection");
	uint32_t at = (uint32_t)found;
	for (int lang = 0; lang < 2; lang++) {
		int code = lang == 0 ? VIZ_LANG_EN : VIZ_LANG_RU;
		struct viz_captions *cap = viz_captions_builtin(code);
		const char *stopped = viz_captions_label(cap, "stopped");
		static struct viz_state s;
		static struct viz_layout l;
		struct viz_display d;
		frame_at(&h, at + 1, 960, 540, code, cap,
			 &s, &l, &d);
		int n_stop = 0;
		for (int i = 0; i < d.n_cmds; i++) {
			const struct viz_cmd *st = &d.cmds[i];
			if (st->kind != VIZ_CMD_TEXT ||
			    strncmp(viz_cmd_text(&d, st), stopped,
				    strlen(stopped)) != 0)
				continue;
			n_stop++;
			int st_x = st->x - 7 * chars_of(viz_cmd_text(&d, st));
			for (int j = 0; j < d.n_cmds; j++) {
				const struct viz_cmd *hd = &d.cmds[j];
				if (j == i || hd->kind != VIZ_CMD_TEXT ||
				    hd->y != st->y || hd->x != l.right.x + 6)
					continue;
				int hd_end = hd->x + 7 * chars_of(
					viz_cmd_text(&d, hd));
				cr_assert_leq(hd_end, st_x, "'%s' runs into "
					      "'%s' (lang %d)",
					      viz_cmd_text(&d, hd),
					      viz_cmd_text(&d, st), lang);
			}
		}
		cr_assert_geq(n_stop, 1, "a stop label is drawn (lang %d)",
			      lang);
		viz_display_destroy(&d);
		viz_captions_delete(cap);
	}
	viz_history_destroy(&h);
}

/*
 * Up and down, too: each row's second buffer label (a 13 px line of text
 * under the bar) ends above the next row's line, and the legends' band starts
 * below the last row — at the lessons' size, a side-by-side pane's and a
 * small window's, in both languages (rows once grew into the legends,
 * and tight rows put their line through the last label).
 */
Test(viz_scene, rows_leave_room_for_their_labels_and_the_legends)
{
	struct viz_history h;
	viz_fixture_load("09-iproto-threads", &h);
	static const int sizes[][2] = { { 960, 540 }, { 720, 560 },
					{ 640, 360 }, { 1280, 720 } };
	static const char *const keys[] = { "l_sent", "l_consumed" };
	for (int lang = 0; lang < 2; lang++) {
		int code = lang == 0 ? VIZ_LANG_EN : VIZ_LANG_RU;
		struct viz_captions *cap = viz_captions_builtin(code);
		for (int k = 0; k < 4; k++) {
			int w = sizes[k][0], hgt = sizes[k][1];
			static struct viz_state s;
			static struct viz_layout l;
			struct viz_display d;
			frame_at(&h, 400, w, hgt, code, cap,
				 &s, &l, &d);
			cr_assert_gt(l.n_rows, 0);
			int last = 0;
			for (int r = 0; r < l.n_rows; r++) {
				const struct viz_row *row = &l.rows[r];
				const struct viz_rect *b = &row->obuf[1];
				int label_end = b->y + b->h + 1 + 13;
				/* The next row's line: row.y + rh - 2. */
				cr_assert_leq(label_end, row->row.y + row->row.h + 2,
					      "row %d at %dx%d lang %d", r, w,
					      hgt, lang);
				last = row->row.y + row->row.h;
			}
			for (int i = 0; i < 2; i++) {
				const struct viz_cmd *c =
					legend_cmd(&d, cap, keys[i]);
				cr_assert_not_null(c);
				/* The first item sits on a wrapped legend's
				 * top line. */
				int top = c->y;
				cr_assert_geq(top, last, "%s at %dx%d lang %d "
					      "starts at %d, rows end at %d",
					      keys[i], w, hgt, lang, top, last);
			}
			viz_display_destroy(&d);
		}
		viz_captions_delete(cap);
	}
	viz_history_destroy(&h);
}
