/*
 * ui.c — playback, stepping, seeking, selection and the keys (see ui.h).
 */
#include "viz/ui.h"

#include <math.h>
#include <string.h>

#include "trace/trace.h"
#include "viz/caption.h"
#include "viz/history.h"
#include "viz/tour.h"
#include "viz/model.h"

void
viz_ui_init(struct viz_ui *ui, int width, int height, int lang)
{
	memset(ui, 0, sizeof(*ui));
	ui->width = width;
	ui->height = height;
	ui->lang = lang;
	ui->is_paused = true;
	ui->speed_ev = 4;   /* 4 events per second */
	ui->speed_t = 20;   /* 1 us of trace time per second */
}

uint32_t
viz_ui_n(const struct viz_ui *ui)
{
	return ui->pos <= 0 ? 0 : (uint32_t)ui->pos;
}

double
viz_ui_rate(const struct viz_ui *ui)
{
	return ui->is_by_time ? pow(2.0, ui->speed_t / 2.0) :
	       pow(2.0, ui->speed_ev / 2.0);
}

void
viz_ui_clock(const struct viz_ui *ui, const struct viz_history *h,
	     struct viz_clock *clock)
{
	(void)h;
	clock->is_by_time = ui->is_by_time;
	clock->now = ui->is_by_time ? (double)ui->t_now : ui->pos;
}

/** Events stamped at or before t (the trace is in time order per cord). */
static uint32_t
events_until(const struct viz_history *h, uint64_t t)
{
	uint32_t lo = 0, hi = h->n_events;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (viz_history_time(h, mid) <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
viz_ui_seek(struct viz_ui *ui, const struct viz_history *h, uint32_t n)
{
	if (n > h->n_events)
		n = h->n_events;
	ui->pos = n;
	ui->n_events = h->n_events;
	if (n > 0)
		ui->t_now = viz_history_time(h, n - 1);
	else if (h->n_events > 0)
		ui->t_now = viz_history_time(h, 0);
}

int
viz_ui_tour_stop(const struct viz_ui *ui)
{
	if (ui->tour == NULL || !ui->is_tour || (double)viz_ui_n(ui) != ui->pos)
		return -1;
	return viz_tour_stop_at(ui->tour, viz_ui_n(ui));
}

void
viz_ui_tour_go(struct viz_ui *ui, const struct viz_history *h, int k)
{
	if (ui->tour == NULL || k < 0 || (uint32_t)k >= ui->tour->n_stops)
		return;
	viz_ui_seek(ui, h, ui->tour->at[k]);
	ui->is_paused = true;
	ui->focus_conn = ui->tour->focus[k];
}

/**
 * Playing from `from` events shown to the new position: if a stop lies in
 * (from, pos], stop there instead. Returns true when it stopped.
 */
static bool
tour_clamp(struct viz_ui *ui, const struct viz_history *h, uint32_t from)
{
	if (ui->tour == NULL || !ui->is_tour)
		return false;
	int k = viz_tour_next(ui->tour, from);
	if (k < 0 || (double)ui->tour->at[k] > ui->pos)
		return false;
	viz_ui_tour_go(ui, h, k);
	return true;
}

void
viz_ui_tick(struct viz_ui *ui, const struct viz_history *h, double dt)
{
	ui->n_events = h->n_events;
	if (ui->pos > h->n_events)
		viz_ui_seek(ui, h, h->n_events);
	if (ui->is_follow && !ui->is_paused) {
		/* Keep up with the writer: show the newest events. */
		viz_ui_seek(ui, h, h->n_events);
		return;
	}
	if (ui->is_paused || ui->is_dragging || h->n_events == 0)
		return;
	uint32_t from = viz_ui_n(ui);
	if (ui->is_by_time) {
		ui->t_now += (uint64_t)(viz_ui_rate(ui) * dt);
		uint32_t n = events_until(h, ui->t_now);
		ui->pos = n;
		if (tour_clamp(ui, h, from))
			return;
		if (n >= h->n_events) {
			ui->pos = h->n_events;
			ui->is_paused = true;
		}
		return;
	}
	ui->pos += viz_ui_rate(ui) * dt;
	if (tour_clamp(ui, h, from))
		return;
	if (ui->pos >= h->n_events) {
		ui->pos = h->n_events;
		ui->is_paused = true;
	}
	if (ui->pos > 0)
		ui->t_now = viz_history_time(h, viz_ui_n(ui) > 0 ?
					    viz_ui_n(ui) - 1 : 0);
}

void
viz_ui_step(struct viz_ui *ui, const struct viz_history *h, int dir)
{
	ui->is_paused = true;
	uint32_t n = viz_ui_n(ui);
	if (dir > 0 && n < h->n_events)
		n++;
	else if (dir < 0 && n > 0 && (double)n == ui->pos)
		n--;
	viz_ui_seek(ui, h, n);
}

bool
viz_ui_is_related(const struct viz_ui *ui, const struct viz_history *h,
		  uint32_t i)
{
	struct viz_event buf;
	const struct trace_event *e = viz_history_event(h, i, &buf);
	if (ui->sel.kind == VIZ_HIT_BOAT || ui->sel.kind == VIZ_HIT_KHARON) {
		if (ui->sel.kind == VIZ_HIT_BOAT &&
		    viz_ev_int(e, "msg", -1) == ui->sel.id)
			return true;
		if (ui->sel.kind == VIZ_HIT_KHARON &&
		    strncmp(e->ev, "kharon.", 7) == 0 &&
		    viz_ev_int(e, "conn", -1) == ui->sel.conn)
			return true;
		return false;
	}
	if (ui->sel.kind == VIZ_HIT_CORD) {
		return false;
	}
	int32_t conn = ui->sel.kind == VIZ_HIT_OBUF ||
		       ui->sel.kind == VIZ_HIT_IBUF ||
		       ui->sel.kind == VIZ_HIT_CONN ? ui->sel.conn :
		       ui->focus_conn;
	if (conn == 0 || strncmp(e->ev, "client.", 7) == 0)
		return false;
	return viz_ev_int(e, "conn", -1) == conn;
}

bool
viz_ui_jump(struct viz_ui *ui, const struct viz_history *h, int dir,
	    bool related)
{
	uint32_t n = viz_ui_n(ui);
	if (h->n_events == 0)
		return false;
	const char *name = viz_history_name(h, n > 0 ? n - 1 : 0);
	/* Event index i shown means state n = i + 1. */
	if (dir > 0) {
		for (uint32_t i = n; i < h->n_events; i++) {
			bool ok = related ? viz_ui_is_related(ui, h, i) :
				  strcmp(viz_history_name(h, i), name) == 0;
			if (ok && i + 1 > n) {
				ui->is_paused = true;
				viz_ui_seek(ui, h, i + 1);
				return true;
			}
		}
	} else {
		for (uint32_t i = n >= 2 ? n - 2 : 0; n >= 2; i--) {
			bool ok = related ? viz_ui_is_related(ui, h, i) :
				  strcmp(viz_history_name(h, i), name) == 0;
			if (ok) {
				ui->is_paused = true;
				viz_ui_seek(ui, h, i + 1);
				return true;
			}
			if (i == 0)
				break;
		}
	}
	return false;
}

static void
speed(struct viz_ui *ui, int d)
{
	if (ui->is_by_time) {
		ui->speed_t += d;
		if (ui->speed_t < VIZ_SPEED_T_MIN)
			ui->speed_t = VIZ_SPEED_T_MIN;
		if (ui->speed_t > VIZ_SPEED_T_MAX)
			ui->speed_t = VIZ_SPEED_T_MAX;
	} else {
		ui->speed_ev += d;
		if (ui->speed_ev < VIZ_SPEED_EV_MIN)
			ui->speed_ev = VIZ_SPEED_EV_MIN;
		if (ui->speed_ev > VIZ_SPEED_EV_MAX)
			ui->speed_ev = VIZ_SPEED_EV_MAX;
	}
}

/** Focus: the selected connection, else the next one in turn, else off. */
static void
focus_next(struct viz_ui *ui, const struct viz_layout *l)
{
	int32_t want = ui->sel.conn;
	if (want != 0 && want != ui->focus_conn) {
		ui->focus_conn = want;
		return;
	}
	for (int r = 0; r < l->n_rows; r++) {
		if (l->rows[r].conn != ui->focus_conn)
			continue;
		ui->focus_conn = r + 1 < l->n_rows ? l->rows[r + 1].conn : 0;
		return;
	}
	ui->focus_conn = l->n_rows > 0 ? l->rows[0].conn : 0;
}

static void
on_key(struct viz_ui *ui, const struct viz_history *h,
       const struct viz_layout *l, const struct viz_input *in)
{
	switch (in->key) {
	case VIZ_KEY_ENTER:
	case VIZ_KEY_SPACE:
		if (ui->is_paused && viz_ui_tour_stop(ui) >= 0)
			/* "Continue": the scene is the stop's; let it go. */
			ui->focus_conn = 0;
		if (ui->is_paused && viz_ui_n(ui) >= h->n_events &&
		    !ui->is_follow)
			viz_ui_seek(ui, h, 0);
		ui->is_paused = !ui->is_paused;
		break;
	case VIZ_KEY_LEFT:
	case VIZ_KEY_RIGHT: {
		int dir = in->key == VIZ_KEY_RIGHT ? 1 : -1;
		if (in->is_ctrl)
			viz_ui_jump(ui, h, dir, true);
		else if (in->is_shift)
			viz_ui_jump(ui, h, dir, false);
		else
			viz_ui_step(ui, h, dir);
		break;
	}
	case VIZ_KEY_HOME:
		viz_ui_seek(ui, h, 0);
		break;
	case VIZ_KEY_END:
		viz_ui_seek(ui, h, h->n_events);
		break;
	case VIZ_KEY_PLUS:
		speed(ui, 1);
		break;
	case VIZ_KEY_MINUS:
		speed(ui, -1);
		break;
	case VIZ_KEY_P:
		ui->is_by_time = !ui->is_by_time;
		viz_ui_seek(ui, h, viz_ui_n(ui));
		break;
	case VIZ_KEY_F:
		focus_next(ui, l);
		break;
	case VIZ_KEY_L:
		ui->lang = (ui->lang + 1) % VIZ_LANG_MAX;
		break;
	case VIZ_KEY_S:
		ui->want_screenshot = true;
		break;
	case VIZ_KEY_HELP:
		ui->is_help = !ui->is_help;
		break;
	case VIZ_KEY_ESC:
		if (ui->is_help)
			ui->is_help = false;
		else if (ui->sel.kind != VIZ_HIT_NONE)
			memset(&ui->sel, 0, sizeof(ui->sel));
		else
			ui->want_quit = true;
		break;
	case VIZ_KEY_Q:
		ui->want_quit = true;
		break;
	case VIZ_KEY_FULLSCREEN:
		ui->want_fullscreen = !ui->want_fullscreen;
		break;
	case VIZ_KEY_BACK:
		if (ui->tour != NULL && ui->is_tour)
			viz_ui_tour_go(ui, h, viz_tour_prev(ui->tour,
							    viz_ui_n(ui)));
		break;
	case VIZ_KEY_R:
	case VIZ_KEY_D:
		ui->want_intervene = in->key;
		break;
	case VIZ_KEY_W:
		ui->want_save = true;
		break;
	case VIZ_KEY_T:
		if (ui->tour != NULL) {
			ui->is_tour = !ui->is_tour;
			if (!ui->is_tour)
				ui->focus_conn = 0;
		}
		break;
	default:
		break;
	}
}

static const struct viz_menu_item client_menu[] = {
	{ "menu_reading", VIZ_MENU_READING, 0 },
	{ "menu_disconnect", VIZ_MENU_DISCONNECT, 0 },
	{ "menu_save", VIZ_MENU_SAVE, 0 },
};

/*
 * A server cord's: hold it busy, or change what box.cfg would change
 * (applied on TX whichever cord was clicked): the smallest net_msg_max
 * (input parks soon) and Tarantool's default, the smallest readahead
 * (buffers grow from 128 bytes) and the default.
 */
static const struct viz_menu_item cord_menu[] = {
	{ "menu_hold_1ms", VIZ_MENU_HOLD, 1000 },
	{ "menu_hold_10ms", VIZ_MENU_HOLD, 10000 },
	{ "menu_net_msg_max_2", VIZ_MENU_NET_MSG_MAX, 2 },
	{ "menu_net_msg_max_768", VIZ_MENU_NET_MSG_MAX, 768 },
	{ "menu_readahead_128", VIZ_MENU_READAHEAD, 128 },
	{ "menu_readahead_16320", VIZ_MENU_READAHEAD, 16320 },
	{ "menu_save", VIZ_MENU_SAVE, 0 },
};

static const struct viz_menu_item boat_menu[] = {
	{ "menu_delay_1ms", VIZ_MENU_DELAY, 1000 },
	{ "menu_delay_5ms", VIZ_MENU_DELAY, 5000 },
	{ "menu_delay_20ms", VIZ_MENU_DELAY, 20000 },
	{ "menu_save", VIZ_MENU_SAVE, 0 },
};

int
viz_ui_menu_items(int kind, const struct viz_menu_item **items)
{
	switch (kind) {
	case VIZ_HIT_CLIENT:
		*items = client_menu;
		return (int)(sizeof(client_menu) / sizeof(client_menu[0]));
	case VIZ_HIT_CORD:
		*items = cord_menu;
		return (int)(sizeof(cord_menu) / sizeof(cord_menu[0]));
	case VIZ_HIT_BOAT:
		*items = boat_menu;
		return (int)(sizeof(boat_menu) / sizeof(boat_menu[0]));
	default:
		*items = NULL;
		return 0;
	}
}

/** Kharon's hit while his boat is on the river (he is a message then). */
static bool
is_kharon_sailing(const struct viz_layout *l, const struct viz_hit *t)
{
	for (int i = 0; i < l->n_boats; i++)
		if (l->boats[i].is_kharon &&
		    l->boats[i].msg == (uint32_t)t->id &&
		    l->boats[i].conn == t->conn)
			return true;
	return false;
}

/** A menu item chosen: ask main.c for it (the flags it polls). */
static void
menu_do(struct viz_ui *ui, const struct viz_menu_item *it)
{
	switch (it->what) {
	case VIZ_MENU_READING:
		ui->want_intervene = VIZ_KEY_R;
		break;
	case VIZ_MENU_DISCONNECT:
		ui->want_intervene = VIZ_KEY_D;
		break;
	case VIZ_MENU_HOLD:
		ui->want_hold_us = it->arg;
		break;
	case VIZ_MENU_NET_MSG_MAX:
	case VIZ_MENU_READAHEAD:
		ui->want_option = it->what;
		ui->want_option_value = it->arg;
		break;
	case VIZ_MENU_DELAY:
		ui->want_delay_us = it->arg;
		break;
	case VIZ_MENU_SAVE:
		ui->want_save = true;
		break;
	}
}

void
viz_ui_input(struct viz_ui *ui, const struct viz_history *h,
	     const struct viz_layout *l, const struct viz_input *in)
{
	switch (in->kind) {
	case VIZ_IN_KEY:
		on_key(ui, h, l, in);
		break;
	case VIZ_IN_QUIT:
		ui->want_quit = true;
		break;
	case VIZ_IN_RESIZE:
		ui->width = in->x > 320 ? in->x : 320;
		ui->height = in->y > 300 ? in->y : 300;
		break;
	case VIZ_IN_DOWN: {
		if (ui->is_menu) {
			/* A click on an item does it; anywhere else closes. */
			ui->is_menu = false;
			const struct viz_menu_item *items;
			int n = viz_ui_menu_items(ui->menu_kind, &items);
			int i = (in->y - ui->menu_y) / VIZ_MENU_ITEM_H;
			if (!in->is_right && in->x >= ui->menu_x &&
			    in->x < ui->menu_x + VIZ_MENU_W &&
			    in->y >= ui->menu_y && i < n)
				menu_do(ui, &items[i]);
			break;
		}
		const struct viz_hit *t = viz_layout_hit(l, in->x, in->y);
		if (in->is_right) {
			/* What if: a client's, a server cord's, a boat's menu. */
			int kind = t == NULL ? VIZ_HIT_NONE :
				   t->kind == VIZ_HIT_KHARON &&
				   is_kharon_sailing(l, t) ? VIZ_HIT_BOAT :
				   t->kind;
			const struct viz_menu_item *items;
			int n = viz_ui_menu_items(kind, &items);
			if (n > 0) {
				ui->sel = *t;
				ui->is_menu = true;
				ui->menu_kind = kind;
				ui->menu_x = in->x + VIZ_MENU_W < ui->width ?
					     in->x : ui->width - VIZ_MENU_W;
				int menu_h = n * VIZ_MENU_ITEM_H;
				ui->menu_y = in->y + menu_h < ui->height ?
					     in->y : ui->height - menu_h;
				if (ui->menu_y < 0)
					ui->menu_y = 0;
			}
			break;
		}
		if (t != NULL && t->kind == VIZ_HIT_TIMELINE) {
			ui->is_dragging = true;
			ui->was_paused = ui->is_paused;
			ui->is_paused = true;
			viz_ui_seek(ui, h, viz_layout_timeline_event(
				l, in->x, h->n_events));
		} else if (t != NULL) {
			ui->sel = *t;
		} else {
			memset(&ui->sel, 0, sizeof(ui->sel));
		}
		break;
	}
	case VIZ_IN_MOTION:
		if (ui->is_dragging)
			viz_ui_seek(ui, h, viz_layout_timeline_event(
				l, in->x, h->n_events));
		break;
	case VIZ_IN_UP:
		if (in->is_right)
			break;
		if (ui->is_dragging) {
			ui->is_dragging = false;
			ui->is_paused = ui->was_paused;
		}
		break;
	default:
		break;
	}
}
